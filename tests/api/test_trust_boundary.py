"""The trust boundary, tried as an attacker with ordinary participant tokens would.

Each test reproduces a finding of the trust-boundary issue on the real stack: sealed values
of another person never open in an answer, hostile text is refused naming its field with
nothing recorded, every list and text is bounded, two-way feedback is each side's own, and
every list answer is paginated.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.mentorship import commands as c
from domain.mentorship import decisions
from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import (
    Pair,
    Tokens,
    conversation,
    onboard,
    project,
    start_pair,
    terms,
    unique,
)
from tests.support import assert_eventually
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import MentorshipWorkflowInput

SECRET = "b-wants-to-leave-7731"


async def _opened(api_stack: ApiStack, pair: Pair) -> None:
    await assert_eventually(
        lambda: api_stack.store.read_stream(pair.mentorship_id),
        lambda events: len(events) >= 2,
        timeout=10,
    )


async def _new_pair(http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack) -> Pair:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await _opened(api_stack, pair)
    await onboard(http, tokens, pair)
    return pair


async def _b_tokens(http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack) -> list[str]:
    """Mentee B's sealed goal values, as anyone on the bus sees them."""
    b = await _new_pair(http, tokens, api_stack)
    response = await http.post(
        f"/mentorships/{b.mentorship_id}/goals",
        json={"horizon": "long", "description": SECRET, "motivation": f"why {SECRET}"},
        headers=tokens.headers(b.mentee_id),
    )
    assert response.status_code == 201, response.text
    goal_set = (await api_stack.store.read_stream(b.mentorship_id))[-1]
    assert goal_set.event_type == "GoalSet"
    sealed = [goal_set.data["description"], goal_set.data["motivation"]]
    assert all(value.startswith("sealed:v2:") for value in sealed)
    return sealed


async def test_sealed_values_are_refused_in_every_text_input_naming_the_field(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    sealed = await _b_tokens(http, tokens, api_stack)
    a = await _new_pair(http, tokens, api_stack)
    path = f"/mentorships/{a.mentorship_id}"
    mentor = tokens.headers(a.mentor_id, Role.MENTOR)
    before = len(await api_stack.store.read_stream(a.mentorship_id))
    due_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    skills = await http.post(
        f"{path}/conversations", json=conversation(["g-1"], skills=sealed), headers=mentor
    )
    challenge = await http.post(
        f"{path}/challenges",
        json={"skill": sealed[0], "description": "x", "due_at": due_at},
        headers=mentor,
    )
    cohort = await http.post(
        "/cohorts",
        json={"cohort_id": "sealed-cohort", "program": {"name": sealed[0]}, "participants": []},
        headers=tokens.hr,
    )

    assert skills.status_code == 422, skills.text
    assert any("skills" in problem and "sealed" in problem for problem in _problems(skills))
    assert challenge.status_code == 422, challenge.text
    assert any("skill" in problem and "sealed" in problem for problem in _problems(challenge))
    assert cohort.status_code == 422, cohort.text
    assert any("program.name" in problem and "sealed" in problem for problem in _problems(cohort))
    assert len(await api_stack.store.read_stream(a.mentorship_id)) == before


async def test_another_persons_sealed_values_never_open_even_past_validation(
    http: httpx.AsyncClient,
    tokens: Tokens,
    api_stack: ApiStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealed = await _b_tokens(http, tokens, api_stack)
    a = await _new_pair(http, tokens, api_stack)
    handle = api_stack.client.get_workflow_handle_for(MentorshipWorkflow.run, a.mentorship_id)
    now = datetime.now(UTC)
    # Straight into the workflow (as a payload-key holder could): its rules refuse it too.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await execute_command(
            handle,
            c.SetChallenge(skill="negotiation", description=sealed[0], due_at=now + 7 * DAY),
        )
    assert "sealed" in str(refused.value.cause)
    # Now with the rules' text check gone too (a gap in validation): still nothing opens.
    monkeypatch.setattr(decisions, "text_problem", lambda text: None)
    await execute_command(
        handle,
        c.LogConversation(
            held_at=now - timedelta(seconds=10),
            goal_ids=["g-1"],
            skills=[token for token in sealed if len(token) <= 100],  # a skill's limit
            action_items=[
                c.ActionItemInput(owner="mentee", description=sealed[0], due_at=now + 7 * DAY)
            ],
        ),
    )
    await execute_command(
        handle,
        c.SetChallenge(skill="negotiation", description=sealed[0], due_at=now + 7 * DAY),
    )
    await execute_command(handle, c.AddGoal(horizon="short", description=sealed[0]))
    await project(api_stack.store)

    for who in (tokens.headers(a.mentee_id), tokens.headers(a.mentor_id, Role.MENTOR), tokens.hr):
        plan = await http.get(f"/people/{a.mentee_id}/development-plan", headers=who)
        assert plan.status_code == 200, plan.text
        assert SECRET not in plan.text
    [part] = plan.json()["relationships"]
    short = {token for token in sealed if len(token) <= 100}
    assert short
    assert short <= set(part["skills_worked_on"])  # shown as stored, never opened


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("skills", lambda: conversation(["g-1"], skills=["python\x00"])),
        ("notes", lambda: conversation(["g-1"], notes="line\x1b[2J")),
        (
            "action_items.0.description",
            lambda: conversation(
                ["g-1"],
                action_items=[
                    {
                        "owner": "mentee",
                        "description": "a\u0085b",
                        "due_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                    }
                ],
            ),
        ),
    ],
)
async def test_control_characters_are_refused_naming_the_field_and_record_nothing(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, field: str, body: Any
) -> None:
    a = await _new_pair(http, tokens, api_stack)
    before = len(await api_stack.store.read_stream(a.mentorship_id))

    response = await http.post(
        f"/mentorships/{a.mentorship_id}/conversations",
        json=body(),
        headers=tokens.headers(a.mentor_id, Role.MENTOR),
    )

    assert response.status_code == 422, response.text
    assert any(field in problem and "control" in problem for problem in _problems(response))
    assert len(await api_stack.store.read_stream(a.mentorship_id)) == before


