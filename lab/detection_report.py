"""``ferkit report detection``: every detector backend on every box dataset (AP50, recall at 1 FP/image, ms per
640x480 frame, PR curves), identification on CK+ subjects, and track ids on a video -> reports/detection.{md,json}."""

from __future__ import annotations

import json
from pathlib import Path

from ferkit.data.voc import held_out, load_voc
from ferkit.detection.evaluate import evaluate_detector
from ferkit.detection.registry import create_detector, list_detectors
from ferkit.errors import FerkitError
from ferkit.utils.io import atomic_path, read_json, write_json_atomic, write_text_atomic
from ferkit.utils.reports import command_line

#: Detection goals of the issue, for the default detector.
GOALS = {"dlib_faces": 0.95, "face_mask": 0.90, "ms_per_frame": 15.0}


def detection_report(
    datasets: dict[str, str],
    out: str | Path,
    detectors: list[str] | None = None,
    ckplus: str | None = None,
    video: str | None = None,
    time_budget_s: float = 240.0,
    video_people: int | None = None,
) -> dict:
    """``datasets``: name -> VOC folder/archive. Slow backends stop after ``time_budget_s`` per dataset (the row
    says how many images it covered). A backend that cannot run here because its trained weights are not on this
    machine (runs are not kept in git) keeps its row of the previous report, flagged ``carried_over``."""
    out = Path(out)
    old = read_json(out)
    previous = {(r["detector"], r["dataset"]): r for r in old.get("rows", []) if "ap50" in r}
    names = detectors or [d["name"] for d in list_detectors()]
    default = create_detector("default").name
    rows, curves = [], {}
    for ds_name, path in datasets.items():
        items = load_voc(path)  # decoded once, scored by every backend
        for name in names:
            curve: list = []
            try:
                rep = evaluate_detector(name, items, time_budget_s=time_budget_s, curve_out=curve)
            except FerkitError as e:
                prev = previous.get((name, ds_name))
                rows.append(
                    {**prev, "carried_over": True, "why_not_rerun": str(e)}
                    if prev
                    else {"detector": name, "dataset": ds_name, "error": str(e)}
                )
                continue
            rows.append(_row(name, ds_name, rep))
            curves[(ds_name, name)] = curve[0]
        here = [r for r in rows if r["dataset"] == ds_name and "ap50" in r]
        untrained = [r for r in here if not r.get("excluded_training_images") and not r.get("carried_over")]
        if untrained and any(r.get("excluded_training_images") for r in here):
            # the best backend not trained on this set, on the test images of those trained on it: like with like
            best = max(untrained, key=lambda r: r["ap50"])["detector"]
            test = held_out([i.name for i in items])
            rows.append(
                _row(
                    best,
                    f"{ds_name}_test_third",
                    evaluate_detector(best, [i for i in items if i.name in test], time_budget_s=time_budget_s),
                )
            )
    figures = _plot_curves(curves, out) if curves else []
    report: dict = {
        "rows": rows,
        "default_detector": default,
        "goals": GOALS,
        "default_rows": [r for r in rows if r["detector"] == default],
    }
    if ckplus:
        from ferkit.data.ckplus import CKPlus
        from ferkit.identity.evaluate import identification_report

        ds = CKPlus(ckplus)
        ident = identification_report(ds.images, ds.subjects)
        report.update(
            identification_accuracy=ident["identification_accuracy"],
            false_accept_rate=ident["false_accept_rate"],
            identification=ident,
        )
    if video:
        report["tracking"] = {**_track_count(video), "people_counted_by_eye": video_people}
    report["command"] = command_line()
    write_json_atomic(out, report)
    write_text_atomic(out.with_suffix(".md"), _markdown(report, out.name, figures))
    return report


def _row(detector: str, dataset: str, rep: dict) -> dict:
    return {
        "detector": detector,
        "dataset": dataset,
        **{
            k: rep[k]
            for k in (
                "ap50",
                "recall_at_1fppi",
                "max_recall",
                "ranking_floor",
                "operating_threshold",
                "precision_at_operating",
                "recall_at_operating",
                "ms_per_frame",
                "n_images",
                "subset",
                "n_boxes",
                "excluded_training_images",
            )
        },
    }


