"""The ``infogan`` command line: a click group whose verbs live in their own modules.

Installed as ``infogan_kit.cli`` (see pyproject's package-dir). Every error a user can cause
ends with one ``Error: ...`` line on stderr and a non-zero exit status (2 for invalid usage);
tracebacks are shown only with ``INFOGAN_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from infogan_kit.errors import InfoganError
from infogan_kit.versions import __version__

# verb -> "module:attribute" inside this package; modules are imported only when used,
# so `infogan --help` stays fast and a verb's heavy imports do not slow the others.
COMMANDS: dict[str, str] = {
    "train": "train:train",
    "sample": "sample:sample",
    "traverse": "traverse:traverse",
    "datasets": "datasets:datasets",
    "evaluate": "evaluate:evaluate",
    "compare": "compare:compare",
    "select": "select:select",
    "explore": "explore:explore",
}


class LazyGroup(click.Group):
    """A click group that imports each verb's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        return getattr(module, attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="infogan")
def cli() -> None:
    """infogan-kit: train InfoGAN / InfoGAN-CR / StyleGAN-style GANs and VAE baselines,
    and score them with the standard disentanglement metrics.

    Run `infogan COMMAND --help` for the options of each command.
    """


def _fail(message: str, code: int = 1) -> int:
    click.echo(f"Error: {message}", err=True)
    return code


def run(args: list[str] | None = None) -> int:
    """Run the CLI on ``args`` (default: ``sys.argv[1:]``) and return the exit status."""
    debug = os.environ.get("INFOGAN_DEBUG", "") not in ("", "0")
    try:
        result = cli.main(args=args, prog_name="infogan", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as stop:
        return stop.exit_code
    except click.ClickException as error:
        error.show()  # click's usage lines, then "Error: ..."
        return error.exit_code
    except click.exceptions.Abort:
        return _fail("aborted", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except InfoganError as error:
        if debug:
            raise
        return _fail(str(error))
    except Exception as error:  # noqa: BLE001 - the last line of defence: never a traceback
        if debug:
            raise
        detail = str(error).splitlines()[0] if str(error) else ""
        return _fail(f"internal error ({type(error).__name__}: {detail}); set INFOGAN_DEBUG=1 for the traceback")


def main(args: Any = None) -> None:
    """Console-script entry point: run the CLI and exit with its status."""
    sys.exit(run(args))
