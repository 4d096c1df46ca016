"""``mentorflow projections rebuild | status | skip`` (the sub-app, as the root app mounts it)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from eventstore import PostgresEventStore
from mentorflow.cli.projections import projections_app
from mentorflow.settings import Settings
from projections import ProjectionRunner, all_projections, migrate_read_models
from tests.projections.streams import append_interleaved, scenario
from tests.projections.test_runner import PRIVATE, append_poisoned


@pytest.fixture
async def settings(clean_database: str) -> Settings:
    """Settings pointing at a database holding a small cohort's events."""
    url = clean_database
    store = await PostgresEventStore.connect(url)
    try:
        await append_interleaved(store, scenario(2))
    finally:
        await store.close()
    return Settings(database_url=url)


def test_rebuild_then_status_show_the_read_models_caught_up(settings: Settings) -> None:
    runner = CliRunner()

    rebuilt = runner.invoke(projections_app, ["rebuild", "--json"], obj=settings)
    assert rebuilt.exit_code == 0, rebuilt.output
    result = json.loads(rebuilt.stdout)
    assert result["events"] > 0
    assert len(result["projections"]) == len(all_projections())

    status = runner.invoke(projections_app, ["status", "--json", "--sample", "0"], obj=settings)
    assert status.exit_code == 0, status.output
    lags = json.loads(status.stdout)["projections"]
    assert {lag["name"]: lag["events_behind"] for lag in lags} == {lag["name"]: 0 for lag in lags}

    table = runner.invoke(projections_app, ["status", "--sample", "0"], obj=settings)
    assert "mentorship_overview" in table.stdout


def test_rebuilding_one_projection_prints_a_summary(settings: Settings) -> None:
    result = CliRunner().invoke(projections_app, ["rebuild", "mentor_load"], obj=settings)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Rebuilt mentor_load:")


def test_an_unknown_projection_is_bad_input(settings: Settings) -> None:
    result = CliRunner().invoke(projections_app, ["rebuild", "nope"], obj=settings)

    assert result.exit_code == 2
    assert "unknown projection 'nope'" in result.output


@pytest.fixture
async def stalled(clean_database: str) -> tuple[Settings, str]:
    """Settings of a database where every projection of relationships stalls at a poison event
    (its id)."""
    url = clean_database
    store = await PostgresEventStore.connect(url)
    try:
        await migrate_read_models(store.pool)
        stream_id, poison_id, _ = await append_poisoned(store)
        for projection in all_projections():
            if not projection.handles(stream_id):
                continue
            with pytest.raises(ValidationError):
                await ProjectionRunner(projection, store).catch_up()
    finally:
        await store.close()
    return Settings(database_url=url), str(poison_id)


def test_status_shows_a_stall_and_skip_records_the_way_past_it(
    stalled: tuple[Settings, str],
) -> None:
    settings, poison_id = stalled
    runner = CliRunner()

    shown = runner.invoke(projections_app, ["status", "--sample", "0"], obj=settings)
    assert shown.exit_code == 0, shown.output
    assert f"STALLED at event {poison_id}" in shown.output
    assert PRIVATE not in shown.output
    data = json.loads(
        runner.invoke(projections_app, ["status", "--sample", "0", "--json"], obj=settings).output
    )
    assert {lag["stalled_event_id"] for lag in data["projections"] if lag["name"] != "people"} == {
        poison_id
    }

    skipped = runner.invoke(
        projections_app,
        ["skip", "mentorship_overview", poison_id, "--reason", "bad import", "--by", "ops-ana"],
        obj=settings,
    )
    assert skipped.exit_code == 0, skipped.output
    assert f"mentorship_overview skips event {poison_id}" in skipped.output
    assert "ops-ana" in skipped.output
    refused = runner.invoke(
        projections_app, ["skip", "mentorship_overview", poison_id, "--reason", " "], obj=settings
    )
    assert refused.exit_code == 2
