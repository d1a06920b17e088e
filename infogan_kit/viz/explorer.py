"""``infogan explore``: one self-contained HTML page to move the codes of one or more runs.

::

    from infogan_kit import load_run
    from infogan_kit.viz.explorer import explorer_html, write_explorer
    runs = [load_run("checkpoints/pretrained/infogan-cr-dsprites"), load_run("checkpoints/pretrained/beta-vae-dsprites")]
    page = explorer_html(runs)                        # the HTML text
    write_explorer(runs, "explorer.html")             # the same, written atomically

The page needs nothing else (no network, no server; it opens from ``file://``). Per run it
embeds, for every base sample, one PNG sprite sheet of single-code traversals (one row per
code, one column per slider position) and one of the pair grid (two codes moved together),
as base64 data URIs; the frames are the model's images exactly (PNG is lossless). Sliders of
different runs are paired by the ground-truth factor each code matches best (highest MI/H),
or by display position when the dataset has no factors. See ``docs/explore.md``.

Size budget (:data:`SIZE_BUDGET_PER_RUN`): at the defaults (4 base samples, 11 positions, an
11 x 11 pair grid) a run of 10 codes with 64 x 64 one-channel frames takes at most 1 MiB of
page (the shipped beta-VAE: 0.33 MB; it and the shipped InfoGAN-CR together: 0.42 MB); pages
larger than ``max_bytes`` are refused.
"""

from __future__ import annotations

import base64
import io
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image

from ..files import atomic_write_text
from ..versions import __version__
from .explorer_data import (ACTIVITY_IMAGES, ExplorerError, base_samples, best_factors, can_render, chance_mi_matrix,
                            code_order, code_values, default_pair, explore_batch_size, inactive_codes, mi_matrix,
                            pair_values, pairing_rows, render_frames, traversal_values)
from .explorer_page import page_html

SIZE_BUDGET_PER_RUN = 1024 * 1024
"""Bytes of page per run of 10 codes at 64 x 64 x 1 and the default settings (stated budget)."""

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Pages above this size are refused (use fewer base samples or positions)."""


def sprite_sheet(frames: np.ndarray, rows: Sequence[int]) -> str:
    """PNG data URI of ``frames uint8 [n, H, W, C]`` laid out in rows of ``rows[i]`` frames
    (left-aligned; short rows padded with black)."""
    height, width, channels = frames.shape[1:]
    sheet = np.zeros((len(rows) * height, max(rows) * width, channels), dtype=np.uint8)
    start = 0
    for row, count in enumerate(rows):
        for column in range(count):
            sheet[row * height : (row + 1) * height, column * width : (column + 1) * width] = frames[start + column]
        start += count
    image = Image.fromarray(sheet[:, :, 0] if channels == 1 else sheet[:, :, :3])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def check_runs(runs: Sequence[Any]) -> None:
    """Refuse runs the explorer cannot show together.

    Raises:
        ExplorerError: no runs, a run without a generator, or runs of different datasets.
    """
    if not runs:
        raise ExplorerError("give at least one run to explore")
    for run in runs:
        if not can_render(run.model):
            raise ExplorerError(f"{run.run_dir}: the {run.model_name} model has no generator (it cannot render codes)")
    datasets = sorted({(run.config.data.name, tuple(run.model.image_shape)) for run in runs})
    if len(datasets) > 1:
        described = ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in datasets)
        raise ExplorerError(f"runs of different datasets cannot be explored side by side ({described})")


def resolve_pair(run: Any, pair: tuple[str, str] | None, order: list[int], factors: list[int | None]) -> tuple[int, int]:
    """Indices of the pair grid's codes: ``pair`` by name, else :func:`default_pair`.

    Raises:
        ExplorerError: a name the run does not have, or the same code twice.
    """
    if pair is None:
        return default_pair(order, factors)
    names = run.code_names()
    unknown = [name for name in pair if name not in names]
    if unknown or pair[0] == pair[1]:
        problem = f"unknown code(s) {', '.join(unknown)}" if unknown else "two different codes are needed"
        raise ExplorerError(f"--pair {','.join(pair)}: {problem}; {run.run_dir.name}'s codes are {', '.join(names)}")
    return names.index(pair[0]), names.index(pair[1])


def run_scores(run: Any) -> dict[str, Any]:
    """The run's stored scores by protocol: ``{protocol: {"comparable": bool, "values": {"metric.key": value}}}``."""
    from ..compare.scores import flat_values, headline_columns
    from ..metrics import read_metrics_file

    scores = {}
    for protocol, result in read_metrics_file(Path(run.run_dir) / "metrics.json").items():
        values = flat_values(result)
        headline = headline_columns(list(result.get("metrics", {})), list(values))
        scores[protocol] = {"comparable": bool(result.get("comparable", False)), "values": {k: values[k] for k in headline}}
    return scores


def run_codes(run: Any, evidence: tuple[torch.Tensor, torch.Tensor | None], options: dict[str, Any]) -> dict[str, Any]:
    """Per code: name, kind, activity, inactive flag, MI/H row (and its chance level) and best
    factor; the display order."""
    (images, factors), batch_size, model = evidence, options["batch_size"], run.model
    activity = run.latent_activity(images[:ACTIVITY_IMAGES], batch_size).numpy()
    inactive = inactive_codes(model, activity)
    mi = chance = None
    if factors is not None:
        codes_array = run.represent(images, batch_size)
        mi, chance = mi_matrix(codes_array, factors), chance_mi_matrix(codes_array, factors, options["seed"])
    best = best_factors(None if mi is None else mi - chance, inactive)
    codes = [{"name": name, "kind": "continuous" if size is None else "categorical", "activity": float(activity[index]),
              "inactive": inactive[index], "factor": best[index],
              "mi": None if mi is None else mi[index].round(4).tolist(),
              "chance": None if chance is None else chance[index].round(4).tolist()}
             for index, (name, size) in enumerate(zip(run.code_names(), model.code_sizes()))]
    return {"codes": codes, "order": code_order(model, activity), "factors": best,
            "activity_name": "KL (nats)" if model.inactive_codes_are_nuisance else "variance"}


