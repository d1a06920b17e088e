"""The MNIST-architecture InfoGAN (cat10+cont2+noise62) on 28x28 label data through the
DataLoader path, scored with label_accuracy by `infogan evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from infogan_kit.cli import cli
from infogan_kit.recipes import get_model
from infogan_kit.run import load_run
from infogan_kit.training.api import train

from ..data.test_mnist import write_split


def test_mnist_architecture_trains_with_workers_and_reports_label_accuracy(tmp_path: Path) -> None:
    labels = np.arange(60) % 10
    write_split(tmp_path / "fashion", "train", labels, gz=True)
    write_split(tmp_path / "fashion", "t10k", labels[:20], gz=False)
    config = get_model("infogan").default_config("quick", "fashion_mnist")
    config.data.path = str(tmp_path / "fashion")
    config.data.num_workers = 2
    config.train.steps, config.train.batch_size, config.train.device = 3, 16, "cpu"
    config.train.time_budget_min, config.train.log_every, config.train.sample_every = None, 1, 0
    run = train(config, out=tmp_path / "run", final_metrics=False)
    assert run.model.codes.spec.text == "cat10+cont2+noise62"
    loaded = load_run(tmp_path / "run")
    assert loaded.represent(loaded.dataset.image_at(np.arange(5))).shape == (5, 3)
    assert [name for name, _ in loaded.traversal(columns=4)] == ["cat1", "c1", "c2"]
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "run"), "--protocol", "fast", "--metrics", "label_accuracy",
                                      "--json", str(tmp_path / "scores.json")])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "scores.json").read_text())["metrics"]["label_accuracy"]
    assert 0.0 < scores["accuracy"] <= 1.0 and scores["num_categories"] <= 10
