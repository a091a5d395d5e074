"""The GPU-trained runs of ``../shared/gpu_teachers`` (seven ``ferkit train`` runs on one NVIDIA H200, short
schedules): their reproduction rows, the CPU re-check of the two checkpoints that came back, and an averaging
ensemble over every model this project has, chosen on PublicTest (``python -m lab gpu-runs``)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np

from ferkit.utils.io import read_json, write_json_atomic
from ferkit.utils.reports import command_line

#: The runs that reproduce a paper's recipe: run -> paper.
PAPER_RUNS = {
    "dcnn6_paper000": "000",
    "rmn_paper001": "001",
    "resnet18_fc_paper002": "002",
    "resnet50_fc_paper002": "002",
}
#: Why a GPU row falls short of its paper, beyond its short schedule.
GPU_SHORTFALL = {
    "rmn_paper001": "the paper's recipe (SGD, lr 1e-4) assumes ImageNet-pretrained weights; from random weights "
    "it barely moves in 7 epochs",
    "resnet18_fc_paper002": "paper 002 fine-tunes an ImageNet-pretrained trunk; here from random weights",
    "resnet50_fc_paper002": "paper 002 fine-tunes an ImageNet-pretrained trunk; here from random weights",
}
CHECKPOINTS = ("vgg16_ferkit", "dcnn6_paper000")


def _members(tar: Path) -> dict[str, dict]:
    """run -> {"run": run.json, "summary": summary.json} from the shared logs archive, and ``_meta``'s reports."""
    out: dict[str, dict] = {}
    with tarfile.open(tar) as t:
        for m in t.getmembers():
            parts = Path(m.name).parts
            if len(parts) == 2 and parts[1] in ("run.json", "summary.json"):
                out.setdefault(parts[0], {})[parts[1][:-5]] = json.load(t.extractfile(m))
            if m.name.endswith("_meta/gpu_reports.json"):
                out["_meta"] = {"reports": json.load(t.extractfile(m))}
    return out


def gpu_rows(gpu_dir: Path, reports: Path) -> list[dict]:
    """One row per GPU run: schedule, hardware, PublicTest / PrivateTest (plain and 10 views), the source, and the
    CPU re-check where the checkpoint came back (``reports/gpu_<run>_<split>.json``, from ``ferkit evaluate``)."""
    logs = _members(gpu_dir / "runs_logs.tar.gz")
    gpu = logs.pop("_meta")["reports"]
    rows = []
    for run, files in sorted(logs.items()):
        s, info, r = files["summary"], files["run"], gpu[run]
        recipe = s.get("recipe") or {}
        row = {
            "run": run,
            "model": s.get("model") or info.get("model"),
            "recipe": recipe.get("name"),
            "paper": PAPER_RUNS.get(run),
            "schedule": f"{s['short_schedule']}, GPU"
            if s.get("short_schedule")
            else f"{s['epochs_done']} epochs (its recipe's count, cosine set to it), GPU",
            "full_recipe": bool(s.get("full_recipe")),
            "hardware": s.get("hardware"),
            "train_seconds": s.get("train_seconds"),
            "command": info.get("command"),
            "publictest": gpu[run]["PublicTest_plain"]["accuracy"],
            "publictest_tta10": r["PublicTest_tta10"]["accuracy"],
            "privatetest": r["PrivateTest_plain"]["accuracy"],
            "privatetest_tta10": r["PrivateTest_tta10"]["accuracy"],
            "shortfall": GPU_SHORTFALL.get(run, ""),
            "source": f"../shared/gpu_teachers/runs_logs.tar.gz ({run}/, _meta/gpu_reports.json)",
        }
        if run in CHECKPOINTS:
            check = {}
            for split, gpu_key in (("publictest", "PublicTest_plain"), ("privatetest", "PrivateTest_plain")):
                cpu = read_json(reports / f"gpu_{run}_{split}.json")
                if cpu:
                    check[split] = {
                        "cpu": cpu["accuracy"],
                        "gpu": r[gpu_key]["accuracy"],
                        "difference_points": round(100 * (cpu["accuracy"] - r[gpu_key]["accuracy"]), 3),
                    }
            row["cpu_check"] = check
            row["checkpoint"] = f"../shared/gpu_teachers/{run}.ckpt"
        rows.append(row)
    return rows


def _shipped_probabilities(
    fer2013: str, views: tuple[int, ...], extra: tuple[str, ...] = ()
) -> dict[str, dict[str, np.ndarray]]:
    """name -> split -> probabilities of every shipped full-face model, and of the ``extra`` models (trained runs'
    checkpoints not shipped), at each view count (fp32 copies)."""
    from ferkit.data import FER2013
    from ferkit.expression.models import load_classifier
    from ferkit.expression.registry import model_file_name, shipped_models

    out: dict[str, dict[str, np.ndarray]] = {}
    splits = {s: FER2013(fer2013, s) for s in ("PublicTest", "PrivateTest")}
    specs = {n: n for n in shipped_models() if "masked" not in n} | {model_file_name(e): e for e in extra}
    for name, spec in specs.items():
        for v in views:
            clf = load_classifier(spec, precision="fp32", views=v)
            key = name + (f"+tta{v}" if v > 1 else "")
            out[key] = {s: clf.predict_proba(ds.images) for s, ds in splits.items()}
    out["_labels"] = {s: ds.labels for s, ds in splits.items()}
    out["_keys"] = {s: ds.keys() for s, ds in splits.items()}
    return out


