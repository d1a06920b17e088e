"""Click options and callbacks shared by several commands (metric selections, protocols, truncation)."""

from __future__ import annotations

import click

from infogan_kit.errors import MetricError


def check_protocol(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate a ``--protocol`` name (None passes through: the command picks one)."""
    from infogan_kit.metrics import get_protocol

    if value is None:
        return None
    try:
        return get_protocol(value).name
    except MetricError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def check_metrics(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Validate a ``--metrics`` selection (``all`` or comma-separated registered names)."""
    from infogan_kit.metrics import resolve_names

    try:
        resolve_names(value)
    except MetricError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None
    return value


truncation_option = click.option(
    "--truncation", "truncation_psi", type=click.FloatRange(0.0, 1.0), default=None,
    help="Truncation psi of a style-based model (1: none; 0.7: more typical images). Default: the run's model.truncation_psi.",
)
"""``--truncation PSI`` for the commands that draw from a generator (``sample``, ``traverse``)."""
