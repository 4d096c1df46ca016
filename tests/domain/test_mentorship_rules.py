"""The relationship's rules as pure functions, without Temporal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.mentorship import commands as c
from domain.mentorship.decisions import (
    QUOTE_ATTEMPTS,
    STATE_BUDGET_BYTES,
    CommandRejected,
    check,
    decide,
    permission_problems,
)
from domain.mentorship.schedule import due_events, next_wakeup
from domain.mentorship.state import MentorshipState, Stage, replay
from domain.mentorship.terms import ProgramTerms
from events import mentorship as m

START = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MODULES = ["active-listening"]


def _terms(**overrides: object) -> ProgramTerms:
    values: dict[str, object] = {
        "cohort_id": "eng-2027-q1",
        "program_name": "Engineering Mentorship 2027",
        "starts_at": START,
        "ends_at": START + 365 * DAY,
        "conversation_cadence": 14 * DAY,
        "grace_period": 3 * DAY,
        "onboarding_window": 21 * DAY,
        "escalate_after_missed": 2,
        "training_modules": MODULES,
    }
    values.update(overrides)
    return ProgramTerms.model_validate(values)


def _onboarding(**overrides: object) -> MentorshipState:
    state = MentorshipState(
        stream_id="mentorship-eng-2027-q1-p-002",
        mentor_id="p-001",
        mentee_id="p-002",
        terms=_terms(**overrides),
    )
    return replay(
        state,
        [
            m.MentorshipMatched(
                cohort_id="eng-2027-q1", mentor_id="p-001", mentee_id="p-002", match_score=0.8
            ),
            m.OnboardingStarted(deadline=START + 21 * DAY, training_modules=MODULES),
        ],
    )


def _apply(state: MentorshipState, command: c.MentorshipCommand, now: datetime) -> MentorshipState:
    return replay(state, decide(state, command, now))


def _active() -> MentorshipState:
    state = _onboarding()
    for person in ("p-001", "p-002"):
        state = _apply(state, c.CompleteTraining(person_id=person, module=MODULES[0]), START)
    state = _apply(state, c.AddGoal(horizon="short", description="Lead a review"), START)
    state = _apply(state, c.AddGoal(horizon="long", description="Staff engineer"), START)
    return _apply(state, _conversation(START, ["g-1"]), START)


def _conversation(held_at: datetime, goal_ids: list[str]) -> c.LogConversation:
    return c.LogConversation(
        held_at=held_at,
        goal_ids=goal_ids,
        action_items=[
            c.ActionItemInput(owner="mentee", description="Draft", due_at=held_at + 7 * DAY)
        ],
    )


def test_onboarding_completes_with_training_goals_and_kickoff() -> None:
    state = _active()
    assert state.stage is Stage.ACTIVE
    assert state.kickoff_held
    assert state.next_conversation_due == START + 14 * DAY


def test_a_conversation_without_goals_or_action_plan_names_every_problem() -> None:
    state = _active()
    command = c.LogConversation(held_at=START + 40 * DAY, goal_ids=[], action_items=[])

    problems = check(state, command, START + DAY)

    assert problems == [
        "held_at is in the future",
        "a conversation must discuss at least one of the mentee's goals",
        "a conversation must conclude with an action plan of at least one item",
    ]
    with pytest.raises(CommandRejected) as rejected:
        decide(state, command, START + DAY)
    assert rejected.value.problems == problems


def test_a_long_silence_chains_misses_and_escalates_once() -> None:
    state = _active()

    events = due_events(state, START + 50 * DAY)

    kinds = [event.event_type for event in events]
    assert kinds.count("ConversationMissed") == 3
    assert kinds.count("MentorshipEscalated") == 1
    assert kinds.index("MentorshipEscalated") == kinds.index("ConversationMissed", 3) + 1
    after = replay(state, events)
    assert after.consecutive_misses == 3
    assert after.next_conversation_due == START + 56 * DAY
    assert due_events(after, START + 50 * DAY) == []


def test_a_paused_relationship_only_waits_for_the_program_end() -> None:
    state = _apply(_active(), c.PauseMentorship(reason="leave"), START + DAY)

    assert due_events(state, START + 100 * DAY) == []
    assert next_wakeup(state) == START + 365 * DAY
    resumed = _apply(state, c.ResumeMentorship(), START + 101 * DAY)
    assert resumed.stage is Stage.ACTIVE
    assert resumed.next_conversation_due == START + 115 * DAY
    item = resumed.action_items["a-1"]
    assert item.due_at == START + 7 * DAY + 100 * DAY


def test_the_program_end_opens_the_survey_window_and_both_answers_close() -> None:
    state = replay(_active(), due_events(_active(), START + 366 * DAY)[-1:])
    assert state.stage is Stage.CLOSING
    state = _apply(
        state,
        c.SubmitSurvey(person_id="p-001", satisfaction=5, value=4, would_recommend=True),
        START + 366 * DAY,
    )
    events = decide(
        state,
        c.SubmitSurvey(person_id="p-002", satisfaction=4, value=4, would_recommend=True),
        START + 366 * DAY,
    )
    assert [e.event_type for e in events] == ["SurveySubmitted", "MentorshipClosed"]


def test_an_edited_review_summary_may_not_quote_private_notes() -> None:
    state = _active()
    state = _apply(
        state,
        c.LogConversation(
            held_at=START + DAY,
            goal_ids=["g-1"],
            notes="Worried about the reorganisation",
            action_items=[
                c.ActionItemInput(owner="mentor", description="Ask", due_at=START + 5 * DAY)
            ],
        ),
        START + DAY,
    )
    summary = m.ReviewSummary(
        goals=[],
        skills_developed=[],
        action_items_completed=0,
        action_items_overdue=0,
        conversations_held=2,
        conversations_expected=2,
        feedback_themes=[],
        text="draft",
    )
    state = replay(
        state, [m.ReviewSummaryDrafted(cycle_id="h1", summary=summary, respond_by=START + 20 * DAY)]
    )

    problems = check(
        state,
        c.ApproveReviewSummary(
            cycle_id="h1", edited_text="Great year. worried about the reorganisation"
        ),
        START + 2 * DAY,
    )

    assert problems == ["edited_text contains private conversation notes, which are never shared"]


def _drafted(cycle_id: str) -> m.ReviewSummaryDrafted:
    summary = m.ReviewSummary(
        goals=[],
        skills_developed=[],
        action_items_completed=0,
        action_items_overdue=0,
        conversations_held=1,
        conversations_expected=1,
        feedback_themes=[],
        text="draft",
    )
    return m.ReviewSummaryDrafted(cycle_id=cycle_id, summary=summary, respond_by=START + 20 * DAY)


def test_quoting_private_notes_is_no_unlimited_oracle() -> None:
    state = _active()
    state = replay(state, [_drafted("h1")])
    review = state.reviews["h1"]
    state.reviews["h1"] = review.model_copy(update={"quote_refusals": QUOTE_ATTEMPTS})

    edited = check(
        state, c.ApproveReviewSummary(cycle_id="h1", edited_text="My own words"), START + DAY
    )
    as_drafted = check(state, c.ApproveReviewSummary(cycle_id="h1"), START + DAY)

    assert len(edited) == 1
    assert "quoted private notes" in edited[0]
    assert as_drafted == []


def _as(role: str, person: str | None) -> c.Actor:
    return c.Actor(role=role, person_id=person, token_id="tok_test")  # type: ignore[arg-type]


def test_each_side_acts_only_for_itself() -> None:
    state = _active()
    mentor, mentee = _as("mentor", state.mentor_id), _as("mentee", state.mentee_id)
    item = next(iter(state.action_items.values()))
    other = "mentor" if item.owner == "mentee" else "mentee"
    not_owner = mentor if other == "mentor" else mentee

    assert permission_problems(state, c.AchieveGoal(goal_id="g-1", actor=mentor))
    assert not permission_problems(state, c.AchieveGoal(goal_id="g-1", actor=mentee))
    assert permission_problems(state, c.CompleteActionItem(item_id=item.item_id, actor=not_owner))
    assert permission_problems(state, c.CloseMentorship(reason="mentee_left", actor=mentor))
    assert not permission_problems(state, c.CloseMentorship(reason="mentor_left", actor=mentor))
    assert permission_problems(
        state, c.CloseMentorship(reason="mentee_left", actor=_as("mentee", "someone-else"))
    )
    hr = _as("hr_admin", None)
    assert not permission_problems(state, c.CloseMentorship(reason="mentee_left", actor=hr))
    assert permission_problems(state, c.ApproveReviewSummary(cycle_id="h1", actor=hr))


def test_a_closure_that_rematches_the_mentee_is_for_hr_and_the_leaver_flow_only() -> None:
    state = _active()
    mentor = _as("mentor", state.mentor_id)

    refused = permission_problems(
        state, c.CloseMentorship(reason="mentor_left", rematch_mentee=True, actor=mentor)
    )
    with pytest.raises(CommandRejected) as completed:
        decide(state, c.CloseMentorship(reason="completed", rematch_mentee=True), START + DAY)
    events = decide(
        state, c.CloseMentorship(reason="mentor_left", rematch_mentee=True), START + DAY
    )

    assert refused == ["rematch_mentee: participants ask for a rematch with its own command"]
    assert completed.value.problems == [
        "rematch_mentee: only a closure with mentor_left or mismatch matches the mentee "
        "again, not 'completed'"
    ]
    assert [event.event_type for event in events] == ["RematchRequested", "ClosureStarted"]
    requested, closing = events
    assert isinstance(requested, m.RematchRequested)
    assert isinstance(closing, m.ClosureStarted)
    assert (requested.previous_mentor_id, requested.reason) == (
        state.mentor_id,
        "closed: mentor_left",
    )
    assert closing.reason == "mentor_left"


def test_hr_changes_record_who_made_them() -> None:
    state = _active()
    item = next(iter(state.action_items.values()))

    events = decide(
        state, c.CompleteActionItem(item_id=item.item_id, actor=_as("hr_admin", None)), START
    )

    assert [event.event_type for event in events] == ["ActionItemCompleted", "ChangeMadeByHr"]
    recorded_by = events[-1]
    assert isinstance(recorded_by, m.ChangeMadeByHr)
    assert (recorded_by.token_id, recorded_by.change) == ("tok_test", "complete_action_item")


def test_the_private_note_check_answers_only_for_an_open_summary() -> None:
    state = _active()
    state = _apply(
        state,
        c.LogConversation(
            held_at=START + DAY,
            goal_ids=["g-1"],
            notes="Worried about the reorganisation",
            action_items=[
                c.ActionItemInput(owner="mentor", description="Ask", due_at=START + 5 * DAY)
            ],
        ),
        START + DAY,
    )
    guess = "worried about the reorganisation"

    no_such_cycle = check(
        state, c.ApproveReviewSummary(cycle_id="nope", edited_text=guess), START + 2 * DAY
    )

    assert no_such_cycle == ["no review summary for cycle 'nope'"]  # nothing about the notes


def test_the_state_budget_refuses_growth_but_never_closing() -> None:
    state = _active()
    big = "x" * 4000
    state.private_notes.extend([big] * (STATE_BUDGET_BYTES // 4000 + 1))

    growing = check(state, c.AddGoal(horizon="short", description="One more"), START + DAY)
    closing = check(state, c.CloseMentorship(reason="completed"), START + DAY)

    assert len(growing) == 1
    assert "budget" in growing[0]
    assert closing == []


def test_private_notes_are_kept_with_the_participant_who_logged_the_conversation() -> None:
    state = _active()
    held = START + DAY
    by_mentor = _conversation(held, ["g-1"]).model_copy(
        update={"notes": "Tired lately", "actor": c.Actor(role="mentor", person_id="p-001")}
    )
    by_hr = _conversation(held + DAY, ["g-1"]).model_copy(
        update={"notes": "HR's note", "actor": c.Actor(role="hr_admin")}
    )

    first = decide(state, by_mentor, held)
    state = replay(state, first)
    second = decide(state, by_hr, by_hr.held_at)
    state = replay(state, second)

    held_events = [event for event in first + second if isinstance(event, m.ConversationHeld)]
    assert [event.logged_by for event in held_events] == ["p-001", None]
    assert [(note.author_id, note.text) for note in state.authored_notes] == [
        ("p-001", "Tired lately")
    ]
    assert state.private_notes[-2:] == ["Tired lately", "HR's note"]  # still never quoted
