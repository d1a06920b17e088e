"""``infogan explore``: the page is self-contained and records its settings, the embedded frames
are the models' frames, codes pair by factor, the size budget holds, bad input gives one
``Error:`` line, and ``infogan compare`` writes and links the page.

The page of the two shipped models with few base samples and positions is built once per module.
The browser side is in ``tests/test_explorer_browser.py``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from infogan_kit.cli import cli, run as cli_run
from infogan_kit.recipes.base import Model
from infogan_kit.recipes.vae import INACTIVE_KL
from infogan_kit.run import load_run
from infogan_kit.viz.explorer import SIZE_BUDGET_PER_RUN, ExplorerError, explorer_html, write_text_atomic
from infogan_kit.viz.explorer_data import base_seed, explore_batch_size, to_uint8

from .conftest import tiny_config, train

PRETRAINED = Path(__file__).resolve().parents[1] / "checkpoints" / "pretrained"
GAN, VAE = PRETRAINED / "infogan-cr-dsprites", PRETRAINED / "beta-vae-dsprites"
SMALL = ["--bases", "2", "--columns", "5", "--mi-samples", "300", "--device", "cpu"]
FRAME_TOLERANCE = 1
"""Grey levels an embedded frame may differ from the same frame rendered alone (batched vs one-row
float arithmetic; the PNG itself is lossless)."""


def page_data(page: str) -> dict[str, Any]:
    """The JSON data embedded in an explorer page."""
    match = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page, re.S)
    assert match, "no embedded data"
    return json.loads(match.group(1).replace("<\\/", "</"))


def sheet_frame(uri: str, row: int, column: int, height: int = 64, width: int = 64) -> np.ndarray:
    """Frame ``(row, column)`` of a sprite-sheet data URI as uint8 ``[H, W]`` (first channel)."""
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        array = np.asarray(image)
    array = array if array.ndim == 2 else array[:, :, 0]
    return array[row * height : (row + 1) * height, column * width : (column + 1) * width]


def rendered_frame(run: Any, base: int, codes: list[float], seed: int = 0) -> np.ndarray:
    """The frame of ``codes`` rendered alone through the model contract: ``render_codes`` with the
    base sample's fixed-seed generator; uint8 ``[H, W]``."""
    rng = torch.Generator(run.device).manual_seed(base_seed(seed, base))
    return to_uint8(run.model.render_codes(torch.tensor([codes]), rng))[0, :, :, 0]


def assert_same_frame(shown: np.ndarray, expected: np.ndarray, tolerance: int = FRAME_TOLERANCE) -> None:
    difference = np.abs(shown.astype(int) - expected.astype(int))
    assert shown.shape == expected.shape and difference.max() <= tolerance, f"max difference {difference.max()}"


@pytest.fixture(scope="module")
def runs() -> list[Any]:
    """The two shipped models on the CPU (GAN, VAE)."""
    return [load_run(GAN, device="cpu"), load_run(VAE, device="cpu")]


