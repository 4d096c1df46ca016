"""``mentorflow people import FILE.csv`` and the import it runs, on a real PostgreSQL.

A dry run records nothing; a file with any problem names every one and records nothing;
importing the same file twice records nothing the second time; ``active`` deactivates and
reactivates; fields the file does not own are kept.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from domain.person import DesiredPerson
from events.person import PersonProfile
from eventstore import PostgresEventStore
from mentorflow.cli.app import app
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.directory.csv_import import PeopleImportInvalid, apply_import, plan_import
from mentorflow.people import forget_person
from notifications import migrate_outbox
from projections import migrate_read_models
from tests.support import open_vault

HEADER = (
    "person_id,user_name,given_name,family_name,display_name,email,department,manager_id,"
    "timezone,languages,active"
)
ADA = "p-ada,ada@example.com,Ada,Obi,Ada Obi,ada@example.com,Platform,,Europe/Berlin,en;de,true"
LIN = "p-lin,lin@example.com,Lin,Park,Lin Park,lin@example.com,Data,p-ada,Asia/Seoul,ko;en,true"


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(database_url: str, *arguments: str) -> Result:
    return CliRunner().invoke(
        app, ["people", "import", *arguments], env={"MENTORFLOW_DATABASE_URL": database_url}
    )


def _event_count(database_url: str) -> int:
    """Events in the store (the commands run their own event loop: so does this)."""
    return asyncio.run(_count(database_url))


async def _count(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        exists = await connection.fetchval("SELECT to_regclass('eventstore.events') IS NOT NULL")
        return int(
            await connection.fetchval("SELECT count(*) FROM eventstore.events") if exists else 0
        )
    finally:
        await connection.close()


@pytest.fixture
async def directory(clean_database: str) -> AsyncIterator[PeopleDirectory]:
    store = await PostgresEventStore.connect(clean_database)
    await migrate_directory(store.pool)
    await migrate_read_models(store.pool)
    await migrate_outbox(store.pool)  # forgetting erases a person's notification settings
    try:
        yield PeopleDirectory(store.pool, await open_vault(store.pool))
    finally:
        await store.close()


async def _import(directory: PeopleDirectory, *lines: str) -> tuple[int, list[str]]:
    """Plan and apply a file; the events recorded and each row's event types."""
    plan = await plan_import(directory, ("\n".join(lines) + "\n").encode())
    report = await apply_import(directory, plan)
    return report.events_recorded, [",".join(change.events) for change in report.changes]


# -- the command --------------------------------------------------------------------------


def test_a_dry_run_shows_the_diff_and_records_nothing(clean_database: str, tmp_path: Path) -> None:
    path = _file(tmp_path, HEADER, ADA, LIN)

    result = _run(clean_database, str(path), "--dry-run", "--json")
    text = _run(clean_database, str(path), "--dry-run")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["applied"], report["new"], report["rows"]) == (
        True,
        False,
        2,
        2,
    )
    assert [change["person_id"] for change in report["changes"]] == ["p-ada", "p-lin"]
    assert text.exit_code == 0, text.output
    assert "row 2: p-ada: new" in text.stdout
    assert "dry run: would record 2 events" in text.stdout
    for personal in ("Ada", "Obi", "ada@example.com", "Park"):
        assert personal not in result.stdout + text.stdout
    assert _event_count(clean_database) == 0


