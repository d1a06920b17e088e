"""One table of bad inputs for every command.

Each case must end with a non-zero exit status, exactly one ``Error:`` line on stderr, no
traceback, and leave every file involved (the run directory, the codes files, a shipped model)
exactly as it was: names, sizes and hashes. Gathered from the bad-input checks of
tests/cli/test_cli_basics.py, tests/cli/test_run_commands.py and tests/cli/test_evaluate_codes.py,
plus the run-directory cases of issue 16 (damaged, locked, shipped).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from infogan_kit.cli import run as cli
from infogan_kit.rundir import LOCK_NAME, RunLock

from .test_rundir import PRETRAINED, error_lines, snapshot

SHIPPED = PRETRAINED / "infogan-cr-dsprites"


def _codes(path: Path, rows: int = 360, columns: int = 5, **overrides: np.ndarray | None) -> None:
    rng = np.random.default_rng(0)
    factors = np.stack([np.arange(rows) % 3, np.arange(rows) // 3 % 4, np.arange(rows) // 12 % 5], 1)
    arrays = {"codes": np.concatenate([factors, rng.normal(size=(rows, columns - 3))], 1), "factors": factors}
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})


@pytest.fixture(scope="module")
def workspace(tiny_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs")
    shutil.copytree(tiny_run_dir, root / "run")
    (root / "empty").mkdir()
    (root / "corrupt").mkdir()
    (root / "corrupt" / "checkpoint-00000001.pt").write_bytes(b"not a zip file at all")
    (root / "taken").mkdir()
    (root / "taken" / "keep.txt").write_text("mine")
    (root / "bad.yaml").write_text("model: [unclosed\n")
    (root / "list.yaml").write_text("- 1\n- 2\n")
    (root / "unknown.yaml").write_text("train:\n  nope: 3\n")
    (root / "bad.npz").write_bytes(b"this is not a zip archive")
    _codes(root / "good.npz")
    (root / "truncated.npz").write_bytes((root / "good.npz").read_bytes()[:200])
    np.save(root / "single.npy", np.zeros((3, 3)))
    nan = np.zeros((360, 5))
    nan[5, 1] = np.nan
    _codes(root / "nan.npz", codes=nan)
    inf = np.zeros((360, 5))
    inf[7, 0] = np.inf
    _codes(root / "inf.npz", codes=inf)
    _codes(root / "mismatch.npz", codes=np.zeros((359, 5)))
    _codes(root / "nofactors.npz", factors=None, labels=np.zeros((360, 3), dtype=int))
    _codes(root / "nonint.npz", factors=np.full((360, 3), 0.5))
    _codes(root / "constant.npz", factors=np.ones((360, 3), dtype=int))
    _codes(root / "onerow.npz", rows=1)
    _codes(root / "negative.npz", factors=-np.ones((360, 3), dtype=int))
    _codes(root / "1d.npz", codes=np.zeros(360))
    return root


FAST = ["--protocol", "fast"]
SMALL = ["--num-train", "200", "--num-test", "100"]
CASES = {
    # --- usage
    "unknown-verb": (["nope"], ""),
    "unknown-option": (["datasets", "--bad-option"], "bad-option"),
    # --- train: config resolution
    "train-unknown-model": (["train", "--model", "nope", "--dry-run"], "nope"),
    "train-negative-steps": (["train", "--steps", "-5", "--dry-run"], "--steps"),
    "train-bad-precision": (["train", "--precision", "fp8", "--dry-run"], "fp8"),
    "train-unknown-key": (["train", "--set", "optim.lr_q=1", "--dry-run"], "optim.lr_q"),
    "train-set-without-equals": (["train", "--set", "optim.lr_g", "--dry-run"], "optim.lr_g"),
    "train-set-not-an-int": (["train", "--set", "train.batch_size=big", "--dry-run"], "batch_size"),
    "train-set-not-positive": (["train", "--set", "model.noise_std=0", "--dry-run"], "noise_std"),
    "train-set-section": (["train", "--set", "train=3", "--dry-run"], "train"),
    "train-missing-config": (["train", "--config", "{ws}/missing.yaml", "--dry-run"], "missing.yaml"),
    "train-broken-yaml": (["train", "--config", "{ws}/bad.yaml", "--dry-run"], "bad.yaml"),
    "train-yaml-list": (["train", "--config", "{ws}/list.yaml", "--dry-run"], "list.yaml"),
    "train-yaml-unknown-key": (["train", "--config", "{ws}/unknown.yaml", "--dry-run"], "nope"),
    "train-out-not-empty": (["train", "--steps", "1", "--out", "{ws}/taken"], "not empty"),
    "train-out-is-a-file": (["train", "--steps", "1", "--out", "{ws}/good.npz"], "not a directory"),
    # --- train: resume
    "resume-with-model": (["train", "--resume", "{ws}/run", "--model", "infogan"], "--resume"),
    "resume-other-out": (["train", "--resume", "{ws}/run", "--out", "{ws}/other"], "different"),
    "resume-missing": (["train", "--resume", "{ws}/missing"], "missing"),
    "resume-empty": (["train", "--resume", "{ws}/empty"], "no checkpoint"),
    "resume-corrupt": (["train", "--resume", "{ws}/corrupt"], "checkpoint-00000001.pt"),
    "resume-frozen-key": (["train", "--resume", "{ws}/run", "--set", "model.noise_std=0.5", "--steps", "5"], "noise_std"),
    "resume-locked": (["train", "--resume", "{ws}/run", "--steps", "5"], "PID"),
    "resume-shipped": (["train", "--resume", str(SHIPPED), "--steps", "20000"], "shipped"),
    # --- sample / traverse
    "sample-missing": (["sample", "{ws}/missing", "-o", "{ws}/s.png"], "no run directory or checkpoint"),
    "sample-empty": (["sample", "{ws}/empty", "-o", "{ws}/s.png"], "no checkpoint"),
    "sample-corrupt": (["sample", "{ws}/corrupt", "-o", "{ws}/s.png"], "corrupt"),
    "sample-zero": (["sample", "{ws}/run", "-n", "0", "-o", "{ws}/s.png"], ""),
    "traverse-corrupt": (["traverse", "{ws}/corrupt", "-o", "{ws}/t.png"], "corrupt"),
    "traverse-unknown-code": (["traverse", "{ws}/run", "-o", "{ws}/t.png", "--code", "c9"], "c9"),
    "traverse-reversed-range": (["traverse", "{ws}/run", "-o", "{ws}/t.png", "--range", "1,-1"], ""),
    "traverse-one-column": (["traverse", "{ws}/run", "-o", "{ws}/t.png", "--columns", "1"], "columns"),
    # --- evaluate a run
    "evaluate-nothing": (["evaluate"], "--codes"),
    "evaluate-run-and-codes": (["evaluate", "{ws}/run", "--codes", "{ws}/good.npz"], "not both"),
    "evaluate-run-num-train": (["evaluate", "{ws}/run", "--num-train", "10"], "--codes"),
    "evaluate-empty-run": (["evaluate", "{ws}/empty"], "no checkpoint"),
    "evaluate-corrupt-run": (["evaluate", "{ws}/corrupt"], "corrupt"),
    "evaluate-run-unknown-metric": (["evaluate", "{ws}/run", "--metrics", "nope"], "nope"),
    "evaluate-codes-save-codes": (["evaluate", "--codes", "{ws}/good.npz", "--save-codes", "{ws}/c.npz"], "RUN only"),
    # --- evaluate --codes
    "codes-num-train-zero": (["evaluate", "--codes", "{ws}/good.npz", "--num-train", "0"], "num-train"),
    "codes-unknown-metric": (["evaluate", "--codes", "{ws}/good.npz", "--metrics", "mig,nope"], "nope"),
    "codes-unknown-protocol": (["evaluate", "--codes", "{ws}/good.npz", "--protocol", "published"], "published"),
    "codes-not-zip": (["evaluate", "--codes", "{ws}/bad.npz"], "bad.npz"),
    "codes-truncated": (["evaluate", "--codes", "{ws}/truncated.npz"], "truncated.npz"),
    "codes-absent": (["evaluate", "--codes", "{ws}/absent.npz"], "absent.npz"),
    "codes-npy": (["evaluate", "--codes", "{ws}/single.npy"], "single array"),
    "codes-no-factors": (["evaluate", "--codes", "{ws}/nofactors.npz"], "factors"),
    "codes-nan": (["evaluate", "--codes", "{ws}/nan.npz", *FAST, *SMALL], ""),
    "codes-inf": (["evaluate", "--codes", "{ws}/inf.npz", *FAST, *SMALL], ""),
    "codes-mismatched-rows": (["evaluate", "--codes", "{ws}/mismatch.npz", *SMALL], "rows"),
    "codes-too-few-rows": (["evaluate", "--codes", "{ws}/good.npz", "--metrics", "dci"], "rows"),
    "codes-non-integer-factors": (["evaluate", "--codes", "{ws}/nonint.npz", *SMALL], "integer"),
    "codes-constant-factors": (["evaluate", "--codes", "{ws}/constant.npz", *SMALL], ""),
    "codes-one-row": (["evaluate", "--codes", "{ws}/onerow.npz"], ""),
    "codes-negative-factors": (["evaluate", "--codes", "{ws}/negative.npz", *SMALL], ""),
    "codes-1d": (["evaluate", "--codes", "{ws}/1d.npz", *SMALL], ""),
    # --- compare
    "compare-twice": (["compare", "{ws}/run", "{ws}/run"], "once"),
    "compare-missing": (["compare", "{ws}/missing", "--out", "{ws}/report"], "missing"),
    "compare-unknown-protocol": (["compare", "{ws}/run", "--protocol", "nope"], "nope"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_error_line_and_changes_nothing(case: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template, fragment = CASES[case]
    args = [arg.replace("{ws}", str(workspace)) for arg in template]
    holder = RunLock(workspace / "run").acquire() if case == "resume-locked" else None
    try:
        before = {"workspace": snapshot(workspace), "shipped": snapshot(SHIPPED)}
        code = cli(args)
        out, err = capsys.readouterr()
        assert code != 0, out + err
        errors = error_lines(err)
        assert len(errors) == 1, err
        assert fragment in errors[0], err
        assert "Traceback" not in out + err
        assert {"workspace": snapshot(workspace), "shipped": snapshot(SHIPPED)} == before
    finally:
        if holder is not None:
            holder.release()
    assert (workspace / "run" / LOCK_NAME).read_text() == ""


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
