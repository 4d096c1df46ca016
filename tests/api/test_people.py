"""The development plan: goals, skills, challenges, action items and feedback per relationship."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import httpx

from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, onboard, project, start_pair, terms
from tests.support import assert_eventually
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_models import MentorshipWorkflowInput


async def test_the_plan_shows_what_the_relationship_worked_on(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await assert_eventually(
        lambda: api_stack.store.read_stream(pair.mentorship_id),
        lambda events: len(events) >= 2,
        timeout=10,
    )
    goals = await onboard(http, tokens, pair)
    due_at = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    challenge = await http.post(
        f"/mentorships/{pair.mentorship_id}/challenges",
        json={"skill": "public-speaking", "description": "Lightning talk", "due_at": due_at},
        headers=tokens.headers(pair.mentor_id, Role.MENTOR),
    )
    assert challenge.status_code == 201, challenge.text
    await project(api_stack.store)

    response = await http.get(
        f"/people/{pair.mentee_id}/development-plan", headers=tokens.headers(pair.mentee_id)
    )

    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["person_id"] == pair.mentee_id
    [part] = plan["relationships"]
    assert part["mentorship_id"] == pair.mentorship_id
    assert part["mentor_id"] == pair.mentor_id
    assert part["stage"] == "active"
    assert part["skills_worked_on"] == ["stakeholder-management"]
    assert [(goal["goal_id"], goal["horizon"]) for goal in part["goals"]] == [
        (goals[0], "short"),
        (goals[1], "long"),
    ]
    assert [item["item_id"] for item in part["action_items"]] == ["a-1"]
    assert [challenge["skill"] for challenge in part["challenges"]] == ["public-speaking"]
    assert {entry["direction"]: entry["feedback"] for entry in part["feedback"]} == {
        "to_mentee": "Clear structure in the proposal",
    }
    assert "private" not in response.text  # conversation notes never reach the plan


async def test_a_person_without_a_plan_is_404(http: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await http.get("/people/p-nobody/development-plan", headers=tokens.hr)

    assert response.status_code == 404


async def test_a_person_lists_their_relationships_on_both_sides(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    first = await start_pair(api_stack.client, api_stack.task_queue)
    # The first pair's mentee also mentors someone in a cohort of their own.
    second = f"mentorship-{first.cohort_id}-b-{first.mentee_id}"
    await api_stack.client.start_workflow(
        MentorshipWorkflow.run,
        MentorshipWorkflowInput(
            cohort_id=first.cohort_id,
            mentor_id=first.mentee_id,
            mentee_id=f"b-{first.mentee_id}",
            terms=terms(first.cohort_id),
            match_score=0.6,
        ),
        id=second,
        task_queue=api_stack.task_queue,
    )
    for stream in (first.mentorship_id, second):
        await assert_eventually(
            partial(api_stack.store.read_stream, stream),
            lambda events: len(events) >= 2,
            timeout=10,
        )
    await project(api_stack.store)
    url = f"/people/{first.mentee_id}/mentorships"

    whole = await http.get(url, headers=tokens.headers(first.mentee_id))
    page = await http.get(url, params={"limit": 1}, headers=tokens.headers(first.mentee_id))
    rest = await http.get(
        url,
        params={"limit": 1, "after": page.json()["next_after"]},
        headers=tokens.headers(first.mentee_id),
    )
    by_mentor = await http.get(url, headers=tokens.headers(first.mentor_id, Role.MENTOR))

    assert whole.status_code == 200, whole.text
    sides = {item["mentorship_id"]: item["side"] for item in whole.json()["items"]}
    assert sides == {first.mentorship_id: "mentee", second: "mentor"}
    assert whole.json()["next_after"] is None
    assert [item["mentorship_id"] for item in page.json()["items"] + rest.json()["items"]] == [
        item["mentorship_id"] for item in whole.json()["items"]
    ]
    assert rest.json()["next_after"] is None
    assert by_mentor.status_code == 404  # someone else's list: not even its existence
