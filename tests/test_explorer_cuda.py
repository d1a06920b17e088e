"""``explore``, ``compare`` and ``select`` with ``--device``: the explorer's batch size follows the
device and is recorded in the page, and its frames agree with the CPU's.

Marker ``cuda``: skipped without a GPU; ``INFOGAN_TEST_DEVICE=cpu`` runs the same tests on the
CPU (as ``tests/test_cuda.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from infogan_kit.cli import cli
from infogan_kit.run import load_run
from infogan_kit.viz.explorer_data import explore_batch_size

from .test_explorer import GAN, SMALL, VAE, assert_same_frame, page_data, rendered_frame, sheet_frame

DEVICE = os.environ.get("INFOGAN_TEST_DEVICE", "cuda")
ON_CUDA = DEVICE.startswith("cuda")
pytestmark = [pytest.mark.cuda, pytest.mark.skipif(ON_CUDA and not torch.cuda.is_available(), reason="no CUDA device")]
SETTINGS = [option for option in SMALL if option not in ("--device", "cpu")]
GPU_TOLERANCE = 3
"""Grey levels a frame may move between devices or batchings on the GPU (TF32 convolutions)."""


def _explore(device: str, output: Path) -> dict:
    result = CliRunner().invoke(cli, ["explore", str(GAN), str(VAE), "-o", str(output), "--device", device, *SETTINGS])
    assert result.exit_code == 0, result.output
    return page_data(output.read_text(encoding="utf-8"))


def test_explore_batch_size_follows_the_device_and_frames_agree(tmp_path: Path) -> None:
    data = _explore(DEVICE, tmp_path / "device.html")
    assert data["meta"]["batch_size"] == explore_batch_size(DEVICE) == (1024 if ON_CUDA else 128)
    assert data["meta"]["device"].startswith(torch.device(DEVICE).type)
    run = load_run(GAN, device=DEVICE)  # the GAN's batched frames are its render_codes frames there
    gan = data["runs"][0]
    codes = list(gan["base_values"][0])
    codes[0] = gan["codes"][0]["values"][1]
    assert_same_frame(sheet_frame(gan["sheets"][0], 0, 1), rendered_frame(run, 0, codes), GPU_TOLERANCE)
    cpu = _explore("cpu", tmp_path / "cpu.html")  # the VAE's base samples are the same images on both
    for base in range(2):
        on_device, on_cpu = (sheet_frame(page["runs"][1]["sheets"][base], 0, 2).astype(float) for page in (data, cpu))
        assert np.abs(on_device - on_cpu).mean() <= 1.0


def test_compare_and_select_take_the_device(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["compare", str(GAN), str(VAE), "--protocol", "fast", "--metrics", "mig", "--out", str(out),
                                      "--device", DEVICE])
    assert result.exit_code == 0, result.output
    assert page_data((out / "explorer.html").read_text(encoding="utf-8"))["meta"]["batch_size"] == explore_batch_size(DEVICE)
    result = CliRunner().invoke(cli, ["select", str(GAN), str(VAE), "--method", "udr-spearman", "--num-points", "100",
                                      "--device", DEVICE])
    assert result.exit_code == 0, result.output
