"""Run logging: TensorBoard events, ``stats.jsonl`` and a progress display.

``stats.jsonl`` holds one JSON object per log step: ``step``, ``images``, ``wall_s`` and every
scalar reported since the previous log step (names like ``Loss/Q/continuous``).
A terminal gets a tqdm bar with ETA and img/s; anything else gets plain periodic lines.

A resume from step ``T`` first drops what a crash left past ``T``: ``stats.jsonl`` keeps its
whole lines with steps ``<= T`` (strictly increasing), and TensorBoard purges events after ``T``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..files import atomic_write_text


class RunLogger:
    """Writes scalars and images of one run (rank 0 only; other ranks pass ``enabled=False``)."""

    def __init__(self, run_dir: Path, total_steps: int, start_step: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self.run_dir = run_dir
        self._writer = None
        self._jsonl = None
        self._bar = None
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(run_dir), purge_step=start_step + 1 if start_step else None)
        truncate_stats(run_dir / "stats.jsonl", start_step)
        self._jsonl = open(run_dir / "stats.jsonl", "a", encoding="utf-8")
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True, file=sys.stderr)

    def scalars(self, step: int, images_seen: int, wall_s: float, values: dict[str, float]) -> None:
        """Log one row of scalars (TensorBoard + stats.jsonl + progress)."""
        if not self.enabled:
            return
        for name, value in values.items():
            self._writer.add_scalar(name, value, step)
        row = {"step": step, "images": images_seen, "wall_s": round(wall_s, 3)}
        row.update({k: (v if math.isfinite(v) else None) for k, v in values.items()})
        self._jsonl.write(json.dumps(row) + "\n")
        self._jsonl.flush()
        speed = values.get("Perf/img_per_s", float("nan"))
        if self._bar is not None:
            self._bar.set_postfix_str(f"img/s {speed:,.0f} D {values.get('Loss/D', float('nan')):.3f} G {values.get('Loss/G', float('nan')):.3f}")
        else:
            shown = " ".join(f"{k}={v:.4g}" for k, v in values.items() if k.startswith("Loss/"))
            print(f"step {step:>8d}  images {images_seen:>10d}  {wall_s:8.1f}s  img/s {speed:8.0f}  {shown}", flush=True)

    def metric_scalars(self, values: dict[str, float], step: int) -> None:
        """Add scalars to TensorBoard only (e.g. ``Metrics/fast/mig``), not to stats.jsonl."""
        if self.enabled:
            for name, value in values.items():
                self._writer.add_scalar(name, value, step)

    def advance(self, steps: int = 1) -> None:
        """Move the progress bar."""
        if self._bar is not None:
            self._bar.update(steps)

    def image(self, tag: str, image: Image.Image, step: int) -> None:
        """Add a PIL image to TensorBoard."""
        if self.enabled:
            self._writer.add_image(tag, np.asarray(image.convert("RGB")), step, dataformats="HWC")

    def hparams(self, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
        """Record hyperparameters with final metrics (TensorBoard's HParams tab)."""
        if not self.enabled or not metrics:
            return
        clean = {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in hparams.items()}
        self._writer.add_hparams(clean, {f"hparam/{k}": v for k, v in metrics.items()}, run_name="hparams")

    def message(self, text: str) -> None:
        """A line for the user (through tqdm when a bar is shown)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
        if self._jsonl is not None:
            self._jsonl.close()


def truncate_stats(path: Path, last_step: int) -> None:
    """Keep only the whole lines of ``stats.jsonl`` with steps ``<= last_step`` that continue a
    strictly increasing sequence (rewritten atomically, only when something must go)."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").split("\n")
    except FileNotFoundError:
        return
    kept, previous = [], -1
    for line in lines[:-1]:  # the last piece has no newline: empty, or a line cut by a crash
        try:
            step = json.loads(line)["step"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(step, int) and previous < step <= last_step:
            kept.append(line)
            previous = step
    if len(kept) == len(lines) - 1 and lines[-1] == "":
        return
    atomic_write_text(path, "".join(line + "\n" for line in kept))
