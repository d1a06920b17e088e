"""The command group: help, version, `infogan datasets`, and the error contract."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from infogan_kit.cli import cli, run
from infogan_kit.versions import __version__


def test_help_lists_datasets_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "datasets" in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_datasets_table_and_json() -> None:
    result = CliRunner().invoke(cli, ["datasets"])
    assert result.exit_code == 0
    assert "shape=3, scale=6, orientation=40, pos_x=32, pos_y=32" in result.output
    rows = json.loads(CliRunner().invoke(cli, ["datasets", "--json"]).output)
    by_name = {row["name"]: row for row in rows}
    assert by_name["dsprites"]["image_shape"] == [1, 64, 64]
    assert by_name["noisy_dsprites"]["factors"]["pos_y"] == 32


def test_invalid_usage_exits_2_with_error_line(capsys) -> None:
    assert run(["nope"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("Error:")
    assert run(["datasets", "--bad-option"]) == 2


def test_real_subprocess_console_script_and_module() -> None:
    done = subprocess.run([sys.executable, "-m", "infogan_kit", "datasets"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "dsprites" in done.stdout
    done = subprocess.run(["infogan", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "datasets" in done.stdout
    done = subprocess.run(["infogan", "frobnicate"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("Error:")
    assert "Traceback" not in done.stderr