def _gpu_probabilities(gpu_dir: Path, keys: dict[str, list]) -> dict[str, dict[str, np.ndarray]]:
    """run(+tta10) -> split -> the stored probabilities of every GPU run, in the splits' face order."""
    z = np.load(gpu_dir / "teachers" / "all_runs_probabilities.npz", allow_pickle=True)
    index = {k: i for i, k in enumerate(z["keys"].tolist())}
    out = {}
    for r, run in enumerate(z["runs"].tolist()):
        for v, view in enumerate(z["views"].tolist()):
            key = run + ("" if view == "plain" else f"+{view}")
            out[key] = {
                s: z["probabilities"][r, v, [index[k] for k in ks]].astype(np.float32) for s, ks in keys.items()
            }
    return out


def ensemble_all(gpu_dir: Path, fer2013: str, out: Path, extra: tuple[str, ...] = ()) -> dict:
    """The greedy averaging ensemble over the shipped models, the ``extra`` run checkpoints and the GPU runs (each
    plain and at 10 views), members chosen on PublicTest, measured once on PrivateTest."""
    from ferkit.evaluation.metrics import classification_report
    from ferkit.expression.ensemble import greedy_members

    shipped = _shipped_probabilities(fer2013, (1, 10), extra)
    labels, keys = shipped.pop("_labels"), shipped.pop("_keys")
    probs = {**shipped, **_gpu_probabilities(gpu_dir, keys)}
    chosen = greedy_members({k: p["PublicTest"] for k, p in probs.items()}, labels["PublicTest"])
    mean = {s: np.mean([probs[m][s] for m in chosen], axis=0) for s in ("PublicTest", "PrivateTest")}
    classes = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    private = classification_report(labels["PrivateTest"], mean["PrivateTest"].argmax(1), classes)
    single = {k: round(float((p["PublicTest"].argmax(1) == labels["PublicTest"]).mean()), 5) for k, p in probs.items()}
    rep = {
        "members": chosen,
        "selected_on": "PublicTest",
        "selection_accuracy": round(float((mean["PublicTest"].argmax(1) == labels["PublicTest"]).mean()), 5),
        **private,
        "split": "PrivateTest",
        "candidates_selection_accuracy": dict(sorted(single.items(), key=lambda kv: -kv[1])),
        "sources": "shipped models"
        + (f", trained runs not shipped ({', '.join(extra)})" if extra else "")
        + " (fp32, computed here) and "
        "../shared/gpu_teachers/teachers/all_runs_probabilities.npz "
        "(GPU runs, short schedules; stored probabilities)",
        "command": command_line(),
    }
    write_json_atomic(out, rep)
    return rep


def gpu_markdown(rows: list[dict], ens: dict | None, json_name: str, command: str) -> str:
    pct = lambda x: "-" if x is None else f"{100 * x:.2f}%"  # noqa: E731
    lines = [
        "# The GPU-trained runs (../shared/gpu_teachers)",
        "",
        f"*Written by `{command}`; JSON twin `{json_name}`. Seven `ferkit train` runs trained side by side on one "
        "NVIDIA H200 in a 6-minute window (short schedules; commands, epoch logs and GPU scores in "
        "`../shared/gpu_teachers/runs_logs.tar.gz`), selected on PublicTest, reported on PrivateTest.*",
        "",
        "| run | paper | schedule | PublicTest | PublicTest 10 views | PrivateTest | PrivateTest 10 views | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['run']}` | {r['paper'] or '-'} | {r['schedule']} | {pct(r['publictest'])} | "
            f"{pct(r['publictest_tta10'])} | {pct(r['privatetest'])} | {pct(r['privatetest_tta10'])} | "
            f"{r['shortfall']} |"
        )
    lines += [
        "",
        "CPU re-check of the checkpoints that came back (`ferkit evaluate --model FILE.ckpt`, this machine):",
        "",
    ]
    for r in rows:
        for split, c in (r.get("cpu_check") or {}).items():
            lines.append(
                f"- `{r['checkpoint']}` {split}: CPU {pct(c['cpu'])}, GPU {pct(c['gpu'])}, "
                f"difference {c['difference_points']:+.3f} points"
            )
    if ens:
        lines += [
            "",
            f"Averaging ensemble over every model (shipped ones, fp32, and the GPU runs, each plain and at 10 views), "
            f"members chosen greedily on PublicTest: **{' + '.join(ens['members'])}**: PublicTest "
            f"{pct(ens['selection_accuracy'])}, **PrivateTest {pct(ens['accuracy'])}** (reported once).",
        ]
    return "\n".join(lines) + "\n"
