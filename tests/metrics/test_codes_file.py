"""The codes file of ``infogan evaluate --codes``: written atomically, read back equal, and bad
files rejected with the messages the CLI prints; and the one home of the factor-grid arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infogan_kit.data import load_dataset
from infogan_kit.data.base import grid_factors, grid_flat_index, num_grid_points
from infogan_kit.errors import MetricError
from infogan_kit.metrics import read_codes_file, write_codes_file
from infogan_kit.metrics.sampling import flat_index


def test_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(12, 3)).astype(np.float32)
    factors = rng.integers(0, 4, size=(12, 2))
    written = write_codes_file(tmp_path / "sub" / "codes.npz", codes, factors, (4, 5), "toy")
    assert written == tmp_path / "sub" / "codes.npz" and sorted(p.name for p in written.parent.iterdir()) == ["codes.npz"]
    data = read_codes_file(written)
    np.testing.assert_array_equal(data.codes, codes)
    assert data.codes.dtype == np.float32
    np.testing.assert_array_equal(data.factors, factors)
    np.testing.assert_array_equal(data.factor_sizes, [4, 5])
    assert data.dataset == "toy"
    with np.load(written) as archive:  # the keys Run.save_codes writes
        assert sorted(archive.files) == ["codes", "dataset", "factor_sizes", "factors"]


def test_optional_keys_may_be_absent(tmp_path) -> None:
    np.savez(tmp_path / "c.npz", codes=np.zeros((3, 2)), factors=np.zeros((3, 1), dtype=np.int64))
    data = read_codes_file(tmp_path / "c.npz")
    assert data.factor_sizes is None and data.dataset is None


def test_bad_files(tmp_path) -> None:
    np.savez(tmp_path / "labels.npz", codes=np.zeros((3, 2)), labels=np.zeros(3))
    with pytest.raises(MetricError, match="has no array 'factors' \\(it holds: codes, labels\\)"):
        read_codes_file(tmp_path / "labels.npz")
    np.save(tmp_path / "single.npy", np.zeros((3, 3)))
    with pytest.raises(MetricError, match="is a single array"):
        read_codes_file(tmp_path / "single.npy")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(MetricError, match="not an .npz archive"):
        read_codes_file(tmp_path / "garbage.npz")
    with pytest.raises(MetricError, match="cannot read codes file .*absent.npz"):
        read_codes_file(tmp_path / "absent.npz")


def test_grid_arithmetic_has_one_home() -> None:
    dataset = load_dataset("dsprites")
    sizes = dataset.factor_sizes
    index = torch.tensor([0, 1, 39, 40, 12_345, num_grid_points(sizes) - 1])
    factors = dataset.index_to_factors(index)
    torch.testing.assert_close(factors, grid_factors(index, sizes))
    torch.testing.assert_close(dataset.factors_to_index(factors), index)
    torch.testing.assert_close(grid_flat_index(factors, sizes), index)
    np.testing.assert_array_equal(flat_index(factors.numpy(), sizes), index.numpy())
    np.testing.assert_array_equal(flat_index(factors, sizes), index.numpy())
    assert dataset.num_combinations == num_grid_points(sizes) == 737_280
