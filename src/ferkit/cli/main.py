"""``ferkit VERB ...``: analyze, train, evaluate, export, bench, models, detectors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ferkit.config import (
    FRAME_PREFETCH,
    TIMING_ROUNDS,
)
from ferkit.errors import BadOptionError, FerkitError

from .batch import add_batch, run_batch
from .crossval import add_crossval, run_crossval
from .distill import add_teach, run_teach
from .ensemble import add_ensemble, run_ensemble
from .masked import add_mask, run_mask
from .options import (
    add_frame_options,
    add_model_options,
    add_pipeline_options,
    add_train_speed_options,
    check_model_options,
    check_train_speed_options,
    pipeline_settings,
)
from .serve import add_serve, run_serve
from .zoo import add_zoo, run_zoo


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train an expression model (needs the train extra)")
    p.add_argument("--model", required=True, help="registered architecture (see `ferkit models`)")
    p.add_argument("--dataset", default="fer2013", help="fer2013 | ferplus | mask | mask_photos")
    p.add_argument(
        "--data",
        required=True,
        help="dataset path (Kaggle folder/zip or fer2013.csv for fer2013; "
        "the masked copy for mask; annotated face-mask photos (VOC) for "
        "mask_photos)",
    )
    p.add_argument("--images", help="ferplus: FER2013 images; mask: the plain FER2013 copy")
    p.add_argument("--recipe", default="ferkit", help="named recipe (ferkit.training.recipes)")
    p.add_argument("--out", required=True, help="run folder: checkpoints, epochs.jsonl, summary.json")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--lr", type=float, help="override the recipe's learning rate")
    p.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto | cpu | gpu")
    p.add_argument("--devices", default="auto", help="Lightning devices (e.g. 4 for 4 GPUs with DDP)")
    p.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp (several processes)")
    p.add_argument("--num-nodes", type=int, default=1)
    add_train_speed_options(p)
    p.add_argument("--max-time", help="stop after DD:HH:MM:SS (resume later with --resume)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-batches", type=int, help="train / validate on this many batches per epoch (smoke runs)")
    p.add_argument("--teacher", help="stored teacher outputs (`ferkit teach`): distil the student from them")
    p.add_argument(
        "--init",
        help="start from these weights: a shipped model of the same architecture, its .onnx "
        "file, or a training .ckpt (fine-tuning; the default starts from random weights)",
    )
    p.add_argument(
        "--kd-loss",
        choices=("hinton", "soft_labels"),
        help="distillation loss: hinton (paper 000, the recipe default) or soft_labels (paper 003's "
        "EmoXNetLite: cross-entropy on the teacher's label-smoothed probabilities)",
    )
    p.add_argument("--kd-alpha", type=float, help="distillation: weight of the hard-label loss (recipe default 0.1)")
    p.add_argument("--kd-temperature", type=float, help="distillation: temperature (recipe default 10)")
    p.add_argument("--grid", help='classical models: JSON grid searched on the validation split, e.g. {"k": [1, 3, 5]}')
    p.add_argument(
        "--max-train",
        type=int,
        help="a random subset of the training split of this size (torch models: a "
        "short schedule, recorded as such in summary.json)",
    )


def _run_train(a) -> int:
    from ferkit.expression.registry import model_kind

    if model_kind(a.model) == "classical":
        from ferkit.training.classical import train_classical

        s = train_classical(
            a.model, a.dataset, a.data, a.out, json.loads(a.grid) if a.grid else None, a.max_train, a.seed
        )
        print(json.dumps({k: s[k] for k in ("model", "best_params", "best_val_acc", "train_seconds", "estimator")}))
        return 0
    check_train_speed_options(a)
    from ferkit.training.train import train

    s = train(
        a.model,
        a.dataset,
        a.data,
        a.out,
        a.recipe,
        resume=a.resume,
        accelerator=a.accelerator,
        devices=a.devices,
        num_nodes=a.num_nodes,
        strategy=a.strategy,
        precision=a.train_precision,
        max_time=a.max_time,
        threads=a.threads,
        seed=a.seed,
        limit_batches=a.limit_batches,
        teacher=a.teacher,
        images=a.images,
        max_train=a.max_train,
        init=a.init,
        epochs=a.epochs,
        batch_size=a.batch_size,
        lr=a.lr,
        kd_loss=a.kd_loss,
        kd_alpha=a.kd_alpha,
        kd_temperature=a.kd_temperature,
        data_path=a.data_path,
        compile_mode=a.compile,
        lr_scale=a.lr_scale,
        freed_memory=a.freed_memory,
    )
    print(json.dumps({k: v for k, v in s.items() if k != "recipe"}, indent=2))
    return 0


def _add_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="detect faces and classify expressions in images, folders, videos or a webcam")
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="image files, folders of images, video files, or one webcam index (0, 1...)",
    )
    p.add_argument("--out", required=True, help="output folder (results.json, results.csv, annotated files)")
    add_pipeline_options(p)
    p.add_argument("--max-frames", type=int, help="stop videos / webcams after this many frames (>= 1)")
    add_frame_options(p)
    p.add_argument(
        "--prefetch",
        type=int,
        default=FRAME_PREFETCH,
        metavar="N",
        help="videos: decode up to N frames ahead in a background thread (0: inline)",
    )
    p.add_argument(
        "--serve",
        type=int,
        metavar="PORT",
        help="videos / webcams: stream annotated frames live at http://127.0.0.1:PORT/ (MJPEG)",
    )
    p.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        help="videos: add per-track smoothed probabilities (moving-average weight of the past, [0, 1))",
    )
    p.add_argument("--no-annotate", action="store_true", help="write results only, no annotated images / video")


def analyze_settings(a):
    """The ``AnalyzeSettings`` of ``ferkit analyze``'s arguments, validated."""
    return pipeline_settings(
        a,
        every=a.every,
        detect_every=a.detect_every,
        max_frames=a.max_frames,
        smooth=a.smooth,
        prefetch=a.prefetch,
        annotate=not a.no_annotate,
    )


