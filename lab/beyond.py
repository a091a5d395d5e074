"""``ferkit report beyond``: issue 4's figures (best single model, best ensemble, FER+, the shipped default) side by
side with the papers', each read from a report that a command in the repo wrote (``scripts/make_reports.sh``,
``scripts/run_ferplus.sh``); a figure without its report is listed as not measured. Among the candidates for a
figure, the one with the best validation accuracy (FER2013 PublicTest, FER+ PublicTest) is chosen and its test
accuracy reported: a candidate without a validation figure is listed but never chosen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ferkit.config import DEFAULT_MODEL
from ferkit.utils.io import read_json, write_json_atomic, write_text_atomic
from ferkit.utils.reports import command_line


@dataclass(frozen=True)
class Source:
    """A report competing for a figure, and where the training of the model it measured is recorded: a run folder
    under ``runs/`` (its summary.json), a shipped model's card (``"default"``: the default's), or none (an
    ensemble has no training of its own; the reproduction table carries its own)."""

    report: str
    run: str | None = None
    card: str | None = None
    #: the same model's validation accuracy: a report under reports/ (its ``accuracy``), or ``"run"`` for the best
    #: epoch of ``run`` (its epoch log under reports/logs, else its summary.json); a report holding its own
    #: ``selection_accuracy`` (an ensemble's) needs none.
    selection: str | None = None


#: The distilled students (scripts/run_default_kd.sh), newest first; the newest is the candidate for the default.
STUDENTS = ("ferkit_cnn_m2_kd6", "ferkit_cnn_m2_kd4", "ferkit_cnn_m2_kd", "ferkit_cnn_m_kd")
STUDENT_RUN = STUDENTS[0]


@dataclass(frozen=True)
class Goal:
    key: str
    figure: str
    target: float
    paper: str
    paper_accuracy: float
    sources: tuple[Source, ...]  # reports (under reports/) competing for this figure; the best on validation counts
    why_short: str = ""


GOALS: tuple[Goal, ...] = (
    Goal(
        "best_single_privatetest",
        "best single model, FER2013 PrivateTest",
        0.75,
        "001 (RMN)",
        0.7414,
        (
            Source("default_privatetest.json", card="default", selection="default_publictest_tta0.json"),
            Source("default_privatetest_tta2.json", card="default", selection="default_publictest_tta2.json"),
            Source("default_privatetest_tta10.json", card="default", selection="default_publictest_tta10.json"),
            *(
                Source(f"{n}_privatetest.json", run=n, card=n, selection=f"{n}_publictest.json") for n in STUDENTS
            ),  # the distilled students, each with its own PublicTest twin
            Source("ferkit_cnn_s_kd_privatetest.json", run="ferkit_cnn_s_kd", selection="run"),
            Source("ferkit_cnn_m_privatetest.json", card="ferkit_cnn_m", selection="ferkit_cnn_m_publictest_tta0.json"),
            Source(
                "ferkit_cnn_m_privatetest_tta10.json",
                card="ferkit_cnn_m",
                selection="ferkit_cnn_m_publictest_tta10.json",
            ),
            # trained on FER+ labels: its validation figure is on FER+ PublicTest, not comparable here
            Source("ferplus_cnn_s_privatetest.json", run="ferplus_cnn_s"),
            Source("reproduction.json"),
            # trained on a GPU (../shared/gpu_teachers), re-measured on this CPU
            Source("gpu_vgg16_ferkit_privatetest.json", selection="gpu_vgg16_ferkit_publictest.json"),
        ),
        "every model here was trained from scratch (no ImageNet weights offline), on a 2-core CPU or, for the GPU "
        "runs of ../shared/gpu_teachers, in a 6-minute window shared by seven runs (11-48 epochs each)",
    ),
    Goal(
        "best_ensemble_privatetest",
        "best averaging ensemble, FER2013 PrivateTest (members chosen on PublicTest)",
        0.775,
        "001 (ensemble of 6)",
        0.7682,
        (Source("ensemble_privatetest.json"), Source("ensemble_all.json")),
        "its members are small CPU-trained models and short GPU runs; strong, diverse members need full GPU schedules",
    ),
    Goal(
        "ferplus_test",
        "FER+ test, majority vote (7 classes)",
        0.90,
        "003 (EmoXNet)",
        0.8507,
        (
            Source("default_ferplus_test.json", card="default", selection="default_ferplus_publictest.json"),
            Source("ferplus_cnn_s_ferplus_test.json", run="ferplus_cnn_s", selection="run"),
        ),
        "a small CNN trained for 28 epochs on a CPU; the paper's 85% comes from an ensemble of seven large "
        "backbones, 100 epochs each",
    ),
)
DEFAULT_TARGET, DEFAULT_SPEED_TARGET = 0.73, 2000.0


def _candidates(reports: Path, runs: Path, source: Source) -> list[dict]:
    """(accuracy, model, command, log, training) records of one source report; the reproduction table gives its
    FER2013 PrivateTest rows."""
    path = reports / source.report
    data = read_json(path)
    if not data:
        return []
    if source.report == "reproduction.json":
        return [
            {
                "accuracy": r["accuracy"],
                "model": r["model"],
                "command": r["command"],
                "log": r["log"],
                "hardware": r.get("hardware"),
                "train_seconds": r.get("train_seconds"),
                "source": source.report,
            }
            for r in data
            if r["dataset"] == "FER2013" and r["accuracy"] is not None
        ]
    log = reports / "logs" / f"{path.stem}.log"
    model = "+".join(data["members"]) if "members" in data else data["model"]
    if data.get("tta"):
        model += f" (TTA {data['tta']} views)"
    return [
        {
            "accuracy": data["accuracy"],
            "model": model,
            "command": data.get("command"),
            "source": source.report,
            "log": str(log) if log.exists() else None,
            "n": data.get("n"),
            "selection_accuracy": _selection(reports, runs, source, data),
            **_training(runs, source),
        }
    ]


def _selection(reports: Path, runs: Path, source: Source, data: dict) -> float | None:
    """The validation accuracy that a candidate is chosen by (``Source.selection``), or None."""
    if data.get("selection_accuracy") is not None:
        return data["selection_accuracy"]
    if source.selection == "run" and source.run:
        epochs = reports / "logs" / f"{source.run}_train_epochs.jsonl"
        if epochs.is_file():
            accs = [json.loads(line).get("val_acc") for line in epochs.read_text().splitlines() if line.strip()]
            return max((a for a in accs if a is not None), default=None)
        return read_json(runs / source.run / "summary.json").get("best_val_acc")
    if source.selection:
        return read_json(reports / source.selection).get("accuracy")
    return None


def _card(name: str) -> dict:
    """A shipped model's card, or {} where it is not shipped."""
    from ferkit.errors import FerkitError
    from ferkit.expression.registry import model_card

    try:
        return model_card(name)
    except FerkitError:
        return {}


