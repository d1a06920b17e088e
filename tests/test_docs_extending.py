"""docs/extending.md's worked examples run as written (in order, one namespace), and leave no registration behind."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from infogan_kit.data import DATASETS
from infogan_kit.metrics import METRICS
from infogan_kit.recipes import MODELS

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def test_extending_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 3  # a dataset, a metric, a model with its objective
    module = types.ModuleType("extending_example")  # a real module, as a user's file would be
    sys.modules[module.__name__] = module
    try:
        for block in blocks:
            exec(compile(block, str(DOC), "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - the doc's own code
        assert module.loaded.model.name == "linear-ae"
    finally:
        del sys.modules[module.__name__]
        for registry, name in ((MODELS, "linear-ae"), (METRICS, "code_range"), (DATASETS, "bars")):
            if name in registry:
                registry.unregister(name)
