"""Commands other installed packages add to ``mentorflow``: the ``mentorflow.cli`` entry points.

The production package knows no development tooling. A package that brings commands declares
an entry point in the group ``mentorflow.cli`` naming a `CliExtension`: its command groups,
its commands, and which of its errors are bad input (exit code 2) and which failures (1).
The repository's development package ``devstack`` (``mentorflow stack up | down | status``,
``mentorflow demo``) is one, declared in pyproject.toml::

    [project.entry-points."mentorflow.cli"]
    devstack = "devstack.cli:extension"

The project's wheel (the Docker image) carries that declaration but not ``devstack``, which
lives beside ``tests/`` in the repository: without it the entry point is skipped and
``mentorflow`` simply has no ``stack`` or ``demo`` command. An extension that is installed
but fails to import is an error, not skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import typer

ENTRY_POINT_GROUP = "mentorflow.cli"


@dataclass(frozen=True)
class CliExtension:
    """What a package adds to the ``mentorflow`` command line.

    Attributes:
        groups: Sub-apps by name (``mentorflow NAME ...``).
        commands: Plain commands, named after their functions.
        bad_input_errors: Errors that mean bad input: exit code 2, every problem listed
            (an error with a ``problems`` sequence gets one line per problem).
        failure_errors: Known failures: exit code 1 with the message, no trace.
    """

    groups: Mapping[str, typer.Typer] = field(default_factory=dict)
    commands: Sequence[Callable[..., Any]] = ()
    bad_input_errors: tuple[type[Exception], ...] = ()
    failure_errors: tuple[type[Exception], ...] = ()

    def install(self, app: typer.Typer) -> None:
        """Add the groups and commands to ``app``."""
        for name, group in self.groups.items():
            app.add_typer(group, name=name)
        for command in self.commands:
            app.command()(command)


class ExtensionInvalid(TypeError):
    """A ``mentorflow.cli`` entry point names something other than a `CliExtension`."""


def _is_absent(entry_point: EntryPoint, error: ModuleNotFoundError) -> bool:
    """True when the error says the entry point's own top-level package is not installed."""
    return error.name == entry_point.module.partition(".")[0]


def load_extensions(points: Iterable[EntryPoint] | None = None) -> list[CliExtension]:
    """The extensions of every installed package, in the order of their entry point names.

    Args:
        points: The entry points to load; by default the installed ones of the group.

    Raises:
        ExtensionInvalid: When an entry point names something else.
        ImportError: When an installed extension fails to import.
    """
    extensions: list[CliExtension] = []
    if points is None:
        points = entry_points(group=ENTRY_POINT_GROUP)
    for entry_point in sorted(points, key=lambda point: point.name):
        try:
            extension = entry_point.load()
        except ModuleNotFoundError as error:
            if _is_absent(entry_point, error):
                continue  # declared in the project's metadata, not installed here
            raise
        if not isinstance(extension, CliExtension):
            raise ExtensionInvalid(
                f"entry point {entry_point.name} = {entry_point.value} "
                f"is a {type(extension).__name__}, not a CliExtension"
            )
        extensions.append(extension)
    return extensions
