"""``ferkit report masked``: paper 000's experiment side by side with the paper (teacher on full faces, student
without and with distillation on masked FER2013 PrivateTest), mask detection on real photos, the synthesis
counts, and a picture check -> reports/masked.{md,json} and reports/masked_examples.png."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ferkit.config import DEFAULT_MODEL, MASK_DEV_PHOTOS, MASK_PHOTO_FRAMING, MASKED_MODEL
from ferkit.data import FER2013
from ferkit.data.masked import annotated_faces
from ferkit.detection import create_detector
from ferkit.errors import FerkitError
from ferkit.evaluation.evaluate import evaluate_faceset
from ferkit.expression.models import load_classifier
from ferkit.expression.registry import weights_label
from ferkit.masks.dataset import REPORT
from ferkit.masks.detector import MaskClassifier, MaskDetector, colour_alone
from ferkit.masks.evaluate import mask_detection_report
from ferkit.masks.photo import mask_photo
from ferkit.utils.io import read_image, read_json, write_image_atomic, write_json_atomic, write_text_atomic
from ferkit.utils.reports import command_line

#: Paper 000's figures (FER2013 test split) and the issue's goals.
PAPER = {"teacher_full": 0.69, "student_only_masked": 0.46, "student_kd_masked": 0.61}
GOALS = {"student_kd_masked": 0.66, "distillation_gain": 0.10, "mask_detection_accuracy": 0.95}


@dataclass(frozen=True)
class Student:
    """A masked-face student of the report: its JSON figure, its row, its run folder (under ``runs``), its label."""

    key: str
    row_key: str
    run: str
    label: str


#: The students, as paper 000 trains them (from random weights) and, beyond the paper, from the teacher's weights
#: (`ferkit train --init`): without and with distillation; scripts/run_masked.sh trains them.
STUDENTS = (
    Student("student_only_masked", "student_only_run", "masked_student", "student only"),
    Student("student_kd_masked", "student_kd_run", "masked_kd", "student with distillation"),
    Student(
        "student_only_masked_init",
        "student_only_init_run",
        "masked_student_init",
        "student only, from the teacher's weights",
    ),
    Student(
        "student_kd_masked_init",
        "student_kd_init_run",
        "masked_kd_init",
        "student with distillation, from the teacher's weights",
    ),
    Student(
        "student_kd_masked_ensemble_init",
        "student_kd_ensemble_init_run",
        "masked_kd_ensemble_init",
        "student with distillation from an ensemble, from the teacher's weights",
    ),
    Student(
        "student_kd_masked_gpu_ensemble_init",
        "student_kd_gpu_ensemble_init_run",
        "masked_kd_gpu_ensemble_init",
        "student with distillation from the strongest PublicTest ensemble (a GPU-trained member), "
        "from the teacher's weights",
    ),
)
#: Where a teacher is not a model this package can load (an ensemble with a GPU-trained member), its full-face
#: PrivateTest figure comes from the report that measured it (`python -m lab gpu-runs`).
ENSEMBLE_REPORT = Path("reports/ensemble_all.json")
#: Synthesis figures that must match for a previous report's student rows to stand for this masked copy.
SYNTHESIS_SIGNATURE = ("seed", "faces", "methods", "flagged", "templates", "colours")


def _run_row(run: Path, masked: str, previous: dict | None = None) -> dict:
    """A student run evaluated on masked PublicTest (selection) and PrivateTest. A run not on this machine keeps its
    row from the previous report (``previous``; runs are not kept in git, each row names its command), flagged
    ``carried_over``, when that row was measured on a masked copy made the same way (``SYNTHESIS_SIGNATURE``)."""
    if not (run / "checkpoints" / "best.ckpt").exists():
        if previous and previous.get("privatetest_accuracy") is not None:
            return {**previous, "carried_over": True}
        return {"run": str(run), "status": "not run"}
    summary = read_json(run / "summary.json")
    info = json.loads((run / "run.json").read_text())
    clf = load_classifier(str(run / "checkpoints" / "best.ckpt"))
    row = {
        "run": str(run),
        "command": info["command"],
        "epochs": summary.get("epochs_done"),
        "recipe_epochs": info["recipe"]["epochs"],
        "train_minutes": round(summary.get("train_seconds", 0) / 60, 1),
        "hardware": summary.get("hardware"),
        "teacher_file": info.get("teacher"),
        "teacher_model": _teacher_model(info.get("teacher"), previous),
        "init": weights_label(info.get("init")),
        "kd": {"alpha": info["recipe"]["kd_alpha"], "temperature": info["recipe"]["kd_temperature"]}
        if info.get("teacher")
        else None,
    }
    for split in ("PublicTest", "PrivateTest"):
        rep, _ = evaluate_faceset(clf, FER2013(masked, split))
        row[f"{split.lower()}_accuracy"] = rep["accuracy"]
        if split == "PrivateTest":
            row["privatetest_macro_f1"] = rep["macro_f1"]
    return row


def examples_grid(masked: str, demo: list[str], out: str | Path, seed: int = 0) -> list[dict]:
    """16 masked FER2013 PrivateTest faces (drawn with ``seed``) above 4 masked demo photos, as one PNG."""
    ds = FER2013(masked, "PrivateTest")
    pick = np.random.default_rng(seed).choice(len(ds), 16, replace=False)
    faces = [
        cv2.cvtColor(cv2.resize(ds.images[i], (120, 120), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
        for i in pick
    ]
    top = np.vstack([np.hstack(faces[r * 8 : (r + 1) * 8]) for r in range(2)])
    tiles, placed = [], []
    width = top.shape[1] // max(1, len(demo))
    detector = create_detector()
    for path in demo:
        img, pls = mask_photo(read_image(path), detector, seed=seed, key=Path(path).name)
        s = min(width / img.shape[1], 320 / img.shape[0])
        tile = np.full((320, width, 3), 255, np.uint8)
        small = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        tile[: small.shape[0], : small.shape[1]] = small
        tiles.append(tile)
        placed.append({"photo": Path(path).name, "faces": len(pls), "placements": [p.to_dict() for p in pls]})
    bottom = np.hstack(tiles) if tiles else np.zeros((0, top.shape[1], 3), np.uint8)
    bottom = cv2.copyMakeBorder(bottom, 0, 0, 0, top.shape[1] - bottom.shape[1], cv2.BORDER_CONSTANT, value=(255,) * 3)
    write_image_atomic(out, np.vstack([top, bottom]))
    return placed


def _teacher_model(teacher_file: str | None, previous: dict | None) -> str | None:
    """The model whose stored outputs (``teacher_file``) taught a student; where the file is not here, the one
    ``previous`` names."""
    if teacher_file and Path(teacher_file).is_file():
        from ferkit.training.teacher import TeacherOutputs

        return TeacherOutputs.load(teacher_file).model
    return (previous or {}).get("teacher_model")


def _teacher_full(name: str, data: str) -> dict:
    """A teacher's accuracy on full-face FER2013 PrivateTest and where it comes from: measured here where the
    package can load the teacher, else ``ENSEMBLE_REPORT``'s figure when that ensemble is the teacher."""
    try:
        clf = load_classifier(name, precision="fp32")
    except FerkitError:
        ens = read_json(ENSEMBLE_REPORT)
        if ens and "+".join(ens["members"]) == name:
            return {"accuracy": ens["accuracy"], "source": f"{ENSEMBLE_REPORT} (`{ens['command']}`)"}
        return {"accuracy": None, "source": "not measured"}
    return {"accuracy": evaluate_faceset(clf, FER2013(data, "PrivateTest"))[0]["accuracy"], "source": "measured here"}


