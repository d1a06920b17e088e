"""User-facing errors.

Anything a user can cause (a wrong path, a corrupt file, an invalid option) raises
:class:`InfoganError` with a message that says what is wrong and, where possible, how to
fix it. The CLI prints such errors as one ``Error: ...`` line on stderr and exits non-zero;
library users catch them like any exception.
"""

from __future__ import annotations


class InfoganError(Exception):
    """An error caused by the user's input, reported without a traceback by the CLI."""


class DatasetError(InfoganError):
    """A dataset is unknown, missing, corrupt or has the wrong layout."""


class ConfigError(InfoganError):
    """A configuration value is invalid."""


class CheckpointError(InfoganError):
    """A checkpoint or run directory cannot be used."""


class MetricError(InfoganError):
    """A metric cannot be computed on the given input."""
