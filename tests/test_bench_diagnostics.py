"""bench/code_diagnostics.py: known answers of its statistics, and the script end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "code_diagnostics.py"


@pytest.fixture(scope="module")
def diagnostics():
    spec = importlib.util.spec_from_file_location("code_diagnostics", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sprite_statistics_of_a_known_block(diagnostics) -> None:
    images = torch.zeros(2, 1, 32, 32)
    images[0, 0, 10:13, 20:23] = 1.0  # rows 10-12 (y), columns 20-22 (x): 9 pixels
    images[1, 0, 0, 31] = 0.25
    stats = diagnostics.sprite_statistics(images)
    np.testing.assert_allclose(stats[0], [21.0, 11.0, 3.0])
    np.testing.assert_allclose(stats[1], [31.0, 0.0, 0.5])


def test_r_squared_and_correlations(diagnostics) -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(2000, 2))
    assert diagnostics.r_squared(inputs, 2 * inputs[:, 0] - inputs[:, 1] + 1) == pytest.approx(1.0)
    assert diagnostics.r_squared(inputs, rng.normal(size=2000)) < 0.01
    assert diagnostics.r_squared(inputs[:, :0], inputs[:, 0]) == 0.0
    columns = np.c_[inputs[:, 0], -inputs[:, 0], np.ones(2000)]
    np.testing.assert_allclose(diagnostics.column_correlations(columns, inputs[:, 0]), [1.0, -1.0, 0.0], atol=1e-12)


def test_quantile_bins_are_equally_full(diagnostics) -> None:
    codes = np.random.default_rng(1).exponential(size=(1000, 3))
    discrete = diagnostics.quantile_discretize(codes, 20)
    for column in discrete.T:
        assert np.bincount(column).tolist() == [50] * 20


def test_script_reports_on_a_run_and_rejects_a_bad_path(diagnostics, tiny_run_dir: Path, tmp_path: Path, capsys) -> None:
    assert diagnostics.main([str(tiny_run_dir), "--images", "40", "--threads", "1"]) == 0
    report = capsys.readouterr().out
    assert "equal-width 20 bins (disentanglement_lib): MIG" in report
    assert report.count("centroid_x") == 2 and "fakes:" in report and "reals:" in report
    assert diagnostics.main([str(tmp_path / "missing")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("Error:") and error.count("\n") == 1