def _track_count(video: str) -> dict:
    import tempfile

    from ferkit.app.analyzer import Analyzer
    from ferkit.app.settings import AnalyzeSettings
    from ferkit.app.video import analyze_video

    app = Analyzer()
    with tempfile.TemporaryDirectory() as tmp:
        analyze_video(app, video, Path(tmp), AnalyzeSettings(annotate=False), progress=False)
        s = json.loads(next(Path(tmp).glob("*_summary.json")).read_text())
    return {
        "video": Path(video).name,
        "frames": s["frames"],
        "detector": app.detector.name,
        "track_ids": s["people"],
        "transient_tracks": len(s["transient_tracks"]),
        "min_track_frames": s["min_track_frames"],
        "tracks": [{k: t[k] for k in ("track", "frames", "start_s", "end_s")} for t in s["tracks"]],
    }


def _plot_curves(curves: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for ds_name in sorted({d for d, _ in curves}):
        fig, ax = plt.subplots(figsize=(5.5, 4.2))
        for (d, name), (p, r) in sorted(curves.items()):
            if d == ds_name:
                ax.plot(r, p, lw=1.4, label=name)
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=f"Face detection: {ds_name}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
        fig.tight_layout()
        png = out.with_name(f"{out.stem}_pr_{ds_name}.png")
        with atomic_path(png) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        files.append(png.name)
    return files


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def _operating(row: dict) -> str:
    """'0.7: 0.851 / 0.702' ('built-in: ...' for a backend without a score threshold), or '-' for a row without
    the figures (carried over from an older report)."""
    if row.get("precision_at_operating") is None:
        return "-"
    t = row.get("operating_threshold")
    threshold = "built-in" if t is None else _num(t)
    return f"{threshold}: {row['precision_at_operating']:.3f} / {row['recall_at_operating']:.3f}"


def _markdown(r: dict, json_name: str, figures: list[str]) -> str:
    lines = [
        "# Face detection, identity and tracking\n",
        f"*Written by `{r['command']}`; the JSON twin is `{json_name}`. CPU: 2 cores; ms per 640x480 frame is "
        f"the median of up to 10 runs on the dataset's first image resized to 640x480.*\n",
        "AP50 ranks every detection a backend scores down to its ranking floor (config "
        "`DETECTION_RANKING_FLOOR`), as VOC and COCO evaluations do; precision and recall are also given at the "
        "backend's operating threshold, the one `analyze` uses.\n",
        "| detector | dataset | AP50 | recall at 1 FP/image | max recall | scores ranked from | operating threshold:"
        " precision / recall | ms / 640x480 frame | images | boxes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        if "error" in row:
            lines.append(f"| {row['detector']} | {row['dataset']} | not run: {row['error']} | | | | | | | |")
            continue
        n = f"{row['n_images']} (first images only: time budget)" if row["subset"] else str(row["n_images"])
        if row["excluded_training_images"]:
            n += f" held out ({row['excluded_training_images']} training images left out)"
        lines.append(
            f"| {row['detector']}{' (default)' if row['detector'] == r['default_detector'] else ''} | "
            f"{row['dataset']} | {row['ap50']:.3f}{' (*)' if row.get('carried_over') else ''} | "
            f"{row['recall_at_1fppi']:.3f} | {row['max_recall']:.3f} | "
            f"{_num(row.get('ranking_floor'))} | {_operating(row)} | {row['ms_per_frame']:.1f} | {n} | "
            f"{row['n_boxes']} |"
        )
    carried = [row for row in r["rows"] if row.get("carried_over")]
    if carried:
        lines.append(
            f"\n(*) Carried over from the previous report (no curve in the plots): "
            f"{carried[0]['why_not_rerun']}. Runs are not kept in git; make_reports.sh names the command."
        )
    thirds = sorted({row["dataset"] for row in r["rows"] if row["dataset"].endswith("_test_third")})
    for name in thirds:
        lines.append(
            f"\n`{name}`: the images of `{name[: -len('_test_third')]}` held out from the detectors trained on "
            "it (every third by name; `ferkit train-detector`), scored by the best backend not trained on it "
            "too, so that trained and pretrained detectors compare on the same images."
        )
    g = r["goals"]
    lines.append(
        f"\nGoals for the default detector ({r['default_detector']}): AP50 >= {g['dlib_faces']} on dlib_faces, "
        f">= {g['face_mask']} on face_mask, <= {g['ms_per_frame']} ms per frame."
    )
    for row in r["default_rows"]:
        if "ap50" in row:
            goal = g.get(row["dataset"])
            ok = [
                f"AP50 {row['ap50']:.3f}"
                + (f" ({'meets' if row['ap50'] >= goal else 'misses'} {goal})" if goal else ""),
                f"{row['ms_per_frame']:.1f} ms ({'meets' if row['ms_per_frame'] <= g['ms_per_frame'] else 'misses'} "
                f"{g['ms_per_frame']})",
            ]
            lines.append(f"- {row['dataset']}: " + ", ".join(ok))
    lines.append("")
    for fig in figures:
        lines.append(f"![precision-recall]({fig})\n")
    if "identification" in r:
        lines += _identification_markdown(r["identification"])
    if "tracking" in r:
        t = r["tracking"]
        lines += [
            "## Tracking\n",
            f"{t['video']}, {t['frames']} frames, detector {t['detector']}: **{t['track_ids']} track "
            f"ids** (tracks seen in >= {t['min_track_frames']} frames; {t['transient_tracks']} transient tracks "
            "left out)"
            + (
                f"; people with a visible face, counted by eye: **{t['people_counted_by_eye']}**"
                if t.get("people_counted_by_eye") is not None
                else ""
            )
            + ".\n",
            "| track | frames | start s | end s |",
            "|---|---|---|---|",
        ]
        lines += [f"| {x['track']} | {x['frames']} | {x['start_s']} | {x['end_s']} |" for x in t["tracks"]]
    return "\n".join(lines) + "\n"


def _identification_markdown(i: dict) -> list[str]:
    lines = [
        "## Identification on CK+ subjects\n",
        f"Embedder {i['embedder']} ({i['dim']} values), {i['n_subjects']} subjects, {i['n_images']} images (48x48 "
        f"grey crops, upscaled for dlib). Closed set: one image per subject enrolled, {i['n_probes']} probes. Open "
        f"set: every other subject enrolled ({i['open_set_enrolled_subjects']}), {i['open_set_unknown_probes']} "
        f"probes of the others must be rejected. Threshold {i['threshold']} (config `IDENTITY_THRESHOLD`), "
        f"k={i['k']}.\n",
        "| threshold | identification accuracy (closed set) | false-accept rate (open set) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {op['threshold']} | {op['identification_accuracy']:.4f} | {op['false_accept_rate']:.4f} |"
        for op in i["operating_points"]
    ]
    lines.append(
        f"\nAt the chosen threshold {i['threshold']}: identification accuracy "
        f"**{i['identification_accuracy']:.4f}**, false-accept rate **{i['false_accept_rate']:.4f}**; "
        f"{i['ms_per_face']:.0f} ms per face.\n"
    )
    h = i["heldout"]
    lines += [
        f"Chosen without the test subjects: the subjects split in two halves (every other one); on each half "
        f"the smallest threshold (0.01 grid) reaching {h['target']:.0%} identification is applied to the other "
        "half, which is scored with the same protocols within itself (smaller galleries than above). With "
        "`texture weight chosen too`, each half also picks the texture weight (of "
        f"{', '.join(map(str, i.get('heldout_weight', {}).get('weights', [])))}) whose threshold there falsely "
        "accepts fewest.\n",
        "| embedding | half scored | weight | threshold chosen on the other half | subjects | identification "
        "accuracy | false-accept rate (enrolled / unknown probes) |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [(i["embedder"], h)]
    if "heldout_weight" in i:
        rows.append(("texture weight chosen too", i["heldout_weight"]))
    rows += [(v["embedder"], v["heldout"]) for v in i.get("variants", [])]
    for name, hh in rows:
        lines += [
            f"| {name} | {n} | {f.get('weight', '')} | {f['threshold']} | {f['n_subjects']} | "
            f"{f['identification_accuracy']:.4f} | {f['false_accept_rate']:.4f} "
            f"({f['open_set_enrolled_subjects']} / {f['open_set_unknown_probes']}) |"
            for n, f in enumerate(hh["folds"], 1)
        ]
        lines.append(
            f"| {name} | **mean** | | | | **{hh['identification_accuracy']:.4f}** | **{hh['false_accept_rate']:.4f}** |"
        )
    if i.get("variants"):
        lines += [
            "\nOn all subjects, each embedding at the smallest threshold reaching the target:\n",
            "| embedding | threshold | identification accuracy | false-accept rate |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {v['embedder']} | {v['all_subjects']['threshold']} | "
            f"{v['all_subjects']['identification_accuracy']:.4f} | {v['all_subjects']['false_accept_rate']:.4f} |"
            for v in i["variants"]
        ]
        lines.append("")
    return lines
