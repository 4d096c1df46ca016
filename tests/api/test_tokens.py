"""The tokens file and ``mentorflow tokens add``: hashes only, 0600, re-read on change."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mentorflow.api import create_app
from mentorflow.api.tokens import (
    Principal,
    Role,
    TokenRegistry,
    TokensFileInvalid,
    add_token,
    hash_token,
    read_tokens,
)
from mentorflow.cli.api import tokens_app
from mentorflow.settings import Settings


def test_added_tokens_are_stored_as_hashes_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "tokens.json"

    token = add_token(path, Role.MENTEE, "p-002")
    second = add_token(path, Role.HR_ADMIN)

    records = json.loads(path.read_text())
    assert records == [
        {"sha256": hash_token(token), "role": "mentee", "person_id": "p-002"},
        {"sha256": hash_token(second), "role": "hr_admin", "person_id": None},
    ]
    assert token not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 43
    assert token != second


def test_participant_tokens_need_a_person(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a person_id"):
        add_token(tmp_path / "tokens.json", Role.MENTOR)


def test_the_registry_sees_tokens_added_after_it_started(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    registry = TokenRegistry(path)
    registry.load()

    assert registry.lookup("anything") is None
    token = add_token(path, Role.MENTOR, "p-001")
    assert registry.lookup(token) == Principal(Role.MENTOR, "p-001")


def test_a_file_turning_invalid_keeps_the_tokens_read_before(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, Role.SERVICE)
    registry = TokenRegistry(path)
    registry.load()

    path.write_text("[{]")

    assert registry.lookup(token) == Principal(Role.SERVICE, None)


def test_an_invalid_file_stops_the_api_from_starting(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([{"sha256": "abc", "role": "boss"}]))

    with pytest.raises(TokensFileInvalid) as invalid:
        create_app(Settings(api_tokens_file=path))

    assert len(invalid.value.problems) == 2
    with pytest.raises(TokensFileInvalid):
        read_tokens(path)


def _cli(path: Path) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = Settings(api_tokens_file=path)

    app.add_typer(tokens_app, name="tokens")
    return app


def test_tokens_add_prints_the_token_once_and_stores_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"

    result = CliRunner().invoke(
        _cli(path), ["tokens", "add", "--role", "mentor", "--person", "p-1"]
    )

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert read_tokens(path)[0].sha256 == hash_token(token)
    assert read_tokens(path)[0].person_id == "p-1"


@pytest.mark.parametrize(
    "arguments", [["--role", "mentee"], ["--role", "boss"]], ids=["no-person", "bad-role"]
)
def test_tokens_add_rejects_bad_input_with_exit_code_2(
    tmp_path: Path, arguments: list[str]
) -> None:
    path = tmp_path / "tokens.json"

    result = CliRunner().invoke(_cli(path), ["tokens", "add", *arguments])

    assert result.exit_code == 2
    assert not path.exists()
