"""VAE-family terms and objectives against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from infogan_kit.models.vae_nets import gaussian_kl_per_latent
from infogan_kit.objectives.factor_vae import FactorVAEObjective, discriminator_loss, discriminator_tc
from infogan_kit.objectives.vae import (
    AnnealedVAEObjective,
    BetaTCVAEObjective,
    BetaVAEObjective,
    DIPVAEIIObjective,
    DIPVAEIObjective,
)
from infogan_kit.objectives.vae_terms import (
    bernoulli_reconstruction_loss,
    covariance_of_latents,
    covariance_of_means,
    dip_penalties,
    permute_dims,
    sample_latents,
    total_correlation,
)
from infogan_kit.objectives.schedule import Schedule
from infogan_kit.training import stats
from infogan_kit.training.context import Batch, PhaseContext

IMAGE_SHAPE = (1, 4, 4)
PIXELS = 16


class FixedEncoder(nn.Module):
    """Returns the same learnable posterior parameters ``[n, D]`` for any batch of n images."""

    def __init__(self, means: torch.Tensor, log_variances: torch.Tensor) -> None:
        super().__init__()
        self.means = nn.Parameter(means.clone())
        self.log_variances = nn.Parameter(log_variances.clone())

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.means[: len(images)], self.log_variances[: len(images)]


class ZeroLogitDecoder(nn.Module):
    """Logits 0 everywhere (every pixel p = 0.5): a Bernoulli NLL of log 2 per pixel."""

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(latents), *IMAGE_SHAPE) + 0 * latents.sum()


class RecordingDiscriminator(nn.Module):
    """A linear discriminator that remembers every input it saw."""

    def __init__(self, num_latents: int) -> None:
        super().__init__()
        self.linear = nn.Linear(num_latents, 2)
        self.inputs: list[torch.Tensor] = []

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        self.inputs.append(latents.detach().clone())
        return self.linear(latents)


def make_ctx(seed: int = 0) -> PhaseContext:
    return PhaseContext("fp32", torch.device("cpu"), torch.Generator().manual_seed(seed), channels_last=False)


def run_phase(objective, name: str, batch: Batch, ctx: PhaseContext) -> None:
    """Run the declared phase ``name`` of ``objective`` (what the loop does for one micro-batch)."""
    [phase] = [phase for phase in objective.phases if phase.name == name]
    phase.run(batch, ctx)


def make_batch(n: int) -> Batch:
    return Batch(torch.rand(n, *IMAGE_SHAPE, generator=torch.Generator().manual_seed(1)), torch.zeros(n, 0, dtype=torch.long))


# ---------------------------------------------------------------------- terms
def test_kl_of_gaussians_matches_closed_form() -> None:
    means = torch.tensor([[0.0, 1.0, 0.0, 2.0]])
    log_variances = torch.tensor([[0.0, 0.0, 1.0, math.log(0.25)]])
    expected = [0.0, 0.5, 0.5 * (math.e - 2.0), 0.5 * (4.0 + 0.25 - math.log(0.25) - 1.0)]
    assert gaussian_kl_per_latent(means, log_variances)[0].tolist() == pytest.approx(expected, abs=1e-6)
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(means, (0.5 * log_variances).exp()), torch.distributions.Normal(0.0, 1.0)
    )
    assert torch.allclose(gaussian_kl_per_latent(means, log_variances), reference, atol=1e-6)


def test_bernoulli_loss_sums_pixels_per_image() -> None:
    images = torch.tensor([[[[1.0, 0.0], [0.5, 1.0]]]])  # one 1x2x2 image
    assert bernoulli_reconstruction_loss(torch.zeros(1, 1, 2, 2), images).tolist() == pytest.approx([4 * math.log(2)])
    logits = torch.tensor([[[[2.0, -3.0], [0.0, 1.0]]]])
    by_hand = math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-3.0)) + math.log(2) + math.log1p(math.exp(-1.0))
    assert bernoulli_reconstruction_loss(logits, images).item() == pytest.approx(by_hand, rel=1e-6)


def test_bernoulli_loss_matches_torch_in_value_and_gradient_over_the_whole_logit_range() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.cat([torch.randn(3, 1, 8, 8, generator=generator) * 4, torch.linspace(-90, 90, 64).reshape(1, 1, 8, 8)])
    images = torch.rand(4, 1, 8, 8, generator=generator)
    images[0] = (images[0] > 0.5).float()
    weights = torch.tensor([1.0, -2.0, 0.5, 3.0])  # a non-uniform upstream gradient per image
    ours_logits = logits.double().clone().requires_grad_()
    torch_logits = logits.double().clone().requires_grad_()
    ours = bernoulli_reconstruction_loss(ours_logits.float(), images)
    reference = F.binary_cross_entropy_with_logits(torch_logits, images.double(), reduction="none").flatten(1).sum(1)
    assert ours.dtype == torch.float32
    assert torch.allclose(ours.double(), reference, rtol=1e-6, atol=1e-4)
    (ours * weights).sum().backward()
    (reference * weights.double()).sum().backward()
    assert torch.allclose(ours_logits.grad, torch_logits.grad, atol=1e-6)
    small = torch.tensor([[[[-30.0, -18.0, 18.0, 30.0]]]])  # log1p(exp(-|l|)) ~ 1e-13 .. 1e-8: kept, not rounded to 0
    right = torch.tensor([[[[0.0, 0.0, 1.0, 1.0]]]])  # every pixel predicted correctly: only those tiny terms remain
    expected = F.binary_cross_entropy_with_logits(small.double(), right.double(), reduction="sum").item()
    assert 1e-8 < expected < 1e-7
    assert bernoulli_reconstruction_loss(small, right).item() == pytest.approx(expected, rel=1e-5)
    half = logits.bfloat16().requires_grad_()
    bernoulli_reconstruction_loss(half, images).sum().backward()
    assert half.grad.dtype == torch.bfloat16


def test_samples_follow_the_posterior() -> None:
    means = torch.tensor([[1.0, -2.0]]).repeat(20_000, 1)
    log_variances = torch.tensor([[math.log(4.0), -40.0]]).repeat(20_000, 1)
    samples = sample_latents(means, log_variances, torch.Generator().manual_seed(0))
    assert samples[:, 0].mean().item() == pytest.approx(1.0, abs=0.05)
    assert samples[:, 0].std().item() == pytest.approx(2.0, abs=0.05)
    assert torch.allclose(samples[:, 1], torch.full((20_000,), -2.0), atol=1e-6)


@pytest.mark.parametrize("step, expected", [(0, 0.0), (50_000, 12.5), (100_000, 25.0), (300_000, 25.0)])
def test_annealed_capacity_schedule(step: int, expected: float) -> None:
    assert Schedule.ramp(25.0, 100_000).at(step) == pytest.approx(expected)


def test_permutation_keeps_each_column_and_breaks_dependence() -> None:
    base = torch.randn(2000, 1, generator=torch.Generator().manual_seed(0))
    latents = torch.cat([base, base, -base], dim=1)  # perfectly dependent columns
    permuted = permute_dims(latents, torch.Generator().manual_seed(1))
    for column in range(3):
        assert torch.equal(permuted[:, column].sort().values, latents[:, column].sort().values)
    correlation = torch.corrcoef(permuted.T)
    assert correlation[0, 1].abs() < 0.1 and correlation[0, 2].abs() < 0.1
    assert (permuted[:, 0] == permuted[:, 1]).float().mean() < 0.01  # columns got different orders


def test_total_correlation_of_identical_rows() -> None:
    rows, dims = 8, 3
    latents = torch.full((rows, dims), 0.3)
    value = total_correlation(latents, torch.zeros(rows, dims), torch.zeros(rows, dims))
    assert value.item() == pytest.approx((1 - dims) * math.log(rows), abs=1e-5)


def test_total_correlation_tells_dependent_from_independent_latents() -> None:
    """Point masses on a 4x4 grid (independent coordinates, true TC 0) vs on its diagonal
    (z1 = z2, true TC log M): the estimate plus the dropped constant (D - 1) log M recovers both."""
    values = torch.arange(4.0)
    grid = torch.cartesian_prod(values, values)  # [16, 2]
    diagonal = torch.stack([torch.arange(16.0), torch.arange(16.0)], dim=1)
    tiny = torch.full((16, 2), -30.0)
    constant = (2 - 1) * math.log(16)
    assert total_correlation(grid, grid, tiny).item() + constant == pytest.approx(0.0, abs=1e-4)
    assert total_correlation(diagonal, diagonal, tiny).item() + constant == pytest.approx(math.log(16), abs=1e-4)


def test_dip_covariances_and_penalties() -> None:
    means = torch.tensor([[1.0, 2.0], [-1.0, -2.0], [3.0, 0.0], [-3.0, 0.0]])
    assert covariance_of_means(means).tolist() == [[5.0, 1.0], [1.0, 2.0]]
    log_variances = torch.log(torch.tensor([[0.5, 1.5]])).repeat(4, 1)
    assert torch.allclose(covariance_of_latents(means, log_variances), torch.tensor([[5.5, 1.0], [1.0, 3.5]]))
    off_diagonal, diagonal = dip_penalties(torch.tensor([[5.0, 1.0], [1.0, 2.0]]), lambda_od=3.0, lambda_d=30.0)
    assert off_diagonal.item() == pytest.approx(3.0 * 2.0) and diagonal.item() == pytest.approx(30.0 * 17.0)


def test_factor_vae_tc_and_discriminator_loss() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-1.0, 0.0]])
    assert discriminator_tc(logits).item() == pytest.approx((3.0 + 0.0 - 1.0) / 3)
    assert discriminator_loss(torch.zeros(5, 2), torch.zeros(5, 2)).item() == pytest.approx(math.log(2))
    confident = torch.tensor([[100.0, -100.0]])  # "joint" with certainty: right on joint, wrong on permuted
    expected = -(0.5 * math.log(1 - 1e-6) + 0.5 * math.log(1e-6))  # clipped at 1e-6
    assert discriminator_loss(confident, confident).item() == pytest.approx(expected, rel=1e-4)


# ---------------------------------------------------------------------- objectives
def _posterior(rows: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    means = torch.tensor([[1.0, 2.0], [-1.0, -2.0], [3.0, 0.0], [-3.0, 0.0]])[:rows]
    return means, torch.full((rows, 2), -30.0)  # near-zero variance: z = means


def test_beta_vae_loss_and_reports() -> None:
    means, log_variances = _posterior()
    encoder = FixedEncoder(means, log_variances)
    objective = BetaVAEObjective(encoder, ZeroLogitDecoder(), beta=4.0)
    kl_per_latent = gaussian_kl_per_latent(means, log_variances).mean(0)
    stats.reset()
    run_phase(objective, "VAE", make_batch(4), make_ctx())
    logged = stats.collect()
    reconstruction = PIXELS * math.log(2)
    assert logged["Loss/VAE/reconstruction"] == pytest.approx(reconstruction, rel=1e-6)
    assert logged["Loss/VAE/kl"] == pytest.approx(kl_per_latent.sum().item(), rel=1e-5)
    assert logged["Loss/VAE"] == pytest.approx(reconstruction + 4.0 * kl_per_latent.sum().item(), rel=1e-5)
    assert logged["ELBO"] == pytest.approx(-(reconstruction + kl_per_latent.sum().item()), rel=1e-5)
    assert [logged["KL/z1"], logged["KL/z2"]] == pytest.approx(kl_per_latent.tolist(), rel=1e-5)
    assert encoder.means.grad is not None  # backward ran: d/dmu (4 KL) = 4 mu / n
    assert torch.allclose(encoder.means.grad, 4.0 * means / 4, atol=1e-4)
    assert [phase.name for phase in objective.phases] == ["VAE"]  # beta-VAE declares no other phase


def test_annealed_vae_regularizer_follows_the_step() -> None:
    objective = AnnealedVAEObjective(nn.Identity(), nn.Identity(), gamma=1000.0, capacity=Schedule.ramp(25.0, 100_000))
    means, log_variances = _posterior()
    kl = torch.tensor(10.0)
    objective.start_step(0)
    assert objective.regularizer(kl, means, log_variances, means, make_ctx()).item() == pytest.approx(10_000.0)
    objective.start_step(50_000)
    assert objective.regularizer(kl, means, log_variances, means, make_ctx()).item() == pytest.approx(2_500.0)
    objective.start_step(200_000)
    assert objective.regularizer(kl, means, log_variances, means, make_ctx()).item() == pytest.approx(15_000.0)


def test_beta_tcvae_regularizer_weights_the_tc() -> None:
    objective = BetaTCVAEObjective(nn.Identity(), nn.Identity(), beta=6.0)
    rows = torch.zeros(8, 3)
    regularizer = objective.regularizer(torch.tensor(2.0), rows, rows, rows, make_ctx())
    assert regularizer.item() == pytest.approx(2.0 + 5.0 * (1 - 3) * math.log(8), rel=1e-5)


def test_dip_vae_regularizers() -> None:
    means = torch.tensor([[1.0, 2.0], [-1.0, -2.0], [3.0, 0.0], [-3.0, 0.0]])
    log_variances = torch.log(torch.tensor([[0.5, 1.5]])).repeat(4, 1)
    kl = torch.tensor(1.0)
    dip_i = DIPVAEIObjective(nn.Identity(), nn.Identity(), lambda_od=1.0, lambda_d_factor=10.0)
    assert dip_i.regularizer(kl, means, log_variances, means, make_ctx()).item() == pytest.approx(1.0 + 2.0 + 10.0 * 17.0)
    dip_ii = DIPVAEIIObjective(nn.Identity(), nn.Identity(), lambda_od=2.0, lambda_d_factor=1.0)
    expected = 1.0 + 2.0 * 2.0 + 2.0 * (4.5**2 + 2.5**2)
    assert dip_ii.regularizer(kl, means, log_variances, means, make_ctx()).item() == pytest.approx(expected, rel=1e-6)


def test_factor_vae_discriminator_phase_reuses_the_vae_samples() -> None:
    means, _ = _posterior()
    encoder = FixedEncoder(means, torch.zeros(4, 2))  # unit variance: every draw differs
    discriminator = RecordingDiscriminator(2)
    objective = FactorVAEObjective(encoder, ZeroLogitDecoder(), discriminator, gamma=10.0)
    ctx = make_ctx()
    objective.start_step(0)
    stats.reset()
    run_phase(objective, "VAE", make_batch(4), ctx)
    vae_latents = discriminator.inputs[-1]
    run_phase(objective, "D", make_batch(4), ctx)
    joint, permuted = discriminator.inputs[-2:]
    assert torch.equal(joint, vae_latents)
    for column in range(2):
        assert torch.equal(permuted[:, column].sort().values, joint[:, column].sort().values)
    logged = stats.collect()
    assert {"Loss/TC", "Loss/D", "D/accuracy", "Loss/VAE"} <= logged.keys()
    assert discriminator.linear.weight.grad is not None
    objective.start_step(1)  # a new step forgets unused samples: D then encodes afresh
    run_phase(objective, "VAE", make_batch(4), ctx)
    objective.start_step(2)
    run_phase(objective, "D", make_batch(4), ctx)
    assert not torch.equal(discriminator.inputs[-2], discriminator.inputs[-3])


def test_the_gpu_path_of_the_bernoulli_loss_equals_the_cpu_one() -> None:
    """Off the CPU the loss uses PyTorch's fused kernel (fewer kernels); both forms agree."""
    from infogan_kit.objectives.vae_terms import stock_bernoulli_reconstruction_loss

    generator = torch.Generator().manual_seed(1)
    logits = (torch.randn(3, 1, 8, 8, generator=generator) * 4).requires_grad_()
    stock_logits = logits.detach().clone().requires_grad_()
    images = torch.rand(3, 1, 8, 8, generator=generator)
    ours, stock = bernoulli_reconstruction_loss(logits, images), stock_bernoulli_reconstruction_loss(stock_logits, images)
    assert stock.shape == (3,) and stock.dtype == torch.float32
    assert torch.allclose(ours, stock, rtol=1e-5, atol=1e-4)
    ours.sum().backward()
    stock.sum().backward()
    assert torch.allclose(logits.grad, stock_logits.grad, atol=1e-6)
