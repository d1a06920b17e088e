"""Data-parallel training on PyTorch's own distributed engine (``torchrun``).

``torchrun --nproc_per_node N -m infogan_kit train ...`` starts N processes; each sees
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``. Multi-node runs use torchrun's rendezvous
(``--nnodes``, ``--rdzv-endpoint``). The loop then:

* splits the global batch across ranks, with per-rank data and latent seeds;
* starts every rank from rank 0's weights (broadcast) and averages gradients across ranks
  after each phase's backward (one flat all-reduce per optimizer, like DDP's buckets), so the
  weights, optimizer states and EMA copies stay identical on every rank;
* broadcasts rank 0's buffers (BatchNorm statistics, spectral-norm vectors) after each step,
  as DDP does;
* agrees on stopping (signal, time budget) through an all-reduce of a flag every step;
* lets rank 0 alone log, write images and save checkpoints; the checkpoint keeps every rank's
  RNG states, so resuming with the same world size continues exactly, and a different world
  size (e.g. one process) also resumes (new ranks are seeded from the step).

The backend is NCCL on CUDA and gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Rank, world size and local rank of this process (1 process: 0, 1, 0)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environment() -> DistributedContext:
    """Read torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    return DistributedContext(int(os.environ.get("RANK", "0")), world_size, int(os.environ.get("LOCAL_RANK", "0")))


def initialize(context: DistributedContext, device_type: str) -> None:
    """Start the process group once (NCCL for CUDA, gloo for CPU) from the environment."""
    if context.enabled and not dist.is_initialized():
        # Import dynamo first: importing it after the group exists (the first optimizer does)
        # keeps a reference to the group, so destroy_process_group() cannot free it, its gloo
        # worker threads outlive the interpreter and a rank that exits early can abort
        # ("terminate called without an active exception") while they release tensors.
        import torch._dynamo  # noqa: F401

        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")


def shutdown() -> None:
    """Destroy the process group if one is running."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_object(value: Any, context: DistributedContext) -> Any:
    """Rank 0's ``value`` on every rank."""
    if not context.enabled:
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_objects(value: Any, context: DistributedContext) -> list[Any]:
    """Every rank's ``value``, in rank order (on every rank)."""
    if not context.enabled:
        return [value]
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, value)
    return gathered


@torch.no_grad()
def broadcast_module(module: torch.nn.Module, context: DistributedContext, buffers_only: bool = False) -> None:
    """Copy rank 0's parameters (unless ``buffers_only``) and buffers to every rank."""
    if not context.enabled:
        return
    tensors = list(module.buffers()) if buffers_only else list(module.parameters()) + list(module.buffers())
    for tensor in tensors:
        dist.broadcast(tensor.data, src=0)


@torch.no_grad()
def average_gradients(grads: list[torch.Tensor], context: DistributedContext) -> None:
    """Average gradients across ranks in place (one flat all-reduce)."""
    if not context.enabled or not grads:
        return
    flat = torch.cat([g.reshape(-1).float() for g in grads])
    dist.all_reduce(flat)
    flat /= context.world_size
    offset = 0
    for grad in grads:
        count = grad.numel()
        grad.copy_(flat[offset : offset + count].view_as(grad))
        offset += count


def any_rank(flag: bool, context: DistributedContext, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any rank."""
    if not context.enabled:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)