def _default_why_not(default: dict, rows: list[dict], student: dict | None) -> str:
    if default["privatetest"] is not None and default["privatetest"] >= DEFAULT_TARGET:
        return "accurate enough, not fast enough"
    teachers = "the stronger teachers (full GPU schedules of the RMN, backbones, ensembles) do not exist yet"
    kd = default.get("distilled_from")
    if not kd:
        return (
            "fast enough, not accurate enough: no distilled student has beaten it on PublicTest yet, "
            f"because {teachers}"
        )
    best = next((r for r in rows if r["key"] == "best_single_privatetest"), {}).get("accuracy")
    closest = (
        f"; the newest distilled candidate, taught by {student['teacher_model']}, reaches "
        f"{_pct(student['privatetest'])} PrivateTest and is {_verdict(student)} (below)"
        if student and not student["shipped_as_default"] and student.get("privatetest") is not None
        else ""
    )
    return (
        f"fast enough, not accurate enough: it is distilled from {kd['teacher_model']}; the best single model "
        f"measured here reaches {_pct(best)} PrivateTest{closest}; {teachers}"
    )


def _student(reports: Path, runs: Path, default_name: str) -> dict | None:
    """The newest distilled candidate for the default (``STUDENT_RUN``): its teacher, loss, PublicTest accuracy
    (the selection figure, its checkpoint's report) beside the default's card, its PrivateTest figure, and whether
    it was shipped as the default. Training details come from its run, else (the run is not on this machine) from
    its shipped card; None where neither exists."""
    run, card = runs / STUDENT_RUN, _card(STUDENT_RUN)
    summary, info = read_json(run / "summary.json"), read_json(run / "run.json")
    if summary and info.get("teacher"):
        from ferkit.training.teacher import TeacherOutputs

        teacher, r = Path(info["teacher"]), info["recipe"]
        kd = {
            "teacher_file": str(teacher),
            "loss": r.get("kd_loss", "hinton"),
            "alpha": r["kd_alpha"],
            "teacher_model": TeacherOutputs.load(teacher).model if teacher.is_file() else None,
        }
        train = {
            "epochs": summary.get("epochs_done"),
            "train_seconds": summary.get("train_seconds"),
            "hardware": summary.get("hardware"),
            "command": info.get("command"),
            "run_publictest": summary.get("best_val_acc"),
        }
    elif card.get("distillation"):
        kd = card["distillation"]
        train = {
            "epochs": card.get("epochs"),
            "train_seconds": card.get("train_seconds"),
            "hardware": card.get("train_hardware"),
            "command": card.get("train_command"),
            "run_publictest": card.get("publictest_accuracy"),
        }
    else:
        return None
    publictest = read_json(reports / f"{STUDENT_RUN}_publictest.json").get("accuracy")
    int8 = read_json(reports / f"{STUDENT_RUN}_int8_publictest.json").get(
        "accuracy", card.get("int8", {}).get("publictest_accuracy")
    )
    default_card = _card(default_name)
    photos = _pipeline(read_json(reports / f"calibration_{STUDENT_RUN}.json"), STUDENT_RUN)
    default_photos = _pipeline(read_json(reports / "calibration.json"), default_name)
    return {
        "run": str(run),
        **{k: kd.get(k) for k in ("teacher_file", "teacher_model", "loss", "alpha")},
        "epochs": train["epochs"],
        "publictest": publictest if publictest is not None else train["run_publictest"],
        "default_publictest": default_card.get("publictest_accuracy"),
        "int8_publictest": int8,
        "default_int8_publictest": default_card.get("int8", {}).get("publictest_accuracy"),
        "privatetest": read_json(reports / f"{STUDENT_RUN}_privatetest.json").get("accuracy"),
        **{k: train[k] for k in ("train_seconds", "hardware", "command")},
        "photos_right": photos.get("photos_right"),
        "default_photos_right": default_photos.get("photos_right"),
        "publictest_pipeline_crops": photos.get("publictest_pipeline_crops"),
        "default_publictest_pipeline_crops": default_photos.get("publictest_pipeline_crops"),
        "shipped_as_default": default_name == STUDENT_RUN,
    }


