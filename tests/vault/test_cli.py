"""``mentorflow people forget`` and ``people rewrap-keys`` against a real PostgreSQL."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from mentorflow.cli.app import app
from mentorflow.cli.people import people_app
from mentorflow.settings import Settings


@pytest.fixture
async def settings(clean_database: str) -> Settings:
    return Settings(
        database_url=clean_database,
        master_keys=SecretStr(os.environ["MENTORFLOW_MASTER_KEYS"]),
    )


def test_forgetting_twice_records_one_event_and_reports_the_first(settings: Settings) -> None:
    runner = CliRunner()

    first = runner.invoke(people_app, ["forget", "p-042", "--yes", "--json"], obj=settings)
    second = runner.invoke(people_app, ["forget", "p-042", "--yes", "--json"], obj=settings)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    before, after = json.loads(first.stdout), json.loads(second.stdout)
    assert before["already_forgotten"] is False
    assert before["key_deleted"] is False  # mentorflow never sealed anything for p-042
    assert after["already_forgotten"] is True
    assert after["event_id"] == before["event_id"]
    assert after["forgotten_at"] == before["forgotten_at"]


def test_forgetting_asks_first_and_a_no_changes_nothing(settings: Settings) -> None:
    runner = CliRunner()

    declined = runner.invoke(people_app, ["forget", "p-007"], obj=settings, input="n\n")
    assert declined.exit_code == 1
    forgotten = runner.invoke(people_app, ["forget", "p-007", "--yes"], obj=settings)
    assert forgotten.exit_code == 0, forgotten.output
    assert forgotten.stdout.startswith("Forgot p-007:")


def test_a_malformed_person_id_is_bad_input(settings: Settings) -> None:
    result = CliRunner().invoke(
        app,
        ["people", "forget", "no spaces!", "--yes"],
        env={"MENTORFLOW_DATABASE_URL": settings.database_url},
    )

    assert result.exit_code == 2, result.output
    assert "person id 'no spaces!'" in result.output


def test_rewrap_reports_the_keys_it_moved(settings: Settings) -> None:
    result = CliRunner().invoke(people_app, ["rewrap-keys"], obj=settings)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Re-wrapped 0 data keys with master key test-m1")
