"""Every mentorship route against the real stack: updates, rejections, live and read state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import Pair, Tokens, conversation, onboard, project, start_pair
from tests.support import assert_eventually
from workflows.mentorship import MentorshipWorkflow


async def _pair(api_stack: ApiStack) -> Pair:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await assert_eventually(  # the opening events: matched, onboarding started
        lambda: _event_types(api_stack, pair), lambda types: len(types) >= 2, timeout=10
    )
    return pair


async def _event_types(api_stack: ApiStack, pair: Pair) -> list[str]:
    return [event.event_type for event in await api_stack.store.read_stream(pair.mentorship_id)]


async def test_onboarding_through_the_api_makes_the_relationship_active(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    await onboard(http, tokens, pair)

    live = await http.get(f"/mentorships/{pair.mentorship_id}", headers=tokens.hr)
    await project(api_stack.store)
    projected = await http.get(f"/mentorships/{pair.mentorship_id}", headers=tokens.hr)

    assert live.status_code == 200, live.text
    assert live.json()["stage"] == "active"
    assert live.json()["stage_source"] == "workflow"
    assert "waiting for conversation 2" in live.json()["details"]
    view = projected.json()
    assert (view["mentor_id"], view["mentee_id"], view["cohort_id"]) == (
        pair.mentor_id,
        pair.mentee_id,
        pair.cohort_id,
    )
    assert view["overview"]["stage"] == "active"
    assert view["overview"]["conversations_held"] == 1
    assert view["overview"]["action_items_open"] == 1


async def test_a_conversation_answers_with_its_action_item_ids(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    goals = await onboard(http, tokens, pair)

    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/conversations",
        json=conversation(goals, feedback_to_mentee="", feedback_to_mentor="Good questions"),
        headers=tokens.headers(pair.mentee_id),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["action_item_ids"] == ["a-2"]
    assert body["recorded"] == ["ConversationHeld"]
    assert body["stream_version"] == len(await _event_types(api_stack, pair))


async def test_a_conversation_without_goals_or_plan_is_rejected_with_every_reason(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    before = await _event_types(api_stack, pair)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/conversations",
        json=conversation([], held_at=future, action_items=[]),
        headers=tokens.headers(pair.mentor_id, Role.MENTOR),
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "command_rejected"
    problems = " | ".join(error["problems"])
    assert "held_at is in the future" in problems
    assert "at least one of the mentee's goals" in problems
    assert "action plan of at least one item" in problems
    assert len(error["problems"]) == 3
    assert await _event_types(api_stack, pair) == before


async def test_a_malformed_conversation_lists_every_field_problem(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    before = await _event_types(api_stack, pair)

    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/conversations",
        json={
            "held_at": "yesterday",
            "action_items": [{"owner": "boss", "description": "x", "due_at": "2027-01-01T00:00"}],
            "mood": "great",
        },
        headers=tokens.hr,
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    locations = {problem.split(":")[0] for problem in error["problems"]}
    assert {"held_at", "action_items.0.owner", "action_items.0.due_at", "mood"} <= locations
    assert await _event_types(api_stack, pair) == before


async def test_goals_answer_with_their_id_and_an_idempotency_key_records_once(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    path = f"/mentorships/{pair.mentorship_id}/goals"
    body = {"horizon": "long", "description": "Become a staff engineer", "motivation": "scope"}
    headers = {**tokens.headers(pair.mentee_id), "Idempotency-Key": "goal-once"}

    first = await http.post(path, json=body, headers=headers)
    again = await http.post(path, json=body, headers=headers)
    other = await http.post(path, json=body, headers=tokens.headers(pair.mentee_id))

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 201)
    assert first.json()["goal_id"] == again.json()["goal_id"] == "g-1"
    assert other.json()["goal_id"] == "g-2"
    assert (await _event_types(api_stack, pair)).count("GoalSet") == 2


async def test_action_items_complete_once(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    await onboard(http, tokens, pair)
    path = f"/mentorships/{pair.mentorship_id}/action-items/a-1/complete"

    done = await http.post(path, headers=tokens.headers(pair.mentee_id))
    twice = await http.post(path, headers=tokens.headers(pair.mentee_id))
    unknown = await http.post(
        f"/mentorships/{pair.mentorship_id}/action-items/a-9/complete", headers=tokens.hr
    )

    assert done.status_code == 200, done.text
    assert done.json()["recorded"] == ["ActionItemCompleted"]
    assert twice.status_code == 422
    assert twice.json()["error"]["problems"] == ["action item 'a-1' is already completed"]
    assert unknown.json()["error"]["problems"] == ["unknown action item 'a-9'"]


async def test_challenges_and_goal_achievement(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    goals = await onboard(http, tokens, pair)
    path = f"/mentorships/{pair.mentorship_id}"
    due_at = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    challenge = await http.post(
        f"{path}/challenges",
        json={"skill": "public-speaking", "description": "Give a lightning talk", "due_at": due_at},
        headers=tokens.headers(pair.mentor_id, Role.MENTOR),
    )
    progress = await http.post(
        f"{path}/challenges/c-1/progress",
        json={"progress": 40, "note": "outline ready"},
        headers=tokens.headers(pair.mentee_id),
    )
    achieved = await http.post(
        f"{path}/goals/{goals[0]}/achieve", headers=tokens.headers(pair.mentee_id)
    )

    assert challenge.status_code == 201, challenge.text
    assert challenge.json()["challenge_id"] == "c-1"
    assert progress.status_code == 200, progress.text
    assert progress.json()["recorded"] == ["ChallengeProgressRecorded"]
    assert achieved.status_code == 200, achieved.text
    assert achieved.json()["recorded"] == ["GoalAchieved"]


async def test_pause_resume_close_and_feedback_until_closed(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    await onboard(http, tokens, pair)
    path = f"/mentorships/{pair.mentorship_id}"
    mentee, mentor = tokens.headers(pair.mentee_id), tokens.headers(pair.mentor_id, Role.MENTOR)

    early_feedback = await http.post(
        f"{path}/feedback",
        json={"person_id": pair.mentee_id, "satisfaction": 5, "value": 4, "would_recommend": True},
        headers=mentee,
    )
    paused = await http.post(f"{path}/pause", json={"reason": "parental leave"}, headers=mentee)
    paused_stage = (await http.get(path, headers=mentee)).json()["stage"]
    resumed = await http.post(f"{path}/resume", headers=mentor)
    closed = await http.post(f"{path}/close", json={"reason": "completed"}, headers=tokens.hr)
    answers = [
        await http.post(
            f"{path}/feedback",
            json={"person_id": person, "satisfaction": 4, "value": 5, "would_recommend": True},
            headers=headers,
        )
        for person, headers in ((pair.mentee_id, mentee), (pair.mentor_id, mentor))
    ]
    result = await pair.handle.result()
    after_close = await http.post(f"{path}/pause", json={"reason": "again"}, headers=mentee)

    assert early_feedback.status_code == 422
    assert early_feedback.json()["error"]["problems"] == [
        "cannot submit a closing survey while the relationship is active"
    ]
    assert [paused.status_code, resumed.status_code, closed.status_code] == [200, 200, 200]
    assert paused_stage == "paused"
    assert closed.json()["recorded"] == ["ClosureStarted", "ChangeMadeByHr"]  # HR closed it
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[1].json()["recorded"] == ["SurveySubmitted", "MentorshipClosed"]
    assert result.reason == "completed"
    assert after_close.status_code == 409
    assert after_close.json()["error"]["code"] == "mentorship_ended"


async def test_a_rematch_request_ends_the_relationship(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    await onboard(http, tokens, pair)

    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/rematch",
        json={"reason": "different time zones after a move"},
        headers=tokens.headers(pair.mentee_id),
    )

    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == ["RematchRequested", "ClosureStarted"]
    live = await http.get(f"/mentorships/{pair.mentorship_id}", headers=tokens.hr)
    assert live.json()["stage"] == "closing"


async def test_unknown_mentorships_are_404(http: httpx.AsyncClient, tokens: Tokens) -> None:
    read = await http.get("/mentorships/mentorship-nope-p-1", headers=tokens.hr)
    write = await http.post(
        "/mentorships/mentorship-nope-p-1/pause", json={"reason": "x"}, headers=tokens.hr
    )
    malformed = await http.get("/mentorships/not-a-mentorship", headers=tokens.hr)

    assert (read.status_code, write.status_code) == (404, 404)
    assert read.json()["error"]["code"] == "not_found"
    assert malformed.status_code == 422


async def test_a_mentee_shares_a_review_summary_after_hr_starts_the_cycle(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    await onboard(http, tokens, pair)
    await project(api_stack.store)

    started = await http.post(
        "/review-cycles",
        json={"cohort_id": pair.cohort_id, "cycle_id": "2027-h1"},
        headers=tokens.hr,
    )
    # Wait on the workflow's own state, not the store: the drafted event is visible in the
    # store a moment before the workflow has folded it (and would accept the approval).
    workflow = api_stack.client.get_workflow_handle(pair.mentorship_id)
    await assert_eventually(
        lambda: workflow.query(MentorshipWorkflow.state),
        lambda state: "2027-h1" in state.reviews,
        timeout=30,
    )
    summary_path = f"/mentorships/{pair.mentorship_id}/review-summaries/2027-h1"
    draft = await http.get(summary_path, headers=tokens.headers(pair.mentee_id))
    by_mentor = await http.get(summary_path, headers=tokens.headers(pair.mentor_id, Role.MENTOR))
    approved = await http.post(
        f"{summary_path}/approve",
        json={"edited_text": "We worked on stakeholder management and a design review."},
        headers=tokens.headers(pair.mentee_id),
    )
    shared = await http.get(summary_path, headers=tokens.hr)

    # The mentee reads the draft before approving it; the mentor does not.
    assert draft.status_code == 200, draft.text
    assert draft.json()["status"] == "awaiting_mentee"
    assert draft.json()["summary"]["conversations_held"] >= 1
    assert by_mentor.status_code == 403
    assert shared.json()["status"] == "shared"
    assert shared.json()["summary"]["text"].startswith("We worked on stakeholder management")

    assert started.status_code == 202, started.text
    assert started.json() == {
        "cohort_id": pair.cohort_id,
        "cycle_id": "2027-h1",
        "signalled": [pair.mentorship_id],
        "ended": [],
    }
    assert approved.status_code == 200, approved.text
    assert approved.json()["recorded"] == ["ReviewSummaryShared"]


async def test_private_notes_are_read_by_their_author_only(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _pair(api_stack)
    await onboard(http, tokens, pair)  # the mentor logs the kickoff, with the note "private"
    path = f"/mentorships/{pair.mentorship_id}/private-notes"

    by_author = await http.get(path, headers=tokens.headers(pair.mentor_id, Role.MENTOR))
    by_other_side = await http.get(path, headers=tokens.headers(pair.mentee_id))
    by_hr = await http.get(path, headers=tokens.hr)

    assert by_author.status_code == 200, by_author.text
    assert by_author.json()["notes"] == [{"conversation_number": 1, "text": "private"}]
    assert by_other_side.json()["notes"] == []
    assert by_hr.status_code == 403
    snapshot = await http.get(f"/mentorships/{pair.mentorship_id}", headers=tokens.hr)
    assert "private" not in snapshot.text
