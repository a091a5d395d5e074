"""``ferkit zoo``: a teacher zoo from a fixed accelerator budget, resumable after a kill.

Steps: measure each teacher's training step on the device, share the budget between the runs (one at a time on the
whole device; each run's share is recomputed from the time left when it starts, so a short run hands its rest to
the next), set each run's epochs so its schedule completes inside its share, train (``ferkit train`` subprocesses:
their own checkpoints, ``--resume``, DDP with ``--devices N``), score every teacher plain and with test-time views on
all FER2013 splits, choose the averaging ensemble on PublicTest, export ONNX (weights stored in fp16 where large),
and pack what a student needs into a few small files with a manifest."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ferkit.config import PACK_FILE_LIMIT, PACK_MAX_FILES, ZOO_MEMBERS
from ferkit.data import FaceSet, load_dataset
from ferkit.errors import BadOptionError, FerkitError
from ferkit.utils.io import read_json, write_json_atomic
from ferkit.utils.reports import command_line

from .recipes import RECIPES
from .teacher import TeacherOutputs

#: FER2013's splits, in the order of the packed probabilities.
SPLITS = ("Training", "PublicTest", "PrivateTest")
#: Seconds a training process needs before its first step, until one has been measured.
STARTUP_GUESS = 15.0
#: Epoch time / the estimate from the step alone (validation, data, logging), until a finished run measures it.
EPOCH_TIME_RATIO = 1.2
#: A run is not started with less training time than this left in its share.
MIN_RUN_S = 10


@dataclass(frozen=True)
class ZooMember:
    """One teacher: an architecture and the recipe it trains with."""

    model: str
    recipe: str = "ferkit"

    @property
    def name(self) -> str:
        return f"{self.model}_{self.recipe}"


def parse_members(spec: str | None) -> list[ZooMember]:
    """``vgg16:ferkit,rmn`` -> members (recipe ``ferkit`` where none is given); the default zoo for None."""
    from ferkit.expression.registry import model_kind

    items = [s.strip() for s in (spec or ",".join(ZOO_MEMBERS)).split(",") if s.strip()]
    members = [ZooMember(*item.split(":", 1)) for item in items]
    for m in members:
        if model_kind(m.model) != "torch":
            raise BadOptionError(f"--models: {m.model} is not a torch model")
        if m.recipe not in RECIPES:
            raise BadOptionError(f"--models: unknown recipe {m.recipe!r} for {m.model}; known: {', '.join(RECIPES)}")
    if len({m.name for m in members}) < len(members):
        raise BadOptionError("--models: a model:recipe pair is listed twice")
    return members


def parse_budget(text: str) -> float:
    """``10m``, ``90s``, ``1.5h`` or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise BadOptionError(f"--budget: a duration such as 10m, 90s or 1.5h, not {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _lightning_time(seconds: float) -> str:
    s = max(MIN_RUN_S, int(math.ceil(seconds)))
    return f"{s // 86400:02d}:{s % 86400 // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class ZooSettings:
    """What a zoo run was asked for (kept in ``zoo.json``; a resumed run must ask for the same)."""

    data: str
    budget_s: float
    members: list[ZooMember]
    accelerator: str = "auto"
    devices: str = "auto"
    strategy: str = "auto"
    precision: str = "auto"
    batch_size: int | None = None
    max_train: int | None = None
    views: int = 10
    ferplus: str | None = None
    ferplus_images: str | None = None
    seed: int = 0
    threads: int | None = None
    compile_mode: str | None = None

    def key(self) -> dict:
        d = asdict(self)
        d["members"] = [m.name for m in self.members]
        return d


class Zoo:
    """``Zoo(settings, out).run()``; every finished step is kept in ``out``, so running it again resumes."""

    def __init__(self, settings: ZooSettings, out: str | Path):
        self.s, self.out = settings, Path(out)
        self.state_path = self.out / "zoo.json"
        self.out.mkdir(parents=True, exist_ok=True)
        if self.state_path.exists():
            self.state = read_json(self.state_path)
            if self.state["settings"] != json.loads(json.dumps(settings.key())):
                raise FerkitError(f"{self.out}: holds a zoo run with other settings; choose another --out")
        else:
            self.state = {"settings": settings.key(), "spent_s": {}, "rates": {}, "plan": {}, "runs": {}}
        self.device = self._device()

    # -- bookkeeping ------------------------------------------------------------------------------------------
    def _save(self) -> None:
        write_json_atomic(self.state_path, self.state)

    def _spend(self, phase: str, seconds: float) -> None:
        self.state["spent_s"][phase] = round(self.state["spent_s"].get(phase, 0.0) + seconds, 2)
        self._save()

    def _device(self) -> str:
        import torch

        if self.s.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
            return "cuda"
        return "cpu"

    def _n_devices(self) -> int:
        import torch

        if str(self.s.devices).isdigit():
            return int(self.s.devices)
        return max(1, torch.cuda.device_count()) if self.device == "cuda" else 1

    def run_dir(self, m: ZooMember) -> Path:
        return self.out / "runs" / m.name

    # -- steps ------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        from ferkit.utils.memory import keep_freed_memory

        t = time.perf_counter()
        keep_freed_memory()
        self.measure()
        self.train_all()
        t_eval = time.perf_counter()
        self.export()
        outputs = self.evaluate()
        ensemble = self.select(outputs)
        manifest = self.pack(outputs, ensemble)
        manifest["seconds"]["this_invocation"] = round(time.perf_counter() - t, 1)
        manifest["seconds"]["evaluate_and_pack_this_invocation"] = round(time.perf_counter() - t_eval, 1)
        write_json_atomic(self.out / "pack" / "manifest.json", manifest)
        return manifest

    def measure(self) -> None:
        """Each member's training step on the device (faces/s), once; the time counts against the budget."""
        from .hardware import resolve_precision
        from .speed import step_rate

        todo = [m for m in self.s.members if m.name not in self.state["rates"]]
        for m in todo:
            t = time.perf_counter()
            batch = self.s.batch_size or RECIPES[m.recipe].batch_size
            precision = resolve_precision(self.s.precision, self.s.accelerator)
            try:
                r = step_rate(m.model, batch, precision, 2.0, self.s.compile_mode, self.device)
            except RuntimeError as e:  # out of memory and the like: the run will say so too
                r = {"step_faces_per_s": None, "error": str(e).splitlines()[0]}
            self.state["rates"][m.name] = r
            self._free()
            self._spend("measure", time.perf_counter() - t)
            print(json.dumps({"zoo": "measured", "member": m.name, **r}), flush=True)

    def _free(self) -> None:
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _train_faces(self) -> tuple[int, int]:
        """The training faces a run sees (``max_train`` cuts them) and the validation faces."""
        faces = self._faces()
        n_train = len(faces["Training"])
        return min(n_train, self.s.max_train or n_train), len(faces["PublicTest"])

    def plan(self, m: ZooMember) -> dict:
        """Epochs and time limit of ``m``'s run: an equal share of the budget left among the runs not done."""
        if m.name in self.state["plan"]:
            return self.state["plan"][m.name]
        n_train, n_val = self._train_faces()
        left = [x for x in self.s.members if x.name not in self.state["runs"]]
        spent = sum(self.state["spent_s"].get(k, 0.0) for k in ("measure", "train"))
        share = max(0.0, self.s.budget_s - spent) / max(1, len(left))
        rate = (self.state["rates"][m.name].get("step_faces_per_s") or 1.0) * self._n_devices()
        epoch_s = n_train / rate + n_val / (3 * rate)  # validation: a forward pass, about a third of a step
        epoch_s *= self.state.get("epoch_time_ratio", EPOCH_TIME_RATIO)
        startup = self.state.get("startup_s", STARTUP_GUESS)
        epochs = int(min(RECIPES[m.recipe].epochs, max(1, (share - startup) // epoch_s)))
        plan = {"epochs": epochs, "share_s": round(share, 1), "epoch_s_estimate": round(epoch_s, 2)}
        # the time limit counts from the first step; Lightning stops at a batch's end, then saves and exits
        plan["max_time"] = _lightning_time((share - startup) * 0.9)
        self.state["plan"][m.name] = plan
        self._save()
        return plan

    def train_command(self, m: ZooMember, plan: dict, resume: bool) -> list[str]:
        s = self.s
        cmd = [sys.executable, "-m", "ferkit.cli.main", "train", "--model", m.model, "--recipe", m.recipe]
        cmd += [
            "--dataset",
            "fer2013",
            "--data",
            s.data,
            "--out",
            str(self.run_dir(m)),
            "--epochs",
            str(plan["epochs"]),
        ]
        cmd += ["--seed", str(s.seed), "--accelerator", s.accelerator, "--devices", str(s.devices)]
        cmd += ["--strategy", s.strategy, "--train-precision", s.precision, "--max-time", plan["max_time"]]
        for flag, value in (
            ("--batch-size", s.batch_size),
            ("--max-train", s.max_train),
            ("--threads", s.threads),
            ("--compile", s.compile_mode),
        ):
            if value is not None:
                cmd += [flag, str(value)]
        return cmd + (["--resume"] if resume else [])

    def train_all(self) -> None:
        for m in self.s.members:
            if m.name in self.state["runs"]:
                continue
            plan = self.plan(m)
            if plan["share_s"] - self.state.get("startup_s", STARTUP_GUESS) < MIN_RUN_S:
                self.state["runs"][m.name] = {"failed": "not started: the budget was spent"}
                self._save()
                continue
            run = self.run_dir(m)
            resume = (run / "checkpoints" / "last.ckpt").exists()
            cmd = self.train_command(m, plan, resume)
            print(json.dumps({"zoo": "training", "member": m.name, **plan, "resume": resume}), flush=True)
            t = time.perf_counter()
            run.parent.mkdir(parents=True, exist_ok=True)
            with open(run.parent / f"{m.name}.log", "a") as log:
                rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
            wall = time.perf_counter() - t
            rec = {"command": " ".join(cmd[2:]).replace("ferkit.cli.main", "ferkit", 1), "wall_s": round(wall, 1)}
            if rc == 0 and (run / "summary.json").exists():
                summary = read_json(run / "summary.json")
                rec.update({k: summary[k] for k in ("stopped_by", "epochs_done", "train_seconds", "best_val_acc")})
                rec["short_schedule"], rec["full_recipe"] = summary["short_schedule"], summary["full_recipe"]
                if not resume:
                    self.state["startup_s"] = round(max(0.0, wall - summary["train_seconds"]), 1)
                    estimate = plan["epoch_s_estimate"] / self.state.get("epoch_time_ratio", EPOCH_TIME_RATIO)
                    per_epoch = summary["train_seconds"] / max(1, summary["epochs_done"])
                    self.state["epoch_time_ratio"] = round(max(1.0, per_epoch / estimate), 3)
            else:
                tail = (run.parent / f"{m.name}.log").read_text().strip().splitlines()[-1:] or ["no output"]
                rec["failed"] = f"exit {rc}: {tail[0][:300]}"
            self.state["runs"][m.name] = rec
            self._spend("train", wall)
            print(json.dumps({"zoo": "trained", "member": m.name, **rec}), flush=True)

    def _trained(self) -> list[ZooMember]:
        return [
            m
            for m in self.s.members
            if "failed" not in self.state["runs"].get(m.name, {"failed": 1})
            and (self.run_dir(m) / "checkpoints" / "best.ckpt").exists()
        ]

    def _faces(self) -> dict[str, FaceSet]:
        if not hasattr(self, "_face_sets"):
            self._face_sets = {sp: load_dataset("fer2013", self.s.data, sp) for sp in SPLITS}
            if self.s.ferplus:
                for sp in ("PublicTest", "PrivateTest"):
                    self._face_sets[f"ferplus_{sp}"] = load_dataset(
                        "ferplus", self.s.ferplus, sp, images=self.s.ferplus_images or self.s.data
                    )
        return self._face_sets

    def _classifier(self, m: ZooMember):
        """The member for scoring: its checkpoint in torch on a GPU, its ONNX export in ONNX Runtime on a CPU."""
        if self.device == "cpu":
            from ferkit.expression.classifier import ExpressionClassifier

            return ExpressionClassifier(str(self.out / "onnx" / f"{m.name}.onnx"), precision="fp32")
        from ferkit.expression.export import TorchClassifier

        return TorchClassifier(
            self.run_dir(m) / "checkpoints" / "best.ckpt", self._faces()["Training"].classes, self.device
        )

    def evaluate(self) -> dict[str, dict[str, np.ndarray]]:
        """Each trained member's probabilities, plain and with views, on every split (kept per member)."""
        from ferkit.expression.tta import tta_views

        t = time.perf_counter()
        out = {}
        faces = self._faces()
        for m in self._trained():
            path = self.out / "outputs" / f"{m.name}.npz"
            if not path.exists():
                clf = self._classifier(m)
                probs = {}
                for sp, ds in faces.items():  # every view once; the first view is the face itself
                    views = tta_views(ds.images, self.s.views)
                    p = clf.predict_proba(views.reshape(-1, *ds.images.shape[1:])).reshape(len(views), len(ds), -1)
                    probs[f"{sp}/plain"], probs[f"{sp}/tta"] = p[0].astype(np.float16), p.mean(0).astype(np.float16)
                path.parent.mkdir(parents=True, exist_ok=True)
                from ferkit.utils.io import atomic_path

                with atomic_path(path) as tmp, open(tmp, "wb") as f:
                    np.savez_compressed(f, **probs)
                del clf
                self._free()
            out[m.name] = dict(np.load(path))
        self._spend("evaluate", time.perf_counter() - t)
        return out

    def accuracy(self, p: np.ndarray, split: str) -> float:
        return round(float((p.astype(np.float32).argmax(1) == self._faces()[split].labels).mean()), 5)

    def select(self, outputs: dict[str, dict[str, np.ndarray]]) -> dict:
        """The averaging ensemble (members at ``views`` views) chosen greedily on PublicTest; its PrivateTest."""
        from ferkit.expression.ensemble import greedy_members

        if not outputs:
            return {}
        pub = {n: o["PublicTest/tta"].astype(np.float32) for n, o in outputs.items()}
        chosen = greedy_members(pub, self._faces()["PublicTest"].labels)
        mean = {sp: np.mean([outputs[n][f"{sp}/tta"].astype(np.float32) for n in chosen], 0) for sp in SPLITS}
        return {
            "members": chosen,
            "views": self.s.views,
            "publictest": self.accuracy(mean["PublicTest"], "PublicTest"),
            "privatetest": self.accuracy(mean["PrivateTest"], "PrivateTest"),
            "probabilities": mean,
        }

    def export(self) -> None:
        """Each trained member as ONNX (softmax output, raw 48x48 pixels in); a half-size copy where large."""
        from ferkit.expression.export import export_onnx, halve_weights, load_checkpoint

        t = time.perf_counter()
        for m in self._trained():
            onnx_path = self.out / "onnx" / f"{m.name}.onnx"
            if not onnx_path.exists():
                onnx_path.parent.mkdir(parents=True, exist_ok=True)
                model, _ = load_checkpoint(self.run_dir(m) / "checkpoints" / "best.ckpt")
                export_onnx(model, onnx_path)
            half = onnx_path.with_name(f"{m.name}_fp16w.onnx")
            if onnx_path.stat().st_size > PACK_FILE_LIMIT and not half.exists():
                halve_weights(onnx_path, half)
        self._spend("export", time.perf_counter() - t)

    def pack(self, outputs: dict[str, dict[str, np.ndarray]], ensemble: dict) -> dict:
        """At most ``PACK_MAX_FILES`` files under ``PACK_FILE_LIMIT`` bytes in ``out/pack``, with the manifest."""
        t = time.perf_counter()
        pack = self.out / "pack"
        pack.mkdir(parents=True, exist_ok=True)
        for old in pack.iterdir():
            old.unlink()
        faces = self._faces()
        keys = np.concatenate([np.array(faces[sp].keys()) for sp in SPLITS])
        all_splits = "+".join(SPLITS)
        ranked = sorted(outputs, key=lambda n: -self.accuracy(outputs[n]["PublicTest/tta"], "PublicTest"))
        views = f"tta{self.s.views}"
        candidates: list[tuple[str, str, object]] = []  # (file, what, writer)
        if outputs:
            probs = np.stack(
                [
                    np.stack([np.concatenate([outputs[n][f"{sp}/{v}"] for sp in SPLITS]) for v in ("plain", "tta")])
                    for n in ranked
                ]
            )
            labels = np.concatenate([faces[sp].labels for sp in SPLITS])
            candidates.append(
                (
                    "probabilities.npz",
                    "every teacher's probabilities (fp16) on all FER2013 faces: runs, views, keys, labels, classes, "
                    "probabilities (runs, views, faces, classes)",
                    lambda f: np.savez_compressed(
                        f,
                        runs=np.array(ranked),
                        views=np.array(["plain", views]),
                        keys=keys,
                        labels=labels,
                        classes=np.array(faces["Training"].classes),
                        probabilities=probs,
                    ),
                )
            )
            ens = np.concatenate([ensemble["probabilities"][sp] for sp in SPLITS])
            teacher = TeacherOutputs(
                keys, np.log(np.clip(ens, 1e-8, 1)).astype(np.float32), "+".join(ensemble["members"]), all_splits
            )
            candidates.append(
                (f"ensemble_{views}.npz", "`ferkit teach` file of the PublicTest-chosen ensemble", teacher)
            )
        for n in ranked:
            p = np.concatenate([outputs[n][f"{sp}/tta"].astype(np.float32) for sp in SPLITS])
            t_out = TeacherOutputs(keys, np.log(np.clip(p, 1e-8, 1)).astype(np.float32), n, all_splits)
            candidates.append((f"{n}_{views}.npz", f"`ferkit teach` file of {n}", t_out))
            onnx_path = self.out / "onnx" / f"{n}.onnx"
            half = onnx_path.with_name(f"{n}_fp16w.onnx")
            src = onnx_path if onnx_path.stat().st_size <= PACK_FILE_LIMIT else half
            candidates.append((src.name, f"{n} as ONNX" + (" (weights stored in fp16)" if src == half else ""), src))
        files, left_out = [], []
        for name, what, item in candidates:
            dest = pack / name
            if len(files) >= PACK_MAX_FILES - 1:  # the manifest is the last file
                left_out.append({"file": name, "why": f"the pack holds at most {PACK_MAX_FILES} files"})
                continue
            if isinstance(item, TeacherOutputs):
                item.save(dest)
            elif isinstance(item, Path):
                if item.stat().st_size > PACK_FILE_LIMIT:
                    left_out.append({"file": str(item), "why": "over the pack's file size limit"})
                    continue
                dest.write_bytes(item.read_bytes())
            else:
                with open(dest, "wb") as f:
                    item(f)
            if dest.stat().st_size > PACK_FILE_LIMIT:
                dest.unlink()
                left_out.append({"file": name, "why": "over the pack's file size limit"})
                continue
            files.append({"file": name, "what": what, "bytes": dest.stat().st_size, "sha256": _sha256(dest)})
        self._spend("pack", time.perf_counter() - t)
        return self.manifest(outputs, ensemble, ranked, files, left_out)

    def manifest(self, outputs, ensemble, ranked, files, left_out) -> dict:
        from .hardware import hardware, resolve_precision

        members = []
        for m in self.s.members:
            row = {"name": m.name, "model": m.model, "recipe": m.recipe, "step": self.state["rates"].get(m.name)}
            row.update({"plan": self.state["plan"].get(m.name), **self.state["runs"].get(m.name, {})})
            if m.name in outputs:
                o = outputs[m.name]
                for sp in ("PublicTest", "PrivateTest"):
                    row[sp.lower()] = {
                        "plain": self.accuracy(o[f"{sp}/plain"], sp),
                        f"tta{self.s.views}": self.accuracy(o[f"{sp}/tta"], sp),
                    }
                if self.s.ferplus:
                    row["ferplus_privatetest"] = {
                        v: self.accuracy(o[f"ferplus_PrivateTest/{k}"], "ferplus_PrivateTest")
                        for k, v in (("plain", "plain"), ("tta", f"tta{self.s.views}"))
                    }
            members.append(row)
        spent = self.state["spent_s"]
        train_phase = spent.get("measure", 0.0) + spent.get("train", 0.0)
        after = sum(spent.get(k, 0.0) for k in ("evaluate", "export", "pack"))
        return {
            "command": command_line(),
            "hardware": hardware(),
            "device": self.device,
            "precision": resolve_precision(self.s.precision, self.s.accelerator),
            "settings": self.state["settings"],
            "budget_s": self.s.budget_s,
            "seconds": {
                **spent,
                "measure_and_train": round(train_phase, 1),
                "evaluate_export_pack": round(after, 1),
                "within_budget": train_phase <= self.s.budget_s * 1.02,
            },
            "sharing": "one run at a time on the whole device; each run's share = the budget left / the runs left",
            "members": members,
            "ensemble": {k: v for k, v in ensemble.items() if k != "probabilities"},
            "ranked_on_publictest": ranked,
            "files": files,
            "left_out": left_out,
            "use": [
                f"ferkit train --model MODEL --data {self.s.data} --teacher PACK/ensemble_tta{self.s.views}.npz "
                "--out RUN",
                "ferkit evaluate --model PACK/MEMBER.onnx --data FER2013 --split PrivateTest",
            ],
        }
