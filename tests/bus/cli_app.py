"""The bus commands in an app of their own, wired as the root app wires them.

``python -m tests.bus.cli_app relay …``: the commands need the main thread (signal
handlers), so tests run them as processes.
"""

from __future__ import annotations

import typer

from mentorflow.cli.bus import events_app, relay
from mentorflow.logging import configure_logging
from mentorflow.settings import load_settings

app = typer.Typer()
app.command()(relay)
app.add_typer(events_app, name="events")


@app.callback()
def root(ctx: typer.Context) -> None:
    """Settings and logging, as ``mentorflow`` sets them up."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    ctx.obj = settings


if __name__ == "__main__":
    app()