def test_a_bad_file_names_every_problem_and_records_nothing(
    clean_database: str, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        HEADER,
        ADA,
        "p-kim,kim@example.com,Kim,Lee,Kim Lee,kim at example,Data,p-nobody,Mars/Base,en,true",
        LIN,
        LIN.replace("p-lin,lin@", "p-lin,lin2@"),
        "p-sam,sam@example.com,Sam,Roe,Sam Roe,sam@example.com,Ops,p-sam,,,yes",
    )

    dry = _run(clean_database, str(path), "--dry-run")
    applied = _run(clean_database, str(path))

    for result in (dry, applied):
        assert result.exit_code == 2, result.output
        assert result.stderr.splitlines() == [
            "Invalid input:",
            "  - row 3: email: not an email address",
            "  - row 5: person_id: p-lin is also on row 4",
            "  - row 6: manager_id: a person cannot be their own manager",
        ]
    assert _event_count(clean_database) == 0

    # With the syntax fixed, the directory's own rules show up too.
    path = _file(
        tmp_path,
        HEADER,
        ADA,
        "p-kim,kim@example.com,Kim,Lee,Kim Lee,kim@example.com,Data,p-nobody,Mars/Base,en,true",
        "p-lee,ADA@example.com,Lee,Ng,Lee Ng,lee@example.com,Data,,,,true",
    )
    result = _run(clean_database, str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "Invalid input:",
        "  - row 3: timezone: unknown IANA time zone 'Mars/Base'",
        "  - row 3: manager_id: p-nobody is neither in the file nor in the directory",
        "  - row 4: user_name: already the user name of row 2",
    ]
    assert _event_count(clean_database) == 0


def test_importing_the_same_file_twice_records_nothing_the_second_time(
    clean_database: str, tmp_path: Path
) -> None:
    path = _file(tmp_path, HEADER, ADA, LIN)

    first = _run(clean_database, str(path), "--json")
    recorded = _event_count(clean_database)
    second = _run(clean_database, str(path), "--json")

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["events_recorded"] == 2 == recorded
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert (again["events_recorded"], again["changes"], again["unchanged"]) == (0, [], 2)
    assert _event_count(clean_database) == recorded


# -- the import ---------------------------------------------------------------------------


async def test_active_false_deactivates_and_true_reactivates(
    directory: PeopleDirectory,
) -> None:
    await _import(directory, HEADER, ADA, LIN)

    deactivation = await plan_import(directory, f"{HEADER}\n{ADA}\n{LIN[:-4]}false\n".encode())
    assert [(c.person_id, c.deactivated, c.events) for c in deactivation.report.changes] == [
        ("p-lin", True, ["PersonDeactivated"])
    ]
    await apply_import(directory, deactivation)
    state = await directory.get("p-lin")
    assert state is not None
    assert (state.active, state.deactivation_reason) == (False, "hris")

    assert await _import(directory, HEADER, ADA, LIN) == (1, ["PersonReactivated"])
    reactivated = await directory.get("p-lin")
    assert reactivated is not None
    assert reactivated.active


async def test_a_change_names_the_fields_and_keeps_what_the_file_does_not_own(
    directory: PeopleDirectory,
) -> None:
    await directory.apply(
        "p-ada",
        DesiredPerson(
            PersonProfile(
                user_name="ada@example.com",
                timezone="Europe/Paris",
                skills={"python": 5},
                career_objectives=["staff-engineer"],
            )
        ),
        source="scim",
    )

    plan = await plan_import(
        directory, b"person_id,department,manager_id\np-ada,Research,p-lin\np-lin,,\n"
    )

    [ada, lin] = plan.report.changes
    assert (ada.new, ada.changed_fields) == (False, ["department", "manager_id"])
    assert (lin.new, lin.events) == (True, ["PersonProfiled"])
    report = await apply_import(directory, plan)
    assert report.events_recorded == 3
    state = await directory.get("p-ada")
    assert state is not None
    assert state.profile is not None
    assert state.profile.skills == {"python": 5}
    assert state.profile.career_objectives == ["staff-engineer"]
    assert (state.profile.timezone, state.profile.user_name) == ("Europe/Paris", "ada@example.com")
    assert (state.profile.department, state.profile.manager_id) == ("Research", "p-lin")


async def test_a_forgotten_person_is_refused_and_nothing_is_applied(
    directory: PeopleDirectory, clean_database: str
) -> None:
    store = await PostgresEventStore.connect(clean_database)
    try:
        await forget_person(store.pool, await open_vault(store.pool), "p-gone", requested_by="cli")
    finally:
        await store.close()

    plan = await plan_import(directory, f"{HEADER}\n{ADA}\np-gone,,,,,,,,,,\n".encode())

    assert plan.report.problems == [
        "row 3: person_id: p-gone was forgotten; nothing more is recorded"
    ]
    with pytest.raises(PeopleImportInvalid):
        await apply_import(directory, plan)
    assert await directory.get("p-ada") is None
