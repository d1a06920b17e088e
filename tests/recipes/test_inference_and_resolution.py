"""Inference stands apart from training; the library resolves configs; registration errors are clear."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import infogan_kit
from infogan_kit.cli import cli
from infogan_kit.config import RunConfig, config_to_dict
from infogan_kit.errors import ConfigError
from infogan_kit.recipes import register_model

ROOT = Path(__file__).resolve().parents[2]

FRESH_INTERPRETER = """
import sys, torch
def refuse(*args, **kwargs):
    raise AssertionError("an optimizer was built")
torch.optim.Adam.__init__ = refuse
import infogan_kit
run = infogan_kit.load_run(sys.argv[1], device="cpu")
images, _ = run.dataset.sample(4, torch.Generator().manual_seed(0))
codes = run.represent(images)
assert codes.shape == (4, 10), codes.shape
run.traversal(columns=2)
loaded = sorted(m for m in sys.modules if m.startswith(("infogan_kit.training.loop", "infogan_kit.objectives",
                                                         "infogan_kit.training.api")))
assert not loaded, loaded
print("ok")
"""


@pytest.mark.parametrize("run_dir", ["checkpoints/pretrained/beta-vae-dsprites", "checkpoints/pretrained/infogan-cr-dsprites"])
def test_inference_needs_no_training_code(run_dir: str) -> None:
    """A fresh interpreter loads a run and represents images without the loop, the objectives or an optimizer."""
    if "infogan-cr" in run_dir:
        script = FRESH_INTERPRETER.replace("(4, 10)", "(4, 5)")
    else:
        script = FRESH_INTERPRETER
    done = subprocess.run([sys.executable, "-c", script, str(ROOT / run_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_resolve_config_without_arguments_is_what_dry_run_prints() -> None:
    result = CliRunner().invoke(cli, ["train", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == config_to_dict(infogan_kit.resolve_config())
    assert infogan_kit.resolve_config().model.name == "infogan-cr"


def test_resolve_config_applies_file_options_and_overrides_in_order(tmp_path: Path) -> None:
    config_file = tmp_path / "run.yaml"
    config_file.write_text("model:\n  name: beta-vae\n  beta: 2\ntrain:\n  steps: 7\n  batch_size: 8\n")
    config = infogan_kit.resolve_config(config_file=config_file, options={"train.steps": 9, "train.seed": None},
                                        overrides=["model.beta=16"])
    assert config.model.name == "beta-vae" and config.model.beta == 16.0
    assert config.train.steps == 9 and config.train.batch_size == 8 and config.train.seed == 0
    notes: list[str] = []
    (tmp_path / "other.yaml").write_text("model:\n  name: beta-vae\n")
    assert infogan_kit.resolve_config("factor-vae", config_file=tmp_path / "other.yaml", notes=notes).model.name == "factor-vae"
    assert notes and "overrides model.name=beta-vae" in notes[0]


def test_bare_run_config_is_refused_with_a_pointer() -> None:
    with pytest.raises(ConfigError, match="resolve_config"):
        infogan_kit.train(RunConfig())


def test_register_model_old_form_names_the_new_one() -> None:
    class OldRecipe:
        name = "old"

        def build(self, *args):
            return None

    with pytest.raises(ConfigError, match=r"Model subclass.*@register_model\('old'\)"):
        register_model("old", OldRecipe())
    with pytest.raises(ConfigError, match="already registered"):
        register_model("infogan", infogan_kit.recipes.get_model("infogan"))
