"""reports/train_speed.{md,json}: ``ferkit bench --train`` for four models before and after the training-speed work,
in one run on this machine, and a check that the new path learns what the old one did (``python -m lab
train-speed``)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ferkit.training.hardware import resolve_precision
from ferkit.utils.cpu import cpu_bf16
from ferkit.utils.io import read_json, write_json_atomic, write_text_atomic
from ferkit.utils.reports import command_line

#: (model, training faces per timed epoch, epochs run (the fastest kept), timing rounds): the heavy models on a few
#: batches (resnet18_fc: ~24 faces/s, rmn: ~7 faces/s on this project's CPU).
MODELS = (("ferkit_cnn_s", 8192, 2, 2), ("ferkit_cnn_m2", 2048, 2, 1), ("resnet18_fc", 256, 1, 1), ("rmn", 128, 1, 1))
#: The settings timed (every combination of their values): the training loop as it was (DataLoader, fp32, the C
#: library's memory handling) and the new one; bf16 where the CPU computes bfloat16 natively.
BEFORE = ("32-true", "loader", "return")
SETTINGS = (BEFORE, ("32-true", "device", "keep"))
BF16 = (("bf16-mixed", "device", "keep"),)
#: The learning check: ferkit_cnn_s, the ferkit recipe cut to these epochs and training faces, two seeds, both paths.
CHECK = {"model": "ferkit_cnn_s", "epochs": 4, "max_train": 6000, "seeds": (0, 1)}


def _run(cmd: list[str], log) -> str:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    p = subprocess.run(cmd, capture_output=True, text=True)
    log.write(p.stdout[-4000:] + p.stderr[-4000:] + "\n")
    log.flush()
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.strip().splitlines()[-1:]}")
    return p.stdout


def _bench(model: str, faces: int, epochs: int, rounds: int, settings, fer2013: str, out: Path, log) -> dict:
    precisions = ",".join(dict.fromkeys(p for p, _, _ in settings))
    paths = ",".join(dict.fromkeys(d for _, d, _ in settings))
    freed = ",".join(dict.fromkeys(m for _, _, m in settings))
    js = out / f"bench_train_{model}.json"
    cmd = ["ferkit", "bench", "--train", model, "--faces", str(faces), "--epochs", str(epochs), "--rounds", str(rounds)]
    cmd += ["--train-precision", precisions, "--data-path", paths, "--freed-memory", freed, "--fer2013", fer2013]
    cmd += ["--seconds", "4", "--threads", "2", "--json", str(js)]
    _run([sys.executable, "-m", "ferkit.cli.main", *cmd[1:]], log)
    rep = read_json(js)
    rep["command"] = " ".join(cmd)
    return rep


def _learning_check(fer2013: str, log) -> dict:
    """Best PublicTest accuracy of the same short ferkit_cnn_s schedule, old and new path, two seeds each."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="ferkit-train-check-") as tmp:
        for name, (precision, data_path, freed) in (("before", BEFORE), ("after", ("auto", "device", "keep"))):
            for seed in CHECK["seeds"]:
                run = Path(tmp) / f"{name}_{seed}"
                cmd = ["ferkit", "train", "--model", CHECK["model"], "--data", fer2013, "--out", str(run)]
                cmd += ["--epochs", str(CHECK["epochs"]), "--max-train", str(CHECK["max_train"]), "--seed", str(seed)]
                cmd += ["--train-precision", precision, "--data-path", data_path, "--freed-memory", freed]
                cmd += ["--threads", "2"]
                _run([sys.executable, "-m", "ferkit.cli.main", *cmd[1:]], log)
                s = read_json(run / "summary.json")
                epochs = [json.loads(ln) for ln in open(run / "epochs.jsonl")]
                out[f"{name}_seed{seed}"] = {
                    "command": " ".join(cmd),
                    "precision": read_json(run / "run.json")["precision"],
                    "best_publictest": round(s["best_val_acc"], 4),
                    "last_val_loss": round(epochs[-1]["val_loss"], 4),
                    "train_seconds": s["train_seconds"],
                }
    acc = {k: v["best_publictest"] for k, v in out.items()}
    seeds = CHECK["seeds"]
    same_seed = max(abs(acc[f"after_seed{s}"] - acc[f"before_seed{s}"]) for s in seeds)
    seed_noise = max(abs(acc[f"{n}_seed{seeds[0]}"] - acc[f"{n}_seed{seeds[1]}"]) for n in ("before", "after"))
    mean = {n: sum(acc[f"{n}_seed{s}"] for s in seeds) / len(seeds) for n in ("before", "after")}
    return {
        **CHECK,
        "seeds": list(seeds),
        "runs": out,
        "mean_best_publictest": {k: round(v, 4) for k, v in mean.items()},
        "largest_same_seed_gap": round(same_seed, 4),
        "largest_seed_to_seed_gap": round(seed_noise, 4),
        "within_noise": abs(mean["after"] - mean["before"]) <= seed_noise,
    }


