"""Golden cases of the array metrics (protocol dlib) in disentanglement_lib's style, on a factor grid.

The grid has factor sizes (3, 4, 5): every combination appears 20 times, rows shuffled. The
identity representation (codes = factors) is perfectly disentangled; constant and random codes
carry no factor information; a duplicated latent spreads one factor over two codes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from infogan_kit.metrics.dci import dci
from infogan_kit.metrics.irs import irs
from infogan_kit.metrics.mig import mig
from infogan_kit.metrics.modularity import modularity
from infogan_kit.metrics.sap import sap
from infogan_kit.metrics.unsupervised import unsupervised

FACTOR_SIZES = (3, 4, 5)


@pytest.fixture(scope="module")
def grid_factors() -> np.ndarray:
    """[1200, 3] int: the full (3, 4, 5) grid repeated 20 times, rows shuffled."""
    grid = np.array(list(itertools.product(*[range(size) for size in FACTOR_SIZES])))
    repeated = np.tile(grid, (20, 1))
    return repeated[np.random.default_rng(0).permutation(len(repeated))]


@pytest.fixture(scope="module")
def representations(grid_factors: np.ndarray) -> dict[str, np.ndarray]:
    """Codes [1200, D] of several qualities for the grid factors."""
    rng = np.random.default_rng(1)
    identity = grid_factors.astype(np.float64)
    noisy = identity + 0.1 * rng.normal(size=identity.shape)
    return {
        "identity": identity,
        "constant": np.full(identity.shape, 0.7),
        "random": rng.normal(size=identity.shape),
        "noisy": noisy,
        "duplicated": np.concatenate([noisy, noisy[:, :1] + 0.1 * rng.normal(size=(len(noisy), 1))], axis=1),
    }


@pytest.fixture(scope="module")
def dci_scores(grid_factors, representations) -> dict[str, dict[str, float]]:
    """DCI of every representation (seeded, serial), computed once for the module."""
    return {name: dci(codes, grid_factors, n_jobs=1, random_state=0) for name, codes in representations.items()}


# ----------------------------------------------------------------------------- MIG


def test_mig_identity_on_full_grid_is_one(grid_factors, representations):
    # Each factor is captured by its own code (<= 20 classes: one bin per class) and the other
    # codes are exactly independent of it on a full grid, so every gap equals the entropy.
    assert mig(representations["identity"], grid_factors)["score"] == pytest.approx(1.0, abs=1e-12)


def test_mig_constant_and_random_are_about_zero(grid_factors, representations):
    assert mig(representations["constant"], grid_factors)["score"] == 0.0
    assert 0.0 <= mig(representations["random"], grid_factors)["score"] < 0.02


def test_mig_duplicated_latent_loses_that_factor(grid_factors, representations):
    noisy = mig(representations["noisy"], grid_factors)["score"]
    duplicated = mig(representations["duplicated"], grid_factors)["score"]
    assert noisy >= 0.9
    # Factor 0 is now shared by two codes: its gap falls from about 1 to about 0.
    assert duplicated < noisy - 0.25
    assert duplicated == pytest.approx(2 / 3, abs=0.05)


@pytest.mark.parametrize("scale,shift", [(3.7, -2.0), (1e-3, 5.0), (-0.5, 1.0)])
def test_mig_is_unchanged_by_affine_rescaling_of_a_code(grid_factors, representations, scale, shift):
    codes = representations["noisy"].copy()
    before = mig(codes, grid_factors)["score"]
    codes[:, 1] = scale * codes[:, 1] + shift
    assert mig(codes, grid_factors)["score"] == pytest.approx(before, abs=1e-12)


def test_mig_accepts_torch_tensors(grid_factors, representations):
    codes = representations["noisy"]
    from_torch = mig(torch.from_numpy(codes).float(), torch.from_numpy(grid_factors))["score"]
    assert from_torch == pytest.approx(mig(codes.astype(np.float32), grid_factors)["score"], abs=1e-12)
    half = torch.from_numpy(codes).to(torch.bfloat16).requires_grad_()
    assert mig(half, torch.from_numpy(grid_factors))["score"] >= 0.9


# ----------------------------------------------------------------------------- DCI


def test_dci_identity_scores_high(dci_scores):
    scores = dci_scores["identity"]
    assert scores["disentanglement"] >= 0.9
    assert scores["completeness"] >= 0.9
    assert scores["informativeness_test"] == pytest.approx(1.0)


def test_dci_constant_and_random_are_about_zero(dci_scores):
    constant = dci_scores["constant"]
    assert constant["disentanglement"] == pytest.approx(0.0, abs=1e-9)
    assert constant["completeness"] == pytest.approx(0.0, abs=1e-9)
    assert dci_scores["random"]["disentanglement"] < 0.05
    assert dci_scores["random"]["completeness"] < 0.05
    # Random codes cannot predict the factors better than chance on held-out rows.
    assert dci_scores["random"]["informativeness_test"] < 0.35


def test_dci_duplicated_latent_lowers_completeness_only(dci_scores):
    assert dci_scores["noisy"]["completeness"] >= 0.95
    assert dci_scores["duplicated"]["completeness"] < dci_scores["noisy"]["completeness"] - 0.1
    assert dci_scores["duplicated"]["disentanglement"] >= 0.95


# ----------------------------------------------------------------------------- SAP, modularity, IRS


def test_sap_orders_representations(grid_factors, representations):
    scores = {name: sap(codes, grid_factors, n_jobs=1)["score"] for name, codes in representations.items()}
    assert scores["constant"] == 0.0
    assert scores["random"] < 0.05
    assert scores["identity"] > 0.3
    assert scores["duplicated"] < scores["noisy"]


def test_modularity_identity_and_constant(grid_factors, representations):
    identity = modularity(representations["identity"], grid_factors)
    assert identity["modularity"] > 0.999
    assert identity["explicitness_train"] == pytest.approx(1.0) and identity["explicitness_test"] == pytest.approx(1.0)
    constant = modularity(representations["constant"], grid_factors)
    # No information: modularity 0 by definition, and constant class probabilities give AUC 0.5.
    assert constant == pytest.approx({"modularity": 0.0, "explicitness_train": 0.5, "explicitness_test": 0.5})


def test_irs_identity_constant_and_inactive_dims(grid_factors, representations):
    assert irs(representations["identity"], grid_factors) == {"score": pytest.approx(1.0), "num_active_dims": 3}
    assert irs(representations["constant"], grid_factors) == {"score": 0.0, "num_active_dims": 0}
    codes = np.concatenate([representations["identity"], np.full((len(grid_factors), 1), 2.0)], axis=1)
    assert irs(codes, grid_factors) == {"score": pytest.approx(1.0), "num_active_dims": 3}
    assert irs(representations["random"], grid_factors)["score"] < 0.4


def test_irs_discretizes_factors_with_more_than_20_classes():
    # 40 orientations x 2 shapes: the 20-bin discretizer groups orientations in pairs (2j, 2j+1).
    factors = np.array(list(itertools.product(range(40), range(2))))
    codes = factors.astype(np.float64)
    # Code 0: within-group deviation 0.5, max deviation 19.5 -> 1 - 0.5/19.5; code 1: IRS 1.
    # Average weighted by the max deviations (19.5, 0.5): (19.5 - 0.5 + 0.5) / 20.
    assert irs(codes, factors)["score"] == pytest.approx(19.5 / 20, abs=1e-12)
    assert irs(codes, factors, num_bins=40)["score"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- invariances


def _every_metric(codes: np.ndarray, factors: np.ndarray) -> dict[str, float]:
    results = {}
    for name, scores in [
        ("mig", mig(codes, factors)),
        ("sap", sap(codes, factors, n_jobs=1)),
        ("modularity", modularity(codes, factors)),
        ("irs", irs(codes, factors)),
        ("unsupervised", unsupervised(codes)),
    ]:
        results.update({f"{name}.{key}": value for key, value in scores.items()})
    return results


def test_permuting_code_dimensions_changes_nothing(grid_factors, representations, dci_scores):
    codes = representations["duplicated"]
    permutation = [3, 2, 0, 1]
    original = _every_metric(codes, grid_factors)
    permuted = _every_metric(codes[:, permutation], grid_factors)
    assert permuted == pytest.approx(original, abs=1e-6)
    permuted_dci = dci(codes[:, permutation], grid_factors, n_jobs=1, random_state=0)
    # Only the tie-breaking between equally good splits may differ.
    assert permuted_dci == pytest.approx(dci_scores["duplicated"], abs=0.01)


def test_default_split_is_first_two_thirds(grid_factors, representations):
    codes = representations["noisy"]
    num_train = 800  # ceil(2 * 1200 / 3)
    explicit = modularity(codes[:num_train], grid_factors[:num_train], codes[num_train:], grid_factors[num_train:])
    assert modularity(codes, grid_factors) == explicit
    shifted = modularity(codes[:799], grid_factors[:799], codes[799:], grid_factors[799:])
    assert shifted != explicit


def test_dci_parallel_equals_serial(grid_factors, representations, dci_scores):
    parallel = dci(representations["duplicated"], grid_factors, n_jobs=2, random_state=0)
    assert parallel == dci_scores["duplicated"]