def _teacher_of(kd_run: Path, previous: dict) -> str:
    """The teacher of the distilled student (its teacher file names it); where that run or file is not here, the
    one the previous report names, else the default model."""
    info = kd_run / "run.json"
    teacher = json.loads(info.read_text()).get("teacher") if info.exists() else None
    return _teacher_model(teacher, None) or previous.get("teacher_model", DEFAULT_MODEL)


def masked_report(
    data: str,
    masked: str,
    photos: str | None,
    demo: list[str],
    out: str | Path = "reports/masked.json",
    runs: str | Path = "runs",
) -> dict:
    out = Path(out)
    synthesis = json.loads((Path(masked) / REPORT).read_text())
    old = read_json(out)
    same_copy = bool(old) and all(old["synthesis"].get(k) == synthesis.get(k) for k in SYNTHESIS_SIGNATURE)
    teacher_model = _teacher_of(Path(runs) / STUDENTS[1].run, old)
    teacher = load_classifier(teacher_model, precision="fp32")
    teacher_full, _ = evaluate_faceset(teacher, FER2013(data, "PrivateTest"))
    teacher_masked, _ = evaluate_faceset(teacher, FER2013(masked, "PrivateTest"))
    rows = {
        st.key: _run_row(Path(runs) / st.run, masked, old.get(st.row_key) if same_copy else None) for st in STUDENTS
    }
    rep: dict = {
        "command": command_line(),
        "data": data,
        "masked_data": masked,
        "synthesis": {
            k: v
            for k, v in synthesis.items()
            if k in ("faces", "methods", "flagged", "templates", "colours", "seed", "command", "seconds")
        },
        "teacher_model": teacher_model,
        "teacher_full": teacher_full["accuracy"],
        "teacher_on_masked": teacher_masked["accuracy"],
        **{st.key: rows[st.key].get("privatetest_accuracy") for st in STUDENTS},
        **{st.row_key: rows[st.key] for st in STUDENTS},
        "paper": PAPER,
        "goals": GOALS,
    }
    for only, distilled, gain in (
        ("student_only_masked", "student_kd_masked", "distillation_gain"),
        ("student_only_masked_init", "student_kd_masked_init", "distillation_gain_init"),
        ("student_only_masked_init", "student_kd_masked_ensemble_init", "distillation_gain_ensemble_init"),
        ("student_only_masked_init", "student_kd_masked_gpu_ensemble_init", "distillation_gain_gpu_ensemble_init"),
    ):  # against the student-only run of the same start
        if rep[only] is not None and rep[distilled] is not None:
            rep[gain] = rep[distilled] - rep[only]
    rep["teachers_full"] = {
        name: _teacher_full(name, data)
        for name in sorted({r["teacher_model"] for r in rows.values() if r.get("teacher_model")} - {teacher_model})
    }
    try:
        shipped = load_classifier(MASKED_MODEL)
        r, _ = evaluate_faceset(shipped, FER2013(masked, "PrivateTest"))
        rep["shipped_masked_model"] = {
            "name": MASKED_MODEL,
            "precision": shipped.precision,
            "privatetest_accuracy": r["accuracy"],
        }
    except FerkitError as e:  # not shipped yet
        rep["shipped_masked_model"] = {"name": MASKED_MODEL, "status": f"not shipped ({e})"}
    clf, default = MaskClassifier(), MaskDetector()
    rep["mask_detector"] = {
        k: v
        for k, v in clf.card.items()
        if k
        in (
            "architecture",
            "params",
            "macs_per_face",
            "data",
            "threshold_chosen_on",
            "threshold_accuracy_design_photos",
            "synthetic_publictest_accuracy",
            "synthetic_privatetest_accuracy",
            "train_command",
            "epochs",
        )
    }
    rep["mask_detector_photos"] = {
        k: v
        for k, v in default.colour.card.items()
        if k
        in (
            "architecture",
            "params",
            "data",
            "colour_weight",
            "threshold",
            "threshold_chosen_on",
            "validation_accuracy_by_colour_weight",
            "train_command",
            "ship_command",
            "epochs",
        )
    }
    if photos:
        faces = annotated_faces(photos)
        unseen = faces.subset(~np.isin(faces.photo_names, list(default.seen_photos)))
        rep["mask_detection"] = {
            "data": photos,
            "detector": "colour and grey classifiers' mean (analyze --masked auto on colour images)",
            **mask_detection_report(default, faces),
        }
        rep["mask_detection_accuracy"] = rep["mask_detection"]["accuracy"]
        rep["mask_detection_alone"] = {
            "colour_classifier": mask_detection_report(colour_alone(), faces)["accuracy"],
            "grey_classifier_same_faces": mask_detection_report(clf, unseen)["accuracy"],
        }
        rep["mask_detection_synthetic_only"] = {"data": photos, **mask_detection_report(clf, faces)}
    png = out.with_name(out.stem + "_examples.png")
    rep["examples_png"] = png.name
    rep["examples_demo"] = examples_grid(masked, demo, png) if demo else []
    write_json_atomic(out, rep)
    write_text_atomic(out.with_suffix(".md"), _markdown(rep, out))
    return rep


