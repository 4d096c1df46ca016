"""Commands from other packages: the ``mentorflow.cli`` entry points (`mentorflow.cli.extensions`).

The development stack and the demo reach the command line this way only; a production install
lacks the ``devstack`` package and therefore the commands, and says nothing about it.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from devstack.cli import extension as devstack_extension
from devstack.demo import DemoFailed
from devstack.stack import StackConfigInvalid, StackError
from mentorflow.cli.app import BAD_INPUT_ERRORS, FAILURE_ERRORS, app, exit_code_for, problems_of
from mentorflow.cli.extensions import ENTRY_POINT_GROUP, ExtensionInvalid, load_extensions


def _point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def _command_names() -> set[str]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return set(root.commands)


def test_the_project_declares_devstack_and_the_app_has_its_commands() -> None:
    declared = {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}

    assert declared == {"devstack": "devstack.cli:extension"}
    assert load_extensions() == [devstack_extension]
    assert {"stack", "demo"} <= _command_names()


def test_the_errors_of_the_stack_and_the_demo_keep_their_exit_codes() -> None:
    invalid = StackConfigInvalid(["temporal address: no port", "nats url: bad scheme"])

    assert exit_code_for(invalid) == 2
    assert problems_of(invalid) == ["temporal address: no port", "nats url: bad scheme"]
    assert exit_code_for(StackError("stack locked")) == 1
    assert exit_code_for(DemoFailed("a pair did not close")) == 1
    assert StackConfigInvalid in BAD_INPUT_ERRORS
    assert {StackError, DemoFailed} <= set(FAILURE_ERRORS)


def test_an_extension_whose_package_is_not_installed_is_skipped() -> None:
    points = [_point("gone", "mentorflow_no_such_package.cli:extension")]

    assert load_extensions(points) == []


def test_an_installed_extension_that_fails_to_import_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mentorflow_broken_extension"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text("import mentorflow_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ModuleNotFoundError, match="mentorflow_missing_dependency"):
        load_extensions([_point("broken", "mentorflow_broken_extension.cli:extension")])


def test_an_entry_point_naming_something_else_is_refused() -> None:
    with pytest.raises(ExtensionInvalid, match="not a CliExtension"):
        load_extensions([_point("odd", "mentorflow.cli.app:app")])