def _run_analyze(a) -> int:
    from ferkit.app.jobs import analyze_sources, check_out, check_sources

    settings = analyze_settings(a)  # every option, the sources and --out checked before any model loads
    check_sources(a.sources)
    check_out(a.out)
    if a.serve is not None and not 0 <= a.serve <= 65535:
        raise BadOptionError(f"--serve: a port number 0..65535, not {a.serve}")
    from ferkit.app.analyzer import Analyzer

    analyzer = Analyzer.from_settings(settings)
    server = None
    if a.serve is not None:
        from ferkit.app.live import FrameServer

        server = FrameServer(a.serve)
        print(f"live view: http://127.0.0.1:{server.port}/", flush=True)
    try:
        rep = analyze_sources(a.sources, a.out, analyzer, settings, on_frame=server.publish if server else None)
    finally:
        if server:
            server.close()
    masked = f", {sum(bool(r.get('masked')) for r in rep.records)} called masked" if a.masked == "auto" else ""
    empty = sum(bool(r.get("no_face")) for r in rep.records)
    print(
        f"{len(rep.records) - empty} faces{masked}{f', {empty} images without a face' if empty else ''} "
        f"-> {a.out}/results.json" + (f" ({len(rep.errors)} files failed)" if rep.errors else "")
    )
    return 1 if rep.errors else 0


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help="Grad-CAM heat maps of the predicted expression for each face of an image")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="output folder (one PNG per face, a strip of all faces, JSON)")
    p.add_argument(
        "--model", default="default", help="shipped model name, .onnx file, or training .ckpt (any registry CNN)"
    )
    p.add_argument("--detector", default="default")
    p.add_argument("--no-per-face", action="store_true", help="only the grid of all faces and the JSON")


def _run_explain(a) -> int:
    from ferkit.app.explain import explain_image

    recs = explain_image(a.image, a.out, a.model, a.detector, not a.no_per_face)
    print(f"{len(recs)} faces -> {a.out}")
    return 0


def _add_enroll(sub) -> None:
    p = sub.add_parser("enroll", help="add a person's face embeddings (largest face of each image) to a gallery file")
    p.add_argument("images", nargs="+", help="photos of the person")
    p.add_argument("--gallery", required=True, help="gallery .npz file (created if missing)")
    p.add_argument("--name", required=True, help="the person's name")
    p.add_argument("--detector", default="default")
    p.add_argument(
        "--threshold", type=float, help="distance threshold of a new gallery (default: config IDENTITY_THRESHOLD, 0.80)"
    )


def _run_enroll(a) -> int:
    from ferkit.identity.enroll import enroll

    g = enroll(a.gallery, a.name, a.images, a.detector, a.threshold)
    print(f"{a.name}: {len(a.images)} images enrolled; {a.gallery}: {len(g.people)} people, {len(g)} embeddings")
    return 0


