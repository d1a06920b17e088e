"""Regularizers against functions whose answers are known analytically; lazy correction; augmentation."""

from __future__ import annotations

import math

import pytest
import torch

from infogan_kit.objectives.regularizers.augment import (
    AdaptiveAugmentProbability,
    augment,
    augment_color,
    augment_cutout,
    augment_translation,
)
from infogan_kit.objectives.regularizers.hessian import expected_hessian_penalty, hessian_penalty
from infogan_kit.objectives.schedule import Schedule
from infogan_kit.recipes.base import lazy_adam_settings
from infogan_kit.objectives.regularizers.orojar import expected_orojar_penalty, orojar_penalty
from infogan_kit.objectives.regularizers.path_length import PathLengthRegularizer, path_lengths
from infogan_kit.objectives.regularizers.r1 import r1_penalty


def _cubic(z: torch.Tensor) -> torch.Tensor:
    """G(z) = [z0 z1, z0^2 z1]."""
    return torch.stack([z[:, 0] * z[:, 1], z[:, 0] ** 2 * z[:, 1]], dim=1)


# ---------------------------------------------------------------------------------- Hessian penalty
def test_hessian_penalty_expectation_matches_closed_form() -> None:
    # Hessians: [[0, 1], [1, 0]] and [[2 z1, 2 z0], [2 z0, 0]] -> E = [2*2*1, 2*2*(2 z0)^2] = [4, 16 z0^2]
    z0, z1 = 0.7, -0.3
    z = torch.tensor([[z0, z1]], dtype=torch.float64).repeat(20_000, 1)
    per_element = hessian_penalty(_cubic, z, k=2, epsilon=0.1, reduction="none", generator=torch.Generator().manual_seed(0))[0]
    mean = per_element.mean(dim=0)
    hessians = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[2 * z1, 2 * z0], [2 * z0, 0.0]]], dtype=torch.float64)
    expected = expected_hessian_penalty(hessians)
    assert torch.allclose(expected, torch.tensor([4.0, 16 * z0**2], dtype=torch.float64))
    # each row's k=2 estimate is 0 or 2E with probability 1/2: standard error E / sqrt(20000)
    assert torch.allclose(mean, expected, rtol=0.04), (mean, expected)


def test_hessian_penalty_is_exact_for_cubics_whatever_epsilon() -> None:
    z = torch.randn(16, 2, dtype=torch.float64)
    values = [
        hessian_penalty(_cubic, z, k=4, epsilon=eps, reduction="none", generator=torch.Generator().manual_seed(1))[0]
        for eps in (0.01, 0.1, 1.0)
    ]
    assert torch.allclose(values[0], values[1], atol=1e-6) and torch.allclose(values[1], values[2], atol=1e-9)


def test_hessian_penalty_max_reduction_approaches_the_worst_element() -> None:
    z = torch.tensor([[0.2, 1.0], [0.9, 0.5], [-0.4, 0.1]], dtype=torch.float64)
    penalty = hessian_penalty(_cubic, z, k=400, epsilon=0.1, reduction="max", generator=torch.Generator().manual_seed(2))
    expected = max(4.0, 16 * 0.9**2)  # the worst element over the batch and outputs
    assert abs(penalty.item() - expected) / expected < 0.1
    assert hessian_penalty(_cubic, z, k=400, reduction="mean", generator=torch.Generator().manual_seed(2)) < penalty


def test_hessian_penalty_is_zero_for_separable_functions_and_sums_layers() -> None:
    z = torch.randn(8, 2, dtype=torch.float64)
    separable = lambda v: torch.stack([v[:, 0] ** 2, v[:, 1] ** 3 + v[:, 0]], dim=1)  # noqa: E731
    assert hessian_penalty(separable, z, k=3).abs() < 1e-9
    seed = torch.Generator().manual_seed(4)
    both = hessian_penalty(lambda v: [_cubic(v), separable(v)], z, k=3, generator=seed)
    alone = hessian_penalty(_cubic, z, k=3, generator=torch.Generator().manual_seed(4))
    assert torch.allclose(both, alone)


def test_hessian_penalty_gradient_reaches_parameters() -> None:
    weight = torch.tensor(0.5, requires_grad=True)
    z = torch.randn(4, 2)
    penalty = hessian_penalty(lambda v: weight * v[:, :1] * v[:, 1:], z, k=2, generator=torch.Generator().manual_seed(0))
    penalty.backward()
    assert weight.grad is not None and weight.grad.abs() > 0  # penalty = c * weight^2, c > 0 unless directions agree


def test_hessian_penalty_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k must be"):
        hessian_penalty(_cubic, torch.randn(2, 2), k=1)
    with pytest.raises(ValueError, match="epsilon"):
        hessian_penalty(_cubic, torch.randn(2, 2), epsilon=0.0)


