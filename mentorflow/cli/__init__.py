"""The ``mentorflow`` command line (typer + rich); the root app is `mentorflow.cli.app.app`."""
