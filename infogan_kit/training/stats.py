"""One stats reporter for the whole process (the NVIDIA ``training_stats`` idea, small).

Objectives call ``report("Loss/Q/continuous", tensor)`` wherever a value is computed; values
stay on their device (no host synchronization). The loop calls :func:`collect` every
``log_every`` steps: one transfer returns the mean of every name since the last collection,
which then feeds TensorBoard, ``stats.jsonl`` and the progress line. Each name's sum is one
device tensor allocated at its first report and zeroed in place by every collection, so the
steps between log steps write into the same buffers (a captured CUDA graph can replay them).
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
            _counts[name] = _counts.get(name, 0) + 1
        else:
            _sums[name] = mean.clone()
            _counts[name] = 1


def collect() -> dict[str, float]:
    """Return ``{name: mean since the last collect}`` (names reported since) and zero the sums in
    place (one host transfer)."""
    names = [name for name in _sums if _counts.get(name)]
    if not names:
        return {}
    values = torch.stack([_sums[n].to("cpu") if _sums[n].device.type != "cpu" else _sums[n] for n in names]).tolist()
    result = {name: value / _counts[name] for name, value in zip(names, values)}
    for name in names:
        _sums[name].zero_()
    _counts.clear()
    return result


def reset() -> None:
    """Forget every pending statistic and its buffer."""
    _sums.clear()
    _counts.clear()
