"""reports/speed.md: ``ferkit bench``'s figures grouped, checked against the speed goals, and the fer package measured
on the same inputs (``python -m lab speed``)."""

from __future__ import annotations

#: Goals on a 2-core CPU (speed issue): classifier faces/s, 640x480 single-face video frames/s, long-video memory,
#: int8 accuracy loss, and ratios to the fer package.
GOALS = {
    "classifier_faces_per_s": 3200,
    "video_640x480_fps": 60,
    "peak_memory_mb_long_video": 1024,
    "int8_accuracy_drop_points": 0.5,
    "classifier_speed_ratio": 2.0,
    "video_speed_ratio": 5.0,
    "accuracy_gain_points": 6.0,
}


def _check(value: float | None, goal: float, higher: bool = True) -> str:
    if value is None:
        return "not measured"
    return "meets" if (value >= goal if higher else value <= goal) else "misses"


def _timing_note(t: dict | None) -> str:
    if not t:
        return ""
    return (
        f" Classifier and detector rates, ferkit's and fer's alike: the fastest of {t['rounds']} timing windows "
        f"of at least {t['min_seconds']:g} s each."
    )


def speed_markdown(r: dict, json_name: str) -> str:
    m = r["machine"]
    out = [
        "# ferkit bench: speed on this machine\n",
        f"*Written by `{r['command']}`; the JSON twin is `{json_name}`. Machine: {m['cores']} CPU cores "
        f"({m['cpu']}, SIMD {m.get('cpu_isa', 'not recorded')}), {m['threads']} threads, Python {m['python']}, ONNX "
        f"Runtime {m['onnxruntime']}, "
        f"OpenCV {m['opencv']}. Default pipeline: detector `{r['detector']}`, classifier `{r['classifier']}` "
        f"({r['classifier_precision']}).{_timing_note(r.get('timing'))}*\n",
        "## Classifier (faces/s, 48x48 crops of the Solvay photo)\n",
        "| copy | batch 1 | batch 32 | batch 256 | FER2013 PrivateTest |",
        "|---|---|---|---|---|",
    ]
    for prec, row in r.get("precisions", {}).items():
        b = row["classifier_faces_per_s_by_batch"]
        acc = f"{row['privatetest_accuracy']:.2%}" if "privatetest_accuracy" in row else "-"
        out.append(f"| {prec} (`{row['file']}`) | {b['1']:,.0f} | {b['32']:,.0f} | {b['256']:,.0f} | {acc} |")
    b = r["classifier_faces_per_s_by_batch"]
    out.append(
        f"| default ({r['classifier_precision']}), this run | {b['1']:,.0f} | {b['32']:,.0f} | {b['256']:,.0f} | "
        f"{r['privatetest_accuracy']:.2%} |"
        if "privatetest_accuracy" in r
        else (
            f"| default ({r['classifier_precision']}), this run | {b['1']:,.0f} | {b['32']:,.0f} | {b['256']:,.0f} "
            "| - |"
        )
    )
    drop = r.get("int8_accuracy_drop_points")
    out += [
        "",
        f"int8 accuracy drop: {drop if drop is not None else '-'} points "
        f"({_check(drop, GOALS['int8_accuracy_drop_points'], higher=False)} <= {GOALS['int8_accuracy_drop_points']}); "
        f"classifier {r['classifier_faces_per_s']:,.0f} faces/s "
        f"({_check(r['classifier_faces_per_s'], GOALS['classifier_faces_per_s'])} >= "
        f"{GOALS['classifier_faces_per_s']:,}).\n",
        "## Video\n",
        f"Per-stage milliseconds per frame on `{r['video']}` ({r['video_frames']} frames, detector on every "
        f"frame, sequential): "
        + ", ".join(f"{k} {v}" for k, v in r["stage_ms_per_frame"].items())
        + f"; {r['video_fps']} frames/s. Detector alone: {r['detector_ms_per_640x480']} ms per 640x480 frame.\n",
        "Streaming pipeline (`ferkit analyze --detect-every K`: faces batched across frames, boxes carried between "
        "detections, decoding inline as `FRAME_PREFETCH` = 0 sets; steady state after a 32-frame warm-up), each run "
        "in a fresh process:\n",
        "| detector every K frames | frames/s, bundled clip (640x360) | frames/s, same clip at 640x480 | peak memory "
        "MB |",
        "|---|---|---|---|",
    ]
    v640 = {x["detect_every"]: x for x in r.get("pipeline_640x480", [])}
    for x in r.get("pipeline_clip", []):
        y = v640.get(x["detect_every"], {})
        out.append(
            f"| {x['detect_every']} | {x['fps']} | {y.get('fps', '-')} | "
            f"{max(x['peak_memory_mb'], y.get('peak_memory_mb', 0))} |"
        )
    best640 = max((x["fps"] for x in r.get("pipeline_640x480", [])), default=None)
    out.append(
        f"\nBest 640x480 frames/s: {best640} ({_check(best640, GOALS['video_640x480_fps'])} >= "
        f"{GOALS['video_640x480_fps']})."
    )
    if "long_video" in r:
        lv = r["long_video"]
        out.append(
            f"Long video: {lv['minutes']:g} min at 640x480 ({lv['frames']:,} frames, the clip looped), detector every "
            f"{lv['detect_every']} frames: {lv['fps']} frames/s, peak memory **{lv['peak_memory_mb']:,.0f} MB** "
            f"({_check(lv['peak_memory_mb'], GOALS['peak_memory_mb_long_video'], higher=False)} < "
            f"{GOALS['peak_memory_mb_long_video']} MB)."
        )
    if "vs_fer" in r:
        v, f = r["vs_fer"], r["vs_fer"]["fer"]
        out += [
            "",
            "## Side by side with `fer` (same run, same inputs)\n",
            "| | ferkit | fer " + f["version"] + " | ratio / gain | goal |",
            "|---|---|---|---|---|",
            f"| classifier faces/s (fer: fastest path, {f['classifier_path']}) | {r['classifier_faces_per_s']:,.0f} | "
            f"{f['classifier_faces_per_s']:,.0f} | {v['classifier_speed_ratio']}x | >= "
            f"{GOALS['classifier_speed_ratio']}x "
            f"({_check(v['classifier_speed_ratio'], GOALS['classifier_speed_ratio'])}) |",
            f"| end to end on the clip, frames/s (ferkit: detector on every frame) | {r['video_fps']} | "
            f"{f['video_fps']} | "
            f"{v['video_speed_ratio']}x | >= {GOALS['video_speed_ratio']}x "
            f"({_check(v['video_speed_ratio'], GOALS['video_speed_ratio'])}) |",
        ]
        clip_fps = {f"detect_every_{x['detect_every']}": x["fps"] for x in r.get("pipeline_clip", [])}
        for k, ratio in v.get("video_speed_ratio_streaming", {}).items():
            out.append(
                f"| end to end on the clip, streaming pipeline, {k.replace('_', ' ')} | {clip_fps.get(k, '-')} | "
                f"{f['video_fps']} | {ratio}x | ({_check(ratio, GOALS['video_speed_ratio'])}) |"
            )
        out += [
            f"| FER2013 PrivateTest accuracy | {r['privatetest_accuracy']:.2%} | {f['accuracy']:.2%} | "
            f"{v['accuracy_gain_points']:+.2f} points | >= +{GOALS['accuracy_gain_points']} "
            f"({_check(v['accuracy_gain_points'], GOALS['accuracy_gain_points'])}) |",
            f"| faces found on the Solvay photo (29 people) | {v['photo_faces']['ferkit']} | "
            f"{v['photo_faces']['fer']} | | |",
        ]
    return "\n".join(out) + "\n"


