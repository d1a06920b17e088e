"""Training batches: procedural data renders whole batches on the training device; file
datasets stream through a DataLoader with workers and pinned memory.

Both are driven by a seeded ``torch.Generator`` whose state the checkpoint keeps, so a resumed
run sees exactly the batches an uninterrupted run would (procedural data; file datasets are
re-seeded from the step, which gives the same stream for the same step and worker count).
"""

from __future__ import annotations

from typing import Iterator

import torch

from ..data.base import FactorDataset
from .context import Batch, images_in_memory_format


def procedural_batches(
    dataset: FactorDataset, batch_size: int, generator: torch.Generator, device: torch.device, channels_last: bool
) -> Iterator[Batch]:
    """Endless batches built directly on ``device`` from ``dataset.sample``."""
    while True:
        images, factors = dataset.sample(batch_size, generator=generator, device=device)
        yield Batch(images_in_memory_format(images, channels_last), factors)


class _RandomItems(torch.utils.data.IterableDataset):
    """Endless random items of a dataset; each worker draws from its own seeded stream."""

    def __init__(self, dataset: FactorDataset, seed: int) -> None:
        self.dataset = dataset
        self.seed = seed

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        generator = torch.Generator().manual_seed(self.seed * 1009 + worker)
        while True:
            images, factors = self.dataset.sample(64, generator=generator)
            yield from zip(images, factors)


def loader_batches(
    dataset: FactorDataset,
    batch_size: int,
    seed: int,
    device: torch.device,
    num_workers: int,
    channels_last: bool,
) -> Iterator[Batch]:
    """Endless batches from a DataLoader (workers, pinned memory) over a file-backed dataset."""
    loader = torch.utils.data.DataLoader(
        _RandomItems(dataset, seed),
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=num_workers > 0,
    )
    for images, factors in loader:
        images = images_in_memory_format(images.to(device, non_blocking=True), channels_last)
        yield Batch(images, factors.to(device, non_blocking=True))


def make_batches(
    dataset: FactorDataset,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
    num_workers: int,
    channels_last: bool,
    step: int,
) -> Iterator[Batch]:
    """The right batch stream for ``dataset`` (procedural: on-device; file: DataLoader)."""
    if getattr(dataset, "variant", "procedural") == "procedural" or num_workers == 0:
        return procedural_batches(dataset, batch_size, generator, device, channels_last)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator)) + step
    return loader_batches(dataset, batch_size, seed, device, num_workers, channels_last)
