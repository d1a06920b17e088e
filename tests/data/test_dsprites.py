"""Procedural dSprites: factor grid, index arithmetic and the rendering properties."""

from __future__ import annotations

import math

import pytest
import torch

from infogan_kit.data import DSprites, load_dataset
from infogan_kit.errors import DatasetError


@pytest.fixture(scope="module")
def dsprites() -> DSprites:
    return load_dataset("dsprites")


def test_contract_attributes(dsprites: DSprites) -> None:
    assert dsprites.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert dsprites.factor_sizes == (3, 6, 40, 32, 32)
    assert dsprites.image_shape == (1, 64, 64)
    assert dsprites.num_factors == 5
    assert dsprites.num_combinations == 737_280


def test_grid_values_match_official_release() -> None:
    values = DSprites.factor_values()
    assert torch.equal(values["shape"], torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert torch.allclose(values["scale"], torch.tensor([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], dtype=torch.float64))
    orientation = values["orientation"]
    assert len(orientation) == 40 and orientation[0] == 0.0
    assert orientation[-1] == pytest.approx(2 * math.pi)  # both ends included
    assert len(values["pos_x"]) == 32 and values["pos_x"][0] == 0 and values["pos_x"][-1] == 1


def test_index_factor_round_trip_over_whole_grid(dsprites: DSprites) -> None:
    index = torch.arange(dsprites.num_combinations)
    factors = dsprites.index_to_factors(index)
    assert factors.shape == (737_280, 5)
    assert torch.equal(dsprites.factors_to_index(factors), index)
    # posY is fastest, shape slowest, as in the official npz.
    assert factors[1].tolist() == [0, 0, 0, 0, 1]
    assert factors[32].tolist() == [0, 0, 0, 1, 0]
    assert factors[-1].tolist() == [2, 5, 39, 31, 31]
    for column, size in enumerate(dsprites.factor_sizes):
        assert torch.equal(torch.bincount(factors[:, column]), torch.full((size,), 737_280 // size))


def test_index_out_of_range_is_refused(dsprites: DSprites) -> None:
    with pytest.raises(DatasetError, match="out of range"):
        dsprites.index_to_factors(torch.tensor([737_280]))
    with pytest.raises(DatasetError, match="outside the grid"):
        dsprites.images(torch.tensor([[3, 0, 0, 0, 0]]))
    with pytest.raises(DatasetError, match="5 factors"):
        dsprites.images(torch.zeros(2, 4, dtype=torch.long))


def test_sample_factors_uniform_and_seeded(dsprites: DSprites) -> None:
    first = dsprites.sample_factors(30_000, torch.Generator().manual_seed(3))
    again = dsprites.sample_factors(30_000, torch.Generator().manual_seed(3))
    assert torch.equal(first, again) and first.dtype == torch.long
    for column, size in enumerate(dsprites.factor_sizes):
        counts = torch.bincount(first[:, column], minlength=size).double()
        assert counts.min() > 0
        # Chi-square-ish bound: every class within 20% of the expected count.
        assert (counts / (30_000 / size) - 1).abs().max() < 0.2


def test_renders_deterministic_binary_in_frame(dsprites: DSprites, generator: torch.Generator) -> None:
    factors = dsprites.sample_factors(2000, generator)
    images = dsprites.images(factors)
    assert images.shape == (2000, 1, 64, 64) and images.dtype == torch.float32
    assert torch.equal(images, dsprites.images(factors))
    assert set(images.unique().tolist()) <= {0.0, 1.0}
    assert (images.sum((1, 2, 3)) > 0).all()
    # Even the largest sprites at the extreme positions keep a black border row/column.
    corners = torch.tensor([[s, 5, o, x, y] for s in range(3) for o in range(0, 40, 3) for x in (0, 31) for y in (0, 31)])
    extreme = dsprites.images(corners)
    border = torch.cat([extreme[..., 0, :], extreme[..., -1, :], extreme[..., :, 0], extreme[..., :, -1]], -1)
    assert border.sum() == 0


def test_orientation_ends_identical(dsprites: DSprites) -> None:
    base = torch.tensor([[s, c, 0, 10, 20] for s in range(3) for c in range(6)])
    wrapped = base.clone()
    wrapped[:, 2] = 39
    assert torch.equal(dsprites.images(base), dsprites.images(wrapped))
    quarter = base.clone()
    quarter[:, 2] = 7  # not a symmetry of the heart
    assert not torch.equal(dsprites.images(base[12:]), dsprites.images(quarter[12:]))


def _centroid(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mass = images[:, 0]
    rows = torch.arange(64.0)
    total = mass.sum((1, 2))
    return (mass.sum(2) * rows).sum(1) / total, (mass.sum(1) * rows).sum(1) / total


def test_centroid_moves_monotonically_with_position(dsprites: DSprites) -> None:
    along_x = torch.tensor([[1, 3, 5, x, 12] for x in range(32)])
    along_y = torch.tensor([[2, 4, 9, 7, y] for y in range(32)])
    _, cols = _centroid(dsprites.images(along_x))
    rows, _ = _centroid(dsprites.images(along_y))
    assert (cols.diff() > 0.5).all() and (cols.diff() < 1.5).all()  # about one pixel per step
    assert (rows.diff() > 0.5).all() and (rows.diff() < 1.5).all()


def test_area_grows_with_scale(dsprites: DSprites) -> None:
    for shape in range(3):
        factors = torch.tensor([[shape, c, 4, 16, 16] for c in range(6)])
        area = dsprites.images(factors).sum((1, 2, 3))
        assert (area.diff() > 0).all(), area


def test_mean_pixel_close_to_real_dsprites(dsprites: DSprites) -> None:
    images, _ = dsprites.sample(20_000, torch.Generator().manual_seed(1))
    assert 0.03 <= images.mean().item() <= 0.06


def test_sample_batches_and_torch_dataset(dsprites: DSprites) -> None:
    iterator = dsprites.batches(16, torch.Generator().manual_seed(0))
    images, factors = next(iterator)
    images2, factors2 = next(iterator)
    assert images.shape == (16, 1, 64, 64) and factors.shape == (16, 5)
    assert not torch.equal(factors, factors2)
    view = dsprites.as_torch_dataset()
    assert len(view) == 737_280
    image, item_factors = view[737_279]
    assert item_factors.tolist() == [2, 5, 39, 31, 31]
    assert torch.equal(image, dsprites.images(item_factors[None])[0])
    with pytest.raises(DatasetError):
        dsprites.batches(0).__next__()


@pytest.mark.parametrize("name, channels", [("color_dsprites", 3), ("noisy_dsprites", 3)])
def test_variants_seeded_and_in_range(name: str, channels: int) -> None:
    dataset = load_dataset(name)
    factors = dataset.sample_factors(64, torch.Generator().manual_seed(0))
    first = dataset.images(factors, generator=torch.Generator().manual_seed(5))
    again = dataset.images(factors, generator=torch.Generator().manual_seed(5))
    other = dataset.images(factors, generator=torch.Generator().manual_seed(6))
    assert first.shape == (64, channels, 64, 64)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.min() >= 0 and first.max() <= 1
    mask = load_dataset("dsprites").images(factors)
    if name == "color_dsprites":
        on = first.permute(1, 0, 2, 3)[:, mask[:, 0] > 0]
        assert on.min() >= 0.5 and (first * (1 - mask)).abs().max() == 0
    else:
        assert (first[mask.expand_as(first) > 0] == 1).all()
        background = first[mask.expand_as(first) == 0]
        assert 0.45 < background.mean() < 0.55


def test_unknown_dataset_lists_names() -> None:
    with pytest.raises(DatasetError, match="available: .*dsprites"):
        load_dataset("nope")
    with pytest.raises(DatasetError, match="invalid options"):
        load_dataset("dsprites", colour="red")