# ---------------------------------------------------------------------------------- OroJaR
def test_orojar_on_a_linear_map_matches_its_jacobian() -> None:
    torch.manual_seed(0)
    matrix = torch.randn(6, 3, dtype=torch.float64)
    z = torch.randn(20_000, 3, dtype=torch.float64)
    per_sample = orojar_penalty(lambda v: v @ matrix.t(), z, k=2, epsilon=0.1, reduction="none", generator=torch.Generator().manual_seed(0))[0]
    expected = expected_orojar_penalty(matrix)
    assert per_sample.shape == (20_000,)
    assert abs(per_sample.mean().item() - expected.item()) / expected.item() < 0.05
    averaged = orojar_penalty(lambda v: v @ matrix.t(), z[:50], k=2, reduction="none", generator=torch.Generator().manual_seed(3), average=True)[0]
    summed = orojar_penalty(lambda v: v @ matrix.t(), z[:50], k=2, reduction="none", generator=torch.Generator().manual_seed(3))[0]
    assert torch.allclose(averaged * 36, summed)  # N = 6 output elements: the variance scales by N^2


def test_orojar_is_zero_for_orthogonal_columns_and_exact_for_any_epsilon() -> None:
    torch.manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(8, 3, dtype=torch.float64))
    orthogonal = q * torch.tensor([3.0, 0.5, 2.0], dtype=torch.float64)  # orthogonal, unequal columns
    z = torch.randn(32, 3, dtype=torch.float64)
    assert orojar_penalty(lambda v: v @ orthogonal.t(), z, k=5).abs() < 1e-9
    skewed = torch.randn(8, 3, dtype=torch.float64)
    values = [orojar_penalty(lambda v: v @ skewed.t(), z, k=5, epsilon=e, generator=torch.Generator().manual_seed(5)) for e in (0.01, 1.0)]
    assert values[0] > 0 and torch.allclose(values[0], values[1])


# ---------------------------------------------------------------------------------- path length
def test_path_lengths_of_a_linear_generator() -> None:
    torch.manual_seed(0)
    height = width = 4
    matrix = torch.randn(5, height * width, requires_grad=True)  # a "parameter" of the generator
    ws = torch.randn(4000, 1, 5, requires_grad=True)
    images = (ws[:, 0] @ matrix).reshape(-1, 1, height, width)
    lengths = path_lengths(images, ws, torch.Generator().manual_seed(0))
    expected = matrix.detach().square().sum() / (height * width)  # E[a^2] = ||A||_F^2 / (H W)
    assert abs(lengths.square().mean().item() - expected.item()) / expected.item() < 0.05
    lengths.mean().backward()  # the penalty trains the generator's weights (double backward)
    assert matrix.grad is not None and matrix.grad.abs().sum() > 0


def test_path_length_running_mean_and_penalty() -> None:
    regularizer = PathLengthRegularizer(decay=0.01)
    first = regularizer.penalty(torch.tensor([2.0, 4.0]))
    assert math.isclose(float(regularizer.pl_mean), 0.03, rel_tol=1e-6)
    assert torch.allclose(first, torch.tensor([(2 - 0.03) ** 2, (4 - 0.03) ** 2]))
    regularizer.penalty(torch.tensor([1.0, 1.0]))
    assert math.isclose(float(regularizer.pl_mean), 0.03 + 0.01 * (1 - 0.03), rel_tol=1e-6)
    restored = PathLengthRegularizer()
    restored.load_state_dict(regularizer.state_dict())
    assert float(restored.pl_mean) == float(regularizer.pl_mean)


# ---------------------------------------------------------------------------------- R1
def test_r1_of_linear_and_quadratic_critics() -> None:
    direction = torch.randn(1, 3, 4, 4)
    images = torch.randn(5, 3, 4, 4, requires_grad=True)
    linear = (images * direction).flatten(1).sum(dim=1)
    assert torch.allclose(r1_penalty(images, linear), direction.square().sum().expand(5))
    quadratic = images.square().flatten(1).sum(dim=1)  # gradient 2x -> penalty 4 ||x||^2
    penalty = r1_penalty(images, quadratic)
    assert torch.allclose(penalty, 4 * images.detach().square().flatten(1).sum(dim=1))
    penalty.sum().backward()  # differentiable (double backward)
    assert torch.allclose(images.grad, 8 * images.detach())


# ---------------------------------------------------------------------------------- lazy regularization
def test_lazy_adam_settings_follow_the_interval_correction() -> None:
    lr, betas = lazy_adam_settings(0.0025, (0.0, 0.99), 16)
    ratio = 16 / 17
    assert math.isclose(lr, 0.0025 * ratio) and betas == (0.0, 0.99**ratio)
    lr, betas = lazy_adam_settings(0.002, (0.5, 0.9), 4)
    assert math.isclose(lr, 0.002 * 0.8) and math.isclose(betas[0], 0.5**0.8) and math.isclose(betas[1], 0.9**0.8)
    with pytest.raises(ValueError):
        lazy_adam_settings(0.1, (0.0, 0.9), 0)


