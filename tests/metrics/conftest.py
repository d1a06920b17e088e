"""Fixtures shared by the metric tests."""

from __future__ import annotations

from typing import Iterator

import pytest

from infogan_kit.metrics import METRICS


@pytest.fixture
def scratch_metric() -> Iterator[list[str]]:
    """Names registered by a test are removed afterwards (the registry is process-wide)."""
    names: list[str] = []
    yield names
    for name in names:
        METRICS._entries.pop(name, None)
