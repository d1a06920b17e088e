"""The MI terms: a perfect Q reaches the analytic values; signs and ranges are right."""

from __future__ import annotations

import math

import torch

from infogan_kit.models.infogan_nets import Discriminator, Generator
from infogan_kit.models.info_codes import InfoCodes
from infogan_kit.models.latent import LatentSpec
from infogan_kit.objectives.infogan import InfoGANObjective
from infogan_kit.objectives.mutual_info import categorical_entropy, categorical_nll, gaussian_nll


def test_perfect_categorical_q_reaches_entropy() -> None:
    codes = torch.randint(0, 10, (256,), generator=torch.Generator().manual_seed(0))
    perfect_logits = torch.nn.functional.one_hot(codes, 10).float() * 50.0
    mi_bound = categorical_entropy(10) - categorical_nll(perfect_logits, codes).mean()
    assert abs(mi_bound.item() - math.log(10)) < 1e-6
    uniform_logits = torch.zeros(256, 10)
    assert abs((categorical_entropy(10) - categorical_nll(uniform_logits, codes).mean()).item()) < 1e-6


def test_gaussian_nll_analytic_values() -> None:
    codes = torch.rand(100, 3) * 2 - 1
    assert torch.allclose(gaussian_nll(codes, codes), torch.full((100, 3), 0.5 * math.log(2 * math.pi)))
    logvars = torch.full((100, 3), -2.0)
    assert torch.allclose(gaussian_nll(codes, codes, logvars), torch.full((100, 3), 0.5 * (math.log(2 * math.pi) - 2.0)))
    # Predicting the prior mean 0 with sigma = 1: E[NLL] = 0.5 log 2pi + E[c^2]/2 = 0.5 log 2pi + 1/6.
    many = torch.rand(200_000, 1, generator=torch.Generator().manual_seed(1)) * 2 - 1
    expected = 0.5 * math.log(2 * math.pi) + 1 / 6
    assert abs(gaussian_nll(torch.zeros_like(many), many).mean().item() - expected) < 2e-3


def test_nll_gradient_pulls_mean_towards_code() -> None:
    means = torch.zeros(4, 1, requires_grad=True)
    codes = torch.tensor([[0.9], [-0.9], [0.5], [-0.5]])
    gaussian_nll(means, codes).sum().backward()
    assert torch.all(torch.sign(-means.grad) == torch.sign(codes))  # a descent step moves towards c


def test_objective_mi_loss_with_a_perfect_q() -> None:
    spec = LatentSpec("cat4+cont2+noise3")
    generator, discriminator = Generator(spec.input_dim, (1, 64, 64)), Discriminator((1, 64, 64), spec.q_output_dim(False))
    codes = InfoCodes(spec, lambda_cont=0.5, lambda_cat=2.0, learned_variance=False)
    objective = InfoGANObjective(generator, discriminator, codes)
    latents = spec.sample(64, torch.Generator().manual_seed(0))
    perfect = torch.cat([torch.nn.functional.one_hot(latents.codes_cat[:, 0], 4).float() * 60, latents.codes_cont], 1)
    expected = 0.5 * (2 * 0.5 * math.log(2 * math.pi))  # lambda_cont * two codes at the minimum NLL; CE ~ 0
    assert abs(objective.mi_loss(perfect, latents).item() - expected) < 1e-5
    worse = perfect.clone()
    worse[:, 4:] = 0.0
    assert objective.mi_loss(worse, latents).item() > expected