def vs_fer(python: str, fer2013: str, ours: dict, video: str | None = None) -> dict:
    """Run ``peer_fer.py`` with fer's interpreter on the faces, photo and video ``ours`` (a ``bench`` report) was
    measured on, timed as ferkit is; ratios ferkit / fer."""
    import json
    import subprocess
    import tempfile
    from pathlib import Path

    import numpy as np

    from ferkit.app.bench import EXAMPLE_PHOTO, EXAMPLE_VIDEO
    from ferkit.data import FER2013
    from ferkit.errors import FerkitError

    test = FER2013(fer2013, "PrivateTest")
    timing = ours["timing"]
    with tempfile.TemporaryDirectory() as tmp:
        faces = Path(tmp) / "faces.npz"
        np.savez(faces, faces=test.images, labels=test.labels)
        p = subprocess.run(
            [
                python,
                str(Path(__file__).with_name("peer_fer.py")),
                "--faces",
                str(faces),
                "--photo",
                str(EXAMPLE_PHOTO),
                "--video",
                str(video or EXAMPLE_VIDEO),
                "--min-seconds",
                str(timing["min_seconds"]),
                "--rounds",
                str(timing["rounds"]),
            ],
            capture_output=True,
            text=True,
        )
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        why = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode
        raise FerkitError(f"the fer run failed ({python}): {why}")
    fer = json.loads(lines[-1])
    return {
        "fer": fer,
        "classifier_speed_ratio": round(ours["classifier_faces_per_s"] / fer["classifier_faces_per_s"], 2),
        "video_speed_ratio": round(ours["video_fps"] / fer["video_fps"], 2),
        "video_speed_ratio_streaming": {
            f"detect_every_{r['detect_every']}": round(r["fps"] / fer["video_fps"], 2)
            for r in ours.get("pipeline_clip", [])
        },
        "accuracy_gain_points": round((ours["privatetest_accuracy"] - fer["accuracy"]) * 100, 2),
        "photo_faces": {"ferkit": ours["photo_faces"], "fer": fer["photo_faces"]},
    }
