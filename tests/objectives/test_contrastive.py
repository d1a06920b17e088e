"""InfoGAN-CR: pair sampling rules, schedules and H's re-initialization."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from infogan_kit.cli import cli
from infogan_kit.models.latent import LatentSpec
from infogan_kit.objectives.contrastive import sample_pairs
from infogan_kit.objectives.schedule import Schedule
from infogan_kit.recipes import get_model

from ..conftest import build_model


@pytest.mark.parametrize("gap", [0.0, 0.3, 0.9, 1.9])
def test_pair_sampling_rules(gap: float) -> None:
    spec = LatentSpec("cat4+cont5+noise7")
    first, second, shared = sample_pairs(spec, 4000, gap, torch.Generator().manual_seed(0))
    assert torch.equal(first.noise, second.noise)
    assert shared.min() == 0 and shared.max() == 5  # 1 categorical + 5 continuous codes
    assert torch.bincount(shared, minlength=6).min() > 500  # uniform over codes
    for code in range(6):
        rows = shared == code
        if code == 0:
            assert torch.equal(first.codes_cat[rows, 0], second.codes_cat[rows, 0])
        else:
            assert torch.equal(first.codes_cont[rows, code - 1], second.codes_cont[rows, code - 1])
        others = [c for c in range(1, 6) if c != code]
        distance = (first.codes_cont[rows][:, [c - 1 for c in others]] - second.codes_cont[rows][:, [c - 1 for c in others]]).abs()
        assert distance.min() >= gap - 1e-6
        if gap > 0 and code != 0:
            assert (first.codes_cat[rows, 0] != second.codes_cat[rows, 0]).all()
    assert second.codes_cont.min() >= -1 and second.codes_cont.max() <= 1
    if gap == 0:
        # Non-shared codes are independent draws: they almost never coincide.
        not_shared = shared != 1
        assert (first.codes_cont[not_shared, 0] != second.codes_cont[not_shared, 0]).float().mean() > 0.99


def test_far_pairs_are_uniform_on_the_allowed_set() -> None:
    spec = LatentSpec("cont2+noise1")
    first, second, shared = sample_pairs(spec, 40000, 0.5, torch.Generator().manual_seed(1))
    rows = shared != 0
    a, b = first.codes_cont[rows, 0], second.codes_cont[rows, 0]
    assert ((a - b).abs() >= 0.5 - 1e-6).all()
    # Uniform on {|a - b| >= 0.5}: P(|a - b| >= 1) = (1/2)^2 / (1.5/2)^2 = 4/9; symmetric in a and b.
    assert abs(((a - b).abs() >= 1).float().mean().item() - 4 / 9) < 0.02
    assert abs((a > b).float().mean().item() - 0.5) < 0.02
    assert abs(a.mean().item()) < 0.02 and a.min() >= -1 and a.max() <= 1


def test_schedules() -> None:
    alpha = Schedule.switch_on(100, 2.0)
    assert alpha.at(0) == 0.0 and alpha.at(100) == 2.0
    schedule = Schedule.piecewise(0.5, [[0, 0.0], [1000, 0.1], [5000, 0.2]])
    assert [schedule.at(s) for s in (0, 999, 1000, 4999, 5000, 10**6)] == [0.0, 0.0, 0.1, 0.1, 0.2, 0.2]
    assert Schedule.piecewise(0.25, []).at(3) == 0.25


def test_h_reinitialized_when_schedule_changes() -> None:
    config = get_model("infogan-cr").default_config("quick", "dsprites")
    config.model.alpha_start = 5
    config.model.gap_schedule = [[8, 0.2]]
    model, parts = build_model("infogan-cr", config, training=True)
    objective = parts.objective
    h = model.networks["H"]
    objective.start_step(0)
    before = {k: v.clone() for k, v in h.state_dict().items()}
    for step in range(1, 5):
        objective.start_step(step)
    assert objective.reinitializations == 0 and objective.alpha == 0.0
    parts.optimizers["H"].state[next(h.parameters())]["exp_avg"] = torch.ones(1)
    objective.start_step(5)  # alpha switches on
    assert objective.reinitializations == 1 and objective.alpha == 2.0
    moments = [v for st in parts.optimizers["H"].state.values() for v in st.values() if torch.is_tensor(v)]
    assert moments and all(not v.any() for v in moments)  # zeroed in place (same storage), as a fresh Adam state
    after = h.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if k.endswith("original") or k.endswith("bias"))
    objective.start_step(6)
    assert objective.reinitializations == 1
    objective.start_step(8)  # gap changes
    assert objective.reinitializations == 2 and objective.gap == 0.2
    restored = build_model("infogan-cr", config, training=True)[1].objective
    restored.load_state_dict(objective.state_dict())
    restored.start_step(9)
    assert restored.reinitializations == 2  # no spurious re-init after a resume


def test_default_train_resolves_to_infogan_cr_quick() -> None:
    result = CliRunner().invoke(cli, ["train", "--dry-run"])
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["model"]["name"] == "infogan-cr" and config["preset"] == "quick"
    assert config["data"]["name"] == "dsprites" and config["train"]["time_budget_min"] == 15.0
    assert config["model"]["alpha_start"] == 0 and config["model"]["lambda_cont"] == 0.5 and config["model"]["learned_variance"]
    assert config["train"]["batch_size"] == 32


def test_paper_preset_matches_publication() -> None:
    result = CliRunner().invoke(cli, ["train", "--model", "infogan-cr", "--preset", "paper", "--dry-run"])
    config = json.loads(result.output)
    assert config["train"]["batch_size"] == 64 and config["train"]["steps"] == 322_560
    assert config["optim"] == {**config["optim"], "lr_g": 1e-3, "lr_d": 2e-3, "lr_h": 2e-3, "beta1": 0.5}
    assert config["model"]["lambda_cont"] == 0.05 and config["model"]["alpha"] == 2.0
    assert config["model"]["alpha_start"] == 288_000 and config["model"]["gap"] == 0.0 and config["model"]["g_steps"] == 2