def _pipeline(calibration: dict, model: str) -> dict:
    """A model's full-pipeline figures from its crop and calibration report (scripts/select_crop_and_calibration.py):
    the largest face of each muxspace_dev photo labelled right at the chosen zoom and prior weight, and FER2013
    PublicTest through the detector at that zoom; empty where the report is missing or measured another model."""
    if calibration.get("model") != model:
        return {}
    zoom = calibration["chosen_template_zoom"]
    return {
        "photos_right": calibration["zoom_x_prior_weight"][f"{zoom} x {calibration['chosen_prior_weight']}"],
        "publictest_pipeline_crops": calibration["crops"][str(zoom)]["publictest_pipeline_crops"],
    }


def _training(runs: Path, source: Source) -> dict:
    """Training hardware and time of the model a source measured: its run's summary, else its (or the default's)
    card."""
    d = read_json(runs / source.run / "summary.json") if source.run else {}
    if not d and source.card:
        card = _card(DEFAULT_MODEL if source.card == "default" else source.card)
        return {"hardware": card.get("train_hardware"), "train_seconds": card.get("train_seconds")}
    return {"hardware": d.get("hardware"), "train_seconds": d.get("train_seconds")} if source.run else {}


def _carried_student(out: Path) -> dict | None:
    """The previous report's student block where its run is not on this machine (runs are not kept in git),
    flagged ``carried_over``."""
    previous = read_json(out, {}) or {}
    st = previous.get("distilled_student")
    return {**st, "carried_over": True} if st else None


