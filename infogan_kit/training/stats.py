"""One stats reporter for the whole process (the NVIDIA ``training_stats`` idea, small).

Objectives call ``report("Loss/Q/continuous", tensor)`` wherever a value is computed; values
stay on their device (no host synchronization). The loop calls :func:`collect` every
``log_every`` steps: one transfer returns the mean of every name since the last collection,
which then feeds TensorBoard, ``stats.jsonl`` and the progress line.
"""

from __future__ import annotations

import torch

_sums: dict[str, torch.Tensor] = {}
_counts: dict[str, int] = {}


def report(name: str, value: torch.Tensor | float) -> None:
    """Add the mean of ``value`` to the running statistic ``name`` (e.g. ``"Loss/D"``)."""
    with torch.no_grad():
        if isinstance(value, torch.Tensor):
            mean = value.detach().float().mean()
        else:
            mean = torch.tensor(float(value))
        if name in _sums and _sums[name].device == mean.device:
            _sums[name] += mean
            _counts[name] += 1
        else:
            _sums[name] = mean.clone()
            _counts[name] = 1


def collect() -> dict[str, float]:
    """Return ``{name: mean since the last collect}`` and reset (one host transfer)."""
    if not _sums:
        return {}
    names = list(_sums)
    values = torch.stack([_sums[n].to("cpu") if _sums[n].device.type != "cpu" else _sums[n] for n in names]).tolist()
    result = {name: value / _counts[name] for name, value in zip(names, values)}
    reset()
    return result


def reset() -> None:
    """Forget every pending statistic."""
    _sums.clear()
    _counts.clear()
