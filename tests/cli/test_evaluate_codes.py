"""``infogan evaluate --codes``: the table, the JSON, and one ``Error:`` line for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from infogan_kit.cli import cli, run

GRID = (3, 4, 5)


def grid_rows(repeats: int) -> np.ndarray:
    rows = np.stack(np.meshgrid(*[np.arange(s) for s in GRID], indexing="ij"), -1).reshape(-1, len(GRID))
    return np.concatenate([rows] * repeats)


def write_codes(path: Path, repeats: int = 6, **overrides) -> Path:
    factors = grid_rows(repeats)
    rng = np.random.default_rng(0)
    codes = np.concatenate([factors / (np.array(GRID) - 1.0), rng.normal(size=(len(factors), 2))], 1)
    arrays = {"codes": codes + 0.01 * rng.normal(size=codes.shape), "factors": factors}
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    np.savez(path, **arrays)
    return path


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def entry(ctx: click.Context) -> None:
    """The console script's contract (``run``: errors become one ``Error:`` line) under CliRunner."""
    ctx.exit(run(list(ctx.args)))


def invoke(args: list[str]):
    return CliRunner().invoke(entry, args)


def assert_error(result, fragment: str) -> None:
    assert result.exit_code != 0, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error:") and fragment in last, result.stderr
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ working paths
def test_codes_table_and_json(tmp_path) -> None:
    codes = write_codes(tmp_path / "codes.npz")
    out = tmp_path / "result.json"
    result = CliRunner().invoke(cli, [
        "evaluate", "--codes", str(codes), "--protocol", "fast", "--shuffle", "0",
        "--num-train", "200", "--num-test", "100", "--seed", "3", "--json", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert "NOT comparable" in result.output.splitlines()[0]
    for name in ("beta_vae", "factor_vae", "mig", "dci", "sap", "modularity", "irs", "unsupervised"):
        assert name in result.output
    stored = json.loads(out.read_text())
    assert stored["protocol"] == "fast" and stored["comparable"] is False
    assert stored["config"]["seed"] == 3 and stored["config"]["sizes"]["array"] == {"num_train": 200, "num_test": 100}
    assert stored["config"]["representation"]["lookup_table"] is True
    assert stored["metrics"]["dci"]["disentanglement"] > 0.8


def test_metric_subset_and_factor_sizes_key(tmp_path) -> None:
    codes = write_codes(tmp_path / "codes.npz", factor_sizes=np.array(GRID), dataset=np.array("toy"))
    out = tmp_path / "r.json"
    result = invoke(["evaluate", "--codes", str(codes), "--metrics", "mig,sap", "--protocol", "fast",
                     "--num-train", "200", "--num-test", "100", "--json", str(out)])
    assert result.exit_code == 0, result.output
    stored = json.loads(out.read_text())
    assert set(stored["metrics"]) == {"mig", "sap"} and stored["config"]["dataset"] == "toy"
    assert stored["config"]["factor_sizes"] == list(GRID)


def test_a_file_from_write_codes_file_is_evaluated(tmp_path) -> None:
    from infogan_kit.metrics import write_codes_file

    factors = grid_rows(6)
    codes = np.concatenate([factors / (np.array(GRID) - 1.0), np.random.default_rng(1).normal(size=(len(factors), 2))], 1)
    path = write_codes_file(tmp_path / "written.npz", codes, factors, GRID, "toy")
    out = tmp_path / "r.json"
    result = invoke(["evaluate", "--codes", str(path), "--metrics", "mig", "--protocol", "fast",
                     "--num-train", "200", "--json", str(out)])
    assert result.exit_code == 0, result.output
    stored = json.loads(out.read_text())
    assert stored["config"]["dataset"] == "toy" and stored["config"]["factor_sizes"] == list(GRID)


def test_help_documents_both_inputs() -> None:
    result = CliRunner().invoke(cli, ["evaluate", "--help"])
    assert result.exit_code == 0
    assert "RUN" in result.output and "--codes" in result.output and "--shuffle" in result.output


# ------------------------------------------------------------------ bad input: one Error line, exit != 0
def test_nan_codes(tmp_path) -> None:
    codes = np.ones((360, 5))
    codes[7, 2] = np.nan
    path = write_codes(tmp_path / "c.npz", codes=codes)
    assert_error(invoke(["evaluate", "--codes", str(path), "--num-train", "200", "--num-test", "100"]), "NaN")


def test_infinite_codes(tmp_path) -> None:
    codes = np.random.default_rng(0).normal(size=(360, 5))
    codes[3, 0] = np.inf
    path = write_codes(tmp_path / "c.npz", codes=codes)
    assert_error(invoke(["evaluate", "--codes", str(path), "--metrics", "mig", "--num-train", "200"]), "infinite")


def test_mismatched_row_counts(tmp_path) -> None:
    path = write_codes(tmp_path / "c.npz", codes=np.zeros((359, 5)))
    assert_error(invoke(["evaluate", "--codes", str(path), "--num-train", "200", "--num-test", "100"]), "rows")


def test_too_few_rows_for_the_default_sizes(tmp_path) -> None:
    path = write_codes(tmp_path / "c.npz")
    assert_error(invoke(["evaluate", "--codes", str(path), "--metrics", "dci"]), "too few rows")


def test_factor_column_with_one_value(tmp_path) -> None:
    factors = grid_rows(6)
    factors[:, 0] = 1
    path = write_codes(tmp_path / "c.npz", factors=factors)
    assert_error(invoke(["evaluate", "--codes", str(path), "--num-train", "200", "--num-test", "100"]), "single value")


def test_missing_and_wrong_npz_key(tmp_path) -> None:
    path = write_codes(tmp_path / "c.npz", factors=None, labels=grid_rows(6))
    assert_error(invoke(["evaluate", "--codes", str(path)]), "no array 'factors'")
    np.save(tmp_path / "single.npy", np.zeros((3, 3)))
    assert_error(invoke(["evaluate", "--codes", str(tmp_path / "single.npy")]), "single array")


def test_non_integer_factors(tmp_path) -> None:
    path = write_codes(tmp_path / "c.npz", factors=grid_rows(6) + 0.5)
    assert_error(invoke(["evaluate", "--codes", str(path), "--num-train", "200"]), "integer")


def test_unknown_metric_and_protocol(tmp_path) -> None:
    path = write_codes(tmp_path / "c.npz")
    result = invoke(["evaluate", "--codes", str(path), "--metrics", "mig,nope"])
    assert_error(result, "nope")
    assert result.exit_code == 2
    assert_error(invoke(["evaluate", "--codes", str(path), "--protocol", "published"]), "published")


def test_unreadable_and_missing_file(tmp_path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive")
    assert_error(invoke(["evaluate", "--codes", str(garbage)]), "not an .npz archive")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(write_codes(tmp_path / "whole.npz").read_bytes()[:200])
    assert_error(invoke(["evaluate", "--codes", str(truncated)]), "cannot read codes file")
    assert_error(invoke(["evaluate", "--codes", str(tmp_path / "absent.npz")]), "absent.npz")


@pytest.mark.parametrize("args, fragment", [
    ([], "--codes"),
    (["some_run", "--codes", "CODES"], "not both"),
    (["evaluate_me", "--num-train", "10"], "--codes files only"),
    (["--codes", "CODES", "--num-train", "0"], "num-train"),
])
def test_option_validation(tmp_path, args, fragment) -> None:
    path = write_codes(tmp_path / "c.npz")
    args = [str(path) if arg == "CODES" else arg for arg in args]
    result = invoke(["evaluate", *args])
    assert_error(result, fragment)
    assert result.exit_code == 2


def test_run_path_without_checkpoint_is_a_clear_error(tmp_path) -> None:
    result = invoke(["evaluate", str(tmp_path)])
    assert_error(result, "holds no checkpoint")
    assert result.exit_code == 1