def test_ramp_weight_starts_at_zero() -> None:
    ramp = Schedule.ramp(2.0, 100)
    assert [ramp.at(s) for s in (0, 50, 100, 1000)] == [0.0, 1.0, 2.0, 2.0]
    assert Schedule.ramp(2.0, 0).at(0) == 2.0 and not Schedule.ramp(0.0, 10).enabled


# ---------------------------------------------------------------------------------- augmentation
def test_augmentation_is_identity_at_p_zero() -> None:
    images = torch.rand(4, 3, 16, 16)
    assert augment(images, 0.0) is images
    for operation in (augment_translation, augment_cutout, augment_color):
        assert torch.equal(operation(images, 0.0, torch.Generator().manual_seed(0)), images)


@pytest.mark.parametrize("operation", [augment_translation, augment_cutout, augment_color])
def test_augmentation_is_differentiable(operation) -> None:
    images = torch.rand(3, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    augmented = operation(images, 1.0, torch.Generator().manual_seed(1))
    assert not torch.allclose(augmented, images)
    weights = torch.randn_like(images)
    (augmented * weights).sum().backward()
    assert images.grad is not None and torch.isfinite(images.grad).all() and images.grad.abs().sum() > 0
    check = lambda x: operation(x, 1.0, torch.Generator().manual_seed(1))  # noqa: E731
    assert torch.autograd.gradcheck(check, (images.detach().clone().requires_grad_(True),), eps=1e-6, atol=1e-4)


def test_translation_moves_content_by_whole_pixels() -> None:
    images = torch.zeros(64, 1, 16, 16)
    images[:, :, 7:9, 7:9] = 1.0  # a blob that stays inside for shifts up to 2 pixels
    moved = augment_translation(images, 1.0, torch.Generator().manual_seed(0))
    assert torch.allclose(moved.sum(dim=(1, 2, 3)), torch.full((64,), 4.0), atol=1e-4)
    assert torch.allclose(moved, moved.round(), atol=1e-4)
    assert (moved != images).flatten(1).any(dim=1).float().mean() > 0.5


def test_whole_pixel_shift_matches_a_bilinear_warp_and_has_a_double_backward() -> None:
    from kornia.geometry.transform import translate

    from infogan_kit.objectives.regularizers.augment import shift_images

    images = torch.rand(6, 3, 9, 12, dtype=torch.float64)
    shifts = torch.tensor([[0, 0], [1, 0], [0, -2], [-3, 4], [11, 0], [-12, 9]])
    expected = translate(images, shifts.double(), mode="bilinear", padding_mode="zeros", align_corners=True)
    assert torch.allclose(shift_images(images, shifts), expected, atol=1e-12)
    assert shift_images(images, shifts)[4].abs().sum() > 0 and shift_images(images, shifts)[5, :, 0].abs().sum() == 0
    # R1 differentiates D's gradient w.r.t. the (augmented) reals once more: second order must work
    inputs = images.clone().requires_grad_(True)
    check = lambda x: shift_images(x, shifts)  # noqa: E731
    assert torch.autograd.gradgradcheck(check, (inputs,))
    penalty_inputs = images.clone().requires_grad_(True)
    scores = (shift_images(penalty_inputs, shifts) ** 2).sum()
    (gradient,) = torch.autograd.grad(scores, penalty_inputs, create_graph=True)
    gradient.square().sum().backward()
    assert penalty_inputs.grad is not None and penalty_inputs.grad.abs().sum() > 0


def test_augmentation_probability_selects_about_p_of_the_images() -> None:
    images = torch.rand(2000, 1, 8, 8)
    changed = (augment_cutout(images, 0.3, torch.Generator().manual_seed(0)) != images).flatten(1).any(dim=1)
    assert abs(changed.float().mean().item() - 0.3) < 0.04


def test_adaptive_probability_follows_the_sign_heuristic() -> None:
    controller = AdaptiveAugmentProbability(initial_p=0.0, target=0.6, interval=2, speed_images=100)
    controller.accumulate(torch.tensor([1.0, 2.0, 3.0, -1.0, 5.0]))  # r_t = 3/5 = 0.6: at target, no move
    controller.maybe_update(2)
    assert controller.p == 0.0
    controller.accumulate(torch.ones(10))  # r_t = 1 > 0.6: D overfits -> p up by 10/100
    controller.maybe_update(3)  # not an update step
    assert controller.p == 0.0
    controller.maybe_update(4)
    assert math.isclose(controller.p, 0.1)
    controller.accumulate(-torch.ones(30))  # r_t = -1: p down, clamped at 0
    state = controller.state_dict()
    restored = AdaptiveAugmentProbability(interval=2, speed_images=100)
    restored.load_state_dict(state)
    controller.maybe_update(6)
    restored.maybe_update(6)
    assert controller.p == restored.p == 0.0
    fixed = AdaptiveAugmentProbability(initial_p=0.3, adaptive=False)
    fixed.accumulate(torch.ones(100))
    fixed.maybe_update(0)
    assert fixed.p == 0.3
