"""Training batches of an in-memory face set sliced on the training device: no per-sample collate, no workers.

All of FER2013 is 83 MB as uint8, so the whole set lives on the device; each epoch draws one shuffled index
vector (or a class-balanced draw) from a seeded generator and slices batches from it. Under DDP each process
takes every ``world``-th index of the same order, so the processes see disjoint faces."""

from __future__ import annotations

import torch
import torch.distributed as dist
from lightning.pytorch.callbacks import Callback


def _rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class FaceBatches:
    """Batches of ``tensors`` (faces, targets[, teacher logits]) indexed on their device.

    ``shuffle``: a new order each epoch (seeded by ``seed`` and the epoch, so a resumed run draws the same order);
    ``weights``: draw faces with replacement in proportion to these weights (class balancing) instead;
    ``shard``: under DDP, each process takes its share of each epoch (validation is not sharded: every process
    scores all faces, so the logged accuracy is the whole split's)."""

    def __init__(
        self,
        tensors: tuple[torch.Tensor, ...],
        batch_size: int,
        shuffle: bool = True,
        weights: torch.Tensor | None = None,
        drop_last: bool = True,
        seed: int = 0,
        shard: bool = True,
    ):
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle, self.weights, self.seed, self.shard = shuffle, weights, seed, shard
        self.drop_last = drop_last and len(tensors[0]) > batch_size
        self.epoch = 0

    def to(self, device: torch.device | str) -> "FaceBatches":
        self.tensors = tuple(t.to(device) for t in self.tensors)
        return self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _share(self) -> int:
        rank, world = _rank_world() if self.shard else (0, 1)
        return len(range(rank, len(self.tensors[0]), world))

    def __len__(self) -> int:
        n = self._share()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self) -> torch.Tensor:
        """This process's face indices for the current epoch, in drawing order."""
        n = len(self.tensors[0])
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        if self.weights is not None:
            idx = torch.multinomial(self.weights.double(), n, replacement=True, generator=g)
        elif self.shuffle:
            idx = torch.randperm(n, generator=g)
        else:
            idx = torch.arange(n)
        rank, world = _rank_world() if self.shard else (0, 1)
        return idx[rank::world]

    def __iter__(self):
        idx = self.order().to(self.tensors[0].device)
        b = self.batch_size
        for i in range(len(self)):
            pick = idx[i * b : (i + 1) * b]
            yield tuple(t[pick] for t in self.tensors)


class BatchesOnDevice(Callback):
    """Moves the face sets to the module's device when fitting starts and gives each epoch its number."""

    def __init__(self, *batches: FaceBatches):
        self.batches = batches

    def on_fit_start(self, trainer, pl_module) -> None:
        for b in self.batches:
            b.to(pl_module.device)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        for b in self.batches:
            b.set_epoch(trainer.current_epoch)
