"""Engines that run shards: local worker processes (no extra needed) or Ray Data (``--engine ray``). Both call the
same ``ShardWorker``; each worker loads its models once."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from ferkit.app.settings import AnalyzeSettings
from ferkit.errors import FerkitError

from .plan import Shard
from .stages import ShardWorker

_worker: ShardWorker | None = None


def _init(settings: AnalyzeSettings, out: str) -> None:
    global _worker
    _worker = ShardWorker(settings, out)


def _run(shard_json: str, name: str) -> dict:
    return _worker(Shard.from_json(shard_json), name)


def run_local(
    shards: list[Shard],
    names: dict[str, str],
    settings: AnalyzeSettings,
    out: Path,
    workers: int,
    progress: bool,
    address: str | None = None,
) -> Iterator[dict]:
    """Shards on ``workers`` processes (0: one per core), at most two shards per worker in flight (memory stays
    bounded whatever the input size); summaries as shards finish."""
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(shards), unit="shard", disable=None if progress else True, desc="batch")
    pending = iter(shards)
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(settings, str(out))) as pool:
        running = set()
        for s in pending:
            running.add(pool.submit(_run, s.to_json(), names[s.id]))
            if len(running) >= 2 * workers:
                break
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                summary = f.result()
                bar.update(1)
                bar.set_postfix(faces=summary["faces"])
                yield summary
                nxt = next(pending, None)
                if nxt is not None:
                    running.add(pool.submit(_run, nxt.to_json(), names[nxt.id]))
    bar.close()


def _restartable() -> dict:
    """Actors that die are restarted, and their shards retried."""
    return {"max_restarts": -1, "max_task_retries": -1}


class RayShardWorker:
    """The Ray Data stage: a callable class, so each actor loads the models once."""

    def __init__(self, settings: dict, out: str):
        self.worker = ShardWorker(AnalyzeSettings(**settings), out)

    def __call__(self, batch: dict) -> dict:
        summaries = [self.worker(Shard.from_json(s), n) for s, n in zip(batch["shard"], batch["name"])]
        import json

        return {"summary": [json.dumps(s) for s in summaries]}


def run_ray(
    shards: list[Shard],
    names: dict[str, str],
    settings: AnalyzeSettings,
    out: Path,
    workers: int,
    progress: bool,
    address: str | None = None,
) -> Iterator[dict]:
    """Shards on Ray Data: ``map_batches`` over an actor pool of ``workers`` (default: the cluster's CPUs), one
    CPU each; actors that die are restarted and their shards retried (files are written atomically, so a retried
    shard is written once)."""
    import json
    from dataclasses import asdict

    try:
        import ray
    except ImportError:
        raise FerkitError('--engine ray needs the ray extra: pip install "ferkit[ray]"') from None
    import logging

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = progress
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        items = [{"shard": s.to_json(), "name": names[s.id]} for s in shards]
        with warnings.catch_warnings():  # Ray's own deprecation notices of its remote-args parameters
            warnings.simplefilter("ignore")
            ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
                RayShardWorker,
                fn_constructor_kwargs={"settings": asdict(settings), "out": str(out)},
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=1,
                ray_remote_args_fn=_restartable,
            )
        for row in ds.iter_rows():
            yield json.loads(row["summary"])
    finally:
        if started and address is None:
            ray.shutdown()
