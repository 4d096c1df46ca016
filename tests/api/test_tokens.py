"""The tokens file and ``mentorflow tokens add | list | revoke``: hashes only, 0600, re-read on
change, ids, expiry, and an invalid file that fails closed."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import typer
from structlog.testing import capture_logs
from typer.testing import CliRunner

from mentorflow.api import create_app
from mentorflow.api.tokens import (
    ExpiredToken,
    Principal,
    Role,
    TokenRegistry,
    TokensFileInvalid,
    TokensUnavailable,
    UnknownTokenId,
    add_token,
    hash_token,
    read_tokens,
    revoke_token,
    token_id_of,
)
from mentorflow.cli.api import tokens_app
from mentorflow.settings import Settings


def test_added_tokens_are_stored_as_hashes_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "tokens.json"

    token = add_token(path, Role.MENTEE, "p-002")
    second = add_token(path, Role.HR_ADMIN)

    records = json.loads(path.read_text())
    created = [record.pop("created_at") for record in records]
    assert records == [
        {"sha256": hash_token(token), "role": "mentee", "person_id": "p-002"},
        {"sha256": hash_token(second), "role": "hr_admin", "person_id": None},
    ]
    assert all(datetime.fromisoformat(moment).tzinfo is not None for moment in created)
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
    token_id = token_id_of(hash_token(token))
    assert registry.lookup(token) == Principal(Role.MENTOR, "p-001", token_id)
    assert registry.lookup_digest(hash_token(token)) == Principal(Role.MENTOR, "p-001", token_id)
    assert registry.lookup_id(token_id) == Principal(Role.MENTOR, "p-001", token_id)
    assert registry.lookup_digest("0" * 64) is None
    assert registry.lookup_id("tok_000000000000") is None


def test_records_written_before_ids_and_expiry_still_work(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = "an-old-token-from-before-ids-and-expiry"
    old = {"sha256": hash_token(token), "role": "mentee", "person_id": "p-9"}
    path.write_text(json.dumps([old]))
    registry = TokenRegistry(path)
    registry.load()

    principal = registry.lookup(token)

    assert principal == Principal(Role.MENTEE, "p-9", "tok_" + hash_token(token)[:12])
    add_token(path, Role.SERVICE)
    assert json.loads(path.read_text())[0] == old  # rewritten as it was


def test_a_file_turning_invalid_refuses_every_token_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, Role.SERVICE)
    registry = TokenRegistry(path)
    registry.load()

    path.write_text("[{]")
    with capture_logs() as logs:
        refused = registry.lookup(token)
        with pytest.raises(TokensUnavailable):
            registry.authenticate(token)

    assert refused is None
    assert registry.invalid is not None
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert len(errors) == 1  # once per change of the file, not per request
    assert errors[0]["path"] == str(path)

    path.unlink()
    token = add_token(path, Role.SERVICE)  # fixed: tokens work again
    assert registry.lookup(token) is not None
    assert registry.invalid is None


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    expired = add_token(path, Role.HR_ADMIN, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    current = add_token(path, Role.HR_ADMIN, expires_at=datetime.now(UTC) + timedelta(days=1))
    registry = TokenRegistry(path)
    registry.load()

    with pytest.raises(ExpiredToken) as refused:
        registry.authenticate(expired)

    assert refused.value.token_id == token_id_of(hash_token(expired))
    assert registry.lookup(expired) is None
    assert registry.lookup(current) is not None


def _unserved_api(path: Path) -> httpx.AsyncClient:
    """The API without its lifespan: enough for answers that need no server."""
    app = create_app(Settings(api_tokens_file=path))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_the_api_answers_an_expired_token_with_401_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    expired = add_token(path, Role.HR_ADMIN, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    async with _unserved_api(path) as http:
        response = await http.get("/cohorts", headers={"Authorization": f"Bearer {expired}"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "expired" in response.json()["error"]["message"]


async def test_the_api_refuses_every_token_while_the_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, Role.HR_ADMIN)
    async with _unserved_api(path) as http:
        before = await http.get("/no-such-route", headers={"Authorization": f"Bearer {token}"})
        path.write_text('[{"sha256": "not a digest"}]')
        with capture_logs() as logs:
            after = await http.get("/no-such-route", headers={"Authorization": f"Bearer {token}"})

    assert before.status_code == 404
    assert after.status_code == 401
    assert "tokens file is invalid" in after.json()["error"]["message"]
    assert any(entry["event"].startswith("tokens file invalid") for entry in logs)


def test_revoking_a_token_removes_only_it(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    kept, revoked = add_token(path, Role.SERVICE), add_token(path, Role.MENTOR, "p-1")
    registry = TokenRegistry(path)
    registry.load()

    record = revoke_token(path, token_id_of(hash_token(revoked)))

    assert (record.role, record.person_id) == (Role.MENTOR, "p-1")
    assert registry.lookup(revoked) is None
    assert registry.lookup(kept) is not None
    with pytest.raises(UnknownTokenId):
        revoke_token(path, record.token_id)


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


def test_tokens_add_stores_an_expiry_and_names_the_token_id(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"

    result = CliRunner().invoke(
        _cli(path), ["tokens", "add", "--role", "service", "--expires-in", "30d"]
    )

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    record = read_tokens(path)[0]
    assert record.sha256 == hash_token(token)
    assert record.expires_at is not None
    lifetime = record.expires_at - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)
    assert token_id_of(record.sha256) in result.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["--expires-in", "soon"],
        ["--expires-in", "0d"],
        ["--expires-at", "2020-01-01T00:00:00+00:00"],
        ["--expires-at", "2099-01-01T00:00:00"],
        ["--expires-in", "1d", "--expires-at", "2099-01-01T00:00:00Z"],
    ],
    ids=["not-a-duration", "zero", "past", "no-offset", "both"],
)
def test_tokens_add_rejects_a_bad_expiry_with_exit_code_2(
    tmp_path: Path, arguments: list[str]
) -> None:
    path = tmp_path / "tokens.json"

    result = CliRunner().invoke(_cli(path), ["tokens", "add", "--role", "service", *arguments])

    assert result.exit_code == 2, result.output
    assert "--expires" in result.stderr
    assert not path.exists()


def test_tokens_list_shows_ids_roles_people_and_expiry_but_no_digest(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    mentor = add_token(path, Role.MENTOR, "p-1")
    expiry = datetime(2099, 1, 1, tzinfo=UTC)
    add_token(path, Role.SERVICE, expires_at=expiry)

    listed = CliRunner().invoke(_cli(path), ["tokens", "list", "--json"])
    table = CliRunner().invoke(_cli(path), ["tokens", "list"])

    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(row["role"], row["person_id"], row["expires_at"]) for row in rows] == [
        ("mentor", "p-1", None),
        ("service", None, expiry.isoformat()),
    ]
    assert rows[0]["token_id"] == token_id_of(hash_token(mentor))
    assert all(row["created_at"] and not row["expired"] for row in rows)
    assert table.exit_code == 0, table.output
    assert rows[0]["token_id"] in table.stdout
    for record in read_tokens(path):
        assert record.sha256 not in listed.stdout + table.stdout


def test_tokens_revoke_removes_the_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, Role.MENTOR, "p-1")
    token_id = token_id_of(hash_token(token))

    revoked = CliRunner().invoke(_cli(path), ["tokens", "revoke", token_id])
    again = CliRunner().invoke(_cli(path), ["tokens", "revoke", token_id])

    assert revoked.exit_code == 0, revoked.output
    assert token_id in revoked.stdout
    assert read_tokens(path) == []
    assert again.exit_code == 2
    assert f"no token has the id '{token_id}'" in again.stderr
