"""Crypto-shredding end to end: sealed everywhere downstream, opened for the entitled, forgotten.

Real servers: the session's Temporal dev server, PostgreSQL and NATS JetStream; the worker
in process; the real relay publishing to a JetStream stream of this test's own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import nats

from devstack.stack import StackAddresses
from events.personal import ERASED
from eventstore import PostgresEventStore
from projections import SCHEMA, ProjectionRunner, all_projections, rebuild_projections
from tests.api.conftest import ApiStack
from tests.api.support import Pair, Tokens, conversation, onboard, project, start_pair
from tests.bus.support import (
    isolated_bus_config,
    read_stream,
    relay_running,
    stream_message_count,
)
from tests.projections.support import snapshot
from tests.support import assert_eventually, open_vault

SENTINEL = "zebra-sentinel-7f3a"
MENTOR_SENTINEL = "mentor-sentinel-91c2"


async def _events_json(store: PostgresEventStore) -> list[str]:
    rows = await store.pool.fetch("SELECT data::text AS data FROM eventstore.events")
    return [row["data"] for row in rows]


async def _read_models_text(pool: asyncpg.Pool) -> str:
    """Every read-model row and checkpoint state, as one text."""
    return repr(await snapshot(pool, all_projections()))


async def _record_personal_data(http: httpx.AsyncClient, tokens: Tokens, pair: Pair) -> None:
    path = f"/mentorships/{pair.mentorship_id}"
    goals = await onboard(http, tokens, pair)
    goal = await http.post(
        f"{path}/goals",
        json={"horizon": "long", "description": f"Lead a team {SENTINEL}"},
        headers=tokens.headers(pair.mentee_id),
    )
    assert goal.status_code == 201, goal.text
    held_at = datetime.now(UTC) - timedelta(seconds=30)
    body = conversation(
        goals[:1],
        held_at=held_at.isoformat(),
        feedback_to_mentee=f"Great framing {SENTINEL}",
        feedback_to_mentor=f"Slow down a little {MENTOR_SENTINEL}",
        notes=f"Struggles with {SENTINEL}",
        action_items=[
            {
                "owner": "mentee",
                "description": f"Practise {SENTINEL}",
                "due_at": (held_at + timedelta(days=7)).isoformat(),
            }
        ],
    )
    # HR logs it, for both sides: only HR may write both sides' feedback in one conversation.
    held = await http.post(f"{path}/conversations", json=body, headers=tokens.hr)
    assert held.status_code == 201, held.text


async def _plan(http: httpx.AsyncClient, tokens: Tokens, pair: Pair) -> dict[str, Any]:
    response = await http.get(
        f"/people/{pair.mentee_id}/development-plan", headers=tokens.headers(pair.mentee_id)
    )
    assert response.status_code == 200, response.text
    plan: dict[str, Any] = response.json()
    return plan


def _counts(plan: dict[str, Any]) -> dict[str, int]:
    [part] = plan["relationships"]
    return {
        "goals": len(part["goals"]),
        "action_items": len(part["action_items"]),
        "feedback": len(part["feedback"]),
        "conversations_held": part["conversations_held"],
    }


async def test_personal_data_is_sealed_downstream_and_forgetting_erases_it(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, stack: StackAddresses
) -> None:
    store = api_stack.store
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await _record_personal_data(http, tokens, pair)
    await project(store)

    # Sealed in the store and on the bus: the sentinel appears in no stored event and in no
    # message the real relay publishes, while sealed tokens do.
    stored = await _events_json(store)
    assert not [data for data in stored if SENTINEL in data or MENTOR_SENTINEL in data]
    assert any(f"sealed:v2:{pair.mentee_id}:" in data for data in stored)
    bus = isolated_bus_config(stack.nats_url)
    async with relay_running(api_stack.settings.database_url, bus):
        await assert_eventually(
            lambda: stream_message_count(stack.nats_url, bus.stream_name),
            lambda count: count >= len(stored),
            timeout=30,
            message="the relay published every event",
        )
    nats_client = await nats.connect(stack.nats_url)
    try:
        published = await read_stream(nats_client, bus.stream_name, f"{bus.subject_prefix}.>")
    finally:
        await nats_client.close()
    bodies = [json.dumps(body) for _, _, body in published.messages]
    assert len(bodies) >= len(stored)
    assert not [body for body in bodies if SENTINEL in body or MENTOR_SENTINEL in body]
    print(f"\nstore: {len(stored)} events, bus: {len(bodies)} messages, sentinel found: 0")

    # Read models hold ciphertext too; the API opens it for the people entitled to it.
    assert SENTINEL not in await _read_models_text(store.pool)
    before = await _plan(http, tokens, pair)
    assert SENTINEL in json.dumps(before)
    assert MENTOR_SENTINEL in json.dumps(before)

    # Only HR forgets; a participant cannot.
    denied = await http.post(
        f"/people/{pair.mentee_id}/forget", headers=tokens.headers(pair.mentee_id)
    )
    assert denied.status_code == 403, denied.text
    forgotten = await http.post(f"/people/{pair.mentee_id}/forget", headers=tokens.hr)
    assert forgotten.status_code == 200, forgotten.text
    outcome = forgotten.json()
    assert outcome["already_forgotten"] is False
    assert outcome["key_deleted"] is True
    assert outcome["read_model_values_erased"] > 0
    again = await http.post(f"/people/{pair.mentee_id}/forget", headers=tokens.hr)
    assert again.status_code == 200, again.text
    assert again.json()["already_forgotten"] is True
    assert again.json()["event_id"] == outcome["event_id"]

    # Events remain (one PersonForgotten more, once); nothing decrypts to the sentinel.
    person_events = await store.read_stream(f"person-{pair.mentee_id}")
    assert [event.event_type for event in person_events] == ["PersonForgotten"]
    assert person_events[0].data["requested_by"].startswith("hr_admin:tok_")
    assert len(await _events_json(store)) == len(stored) + 1
    vault = await open_vault(store.pool)
    people = {"mentee": pair.mentee_id, "mentor": pair.mentor_id}
    envelopes = await store.read_stream(pair.mentorship_id)
    decrypted = json.dumps(await vault.open_events(envelopes, people))
    assert SENTINEL not in decrypted
    assert ERASED in decrypted
    assert MENTOR_SENTINEL in decrypted  # the mentor was not forgotten

    # Read models: the mentee's tokens are now the erased marker; counts unchanged.
    text = await _read_models_text(store.pool)
    assert SENTINEL not in text
    after = await _plan(http, tokens, pair)
    assert SENTINEL not in json.dumps(after)
    assert MENTOR_SENTINEL in json.dumps(after)
    assert _counts(after) == _counts(before)
    [part] = after["relationships"]
    assert ERASED in [goal["description"] for goal in part["goals"]]
    assert {entry["direction"]: entry["feedback"] for entry in part["feedback"]}[
        "to_mentee"
    ] == ERASED
    dashboard = await http.get(f"/cohorts/{pair.cohort_id}/dashboard", headers=tokens.hr)
    assert dashboard.status_code in (200, 404), dashboard.text
    assert SENTINEL not in dashboard.text

    # What the relationship records after forgetting never opens: no key is created again
    # (a worker that cached the key seals with the deleted one for up to its cache time,
    # a fresh one stores "[erased]"; either way nobody can read it).
    late = await http.post(
        f"/mentorships/{pair.mentorship_id}/goals",
        json={"horizon": "short", "description": f"After forgetting {SENTINEL}"},
        headers=tokens.headers(pair.mentee_id),
    )
    assert late.status_code == 201, late.text
    newest = (await store.read_stream(pair.mentorship_id))[-1]
    assert newest.event_type == "GoalSet"
    assert SENTINEL not in json.dumps(newest.data)
    assert (await vault.open_events([newest], people))[0]["description"] == ERASED
    assert await vault.opening_keys([pair.mentee_id]) == {}

    # The live path (events applied as the projector does) equals a rebuild, byte for byte.
    projections = all_projections()
    for projection in projections:
        await ProjectionRunner(projection, store).catch_up()
    live = await snapshot(store.pool, projections)
    await rebuild_projections(store)
    rebuilt = await snapshot(store.pool, projections)
    assert live == rebuilt
    assert SENTINEL not in repr(rebuilt)


async def test_values_of_a_person_forgotten_before_projection_are_written_erased(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    store = api_stack.store
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await _record_personal_data(http, tokens, pair)
    # Forgotten before any projector saw the events: the writers erase on the way in.
    forgotten = await http.post(f"/people/{pair.mentee_id}/forget", headers=tokens.hr)
    assert forgotten.status_code == 200, forgotten.text
    for projection in all_projections():
        await ProjectionRunner(projection, store).catch_up()
    rows = await store.pool.fetch(
        f"SELECT description FROM {SCHEMA}.development_goals WHERE stream_id = $1",
        pair.mentorship_id,
    )
    assert rows
    assert {row["description"] for row in rows} == {ERASED}
    plan = await _plan(http, tokens, pair)
    assert SENTINEL not in json.dumps(plan)
    assert MENTOR_SENTINEL in json.dumps(plan)


async def test_forgetting_rejects_a_malformed_person_id(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await http.post("/people/not%20valid!/forget", headers=tokens.hr)
    assert response.status_code == 422, response.text


async def test_forgetting_again_completes_a_sweep_that_was_cut_short(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    store = api_stack.store
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await _record_personal_data(http, tokens, pair)
    await project(store)
    first = await http.post(f"/people/{pair.mentee_id}/forget", headers=tokens.hr)
    assert first.status_code == 200, first.text
    # As if the sweep had crashed: one of the mentee's tokens is back in a read model.
    [stored] = [
        e for e in await store.read_stream(pair.mentorship_id) if e.event_type == "GoalSet"
    ][-1:]
    await store.pool.execute(
        f"UPDATE {SCHEMA}.development_goals SET description = $3 "
        "WHERE stream_id = $1 AND goal_id = $2",
        pair.mentorship_id,
        stored.data["goal_id"],
        stored.data["description"],
    )

    again = await http.post(f"/people/{pair.mentee_id}/forget", headers=tokens.hr)

    assert again.status_code == 200, again.text
    assert again.json()["already_forgotten"] is True
    assert again.json()["read_model_values_erased"] == 1
    description = await store.pool.fetchval(
        f"SELECT description FROM {SCHEMA}.development_goals WHERE stream_id = $1 AND goal_id = $2",
        pair.mentorship_id,
        stored.data["goal_id"],
    )
    assert description == ERASED
    assert len(await store.read_stream(f"person-{pair.mentee_id}")) == 1
