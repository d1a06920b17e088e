"""pyproject lists packages explicitly (cli/ is mapped to infogan_kit.cli): keep the list whole."""

from __future__ import annotations

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"infogan_kit.cli"}
    for init in (ROOT / "infogan_kit").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(ROOT).parts))
    for init in (ROOT / "cli").rglob("__init__.py"):
        found.add(".".join(("infogan_kit",) + init.parent.relative_to(ROOT).parts))
    assert found == listed


def test_cli_is_not_a_top_level_module() -> None:
    import importlib.util

    spec = importlib.util.find_spec("infogan_kit.cli")
    assert spec is not None and Path(spec.origin).parent == ROOT / "cli"