def _add_train_detector(sub) -> None:
    p = sub.add_parser(
        "train-detector",
        help="train a face detector on VOC boxes (resumable): paper 002's Faster "
        "R-CNN from scratch, or a fine-tuned YuNet",
    )
    p.add_argument(
        "--model",
        choices=["faster_rcnn", "yunet"],
        default="faster_rcnn",
        help="faster_rcnn (random weights) or yunet (fine-tunes the shipped YuNet)",
    )
    p.add_argument("--data", required=True, help="folder or archive of images with PASCAL VOC .xml boxes")
    p.add_argument(
        "--out",
        help="run folder (default runs/faster_rcnn or runs/yunet_masks): last.pt (resume), the model, the epoch log",
    )
    p.add_argument("--epochs", type=int, help="default: 30 (faster_rcnn), config YUNET_FINETUNE (yunet)")
    p.add_argument("--batch", type=int, default=4, help="faster_rcnn only")
    p.add_argument("--lr", type=float, help="default: 0.02 (faster_rcnn), config YUNET_FINETUNE (yunet)")
    p.add_argument("--max-minutes", type=float, help="stop after the epoch that passes this; rerun to resume")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument(
        "--final",
        action="store_true",
        help="yunet only: train on the validation images too and keep the last epoch (once a run with "
        "validation has settled the recipe); the test third stays held out",
    )
    p.add_argument(
        "--stride4",
        action="store_true",
        default=None,
        help="yunet only: add a stride-4 output level for small faces (default: config YUNET_FINETUNE)",
    )


def _run_train_detector(a) -> int:
    if a.model == "yunet":
        from ferkit.detection.yunet_train import train_yunet

        rep = train_yunet(
            a.data,
            a.out or "runs/yunet_masks",
            a.epochs,
            a.lr,
            a.max_minutes,
            a.threads,
            final=a.final,
            stride4=a.stride4,
        )
    else:
        from ferkit.detection.faster_rcnn import train_faster_rcnn

        rep = train_faster_rcnn(
            a.data, a.out or "runs/faster_rcnn", a.epochs or 30, a.batch, a.lr or 0.02, a.max_minutes, a.threads
        )
    print(json.dumps(rep))
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="accuracy, per-class precision/recall/F1 and confusion matrix on a dataset split"
    )
    add_model_options(p)
    p.add_argument("--dataset", default="fer2013", help="fer2013 | ferplus | ckplus | folder")
    p.add_argument("--data", required=True, help="dataset path (folder, zip/tar archive, fer2013.csv, fer2013new.csv)")
    p.add_argument("--images", help="ferplus only: FER+ image folder/zip or fer2013.csv")
    p.add_argument("--split", default="PrivateTest", help="Training | PublicTest | PrivateTest")
    p.add_argument("--json", help="write the report here (and a confusion-matrix PNG beside it)")


def _run_evaluate(a) -> int:
    check_model_options(a)
    from ferkit.evaluation.evaluate import evaluate

    kw = {"images": a.images} if a.images else {}
    rep = evaluate(a.model, a.dataset, a.data, a.split, a.json, a.tta, a.precision, **kw)
    print(json.dumps({k: rep[k] for k in ("model", "dataset", "split", "n", "accuracy", "macro_f1")}))
    for c, m in rep["per_class"].items():
        print(f"  {c:9s} precision {m['precision']:.3f} recall {m['recall']:.3f} f1 {m['f1']:.3f} n={m['support']}")
    if rep.get("skipped"):
        print(f"  skipped classes outside the model's: {rep['skipped']}")
    return 0


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export a training checkpoint or shipped model to ONNX, optionally int8")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="training .ckpt (needs the train extra)")
    src.add_argument("--model", help="a shipped model name or .onnx file (to quantize it)")
    p.add_argument("--out", required=True, help="output .onnx file")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--int8", action="store_true", help="static int8 quantization, calibrated on Training faces")
    p.add_argument("--calib-data", help="FER2013 path for --int8 calibration (Training split)")
    p.add_argument("--calib-n", type=int, default=1000, help="calibration faces (every k-th Training image)")