def _full(r: dict, teacher: str) -> float | None:
    """A teacher's full-face PrivateTest figure."""
    return r["teachers_full"].get(teacher, {}).get("accuracy")


def _pct(v) -> str:
    return "-" if v is None else f"{v:.2%}"


def _markdown(r: dict, out: Path) -> str:
    syn = r["synthesis"]
    students = [(st, r[st.row_key]) for st in STUDENTS if st.row_key in r]
    md = [
        f"# Masked faces (paper 000)\n\n*Written by `{r['command']}`; the JSON twin is `{out.name}`.*\n",
        "## Expression recognition on masked FER2013\n",
        "Test figures on FER2013 PrivateTest: the original faces for the teacher, the masked copy for the students "
        "(same faces, masks drawn by `ferkit mask`, seed "
        f"{syn['seed']}). Selection on PublicTest only.\n",
        "| model | test faces | paper 000 | ferkit | PublicTest (selection) | schedule | training |",
        "|---|---|---|---|---|---|---|",
        f"| teacher `{r['teacher_model']}` (full face) | original | {_pct(PAPER['teacher_full'])} | "
        f"**{_pct(r['teacher_full'])}** | - | shipped model (its card) | - |",
        f"| the same teacher, no masked training | masked | - | {_pct(r['teacher_on_masked'])} | - | - | - |",
    ]
    for st, row in students:
        paper = _pct(PAPER[st.key]) if st.key in PAPER else "-"
        if row.get("status"):
            md.append(f"| {st.label} | masked | {paper} | {row['status']} | - | - | - |")
            continue
        other = row.get("teacher_model") if row.get("teacher_model") != r["teacher_model"] else None
        sched = (
            f"{row['epochs']} of {row['recipe_epochs']} epochs"
            + (f"; KD alpha {row['kd']['alpha']}, T {row['kd']['temperature']}" if row["kd"] else "")
            + (f"; teacher `{other}` ({_pct(_full(r, other))} on full-face PrivateTest)" if other else "")
        )
        md.append(
            f"| {st.label} | masked | {paper} | **{_pct(row['privatetest_accuracy'])}**"
            f"{' (*)' if row.get('carried_over') else ''} | "
            f"{_pct(row['publictest_accuracy'])} | {sched} | {row['train_minutes']} min, {row['hardware']} |"
        )
    gain, gain_init, gain_ens, gain_gpu = (
        r.get(f"distillation_gain{s}") for s in ("", "_init", "_ensemble_init", "_gpu_ensemble_init")
    )
    sources = {t: v["source"] for t, v in r["teachers_full"].items() if v["source"] != "measured here"}
    md += [f"\nFull-face figure of teacher `{t}`: from {src}." for t, src in sources.items()]
    if any(row.get("carried_over") for _, row in students):
        md += [
            "",
            "(*) Carried over from the previous report: the run is not on the machine that wrote this page "
            "(runs are not kept in git); it was evaluated there on a masked copy with the same synthesis figures "
            "(seed, "
            "placements, templates, colours). "
            "Its command is below.",
        ]
    md += [
        "",
        f"Distillation gain: **{'-' if gain is None else f'{gain * 100:+.2f} points'}** "
        f"(paper 000: +15 points; goal >= +{GOALS['distillation_gain'] * 100:.0f}). "
        f"Goal for the distilled student: >= {GOALS['student_kd_masked']:.0%}."
        + (
            ""
            if gain_init is None
            else f" From the teacher's weights (beyond paper 000, which starts its students "
            f"from random weights): distillation gain **{gain_init * 100:+.2f} points**"
            + ("" if gain_ens is None else f", **{gain_ens * 100:+.2f} points** with the ensemble as teacher")
            + ("" if gain_gpu is None else f", **{gain_gpu * 100:+.2f} points** with the strongest ensemble")
            + "."
        ),
        "",
    ]
    sh = r["shipped_masked_model"]
    md.append(
        f"Shipped masked-face model `{sh['name']}` ({sh.get('precision', '-')}): "
        f"{_pct(sh.get('privatetest_accuracy')) if 'privatetest_accuracy' in sh else sh.get('status')} "
        "on masked PrivateTest.\n"
    )
    md.append("Commands:\n\n```")
    md += [row["command"] for _, row in students if "command" in row]
    md.append("```\n")
    md.append("## Mask detection\n")
    det, syn_only = r.get("mask_detection"), r.get("mask_detection_synthetic_only")
    if det:
        c, ph, alone = det["confusion"], r["mask_detector_photos"], r["mask_detection_alone"]
        md += [
            f"`analyze --masked auto` decides on a colour image with the mean of two classifiers' P(mask): "
            f"`mask_net` trained on the colour crops of real photos (weight {ph['colour_weight']:g}) and the one "
            "trained on synthesized grey faces only (below); weight and threshold "
            f"({ph['threshold']:g}) chosen on {ph['threshold_chosen_on']} (accuracy there by weight: "
            + ", ".join(f"{w} {a:.1%}" for w, a in ph["validation_accuracy_by_colour_weight"].items())
            + "). "
            "Grey images go to the grey classifier alone.\n",
            f"Real photos ({det['data']}), the held-out third ({det['photos']} photos, the "
            f"{det['photos_left_out']} others trained or tuned on): **{_pct(det['accuracy'])}** on {det['faces']} "
            f"annotated faces ({det['with_mask']} with a mask, {det['without_mask']} without); goal >= "
            f"{GOALS['mask_detection_accuracy']:.0%}. Mask recall {_pct(det['mask_recall'])}, no-mask recall "
            f"{_pct(det['no_mask_recall'])} (with mask called no mask: {c['with_mask_called_no_mask']}; without "
            f"mask called mask: {c['without_mask_called_mask']}). Faces wearing a mask incorrectly "
            f"({det['incorrect_faces']}) called masked: {_pct(det['incorrect_called_mask'])}. On the same faces, "
            f"the colour classifier alone (at the threshold the validation photos chose for it): "
            f"{_pct(alone['colour_classifier'])}; the grey one alone (at its threshold): "
            f"{_pct(alone['grey_classifier_same_faces'])}.",
            "",
            "| face size | faces | accuracy |",
            "|---|---|---|",
        ]
        md += [f"| {b} | {v['faces']} | {_pct(v['accuracy'])} |" for b, v in det["by_face_size"].items()]
        md += ["", "| held-out photos | faces | accuracy |", "|---|---|---|"]
        md += [
            f"| {v['photos']} {'among the first ' + str(MASK_DEV_PHOTOS) if part == 'design' else 'others'} "
            f"({'the grey classifier was designed on these' if part == 'design' else 'not used for any choice'}) | "
            f"{v['faces']} | {_pct(v['accuracy'])} |"
            for part, v in det["by_part"].items()
        ]
        md += [
            "",
            f"Training: `{ph.get('train_command', '-')}` ({ph.get('data', '-')}); shipped with "
            f"`{ph.get('ship_command', '-')}`.",
            "",
        ]
    if syn_only:
        c = syn_only["confusion"]
        md += [
            "### Trained on synthesized faces only (paper 000's way)\n",
            f"Every annotated face of the photos: **{_pct(syn_only['accuracy'])}** on {syn_only['faces']} faces "
            f"({syn_only['with_mask']} with a mask, {syn_only['without_mask']} without). Mask recall "
            f"{_pct(syn_only['mask_recall'])}, no-mask recall {_pct(syn_only['no_mask_recall'])} (with mask "
            f"called no mask: {c['with_mask_called_no_mask']}; without mask called mask: "
            f"{c['without_mask_called_mask']}). Faces wearing a mask incorrectly ({syn_only['incorrect_faces']}) "
            f"called masked: {_pct(syn_only['incorrect_called_mask'])}.",
            "",
            "| face size | faces | accuracy |",
            "|---|---|---|",
        ]
        md += [f"| {b} | {v['faces']} | {_pct(v['accuracy'])} |" for b, v in syn_only["by_face_size"].items()]
        md.append("")
        if syn_only.get("by_part"):
            md += ["| photos | faces | accuracy |", "|---|---|---|"]
            md += [
                f"| {'first ' if part == 'design' else 'the other '}{v['photos']} ("
                f"{'used to choose settings' if part == 'design' else 'not used for any choice'}) | "
                f"{v['faces']} | {_pct(v['accuracy'])} |"
                for part, v in syn_only["by_part"].items()
            ]
            md += [
                "",
                "Settings of the training data and recipe (mask fabrics, epochs, shift range) were chosen on the "
                "first photos "
                "only; failure crops from all photos were looked at once, before fabrics were added, to see what "
                "the synthesized masks lacked (patterned, printed and skin-coloured masks).",
                "",
            ]
        md += [
            f"Threshold on P(mask): {syn_only['threshold']:g}"
            + (
                f", chosen on {r['mask_detector']['threshold_chosen_on']}: "
                + ", ".join(f"{t} {a:.1%}" for t, a in r["mask_detector"]["threshold_accuracy_design_photos"].items())
                if r["mask_detector"].get("threshold_chosen_on")
                else ""
            )
            + ".",
            "",
        ]
    m = r["mask_detector"]
    md.append(
        f"The grey classifier (`{m.get('architecture')}`, {m.get('params', 0):,} parameters) was trained only on "
        f"synthesized faces ({m.get('data', '-')}): synthetic PublicTest "
        f"{_pct(m.get('synthetic_publictest_accuracy'))}, PrivateTest "
        f"{_pct(m.get('synthetic_privatetest_accuracy'))}. Crops of the annotated boxes are framed as the "
        f"`{MASK_PHOTO_FRAMING}` detector frames its boxes (config `MASK_PHOTO_FRAMING`: the framing the threshold "
        "was chosen with).\n"
    )
    md += [
        "## Synthesis\n",
        f"{syn['faces']:,} faces masked in {syn['seconds'] / 60:.1f} min (`{syn['command']}`). Placement: "
        + ", ".join(f"{n:,} {m}" for m, n in syn["methods"].items())
        + f"; {syn['flagged']:,} flagged (listed in `masking_flagged.csv` beside the masked copy): where dlib's "
        "detector misses the face, landmarks are predicted in the median dlib box of FER2013 faces, and where "
        "they are implausible the mask goes to the mean anchors of the frame.\n",
        "Templates: " + ", ".join(f"{t} {n:,}" for t, n in sorted(syn["templates"].items())) + ".\n",
        f"![masked examples]({r['examples_png']})\n",
        f"Top: 16 masked PrivateTest faces; bottom: {len(r['examples_demo'])} demo photos masked by "
        "`ferkit mask` (detector + landmarks).",
    ]
    return "\n".join(md) + "\n"
