"""What a training step asks of the host: an audit of every dispatched op.

:class:`OpAudit` is a ``TorchDispatchMode`` that records, for the code run under it:

* ``ops``: every aten op dispatched (a GPU launches about one kernel per op, so this is the
  host-side cost of a step);
* ``host_syncs``: ``aten._local_scalar_dense`` calls (``.item()``, ``bool()``, ``int()``,
  ``float()`` of a tensor), each a device-to-host synchronization on a GPU;
* ``cross_device_copies``: copies between devices (``.to(other_device)``, ``.cpu()``);
* ``foreign_draws``: random draws from a generator outside ``allowed_generators`` (the global
  default generator included), e.g. a CPU generator feeding a CUDA step.

The op-budget test (``tests/training/test_op_budget.py``) and ``bench/train.py`` use it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

_SYNC = torch.ops.aten._local_scalar_dense.default
_COPIES = {torch.ops.aten._to_copy.default, torch.ops.aten.copy_.default, torch.ops.aten._copy_from.default,
           torch.ops.aten._copy_from_and_resize.default}
_RANDOM_TAG = torch.Tag.nondeterministic_seeded


class OpAudit(TorchDispatchMode):
    """Count ops, host synchronizations, cross-device copies and draws from foreign generators.

    Args:
        allowed_generators: the generators the audited code may draw from (the trainer's own).
    """

    def __init__(self, allowed_generators: Iterable[torch.Generator] = ()) -> None:
        super().__init__()
        self.allowed = list(allowed_generators)
        self.counts: Counter[str] = Counter()
        self.host_syncs: list[str] = []
        self.cross_device_copies: list[str] = []
        self.foreign_draws: list[str] = []

    @property
    def ops(self) -> int:
        """Every op dispatched."""
        return sum(self.counts.values())

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = str(func.overloadpacket.__name__) if hasattr(func, "overloadpacket") else str(func)
        self.counts[name] += 1
        if func is _SYNC:
            self.host_syncs.append(name)
        elif func in _COPIES:
            self._check_copy(func, name, args, kwargs)
        if _RANDOM_TAG in getattr(func, "tags", ()):
            generator = kwargs.get("generator")
            if generator is None or not any(_same(generator, allowed) for allowed in self.allowed):
                self.foreign_draws.append(f"{name} ({'the default generator' if generator is None else generator.device})")
        return func(*args, **kwargs)

    def _check_copy(self, func: Any, name: str, args: tuple, kwargs: dict) -> None:
        devices = {leaf.device for leaf in tree_flatten((args, kwargs))[0] if isinstance(leaf, torch.Tensor)}
        target = kwargs.get("device")
        if target is not None:
            devices.add(torch.device(target))
        if len(devices) > 1:
            self.cross_device_copies.append(f"{name} {sorted(str(d) for d in devices)}")

    def summary(self) -> dict[str, Any]:
        """``{"ops", "host_syncs", "cross_device_copies", "foreign_draws", "top"}`` (JSON-ready)."""
        return {"ops": self.ops, "host_syncs": len(self.host_syncs), "cross_device_copies": len(self.cross_device_copies),
                "foreign_draws": len(self.foreign_draws), "top": self.counts.most_common(10)}


def _same(generator: torch.Generator, allowed: torch.Generator) -> bool:
    """Whether ``generator`` is ``allowed`` (the dispatcher hands ops new Python wrappers of a
    generator, so identity is told by device and seed)."""
    return generator.device == allowed.device and generator.initial_seed() == allowed.initial_seed()
