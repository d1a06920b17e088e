"""docs/training.md's config reference is generated from the dataclasses: keep it current."""

from __future__ import annotations

from pathlib import Path

from infogan_kit.config_docs import END, START, config_reference

ROOT = Path(__file__).resolve().parents[1]


def test_training_md_config_reference_is_current() -> None:
    text = (ROOT / "docs" / "training.md").read_text()
    block = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert block == config_reference(), "run: python -m infogan_kit.config_docs"
