"""``infogan datasets``: a table of every registered dataset."""

from __future__ import annotations

import json

import click

from infogan_kit.data import describe_datasets


@click.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON instead of text.")
def datasets(as_json: bool) -> None:
    """List every dataset: factors with sizes, image shape, whether it needs a file, and where
    the official file can be obtained. Nothing is ever downloaded."""
    infos = describe_datasets()
    if as_json:
        rows = [
            {
                "name": info.name,
                "factors": dict(zip(info.factor_names, info.factor_sizes)),
                "image_shape": list(info.image_shape),
                "needs_file": info.needs_file,
                "source": info.source,
                "description": info.description,
            }
            for info in infos
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for info in infos:
        factors = ", ".join(f"{n}={s}" for n, s in zip(info.factor_names, info.factor_sizes)) or "(no factors)"
        shape = "x".join(str(d) for d in info.image_shape)
        click.echo(f"{info.name}")
        click.echo(f"  factors:     {factors}")
        click.echo(f"  image shape: {shape}")
        click.echo(f"  needs file:  {info.needs_file}")
        if info.source:
            click.echo(f"  official:    {info.source}")
        click.echo(f"  about:       {info.description}")