def _run_export(a) -> int:
    if a.int8 and not a.calib_data:
        raise FerkitError("--int8 needs --calib-data (a FER2013 copy: its Training faces calibrate the ranges)")
    if a.checkpoint:
        from ferkit.expression.export import export_onnx, load_checkpoint

        model, _ = load_checkpoint(a.checkpoint)
        fp32 = export_onnx(model, Path(a.out).with_suffix(".fp32.onnx") if a.int8 else a.out)
    else:
        from ferkit.expression.classifier import model_onnx_path

        fp32 = model_onnx_path(a.model, "fp32")
        if not fp32.is_file():
            raise FerkitError(f"{a.model}: no such .onnx file")
        if not a.int8:
            raise FerkitError("--model is already ONNX: add --int8 to quantize it")
    if a.int8:
        from ferkit.data import FER2013
        from ferkit.expression.quantize import quantize_int8

        train = FER2013(a.calib_data, "Training")
        step = max(1, len(train) // a.calib_n)
        print(quantize_int8(fp32, a.out, train.images[::step][: a.calib_n]))
    else:
        print(fp32)
    return 0


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="classifier faces/s and end-to-end video frames/s on this machine")
    p.add_argument("--detector", default="default")
    p.add_argument("--model", default="default")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--video", help="video to time end to end (default: the bundled clip)")
    p.add_argument("--seconds", type=float, default=3.0, help="minimum timing per window")
    p.add_argument(
        "--rounds",
        type=int,
        default=TIMING_ROUNDS,
        help="timing windows per classifier / detector rate (ferkit's and fer's), the fastest kept",
    )
    p.add_argument("--int8-model", help="an int8 .onnx (ferkit export --int8) to time and score beside the fp32 model")
    p.add_argument("--fer2013", help="FER2013 path: PrivateTest accuracy in the same run")
    p.add_argument("--detect-every", default="1,3", help="streaming pipeline runs: detector every K-th frame (list)")
    p.add_argument(
        "--long-video-minutes",
        type=float,
        default=0.0,
        help="also time a looped 640x480 video this long and report peak memory (e.g. 10)",
    )
    p.add_argument("--json", help="write the figures here (and a Markdown twin)")
    t = p.add_argument_group("training speed (--train; needs the train extra)")
    t.add_argument(
        "--train",
        metavar="MODEL",
        help="instead: faces/s of MODEL's training step, seconds per epoch (data + step + validation + "
        "checkpoint) and the share of the epoch outside the step, for each --train-precision x --data-path x "
        "--freed-memory (comma-separated lists; each setting in its own process)",
    )
    t.add_argument("--batch-size", type=int, default=128, help="--train: faces per step")
    t.add_argument("--faces", type=int, default=4096, help="--train: training faces per timed epoch (+1/8 validation)")
    t.add_argument("--epochs", type=int, default=2, help="--train: epochs run; the fastest is kept")
    add_train_speed_options(t)
    t.set_defaults(lr_scale="none")


def _run_train_bench(a) -> int:
    check_train_speed_options(a)
    if a.faces < a.batch_size:
        raise BadOptionError(f"--faces: at least one batch ({a.batch_size}), not {a.faces}")
    if a.epochs < 1:
        raise BadOptionError(f"--epochs: at least 1, not {a.epochs}")
    from ferkit.expression.registry import model_kind

    if model_kind(a.train) != "torch":
        raise BadOptionError(f"--train: {a.train} is not a torch model (classical models have no training step)")
    from ferkit.training.speed import train_speed

    settings = [
        (p, d, m)
        for p in a.train_precision.split(",")
        for d in a.data_path.split(",")
        for m in a.freed_memory.split(",")
    ]
    rep = train_speed(
        a.train, a.batch_size, settings, a.faces, a.fer2013, a.seconds, a.compile, a.epochs, a.threads, a.rounds
    )
    if a.json:
        from ferkit.utils.reports import write_report

        write_report(a.json, rep, f"Training speed of {a.train} on this machine")
    print(json.dumps(rep, indent=2))
    return 0


def _run_bench(a) -> int:
    if a.train:
        return _run_train_bench(a)
    from ferkit.app.bench import bench

    rep = bench(
        a.detector,
        a.model,
        a.threads,
        a.seconds,
        a.video,
        a.int8_model,
        a.fer2013,
        tuple(int(k) for k in a.detect_every.split(",")),
        a.long_video_minutes,
        a.rounds,
    )
    if a.json:
        from ferkit.utils.reports import command_line, write_report

        rep["command"] = command_line()
        write_report(a.json, rep, "Speed of ferkit on this machine (`ferkit bench`)")
    print(json.dumps(rep, indent=2))
    return 0


