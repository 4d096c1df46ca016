"""The ``mentorflow`` command line: the root app, and the one place errors become exit codes.

Exit codes (contract): 0 success, 2 bad input (every problem listed), 1 any other failure.
Commands raise their packages' typed errors; `ExitCodeGroup` prints them and exits with the
code `exit_code_for` gives, so each command stays free of error plumbing and the mapping is
the same under ``main()`` and under ``typer.testing.CliRunner``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import pydantic
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from bus import BusError
from domain.cohort_spec import CohortSpecInvalid
from eventstore import EventStoreError
from mentorflow.cli.api import api, tokens_app
from mentorflow.cli.bus import events_app, relay
from mentorflow.cli.cohorts import cohort_app
from mentorflow.cli.console import login_link
from mentorflow.cli.deadletters import deadletters_app
from mentorflow.cli.extensions import load_extensions
from mentorflow.cli.mentorships import mentorship_app
from mentorflow.cli.people import people_app
from mentorflow.cli.projections import projections_app, projector
from mentorflow.cli.services import notifier, serve, worker
from mentorflow.cohorts import CohortNotFound, MatchingNotDone
from mentorflow.dead_letter_errors import (
    CommandDeadLetterGone,
    CommandDeadLetterNotRetryable,
    DeadLetterError,
    DeadLetterNotFound,
)
from mentorflow.directory import DirectoryError
from mentorflow.directory.csv_import import PeopleImportInvalid
from mentorflow.keyring import KeyRingInvalid
from mentorflow.logging import configure_logging
from mentorflow.people import PersonIdInvalid
from mentorflow.settings import load_settings
from mentorflow.telemetry import TelemetryConfigInvalid, configure_tracing, shutdown_tracing
from notifications import NotADeadLetter, NotificationError, OutboxEntryNotFound
from projections import EventAlreadyApplied, EventNotFound, ProjectionError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

# Commands of other installed packages (the development stack and demo): mentorflow.cli entry
# points, loaded once; the production package imports none of them.
EXTENSIONS = load_extensions()

# Extend these as packages gain commands: bad input first, then the packages' base errors.
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (
    *(error for extension in EXTENSIONS for error in extension.bad_input_errors),
    CohortSpecInvalid,
    CohortNotFound,
    PersonIdInvalid,
    PeopleImportInvalid,
    EventNotFound,
    EventAlreadyApplied,
    KeyRingInvalid,
    OutboxEntryNotFound,
    NotADeadLetter,
    DeadLetterNotFound,
    CommandDeadLetterNotRetryable,
    CommandDeadLetterGone,
    TelemetryConfigInvalid,
    pydantic.ValidationError,
)
FAILURE_ERRORS: tuple[type[Exception], ...] = (
    *(error for extension in EXTENSIONS for error in extension.failure_errors),
    EventStoreError,
    BusError,
    ProjectionError,
    DirectoryError,
    MatchingNotDone,
    NotificationError,
    DeadLetterError,
)


@runtime_checkable
class ListsProblems(Protocol):
    """An error that carries every problem it found, one sentence each."""

    problems: Sequence[str]


def exit_code_for(error: Exception) -> int | None:
    """The exit code of a known error; None for an unexpected one (a bug: show the trace)."""
    if isinstance(error, BAD_INPUT_ERRORS):
        return EXIT_BAD_INPUT
    if isinstance(error, FAILURE_ERRORS):
        return EXIT_FAILURE
    return None


def problems_of(error: Exception) -> list[str]:
    """Every problem an error reports, one sentence each."""
    if isinstance(error, pydantic.ValidationError):
        return [
            f"{'.'.join(str(part) for part in detail['loc']) or 'input'}: {detail['msg']}"
            for detail in error.errors()
        ]
    if isinstance(error, ListsProblems):
        return list(error.problems)
    return [str(error)]


def report_error(error: Exception, console: Console) -> None:
    """Print an error for a person: a headline, then one line per problem."""
    if isinstance(error, BAD_INPUT_ERRORS):
        console.print("[bold red]Invalid input:[/]")
        for problem in problems_of(error):
            console.print(f"  - {escape(problem)}")
    else:
        console.print(f"[bold red]Error:[/] {escape(str(error))}")


class ExitCodeGroup(TyperGroup):
    """The root command group: maps the errors of every subcommand to exit codes."""

    # typer types ``ctx`` with its private vendored click Context; Any keeps the override sound.
    def invoke(self, ctx: Any) -> Any:
        """Run the command; print a known error and exit with its code."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as error:
            code = exit_code_for(error)
            if code is None:
                raise
            report_error(error, Console(stderr=True, highlight=False, soft_wrap=True))
            raise typer.Exit(code) from error


app = typer.Typer(
    name="mentorflow",
    cls=ExitCodeGroup,
    help="Event-sourced mentoring programs on Temporal, PostgreSQL and NATS JetStream.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(cohort_app, name="cohort")
app.add_typer(mentorship_app, name="mentorship")
app.add_typer(events_app, name="events")
app.command()(relay)
app.command()(projector)
app.add_typer(projections_app, name="projections")
app.command()(api)
app.add_typer(tokens_app, name="tokens")
app.command("login-link")(login_link)
app.add_typer(people_app, name="people")
app.add_typer(deadletters_app, name="deadletters")
app.command()(serve)
app.command()(notifier)
app.command()(worker)
for extension in EXTENSIONS:
    extension.install(app)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Event-sourced mentoring programs on Temporal, PostgreSQL and NATS JetStream."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    # One service.name per command: mentorflow-serve, mentorflow-worker, mentorflow-cohort, …
    configure_tracing(f"mentorflow-{ctx.invoked_subcommand or 'cli'}")
    ctx.obj = settings


def main() -> None:
    """Console entry point (``mentorflow = "mentorflow.cli.app:main"``).

    Exits without interpreter finalization once every output is flushed: the Temporal
    client's Rust runtime threads can otherwise abort the process at exit (SIGABRT,
    "PyGILState_Release", temporalio/sdk-python#300), which would turn a success into
    exit code -6.
    """
    code = 0
    try:
        app()
    except SystemExit as exit_request:
        code = (
            exit_request.code
            if isinstance(exit_request.code, int)
            else int(exit_request.code is not None)
        )
    except Exception:
        traceback.print_exc()
        code = EXIT_FAILURE
    shutdown_tracing()  # os._exit skips the exporter's own exit hook
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
