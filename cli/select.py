"""``infogan select RUN... [--method udr-lasso|udr-spearman|centrality|all] [--json OUT]``:
rank runs without labels (UDR, ModelCentrality) and print the ranking."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from infogan_kit.cli.options import check_protocol

if TYPE_CHECKING:
    from infogan_kit.metrics import Protocol

METHOD_CHOICES = ("udr-lasso", "udr-spearman", "centrality", "all")




def format_ranking(selection: dict) -> str:
    """The printed ranking: one block per method (rank, score, model, run), the winner marked."""
    models = {entry["run"]: entry["model"] for entry in selection["runs"]}
    lines = []
    for method, result in selection["methods"].items():
        lines.append(f"{method}:")
        for entry in result["ranking"]:
            marker = "  <- selected" if entry["rank"] == 1 else ""
            lines.append(f"  {entry['rank']:>2}  {entry['score']:.4f}  {models[entry['run']]:<14} {entry['run']}{marker}")
        lines.append("")
    return "\n".join(lines).rstrip()


def with_votes(protocol: str, votes: int | None) -> Protocol:
    """The protocol, with ``votes`` FactorVAE training votes (half as many evaluation votes,
    at most ``votes * batch_size`` variance points) when given."""
    from infogan_kit.metrics import get_protocol

    chosen = get_protocol(protocol)
    if votes is None:
        return chosen
    sizes = chosen.metric_sizes("factor_vae")
    return chosen.replace(
        name=f"{chosen.name}-votes{votes}", comparable=False, factor_vae_num_train=votes,
        factor_vae_num_eval=max(1, votes // 2),
        factor_vae_num_variance_estimate=max(2, min(sizes["num_variance_estimate"], votes * sizes["batch_size"])),
    )


@click.command("select")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.option("--method", "method", type=click.Choice(METHOD_CHOICES), default="all", show_default=True,
              help="UDR with the Lasso or Spearman similarity, InfoGAN-CR's ModelCentrality, or all three.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the rankings, pairwise scores and settings to this file.")
@click.option("--protocol", default="fast", show_default=True, callback=check_protocol,
              help="FactorVAE sample sizes of ModelCentrality ('dlib': 15,000 votes of 64 images per run).")
@click.option("--votes", type=click.IntRange(min=1), default=None,
              help="ModelCentrality's FactorVAE training votes per run (evaluation: half as many; "
                   "variance points: at most votes x batch size). Default: the protocol's.")
@click.option("--num-points", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Data images every run represents for UDR.")
@click.option("--bins", "num_bins", type=click.IntRange(min=2), default=20, show_default=True,
              help="Bins of each continuous code when a generator's codes serve as factors (ModelCentrality).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the data draw, the Lasso fits and the generated data.")
@click.option("--data-path", default=None, help="Override the runs' recorded dataset file.")
@click.option("--device", default=None, help="auto, cpu or cuda.")
@click.pass_context
def select(ctx: click.Context, runs: tuple[str, ...], method: str, json_out: Path | None, protocol: str, votes: int | None,
           num_points: int, num_bins: int, seed: int, data_path: str | None, device: str | None) -> None:
    """Rank trained RUNs (at least two, same dataset) by unsupervised model selection scores.

    A seeds directory (`infogan train --seeds`) stands for its seed-<S> runs."""
    from infogan_kit.training.seeds import expand_run_dirs

    runs = tuple(expand_run_dirs(runs))  # a seeds directory stands for its seed-<S> runs
    if len(runs) < 2:
        ctx.fail("give at least two RUNs to rank")
    if len(set(runs)) != len(runs):
        ctx.fail("each RUN may be given only once")
    from infogan_kit.metrics import write_json_atomic
    from infogan_kit.run import load_run
    from infogan_kit.selection import METHODS, select_runs
    from infogan_kit.versions import library_versions

    loaded = [load_run(path, data_path=data_path, device=device) for path in runs]
    methods = METHODS if method == "all" else (method,)
    sizes = with_votes(protocol, votes)
    selection = select_runs(loaded, methods, protocol=sizes, seed=seed, num_points=num_points, num_bins=num_bins)
    selection["versions"] = library_versions()
    click.echo(format_ranking(selection))
    for note in selection["notes"]:
        click.echo(f"note: {note}")
    if json_out is not None:
        write_json_atomic(json_out, selection)
        click.echo(f"\nranking written to {json_out}")