async def test_oversized_lists_and_texts_are_refused(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    a = await _new_pair(http, tokens, api_stack)
    before = len(await api_stack.store.read_stream(a.mentorship_id))

    strengths = await http.post(
        f"/mentorships/{a.mentorship_id}/goals",
        json={"horizon": "short", "description": "Grow", "strengths": ["s" * 900] * 1000},
        headers=tokens.headers(a.mentee_id),
    )
    description = await http.post(
        f"/mentorships/{a.mentorship_id}/goals",
        json={"horizon": "short", "description": "d" * 4001},
        headers=tokens.headers(a.mentee_id),
    )

    assert strengths.status_code == 422, strengths.text
    assert any("strengths" in problem for problem in _problems(strengths))
    assert description.status_code == 422, description.text
    assert any("description" in problem for problem in _problems(description))
    assert len(await api_stack.store.read_stream(a.mentorship_id)) == before
    schema = (await http.get("/openapi.json")).json()["components"]["schemas"]
    assert schema["AddGoal"]["properties"]["strengths"]["maxItems"] == 20
    assert schema["AddGoal"]["properties"]["description"]["maxLength"] == 4000


async def test_a_change_that_would_exceed_the_state_budget_is_refused(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    a = await _new_pair(http, tokens, api_stack)
    mentee = tokens.headers(a.mentee_id)
    goal: dict[str, Any] = {
        "horizon": "long",
        "description": "x" * 4000,
        "motivation": "y" * 4000,
        "strengths": ["z" * 200] * 20,
    }
    statuses = []
    for _ in range(80):  # 80 × ~12 KiB passes the 512 KiB budget well before the end
        response = await http.post(
            f"/mentorships/{a.mentorship_id}/goals", json=goal, headers=mentee
        )
        statuses.append(response.status_code)
        if response.status_code == 422:
            break

    assert statuses[-1] == 422, statuses
    assert "budget" in json.dumps(response.json()["error"]["problems"])
    assert set(statuses[:-1]) == {201}
    ok = await http.post(
        f"/mentorships/{a.mentorship_id}/goals/g-1/revise", json={"progress": 50}, headers=mentee
    )
    assert ok.status_code == 200, ok.text  # the relationship carries on


async def test_each_side_gives_its_own_feedback_with_ratings(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    a = await _new_pair(http, tokens, api_stack)
    path = f"/mentorships/{a.mentorship_id}/conversations/1/feedback"
    mentee = tokens.headers(a.mentee_id)
    mentor = tokens.headers(a.mentor_id, Role.MENTOR)

    by_mentee = await http.post(
        path,
        json={"usefulness": 5, "listening": 4, "clarity": 3, "comment": "Helpful"},
        headers=mentee,
    )
    again = await http.post(
        path, json={"usefulness": 1, "listening": 1, "clarity": 1}, headers=mentee
    )
    wrong_ratings = await http.post(path, json={"usefulness": 5}, headers=mentor)
    by_hr = await http.post(path, json={"preparation": 5, "follow_through": 5}, headers=tokens.hr)
    out_of_range = await http.post(
        path, json={"preparation": 6, "follow_through": 0}, headers=mentor
    )
    by_mentor = await http.post(
        path,
        json={"preparation": 4, "follow_through": 5, "comment": "Well prepared"},
        headers=mentor,
    )
    unknown = await http.post(
        f"/mentorships/{a.mentorship_id}/conversations/9/feedback",
        json={"preparation": 4, "follow_through": 5},
        headers=mentor,
    )

    assert by_mentee.status_code == 201, by_mentee.text
    assert by_mentee.json()["recorded"] == ["FeedbackGiven"]
    assert again.status_code == 422
    assert "already gave" in again.text
    assert wrong_ratings.status_code == 422, wrong_ratings.text
    assert "preparation" in wrong_ratings.text
    assert "usefulness" in wrong_ratings.text
    assert by_hr.status_code == 403, by_hr.text
    assert out_of_range.status_code == 422, out_of_range.text
    assert by_mentor.status_code == 201, by_mentor.text
    assert unknown.status_code == 422
    assert "was not held" in unknown.text

    await project(api_stack.store)
    plan = await http.get(f"/people/{a.mentee_id}/development-plan", headers=mentee)
    [part] = plan.json()["relationships"]
    given = {entry["author_id"]: entry for entry in part["feedback"] if entry["author_id"]}
    assert given[a.mentee_id]["direction"] == "to_mentor"
    assert given[a.mentee_id]["feedback"] == "Helpful"
    assert given[a.mentee_id]["ratings"] == {"usefulness": 5, "listening": 4, "clarity": 3}
    assert given[a.mentor_id]["feedback"] == "Well prepared"
    assert given[a.mentor_id]["ratings"] == {"preparation": 4, "follow_through": 5}


async def test_the_development_plan_is_paginated(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    first = await _new_pair(http, tokens, api_stack)
    # The same mentee in a second relationship (another cohort): two parts to page through.
    second_cohort = unique("api")
    second = f"mentorship-{second_cohort}-{first.mentee_id}"
    await api_stack.client.start_workflow(
        MentorshipWorkflow.run,
        MentorshipWorkflowInput(
            cohort_id=second_cohort,
            mentor_id=unique("mentor"),
            mentee_id=first.mentee_id,
            terms=terms(second_cohort),
            match_score=0.7,
        ),
        id=second,
        task_queue=api_stack.task_queue,
    )
    await assert_eventually(
        lambda: api_stack.store.read_stream(second), lambda events: len(events) >= 2, timeout=10
    )
    await project(api_stack.store)
    url = f"/people/{first.mentee_id}/development-plan"
    mentee = tokens.headers(first.mentee_id)

    whole = await http.get(url, headers=mentee)
    page_one = await http.get(url, params={"limit": 1}, headers=mentee)
    after = page_one.json()["next_after"]
    page_two = await http.get(url, params={"limit": 1, "after": after}, headers=mentee)
    too_many = await http.get(url, params={"limit": 10_000}, headers=tokens.hr)

    ids = [part["mentorship_id"] for part in whole.json()["relationships"]]
    assert sorted(ids) == sorted([first.mentorship_id, second])
    assert whole.json()["next_after"] is None
    assert [part["mentorship_id"] for part in page_one.json()["relationships"]] == ids[:1]
    assert after == ids[0]
    assert [part["mentorship_id"] for part in page_two.json()["relationships"]] == ids[1:]
    assert page_two.json()["next_after"] is None
    assert too_many.status_code == 422


def _problems(response: httpx.Response) -> list[str]:
    return [str(problem) for problem in response.json()["error"]["problems"]]


DAY = timedelta(days=1)
