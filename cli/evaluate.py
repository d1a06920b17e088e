"""``infogan evaluate``: score a trained run or precomputed codes with the metric suite.

Two inputs, one command::

    infogan evaluate --codes codes.npz [--metrics all|mig,dci,...] [--protocol dlib|fast]
                     [--num-train N --num-test M] [--shuffle SEED] [--seed S] [--json OUT]
    infogan evaluate RUN_DIR_OR_CHECKPOINT [--metrics ...] [--protocol ...] [--json OUT]

The codes file is an ``.npz`` archive holding ``codes`` (N x D floats), ``factors`` (N x K
0-based integers) and optionally ``factor_sizes`` (K integers; default: the largest class + 1)
and ``dataset`` (a name recorded in the result). The result table goes to stdout and the whole
result object to ``--json``.

The ``RUN`` path is a seam: :func:`_evaluate_run` will load the run with the training module
(``infogan_kit.load_run``), evaluate its ``represent`` on the run's dataset with
:func:`infogan_kit.metrics.evaluate`, and merge the result into the run's ``metrics.json``
(:func:`infogan_kit.metrics.merge_into_metrics_file`). Until the training module exists it
raises a clear error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from infogan_kit.errors import InfoganError, MetricError

CODES_KEYS = ("codes", "factors")
OPTIONAL_KEYS = ("factor_sizes", "dataset")


def _check_protocol(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from infogan_kit.metrics import get_protocol

    try:
        return get_protocol(value).name
    except MetricError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _check_metrics(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from infogan_kit.metrics import resolve_names

    try:
        resolve_names(value)
    except MetricError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None
    return value


def load_codes_file(path: Path) -> dict[str, Any]:
    """Read a ``--codes`` archive.

    Returns:
        ``{"codes": [N, D], "factors": [N, K], "factor_sizes": [K] or None, "dataset": str or None}``.

    Raises:
        InfoganError: unreadable file, not an ``.npz`` archive, a missing key.
    """
    import zipfile

    import numpy as np

    try:
        with open(path, "rb") as stream:
            magic = stream.read(6)
    except OSError as error:
        raise InfoganError(f"cannot read codes file {path}: {error.strerror or error}") from None
    if magic == b"\x93NUMPY":
        raise InfoganError(f"codes file {path} is a single array (.npy); expected an .npz archive with arrays {CODES_KEYS}")
    if not zipfile.is_zipfile(path):
        raise InfoganError(f"cannot read codes file {path}: not an .npz archive (save it with numpy.savez)")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - numpy raises many types for a bad file
        raise InfoganError(f"cannot read codes file {path}: {type(error).__name__}: {error}") from None
    with archive:
        missing = [key for key in CODES_KEYS if key not in archive.files]
        if missing:
            raise InfoganError(
                f"codes file {path} has no array {missing[0]!r} (it holds: {', '.join(archive.files) or 'nothing'}); "
                "expected 'codes' [N, D], 'factors' [N, K] and optionally 'factor_sizes' [K]"
            )
        try:
            data = {key: archive[key] for key in CODES_KEYS + OPTIONAL_KEYS if key in archive.files}
        except Exception as error:  # noqa: BLE001 - corrupt member, object arrays
            raise InfoganError(f"cannot read codes file {path}: {type(error).__name__}: {error}") from None
    dataset = data.get("dataset")
    return {
        "codes": data["codes"],
        "factors": data["factors"],
        "factor_sizes": data.get("factor_sizes"),
        "dataset": None if dataset is None else str(dataset),
    }


def _evaluate_run(run: Path, *, names: str, protocol: str, seed: int) -> dict[str, Any]:
    """Evaluate a trained run directory or checkpoint (the seam for the training module).

    Intended behaviour: ``run = infogan_kit.load_run(run)``; ``result =
    metrics.evaluate(run.represent, run.dataset, names, protocol, seed, device=run.device)``;
    ``metrics.merge_into_metrics_file(run.directory / "metrics.json", result)``; return result.

    Raises:
        InfoganError: always, until the training module provides ``load_run``.
    """
    raise InfoganError(
        f"evaluating a run directory needs the training module (infogan_kit.load_run), which is not "
        f"available yet; to score {run}, export its codes and factors to an .npz file and use --codes FILE.npz"
    )


@click.command("evaluate")
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--codes", "codes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An .npz with 'codes' [N,D], 'factors' [N,K] (0-based ints), optional 'factor_sizes' [K].")
@click.option("--metrics", "names", default="all", show_default=True, callback=_check_metrics,
              help="'all' (every metric that applies) or a comma-separated list, e.g. mig,dci,sap.")
@click.option("--protocol", default="dlib", show_default=True, callback=_check_protocol,
              help="'dlib' (disentanglement_lib sizes and estimators, comparable with published numbers) "
                   "or 'fast' (seconds; NOT comparable).")
@click.option("--num-train", type=click.IntRange(min=1), default=None,
              help="Train rows of the codes file, used first (default: the protocol's, 10,000 for dlib).")
@click.option("--num-test", type=click.IntRange(min=1), default=None,
              help="Test rows, right after the train rows (default: the protocol's, 5,000 for dlib).")
@click.option("--shuffle", "shuffle_seed", type=int, default=None,
              help="Shuffle the rows with this seed before splitting (for files stored in grid order).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw and estimator.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the whole result object (config, versions, metrics, notes) to this file.")
@click.pass_context
def evaluate(
    ctx: click.Context,
    run: Path | None,
    codes_file: Path | None,
    names: str,
    protocol: str,
    num_train: int | None,
    num_test: int | None,
    shuffle_seed: int | None,
    seed: int,
    json_out: Path | None,
) -> None:
    """Score disentanglement of a trained RUN (directory or checkpoint) or of --codes FILE.npz.

    Prints a table of every metric and writes the full result JSON with --json.
    """
    if run is not None and codes_file is not None:
        ctx.fail("give either a RUN or --codes FILE, not both")
    if run is None and codes_file is None:
        ctx.fail("give a RUN directory / checkpoint, or --codes FILE.npz")
    from infogan_kit import metrics

    if run is not None:
        if num_train is not None or num_test is not None or shuffle_seed is not None:
            ctx.fail("--num-train, --num-test and --shuffle apply to --codes files only")
        result = _evaluate_run(run, names=names, protocol=protocol, seed=seed)
    else:
        data = load_codes_file(codes_file)
        result = metrics.evaluate_codes(
            data["codes"], data["factors"], data["factor_sizes"], names, protocol, seed,
            num_train, num_test, shuffle_seed, dataset_name=data["dataset"], source=str(codes_file),
        )
    click.echo(metrics.format_table(result))
    if json_out is not None:
        metrics.write_json_atomic(json_out, result)
        click.echo(f"\nresult written to {json_out}")
