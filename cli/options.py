"""Click callbacks shared by the commands that take metric selections and protocols."""

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