def run_section(run: Any, evidence: tuple[torch.Tensor, torch.Tensor | None], options: dict[str, Any]) -> dict[str, Any]:
    """Everything the page shows of one run: facts, codes, scores and the sprite sheets."""
    batch_size, model = options["batch_size"], run.model
    section = run_codes(run, evidence, options)
    pair = resolve_pair(run, options["pair"], section["order"], section.pop("factors"))
    values = code_values(model, options["columns"])
    bases = base_samples(run, options["bases"], options["seed"], batch_size)
    sheets, pair_sheets, base_frames = [], [], []
    for base in bases:
        sheets.append(sprite_sheet(render_frames(model, base, traversal_values(base, values), batch_size), [len(v) for v in values]))
        grid = render_frames(model, base, pair_values(base, values, pair), batch_size)
        pair_sheets.append(sprite_sheet(grid, [len(values[pair[1]])] * len(values[pair[0]])))
        base_frames.append(render_frames(model, base, base.values[None], batch_size)[0])
    for code, positions in zip(section["codes"], values):
        code["values"] = positions
    return {**section, "label": run.run_dir.name, "model": run.model_name, "family": run.family, "step": run.step,
            "frame": list(model.image_shape), "pair": list(pair), "scores": run_scores(run),
            "base_values": [base.values.round(decimals=4).tolist() for base in bases], "sheets": sheets,
            "pair_sheets": pair_sheets, "base_sheet": sprite_sheet(np.stack(base_frames), [len(bases)])}


def dataset_evidence(run: Any, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(images, factors or None)``: the seeded dataset images the MI/H matrix and activity use."""
    dataset = run.dataset
    images, factors = dataset.sample(max(samples, 2), generator=torch.Generator().manual_seed(seed))
    return images, (factors if dataset.has_factors else None)


def explorer_html(runs: Sequence[Any], *, bases: int = 4, columns: int = 11, pair: tuple[str, str] | None = None,
                  mi_samples: int = 2000, seed: int = 0, batch_size: int | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The explorer page of ``runs`` (loaded :class:`~infogan_kit.run.Run` objects of one dataset).

    Args:
        bases: base samples (1-16); columns: slider positions of a continuous code (3-21; the
            pair grid is ``columns x columns``); pair: the two codes of the pair grid (default:
            per run, the first two codes matched to different factors); mi_samples: dataset
            images of the MI/H matrix; seed: seeds the images and base samples; batch_size:
            frames per batch (default: :func:`explore_batch_size` of the first run's device).

    Raises:
        ExplorerError: see :func:`check_runs`, a bad ``pair``, settings out of range, or a page
            larger than ``max_bytes``.
    """
    check_runs(runs)
    if not (1 <= bases <= 16 and 3 <= columns <= 21 and mi_samples >= 2):
        raise ExplorerError(f"bases must be 1-16, columns 3-21 and mi_samples >= 2 (got {bases}, {columns}, {mi_samples})")
    device = runs[0].device
    batch_size = batch_size or explore_batch_size(device)
    options = {"bases": bases, "columns": columns, "pair": pair, "seed": seed, "batch_size": batch_size}
    evidence = dataset_evidence(runs[0], mi_samples, seed)
    sections = [run_section(run, evidence, options) for run in runs]
    dataset = runs[0].dataset
    factor_names = list(dataset.factor_names) if evidence[1] is not None else []
    meta = {"generator": f"infogan explore (infogan-kit {__version__})", "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "device": str(device), "batch_size": batch_size, "seed": seed, "bases": bases, "columns": columns,
            "mi_samples": mi_samples, "dataset": runs[0].config.data.name, "size_budget_per_run": SIZE_BUDGET_PER_RUN}
    data = {"meta": meta, "factors": factor_names, "runs": sections, "rows": pairing_rows(sections, factor_names)}
    page = page_html(data)
    if len(page.encode("utf-8")) > max_bytes:
        raise ExplorerError(f"the page would take {len(page) / 2**20:.1f} MB (limit {max_bytes / 2**20:.1f} MB): "
                            "use fewer base samples or columns")
    return page


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`~infogan_kit.files.atomic_write_text`).

    Raises:
        ExplorerError: the folder does not exist or cannot be written, or ``path`` is a folder.
    """
    target = Path(path)
    if target.is_dir():
        raise ExplorerError(f"cannot write {target}: it is a directory")
    return atomic_write_text(target, text, ExplorerError)


def check_writable(path: str | Path) -> Path:
    """Fail early (before any rendering) when ``path`` cannot be written.

    Raises:
        ExplorerError: the folder is missing or not writable, or ``path`` is a folder.
    """
    target = Path(path)
    if target.is_dir():
        raise ExplorerError(f"cannot write {target}: it is a directory")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ExplorerError(f"cannot write {target}: folder {folder} does not exist or is not writable")
    return target


def write_explorer(runs: Sequence[Any], path: str | Path, **options: Any) -> Path:
    """Write :func:`explorer_html` of ``runs`` to ``path`` atomically; returns the path."""
    check_writable(path)
    return write_text_atomic(path, explorer_html(runs, **options))