@pytest.fixture(scope="module")
def small_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``infogan explore GAN VAE`` with 2 base samples and 5 positions."""
    output = tmp_path_factory.mktemp("explore") / "explorer.html"
    result = CliRunner().invoke(cli, ["explore", str(GAN), str(VAE), "-o", str(output), *SMALL])
    assert result.exit_code == 0, result.output
    assert "wrote the explorer of 2 run(s)" in result.output
    return output


def test_page_is_self_contained_and_records_settings(small_page: Path) -> None:
    page = small_page.read_text(encoding="utf-8")
    for pattern in (r'(src|href)\s*=\s*"(?!data:)', r"<link", r"url\(", r"fetch\(", r"XMLHttpRequest", r"import\("):
        assert not re.search(pattern, page), pattern  # nothing loaded from anywhere but the page itself
    assert f'<meta name="infogan-batch-size" content="{explore_batch_size("cpu")}">' in page
    meta = page_data(page)["meta"]
    assert meta["device"] == "cpu" and meta["batch_size"] == 128 and meta["bases"] == 2 and meta["columns"] == 5
    assert "batch size 128" in page


def test_codes_ranges_order_pairing_and_scores(small_page: Path, runs: list[Any]) -> None:
    data = page_data(small_page.read_text(encoding="utf-8"))
    gan, vae = data["runs"]
    assert [c["name"] for c in gan["codes"]] == runs[0].code_names() and gan["order"] == list(range(5))
    assert all(c["values"] == np.linspace(-1, 1, 5).tolist() for c in gan["codes"])
    assert all(c["values"] == np.linspace(-2, 2, 5).tolist() for c in vae["codes"])
    kl = [vae["codes"][c]["activity"] for c in vae["order"]]
    assert kl == sorted(kl, reverse=True) and vae["activity_name"] == "KL (nats)"
    assert [c["inactive"] for c in vae["codes"]] == [c["activity"] < INACTIVE_KL for c in vae["codes"]]
    assert any(c["inactive"] for c in vae["codes"]) and not any(c["inactive"] for c in gan["codes"])
    assert data["factors"] == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    for index, run in enumerate((gan, vae)):  # every code on exactly one row, under its best factor
        placed = [code for row in data["rows"] for code in row["cells"][index]]
        assert sorted(placed) == list(range(len(run["codes"])))
        for row in data["rows"]:
            for code in row["cells"][index]:
                factor = run["codes"][code]["factor"]
                assert row["label"] == (data["factors"][factor] if factor is not None else row["label"])
                assert factor is None or not run["codes"][code]["inactive"]
        assert all(len(c["mi"]) == 5 and all(0 <= v <= 1 for v in c["mi"]) for c in run["codes"])
    stored = json.loads((GAN / "metrics.json").read_text())
    assert gan["scores"]["dlib"]["values"]["mig.score"] == pytest.approx(stored["dlib"]["metrics"]["mig"]["score"])
    assert gan["scores"]["fast"]["comparable"] is False


@pytest.mark.parametrize("which", [0, 1])
def test_embedded_frames_are_the_models_frames(small_page: Path, runs: list[Any], which: int) -> None:
    run, section = runs[which], page_data(small_page.read_text(encoding="utf-8"))["runs"][which]
    base, code, position = 1, section["order"][0], 3
    codes = list(section["base_values"][base])
    assert_same_frame(sheet_frame(section["base_sheet"], 0, base), rendered_frame(run, base, codes))
    codes[code] = section["codes"][code]["values"][position]
    assert_same_frame(sheet_frame(section["sheets"][base], code, position), rendered_frame(run, base, codes))
    first, second = section["pair"]
    codes[first], codes[second] = section["codes"][first]["values"][4], section["codes"][second]["values"][0]
    assert_same_frame(sheet_frame(section["pair_sheets"][base], 4, 0), rendered_frame(run, base, codes))


def test_size_budget_two_runs_of_ten_codes_at_the_defaults(runs: list[Any]) -> None:
    """The stated budget: a run of 10 one-channel 64 px codes takes at most SIZE_BUDGET_PER_RUN
    at the default settings (4 base samples, 11 positions, an 11 x 11 pair grid)."""
    page = explorer_html([runs[1], load_run(VAE, device="cpu")], mi_samples=300)
    data = page_data(page)
    assert [len(run["codes"]) for run in data["runs"]] == [10, 10] and data["meta"]["columns"] == 11
    assert len(page.encode()) <= 2 * SIZE_BUDGET_PER_RUN, len(page)


def test_help_and_usage_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["explore", "--help"])
    assert result.exit_code == 0 and "--pair" in result.output and "--device" in result.output
    assert "--no-explorer" in CliRunner().invoke(cli, ["compare", "--help"]).output
    output = str(tmp_path / "e.html")
    assert CliRunner().invoke(cli, ["explore", str(GAN), "-o", output, "--pair", "c1"]).exit_code == 2
    assert CliRunner().invoke(cli, ["explore", str(GAN), str(GAN), "-o", output]).exit_code == 2
    assert CliRunner().invoke(cli, ["explore", str(GAN), "-o", output, "--columns", "2"]).exit_code == 2


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_input_gives_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_run(["explore", str(GAN), "-o", str(tmp_path / "missing" / "e.html")]) == 1
    assert _error_line(capsys).startswith("Error: cannot write") and not (tmp_path / "missing").exists()
    assert cli_run(["explore", str(GAN), "-o", str(tmp_path)]) == 2  # click's usage error
    assert "is a directory" in capsys.readouterr().err.strip().splitlines()[-1]
    assert cli_run(["explore", str(GAN), "-o", str(tmp_path / "e.html"), "--pair", "c1,z9", *SMALL]) == 1
    assert "unknown code(s) z9" in _error_line(capsys)
    assert cli_run(["explore", str(tmp_path / "nothing"), "-o", str(tmp_path / "e.html")]) == 1
    assert _error_line(capsys).startswith("Error:")
    config = tiny_config("infogan", steps=1)
    config.data.name = "color_dsprites"
    other = train(config, out=tmp_path / "colour", final_metrics=False).run_dir
    capsys.readouterr()
    assert cli_run(["explore", str(GAN), str(other), "-o", str(tmp_path / "e.html"), *SMALL]) == 1
    assert "different datasets" in _error_line(capsys) and not (tmp_path / "e.html").exists()


class _NoGenerator(Model):
    """A model without ``render_codes`` (an encoder only)."""

    name = "encoder-only"

    def build_networks(self) -> dict[str, torch.nn.Module]:
        return {}


def test_a_run_without_a_generator_is_refused(runs: list[Any]) -> None:
    stub = type("StubRun", (), {"model": _NoGenerator(runs[0].config, (1, 64, 64), torch.device("cpu")),
                                "run_dir": Path("encoder-only"), "model_name": "encoder-only", "config": runs[0].config})()
    with pytest.raises(ExplorerError, match="has no generator"):
        explorer_html([stub])


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "page.html"
    write_text_atomic(target, "old")
    monkeypatch.setattr("os.replace", lambda *args: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(ExplorerError, match="No space left"):
        write_text_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_compare_writes_and_links_the_explorer(tmp_path: Path) -> None:
    out = tmp_path / "report"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = cli_run(["compare", str(GAN), str(VAE), "--protocol", "fast", "--metrics", "mig", "--out", str(out), "--device", "cpu"])
    assert status == 0, printed.getvalue()
    assert 'href="explorer.html"' in (out / "report.html").read_text(encoding="utf-8")
    data = page_data((out / "explorer.html").read_text(encoding="utf-8"))
    assert [run["label"] for run in data["runs"]] == [GAN.name, VAE.name] and "explorer.html" in printed.getvalue()