def beyond_report(
    reports: str | Path = "reports", runs: str | Path = "runs", out: str | Path = "reports/beyond.json"
) -> dict:
    reports, runs, out = Path(reports), Path(runs), Path(out)
    rows = []
    for g in GOALS:
        cands = [c for s in g.sources for c in _candidates(reports, runs, s)]
        best = max(
            (c for c in cands if c.get("selection_accuracy") is not None),
            key=lambda c: c["selection_accuracy"],
            default=None,
        )
        row = {
            "key": g.key,
            "figure": g.figure,
            "target": g.target,
            "paper": g.paper,
            "paper_accuracy": g.paper_accuracy,
            "accuracy": None,
            "reached": False,
            "candidates": [
                {
                    "selection_accuracy": c.get("selection_accuracy"),
                    **{k: c[k] for k in ("model", "accuracy", "source")},
                }
                for c in cands
            ],
        }
        if best:
            row.update(
                accuracy=best["accuracy"],
                selection_accuracy=best["selection_accuracy"],
                model=best["model"],
                command=best["command"],
                log=best["log"],
                hardware=best.get("hardware"),
                train_seconds=best.get("train_seconds"),
                reached=best["accuracy"] >= g.target,
            )
        if not row["reached"]:
            row["why_not"] = (
                g.why_short
                if best
                else ("not measured yet" if not cands else "no candidate has a validation figure to be chosen by")
            )
        rows.append(row)
    speed, priv, ferplus = (
        read_json(reports / n) for n in ("speed.json", "default_privatetest.json", "default_ferplus_test.json")
    )
    default = {
        "name": speed.get("classifier", DEFAULT_MODEL),
        "precision": speed.get("classifier_precision"),
        "privatetest": priv.get("accuracy"),
        "faces_per_s": speed.get("classifier_faces_per_s"),
        "ferplus_test": ferplus.get("accuracy"),
        "target_privatetest": DEFAULT_TARGET,
        "target_faces_per_s": DEFAULT_SPEED_TARGET,
        "speed_command": speed.get("command"),
        "privatetest_command": priv.get("command"),
        "ferplus_command": ferplus.get("command"),
    }
    default["reached"] = bool(
        default["privatetest"]
        and default["faces_per_s"]
        and default["privatetest"] >= DEFAULT_TARGET
        and default["faces_per_s"] >= DEFAULT_SPEED_TARGET
    )
    default["distilled_from"] = _card(default["name"]).get("distillation")
    student = _student(reports, runs, default["name"]) or _carried_student(out)
    if not default["reached"]:
        default["why_not"] = _default_why_not(default, rows, student)
    result = {
        **{r["key"]: r["accuracy"] for r in rows},
        "default_model": default,
        "distilled_student": student,
        "rows": rows,
        "command": command_line(),
    }
    write_json_atomic(out, result)
    write_text_atomic(out.with_suffix(".md"), _markdown(result, out.name))
    return result


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2%}"


