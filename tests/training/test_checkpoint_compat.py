"""Checkpoints written by earlier versions of infogan-kit still load, resume and evaluate.

The fixtures (``tests/fixtures/checkpoints-v1/*.tar.xz``) are run directories written by the
code of checkpoint format version 1 (see ``tests/fixtures/make_checkpoint_fixtures.py``).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import torch

from infogan_kit.cli import run as cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints-v1"
MODELS = ("infogan-cr", "annealed-vae", "stylegan-info")


def unpack(model: str, into: Path) -> Path:
    """Unpack the fixture run directory of ``model`` into ``into``; returns the run directory."""
    with tarfile.open(FIXTURES / f"{model}.tar.xz") as archive:
        archive.extractall(into, filter="data")
    return into / model


@pytest.mark.parametrize("model", MODELS)
def test_fixture_is_small(model: str) -> None:
    assert (FIXTURES / f"{model}.tar.xz").stat().st_size < 1_000_000


@pytest.mark.parametrize("model", MODELS)
def test_old_checkpoint_loads_resumes_and_evaluates(model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import infogan_kit

    run_dir = unpack(model, tmp_path)
    run = infogan_kit.load_run(run_dir, device="cpu")
    assert run.step == 2
    images, _ = run.dataset.sample(4, torch.Generator().manual_seed(0))
    codes = run.represent(images)
    assert codes.shape == (4, len(run.code_names())) and torch.isfinite(codes).all()
    assert cli(["train", "--resume", str(run_dir), "--steps", "4", "--no-final-metrics", "--set", "train.sample_every=0"]) == 0
    assert infogan_kit.load_run(run_dir, device="cpu").step == 4
    assert cli(["evaluate", str(run_dir), "--protocol", "fast", "--metrics", "mig", "--json", str(tmp_path / "scores.json")]) == 0
    assert (tmp_path / "scores.json").is_file()