def train_speed_report(
    fer2013: str, json_out: str = "reports/train_speed.json", check: bool = True, render: bool = False
) -> dict:
    """Measure (or with ``render``, re-read the measurements already in ``json_out``) and write both files."""
    out = Path(json_out)
    logs = out.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if render:
        old = read_json(out)
        models, learning, command = old["models"], old["learning_check"], old["command"]
    else:
        settings = SETTINGS + (BF16 if cpu_bf16() else ())
        with open(logs / "train_speed.log", "w") as log:
            models = [_bench(m, f, e, r, settings, fer2013, logs, log) for m, f, e, r in MODELS]
            learning = _learning_check(fer2013, log) if check else None
        command = command_line()
    for m in models:
        before = next(r for r in m["rows"] if (r["precision"], r["data_path"], r["freed_memory"]) == BEFORE)
        for r in m["rows"]:
            r["epoch_speedup_vs_before"] = round(before["epoch_seconds"] / r["epoch_seconds"], 2)
    default = (resolve_precision("auto", "cpu"), "device", "keep")
    rep = {
        "command": command,
        "hardware": models[0]["hardware"],
        "before": dict(zip(("precision", "data_path", "freed_memory"), BEFORE)),
        "default": dict(zip(("precision", "data_path", "freed_memory"), default)),
        "models": models,
        "learning_check": learning,
    }
    rep["default_epoch_speedup"] = {
        m["model"]: next(
            r["epoch_speedup_vs_before"]
            for r in m["rows"]
            if (r["precision"], r["data_path"], r["freed_memory"]) == default
        )
        for m in models
    }
    if learning:
        t = {
            n: sum(v["train_seconds"] for k, v in learning["runs"].items() if k.startswith(n))
            for n in ("before", "after")
        }
        learning["train_time_speedup"] = round(t["before"] / t["after"], 2)
    write_json_atomic(out, rep)
    write_text_atomic(out.with_suffix(".md"), _markdown(rep, out.name))
    return rep


def _spread(rep: dict) -> float:
    """The largest relative gap between the timed epochs of one setting."""
    return max(max(r["epoch_seconds_all"]) / min(r["epoch_seconds_all"]) - 1 for m in rep["models"] for r in m["rows"])


def _markdown(rep: dict, json_name: str) -> str:
    md = [
        "# Training speed on this machine: before and after\n",
        f"*Written by `{rep['command']}`; the JSON twin is `{json_name}`, the log `logs/train_speed.log`. "
        f"Machine: {rep['hardware']}.*\n",
        "Each row is one setting of `ferkit bench --train`, run in its own process (FER2013 Training faces, batch "
        "128, the ferkit recipe's augmentation): the training step alone (augmentation, forward, loss, backward, "
        "SGD step on one resident batch), then `ferkit train`'s own loop over the stated faces plus one eighth as "
        "many validation faces (FER2013's ratio), each epoch timed from its start to its end (data, steps, "
        "validation, checkpoint, logging), the fastest kept. *Before* is the loop as it was (at 89ba7e3): a "
        "`DataLoader` over a `TensorDataset`, fp32, the C library's default memory handling. *Outside the step*: "
        "the share of the epoch not explained by the step's time x the number of steps (0 when the timed step "
        "was slower than the loop's).\n",
        "| model | faces / epoch | precision | data path | freed memory | step faces/s | epoch s | epoch faces/s "
        "| outside the step | epoch speed-up vs before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in rep["models"]:
        for r in m["rows"]:
            md.append(
                f"| {m['model']} | {m['train_faces']:,} | {r['precision']} | {r['data_path']} | {r['freed_memory']} "
                f"| {r['step_faces_per_s']:,.0f} | {r['epoch_seconds']:.2f} | {r['epoch_faces_per_s']:,.0f} "
                f"| {r['outside_step_share']:.1%} | {r['epoch_speedup_vs_before']:.2f}x |"
            )
    sp = rep["default_epoch_speedup"]
    md.append(
        f"\nThe default loop on this machine ({rep['default']['precision']}, {rep['default']['data_path']} batches, "
        f"freed memory kept) against *before*, epoch time: "
        + ", ".join(f"`{k}` {v:.2f}x" for k, v in sp.items())
        + f". Epochs of one setting, the same work, took up to {_spread(rep):.0%} longer than the fastest of them: "
        "differences of that size are noise on this machine.\n"
    )
    md.append("\nCommands (one per model):\n")
    md += [f"- `{m['command']}`" for m in rep["models"]]
    lc = rep.get("learning_check")
    if lc:
        md += [
            "\n## Does the new loop learn the same?\n",
            f"`{lc['model']}`, ferkit recipe cut to {lc['epochs']} epochs on {lc['max_train']:,} training faces, "
            f"seeds {', '.join(map(str, lc['seeds']))}, best PublicTest accuracy (the selection split). The two loops "
            "draw their batches in different orders, so the same seed is not the same run: the check is whether "
            "the gap between the loops stays within the gap between seeds.\n",
            "| run | precision | best PublicTest | last PublicTest loss | train s |",
            "|---|---|---|---|---|",
        ]
        md += [
            f"| {k} | {v['precision']} | {v['best_publictest']:.2%} | {v['last_val_loss']:.3f} "
            f"| {v['train_seconds']:.0f} |"
            for k, v in lc["runs"].items()
        ]
        mb = lc["mean_best_publictest"]
        md.append(
            f"\nMean best PublicTest: before {mb['before']:.2%}, after {mb['after']:.2%}; largest gap between "
            f"seeds {lc['largest_seed_to_seed_gap']:.2%}: "
            f"{'within noise' if lc['within_noise'] else 'NOT within noise'}. The four runs' training time: "
            f"the new loop {lc['train_time_speedup']:.2f}x faster than before (full PublicTest validation every "
            "epoch).\n"
        )
    return "\n".join(md) + "\n"