def _count(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _distilled_line(d: dict) -> str:
    kd = d.get("distilled_from")
    if not kd:
        return "\nNot a distilled model."
    return (
        f"\nDistilled from `{kd['teacher_model']}` (outputs stored once in `{kd['teacher_file']}`, written by "
        f"`ferkit teach`), loss `{kd['loss']}`, hard-label weight {kd['alpha']}; `scripts/run_default_kd.sh` "
        "recreates it."
    )


def _student_lines(st: dict | None) -> list[str]:
    if not st:
        return []
    return [
        "\n## The distilled student\n",
        "| student | teacher | loss | PublicTest (selection): fp32 / int8 | the default's: fp32 / int8 "
        "| real photos, full pipeline: student / default | PublicTest through the detector: student / default "
        "| PrivateTest | training | decision |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| `{st['run']}` | `{st['teacher_model']}` | `{st['loss']}`, hard-label weight {st['alpha']} "
        f"| {_pct(st['publictest'])} / {_pct(st.get('int8_publictest'))} "
        f"| {_pct(st['default_publictest'])} / {_pct(st.get('default_int8_publictest'))} "
        f"| {_pct(st.get('photos_right'))} / {_pct(st.get('default_photos_right'))} "
        f"| {_pct(st.get('publictest_pipeline_crops'))} / {_pct(st.get('default_publictest_pipeline_crops'))} "
        f"| {_pct(st['privatetest'])} "
        f"| {st['epochs']} epochs, {st['train_seconds'] / 60:.0f} min, {st['hardware']} | {_verdict(st)} |",
        f"\nCommand: `{st['command']}` (`scripts/run_default_kd.sh`). Real photos: the largest face of each "
        "muxspace_dev photo (validation) labelled right by the whole pipeline, at the crop zoom and calibration "
        "chosen there for each model; both pipeline figures from `scripts/select_crop_and_calibration.py` "
        "(reports/calibration*.json).\n",
    ]


def _verdict(st: dict) -> str:
    """Why the candidate is or is not the default: PublicTest (int8 where both are measured), then the full pipeline
    on real photos and on PublicTest through the detector, none of which may get worse."""
    if st["shipped_as_default"]:
        return "shipped as the default"
    by_int8 = st.get("int8_publictest") is not None and st.get("default_int8_publictest") is not None
    mine, theirs = ("int8_publictest", "default_int8_publictest") if by_int8 else ("publictest", "default_publictest")
    if st[mine] is None or st[theirs] is None or st[mine] <= st[theirs]:
        what = "its int8 copy's PublicTest accuracy (the copy `analyze` runs)" if by_int8 else "its PublicTest accuracy"
        return f"not shipped: {what} does not beat the default's"
    worse = [
        what
        for key, what in (
            ("photos_right", "the real photos"),
            ("publictest_pipeline_crops", "PublicTest through the detector"),
        )
        if st.get(key) is not None and st.get(f"default_{key}") is not None and st[key] < st[f"default_{key}"]
    ]
    if worse:
        return (
            "not the default: it beats the default on PublicTest, but the full pipeline gets worse on "
            + " and ".join(worse)
        )
    return "a candidate for the default: ship it, and switch `config.DEFAULT_MODEL` where it is fast enough"


def _markdown(r: dict, json_name: str) -> str:
    lines = [
        "# Beyond the papers: ensembles, distillation, FER+ and the default model\n",
        f"*Written by `{r['command']}` from the reports beside it; JSON twin `{json_name}`. Selection only on "
        "PublicTest / FER+ PublicTest; the test splits are read once for each final figure.*\n",
        "| figure | goal | paper | ferkit | reached | model | chosen by (validation) | command | log | training |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        train = (
            f"{row['train_seconds'] / 60:.0f} min, {row['hardware']}" if row.get("train_seconds") is not None else "-"
        )
        lines.append(
            f"| {row['figure']} | {_pct(row['target'])} | {_pct(row['paper_accuracy'])} ({row['paper']}) "
            f"| {_pct(row['accuracy'])} | {'yes' if row['reached'] else 'no'} | {row.get('model', '-')} "
            f"| {_pct(row.get('selection_accuracy'))} | `{row.get('command') or '-'}` | {row.get('log') or '-'} | "
            f"{train} |"
        )
    d = r["default_model"]
    lines += [
        "\n## The shipped default model\n",
        "| model | goal | PrivateTest | faces/s (`ferkit bench`, 2-core CPU) | FER+ test | reached |",
        "|---|---|---|---|---|---|",
        f"| `{d['name']}` ({d['precision']}) | >= {_pct(d['target_privatetest'])} at >= "
        f"{d['target_faces_per_s']:,.0f} faces/s | {_pct(d['privatetest'])} | "
        f"{_count(d['faces_per_s'])} | {_pct(d['ferplus_test'])} | {'yes' if d['reached'] else 'no'} |",
        _distilled_line(d),
        f"\nCommands: `{d['privatetest_command']}`; `{d['speed_command']}`; `{d['ferplus_command']}`.\n",
    ]
    lines += _student_lines(r.get("distilled_student"))
    lines.append("\n## Not reached, and why\n")
    lines += [f"- {row['figure']}: {row['why_not']}." for row in r["rows"] if not row["reached"]]
    if not d["reached"]:
        lines.append(f"- default model: {d['why_not']}.")
    lines.append("\n## Every candidate measured\n")
    lines.append(
        "Validation: FER2013 PublicTest (FER+ PublicTest for the FER+ figure); '-': none recorded, so not chosen.\n"
    )
    lines.append("| figure | model | validation | test | source |\n|---|---|---|---|---|")
    for row in r["rows"]:
        lines += [
            f"| {row['key']} | {c['model']} | {_pct(c['selection_accuracy'])} | {_pct(c['accuracy'])} | {c['source']} |"
            for c in row["candidates"]
        ]
    return "\n".join(lines) + "\n"