def _add_detect_eval(sub) -> None:
    p = sub.add_parser(
        "detect-eval", help="AP50, recall at 1 FP/image and ms/frame of a detector on VOC-annotated photos"
    )
    p.add_argument("--detector", default="default")
    p.add_argument("--data", required=True, help="folder or archive of images with PASCAL VOC .xml boxes")
    p.add_argument("--classes", help="comma-separated object classes that count as faces (default: all)")
    p.add_argument("--json", help="write the report here (and a precision-recall PNG beside it)")
    p.add_argument(
        "--scales",
        action="store_true",
        help="the scale benchmark: each face re-framed to span 5%%..100%% of the frame side, colour and "
        "grey; recall and AP50 per band",
    )


def _run_detect_eval(a) -> int:
    from ferkit.detection.evaluate import evaluate_detector

    classes = tuple(a.classes.split(",")) if a.classes else None
    if a.scales:
        from ferkit.data.voc import load_voc
        from ferkit.detection.registry import create_detector
        from ferkit.detection.scale_bench import scale_bands, scale_benchmark
        from ferkit.utils.reports import write_report

        rows = scale_benchmark(create_detector(a.detector), scale_bands(load_voc(a.data, classes)))
        if a.json:
            write_report(
                a.json, {"detector": a.detector, "data": a.data, "bands": rows}, f"Scale benchmark of {a.detector}"
            )
        print(json.dumps(rows))
        return 0
    rep = evaluate_detector(a.detector, a.data, a.json, classes)
    print(json.dumps({k: v for k, v in rep.items() if k != "data"}))
    return 0


def _run_models(a) -> int:
    from ferkit.expression.registry import list_models, shipped_table

    if a.markdown:
        print(shipped_table(), end="")
        return 0
    rows = list_models()
    for r in rows:
        acc = r.get("privatetest_accuracy")
        fig = (
            f"{r['test_set']} PrivateTest {acc:.2%} {r['precision']}, {r.get('faces_per_s') or 0:,.0f} faces/s"
            if acc is not None
            else "shipped"
            if r["shipped"]
            else "not shipped"
        )
        paper = f"paper {r['paper']}" if r.get("paper") else ""
        mark = "default" if r.get("default") else "*" if r["shipped"] else ""
        print(f"{r['name']:20s} {mark:7s} {paper:9s} {fig:60s} {r['description']}")
    print(
        "\n* shipped. Figures from each model's card (src/ferkit/assets/models/NAME/card.json), measured at the "
        "runtime precision by the command that shipped it:"
    )
    for r in rows:
        if r.get("measured_by"):
            print(f"  {r['name']}: {r['measured_by']}")
    return 0


def _run_detectors(a) -> int:
    from ferkit.detection import list_detectors

    for r in list_detectors():
        print(f"{r['name']:10s} {'(default) ' if r['default'] else ''}{r['description']}")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors on one line (``ferkit: error: ...``), exit status 2, no usage dump."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ferkit", description="Facial expression recognition toolkit")
    sub = parser.add_subparsers(dest="verb", required=True)
    for add in (
        _add_analyze,
        _add_explain,
        _add_enroll,
        _add_train,
        _add_train_detector,
        _add_evaluate,
        _add_export,
        _add_bench,
        _add_detect_eval,
        add_mask,
        add_teach,
        add_crossval,
        add_ensemble,
        add_serve,
        add_batch,
        add_zoo,
    ):
        add(sub)
    p = sub.add_parser("models", help="list expression models (* = shipped, with measured accuracy)")
    p.add_argument("--markdown", action="store_true", help="the shipped models as a Markdown table (the README's)")
    sub.add_parser("detectors", help="list face detectors")
    return parser


RUNNERS = {
    "analyze": _run_analyze,
    "train": _run_train,
    "evaluate": _run_evaluate,
    "export": _run_export,
    "bench": _run_bench,
    "detect-eval": _run_detect_eval,
    "enroll": _run_enroll,
    "explain": _run_explain,
    "train-detector": _run_train_detector,
    "models": _run_models,
    "detectors": _run_detectors,
    "mask": run_mask,
    "teach": run_teach,
    "crossval": run_crossval,
    "ensemble": run_ensemble,
    "serve": run_serve,
    "batch": run_batch,
    "zoo": run_zoo,
}


def run_verb(runner, args, prog: str = "ferkit") -> int:
    """Run one verb: a ferkit error or an unreadable file is one line on stderr and exit status 2."""
    try:
        return runner(args)
    except (FerkitError, FileExistsError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file that cannot be read or written, named by the system's message
        print(f"{prog}: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_verb(RUNNERS[args.verb], args)


if __name__ == "__main__":
    sys.exit(main())
