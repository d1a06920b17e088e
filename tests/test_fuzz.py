"""Fuzzed inputs (hypothesis, derandomized, at most 25 examples per property): every case works
or ends in exactly one ``Error:`` line, never a traceback, a hang or a damaged file."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infogan_kit.cli import run as cli
from infogan_kit.data import load_dataset
from infogan_kit.errors import InfoganError

FUZZ = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

KEYS = ["train.steps", "train.batch_size", "train.precision", "train.seed", "optim.lr_g", "model.latent",
        "model.noise_std", "model.lambda_cont", "data.name", "data.options", "train.time_budget_min", "preset"]
VALUES = st.one_of(
    st.text(max_size=12), st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(repr),
    st.sampled_from(["", "null", "[1, 2", "{a: 1}", "nan", "inf", "-0", "1e400", "true", "cont5+noise5", "[[0, 1]]"]),
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(args)
    return code, out.getvalue(), err.getvalue()


def assert_works_or_one_error(args: list[str]) -> int:
    code, out, err = run_cli(args)
    assert "Traceback" not in out + err
    if code != 0:
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, err
        assert "internal error" not in errors[0], errors[0]
    return code


# ---------------------------------------------------------------------------- config
@FUZZ
@given(key=st.one_of(st.sampled_from(KEYS), TEXT), value=VALUES, model=st.sampled_from(["infogan", "beta-vae"]))
def test_set_keys_and_values(key: str, value: str, model: str) -> None:
    assert_works_or_one_error(["train", "--model", model, "--set", f"{key}={value}", "--dry-run"])


YAML_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=8)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=8)


@FUZZ
@given(content=st.one_of(
    st.dictionaries(st.sampled_from(["model", "data", "train", "optim", "preset", "nope"]),
                    st.one_of(YAML_VALUES, st.dictionaries(st.sampled_from(["name", "steps", "batch_size", "latent", "lr_g", "x"]),
                                                           YAML_VALUES, max_size=3)), max_size=4).map(yaml.safe_dump),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1"))),
    suffix=st.sampled_from([".yaml", ".json", ".txt"]))
def test_config_files(content: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"run{suffix}"
        path.write_text(content, encoding="utf-8", errors="surrogateescape")
        assert_works_or_one_error(["train", "--config", str(path), "--dry-run"])


SPEC_PIECES = st.sampled_from(["cont", "cat", "noise", "bin", "5", "10", "0", "-1", "+", "x", "auto", "", "1e9", "99999999"])


@FUZZ
@given(spec=st.one_of(st.lists(SPEC_PIECES, max_size=6).map("".join), TEXT),
       field=st.sampled_from([("infogan", "model.latent"), ("stylegan-info", "model.latent"),
                              ("stylegan-info", "model.code_layers"), ("infogan-cr", "model.gap_schedule"),
                              ("infogan-cr", "model.alpha_start")]))
def test_latent_code_layer_and_schedule_strings(spec: str, field: tuple[str, str]) -> None:
    model, key = field
    assert_works_or_one_error(["train", "--model", model, "--set", f"{key}={spec}", "--dry-run"])


# ---------------------------------------------------------------------------- official-format loaders
def _idx(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">u1").tobytes()


MUTATIONS = st.sampled_from(["none", "rename", "dtype", "shape", "truncate", "empty"])


@FUZZ
@given(kind=st.sampled_from(["dsprites", "shapes3d", "mnist"]), mutation=MUTATIONS, cut=st.floats(0.0, 1.0),
       rows=st.integers(0, 6))
def test_official_format_loaders(kind: str, mutation: str, cut: float, rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        images = np.zeros((rows, 64, 64), np.uint8)
        if mutation == "dtype":
            images = images.astype(np.float32)
        if mutation == "shape":
            images = images.reshape(rows, 64 * 64) if rows else np.zeros((2, 3), np.uint8)
        if kind == "dsprites":
            path = folder / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
            key = "images" if mutation == "rename" else "imgs"
            np.savez(path, **{key: images, "latents_classes": np.zeros((rows, 6), np.int64), "latents_values": np.zeros((rows, 6))})
            target, name = path, "dsprites"
        elif kind == "shapes3d":
            import h5py

            path = folder / "3dshapes.h5"
            with h5py.File(path, "w") as handle:
                handle.create_dataset("pictures" if mutation == "rename" else "images", data=np.repeat(images[..., None], 3, -1))
                handle.create_dataset("labels", data=np.zeros((rows, 6)))
            target, name = path, "shapes3d"
        else:
            path = folder / ("train-images-idx3-ubyte" if mutation != "rename" else "train-pictures-idx3-ubyte")
            path.write_bytes(_idx(images[:, :28, :28] if images.ndim == 3 else images))
            (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.zeros(rows, np.uint8))))
            target, name = folder, "mnist"
        if mutation == "truncate":
            path.write_bytes(path.read_bytes()[: int(cut * path.stat().st_size)])
        if mutation == "empty":
            path.write_bytes(b"")
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            dataset = load_dataset(name, path=target)
            dataset.sample(2, __import__("torch").Generator().manual_seed(0))
        except InfoganError:
            pass
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before


# ---------------------------------------------------------------------------- evaluate --codes
SPECIAL = st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e308, -1e-300])


@FUZZ
@given(rows=st.integers(1, 60), columns=st.sampled_from([1, 2, 5, 64, 700]), extra_rows=st.sampled_from([0, 0, 0, 1, -1]),
       fill=st.sampled_from(["random", "constant", "special"]), special=SPECIAL, factor_values=st.integers(1, 4),
       metrics=st.sampled_from(["mig", "sap", "mig,modularity", "dci"]))
def test_codes_arrays(rows: int, columns: int, extra_rows: int, fill: str, special: float, factor_values: int, metrics: str) -> None:
    rng = np.random.default_rng(rows * 31 + columns)
    codes = {"random": rng.normal(size=(rows, columns)), "constant": np.ones((rows, columns))}.get(fill)
    if codes is None:
        codes = rng.normal(size=(rows, columns))
        codes[rng.integers(0, rows), rng.integers(0, columns)] = special
    factors = rng.integers(0, factor_values, size=(max(rows + extra_rows, 1), 2))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "codes.npz"
        np.savez(path, codes=codes, factors=factors)
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        half = max(rows // 2, 1)
        assert_works_or_one_error(["evaluate", "--codes", str(path), "--protocol", "fast", "--metrics", metrics,
                                   "--num-train", str(half), "--num-test", str(half)])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
