"""Every rule of a relationship as a table: a state, a command or a moment, what follows.

`DECISIONS` covers each command handler of `domain.mentorship.decisions` (at least one
accepted and one refused case each) and the permission rules; `SCHEDULE` covers the
timer-driven facts of `domain.mentorship.schedule`. Pure: no Temporal, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import get_args

import pytest

from domain.mentorship import commands as c
from domain.mentorship.decisions import (
    CommandRejected,
    NotPermitted,
    check,
    decide,
    permission_problems,
)
from domain.mentorship.schedule import due_events, next_wakeup
from domain.mentorship.state import MentorshipState, replay
from events import DomainEvent
from events import mentorship as m
from tests.domain.test_mentorship_rules import (
    DAY,
    MODULES,
    START,
    _active,
    _apply,
    _as,
    _conversation,
    _drafted,
    _onboarding,
)

StateBuilder = Callable[[], MentorshipState]


def _next_due() -> datetime:
    due = _active().next_conversation_due
    assert due is not None
    return due


@dataclass(frozen=True)
class Refused:
    """The rules refuse the command with exactly these problems (`CommandRejected`)."""

    problems: list[str]


@dataclass(frozen=True)
class Denied:
    """The command's actor may not make it, with exactly these problems (`NotPermitted`)."""

    problems: list[str]


@dataclass(frozen=True)
class Decision:
    name: str
    state: StateBuilder
    command: c.MentorshipCommand
    now: datetime
    expected: list[DomainEvent] | Refused | Denied


MENTOR, MENTEE, HR = _as("mentor", "p-001"), _as("mentee", "p-002"), _as("hr_admin", None)
LONG = "x" * 4001


# States, built from commands with the helpers of test_mentorship_rules; cached because
# building one replays a handful of commands (`decide` and `evolve` never mutate a state).
@cache
def onboarding() -> MentorshipState:
    """Onboarding: nothing done yet; deadline START + 21 days."""
    return _onboarding()


@cache
def ready_for_kickoff() -> MentorshipState:
    """Onboarding with training and both goals done: only the kickoff conversation missing."""
    state = onboarding()
    for person in ("p-001", "p-002"):
        state = _apply(state, c.CompleteTraining(person_id=person, module=MODULES[0]), START)
    state = _apply(state, c.AddGoal(horizon="short", description="Lead a review"), START)
    return _apply(state, c.AddGoal(horizon="long", description="Staff engineer"), START)


@cache
def mentee_training_missing() -> MentorshipState:
    """Onboarding with everything but the mentee's training."""
    state = _apply(onboarding(), c.CompleteTraining(person_id="p-001", module=MODULES[0]), START)
    state = _apply(state, c.AddGoal(horizon="short", description="Lead a review"), START)
    state = _apply(state, c.AddGoal(horizon="long", description="Staff engineer"), START)
    return _apply(state, _conversation(START, ["g-1"]), START)


@cache
def active() -> MentorshipState:
    """Active after the kickoff at START: goals g-1 (short), g-2 (long), item a-1 (the
    mentee's, due START + 7 days), next conversation due START + 14 days."""
    return _active()


@cache
def item_done() -> MentorshipState:
    """Active with a-1 completed: only the conversation rhythm and the program end run."""
    return _apply(active(), c.CompleteActionItem(item_id="a-1"), START + DAY)


@cache
def goal_achieved() -> MentorshipState:
    return _apply(active(), c.AchieveGoal(goal_id="g-1"), START + DAY)


@cache
def with_challenge() -> MentorshipState:
    command = c.SetChallenge(skill="delegation", description="Delegate", due_at=START + 30 * DAY)
    return _apply(active(), command, START + DAY)


@cache
def with_review() -> MentorshipState:
    """Active with cycle h1's summary awaiting the mentee until START + 20 days."""
    return replay(active(), [_drafted("h1")])


@cache
def review_shared() -> MentorshipState:
    return _apply(with_review(), c.ApproveReviewSummary(cycle_id="h1"), START + DAY)


@cache
def paused() -> MentorshipState:
    """Active, then paused at START + 1 day."""
    return _apply(active(), c.PauseMentorship(reason="leave"), START + DAY)


@cache
def paused_with_review() -> MentorshipState:
    return replay(paused(), [_drafted("h1")])


@cache
def paused_in_onboarding() -> MentorshipState:
    return _apply(onboarding(), c.PauseMentorship(reason="leave"), START + DAY)


@cache
def closing() -> MentorshipState:
    """Closing as completed at START + 1 day: the survey closes at START + 8 days."""
    return _apply(active(), c.CloseMentorship(reason="completed"), START + DAY)


@cache
def mentor_answered() -> MentorshipState:
    survey = c.SubmitSurvey(person_id="p-001", satisfaction=5, value=4, would_recommend=True)
    return _apply(closing(), survey, START + 2 * DAY)


@cache
def closed() -> MentorshipState:
    survey = c.SubmitSurvey(person_id="p-002", satisfaction=4, value=4, would_recommend=True)
    return _apply(mentor_answered(), survey, START + 2 * DAY)


@cache
def mentee_gave_feedback() -> MentorshipState:
    feedback = c.GiveFeedback(
        conversation_number=1, usefulness=5, listening=5, clarity=5, actor=MENTEE
    )
    return _apply(active(), feedback, START + DAY)


def _plan(owner: m.ItemOwner, description: str, due_at: datetime) -> list[c.ActionItemInput]:
    return [c.ActionItemInput(owner=owner, description=description, due_at=due_at)]


def _summary(text: str = "draft") -> m.ReviewSummary:
    return _drafted("h1").summary.model_copy(update={"text": text})


MISSING_AT_START = [
    "p-001: training active-listening",
    "p-002: training active-listening",
    "p-002: a short-term goal",
    "p-002: a long-term goal",
    "kickoff conversation",
]

DECISIONS = [
    # CompleteTraining
    Decision(
        "training is recorded",
        onboarding,
        c.CompleteTraining(person_id="p-001", module="active-listening"),
        START,
        [m.TrainingModuleCompleted(person_id="p-001", module="active-listening")],
    ),
    Decision(
        "the last training completes onboarding",
        mentee_training_missing,
        c.CompleteTraining(person_id="p-002", module="active-listening"),
        START + 2 * DAY,
        [
            m.TrainingModuleCompleted(person_id="p-002", module="active-listening"),
            m.OnboardingCompleted(next_conversation_due=START + 16 * DAY),
        ],
    ),
    Decision(
        "training of a stranger in an unknown module is refused",
        onboarding,
        c.CompleteTraining(person_id="p-009", module="juggling"),
        START,
        Refused(
            [
                "person_id 'p-009' is not part of this relationship",
                "module 'juggling' is not one of the program's: active-listening",
            ]
        ),
    ),
    Decision(
        "training completed twice is refused",
        active,
        c.CompleteTraining(person_id="p-001", module="active-listening"),
        START + DAY,
        Refused(["p-001 already completed active-listening"]),
    ),
    Decision(
        "training while closing is refused",
        closing,
        c.CompleteTraining(person_id="p-002", module="juggling"),
        START + 2 * DAY,
        Refused(
            [
                "cannot record training while the relationship is closing",
                "module 'juggling' is not one of the program's: active-listening",
            ]
        ),
    ),
    # AddGoal
    Decision(
        "a goal gets the next goal id",
        active,
        c.AddGoal(
            horizon="short",
            description="Give a talk",
            motivation="Visibility",
            strengths=["storytelling"],
            target_date=START + 90 * DAY,
        ),
        START + DAY,
        [
            m.GoalSet(
                goal_id="g-3",
                horizon="short",
                description="Give a talk",
                motivation="Visibility",
                strengths=["storytelling"],
                target_date=START + 90 * DAY,
            )
        ],
    ),
    Decision(
        "a goal without description and with a past target date is refused",
        onboarding,
        c.AddGoal(horizon="long", description="  ", target_date=START),
        START,
        Refused(["description is required", "target_date must be in the future"]),
    ),
    Decision(
        "a goal with overlong, control-character text while closing is refused",
        closing,
        c.AddGoal(horizon="long", description=LONG, motivation="a\x00b", strengths=["x" * 201]),
        START + 2 * DAY,
        Refused(
            [
                "cannot add a goal while the relationship is closing",
                "description is longer than 4000 characters",
                "motivation contains the control character U+0000",
                "strengths[0] is longer than 200 characters",
            ]
        ),
    ),
    # ReviseGoal
    Decision(
        "a goal's progress is revised",
        active,
        c.ReviseGoal(goal_id="g-1", progress=40),
        START + DAY,
        [m.GoalRevised(goal_id="g-1", progress=40)],
    ),
    Decision(
        "revising an unknown goal with nothing to revise is refused",
        active,
        c.ReviseGoal(goal_id="g-9"),
        START + DAY,
        Refused(
            [
                "unknown goal 'g-9'",
                "nothing to revise: give description, target_date or progress",
            ]
        ),
    ),
    Decision(
        "revising an achieved goal with bad values is refused",
        goal_achieved,
        c.ReviseGoal(goal_id="g-1", description="", progress=101),
        START + 2 * DAY,
        Refused(
            [
                "goal 'g-1' is achieved",
                "description is required",
                "progress must be between 0 and 100",
            ]
        ),
    ),
    # AchieveGoal
    Decision(
        "a goal is achieved",
        active,
        c.AchieveGoal(goal_id="g-1"),
        START + DAY,
        [m.GoalAchieved(goal_id="g-1")],
    ),
    Decision(
        "achieving a goal twice is refused",
        goal_achieved,
        c.AchieveGoal(goal_id="g-1"),
        START + 2 * DAY,
        Refused(["goal 'g-1' is achieved"]),
    ),
    Decision(
        "achieving a goal after closing is refused",
        closed,
        c.AchieveGoal(goal_id="g-2"),
        START + 3 * DAY,
        Refused(["cannot achieve a goal while the relationship is closed"]),
    ),
    # DropGoal
    Decision(
        "a goal is dropped with a reason",
        active,
        c.DropGoal(goal_id="g-2", reason="Changed teams"),
        START + DAY,
        [m.GoalDropped(goal_id="g-2", reason="Changed teams")],
    ),
    Decision(
        "dropping an unknown goal with an overlong reason is refused",
        active,
        c.DropGoal(goal_id="g-9", reason="x" * 501),
        START + DAY,
        Refused(["unknown goal 'g-9'", "reason is longer than 500 characters"]),
    ),
    # LogConversation
    Decision(
        "a conversation sets the next due date and numbers its items",
        active,
        c.LogConversation(
            held_at=START + 10 * DAY,
            goal_ids=["g-1"],
            skills=["delegation"],
            feedback_to_mentee="Good progress",
            action_items=_plan("mentor", "Share doc", START + 17 * DAY),
        ),
        START + 10 * DAY,
        [
            m.ConversationHeld(
                conversation_number=2,
                held_at=START + 10 * DAY,
                due_at=START + 14 * DAY,
                goal_ids=["g-1"],
                skills=["delegation"],
                feedback_to_mentee="Good progress",
                action_items=[
                    m.ActionItem(
                        item_id="a-2",
                        owner="mentor",
                        description="Share doc",
                        due_at=START + 17 * DAY,
                    )
                ],
                next_conversation_due=START + 24 * DAY,
            )
        ],
    ),
    Decision(
        "the kickoff conversation completes onboarding",
        ready_for_kickoff,
        c.LogConversation(
            held_at=START + DAY,
            goal_ids=["g-1", "g-2"],
            action_items=_plan("mentee", "Draft", START + 8 * DAY),
        ),
        START + DAY,
        [
            m.ConversationHeld(
                conversation_number=1,
                kickoff=True,
                held_at=START + DAY,
                goal_ids=["g-1", "g-2"],
                action_items=[
                    m.ActionItem(
                        item_id="a-1", owner="mentee", description="Draft", due_at=START + 8 * DAY
                    )
                ],
            ),
            m.OnboardingCompleted(next_conversation_due=START + 15 * DAY),
        ],
    ),
    Decision(
        "a conversation before the previous one, on an unknown goal, is refused",
        active,
        c.LogConversation(
            held_at=START - DAY,
            goal_ids=["g-9"],
            skills=[""],
            action_items=_plan("mentee", "", START - 2 * DAY),
        ),
        START + DAY,
        Refused(
            [
                "held_at is before the previous conversation",
                "goal_ids: unknown goal 'g-9'",
                "action_items[0].description is required",
                "action_items[0].due_at must be after held_at",
                "skills must be at most 20 non-empty names",
            ]
        ),
    ),
    Decision(
        "a conversation while paused is refused",
        paused,
        _conversation(START + 2 * DAY, ["g-1"]),
        START + 2 * DAY,
        Refused(["cannot log a conversation while the relationship is paused"]),
    ),
    # CompleteActionItem
    Decision(
        "an action item is completed now",
        active,
        c.CompleteActionItem(item_id="a-1"),
        START + 3 * DAY,
        [m.ActionItemCompleted(item_id="a-1", completed_at=START + 3 * DAY)],
    ),
    Decision(
        "completing an item twice is refused",
        item_done,
        c.CompleteActionItem(item_id="a-1"),
        START + 3 * DAY,
        Refused(["action item 'a-1' is already completed"]),
    ),
    Decision(
        "completing an unknown item after closing is refused",
        closed,
        c.CompleteActionItem(item_id="a-9"),
        START + 3 * DAY,
        Refused(
            [
                "cannot complete an action item while the relationship is closed",
                "unknown action item 'a-9'",
            ]
        ),
    ),
    # RescheduleActionItem
    Decision(
        "an action item is rescheduled",
        active,
        c.RescheduleActionItem(item_id="a-1", due_at=START + 20 * DAY, reason="Busy week"),
        START + DAY,
        [m.ActionItemRescheduled(item_id="a-1", due_at=START + 20 * DAY, reason="Busy week")],
    ),
    Decision(
        "rescheduling an unknown item into the past is refused",
        active,
        c.RescheduleActionItem(item_id="a-9", due_at=START),
        START + DAY,
        Refused(["unknown action item 'a-9'", "due_at must be in the future"]),
    ),
    # SetChallenge
    Decision(
        "a challenge gets the next challenge id",
        with_challenge,
        c.SetChallenge(skill="speaking", description="Present", due_at=START + 40 * DAY),
        START + 2 * DAY,
        [
            m.ChallengeSet(
                challenge_id="c-2",
                skill="speaking",
                description="Present",
                due_at=START + 40 * DAY,
            )
        ],
    ),
    Decision(
        "a challenge while paused, without skill, due in the past is refused",
        paused,
        c.SetChallenge(skill="", description="Present", due_at=START),
        START + 2 * DAY,
        Refused(
            [
                "cannot set a challenge while the relationship is paused",
                "skill is required",
                "due_at must be in the future",
            ]
        ),
    ),
    # RecordChallengeProgress
    Decision(
        "challenge progress is recorded",
        with_challenge,
        c.RecordChallengeProgress(challenge_id="c-1", progress=50, note="Half way"),
        START + 2 * DAY,
        [m.ChallengeProgressRecorded(challenge_id="c-1", progress=50, note="Half way")],
    ),
    Decision(
        "progress on an unknown challenge beyond 100 is refused",
        active,
        c.RecordChallengeProgress(challenge_id="c-9", progress=120),
        START + 2 * DAY,
        Refused(["unknown challenge 'c-9'", "progress must be between 0 and 100"]),
    ),
    # ApproveReviewSummary
    Decision(
        "a summary approved as drafted is shared",
        with_review,
        c.ApproveReviewSummary(cycle_id="h1"),
        START + 2 * DAY,
        [m.ReviewSummaryShared(cycle_id="h1", summary=_summary(), edited_by_mentee=False)],
    ),
    Decision(
        "a summary approved in the mentee's words is shared with them",
        with_review,
        c.ApproveReviewSummary(cycle_id="h1", edited_text="My own words"),
        START + 2 * DAY,
        [
            m.ReviewSummaryShared(
                cycle_id="h1", summary=_summary("My own words"), edited_by_mentee=True
            )
        ],
    ),
    Decision(
        "approving after the window closed is refused",
        with_review,
        c.ApproveReviewSummary(cycle_id="h1"),
        START + 21 * DAY,
        Refused(["the approval window closed at 2027-01-31T09:00:00+00:00"]),
    ),
    Decision(
        "approving a shared summary again, with blank text, is refused",
        review_shared,
        c.ApproveReviewSummary(cycle_id="h1", edited_text=" "),
        START + 2 * DAY,
        Refused(["the summary for cycle 'h1' is already shared", "edited_text is required"]),
    ),
    Decision(
        "approving a summary never drafted is refused",
        active,
        c.ApproveReviewSummary(cycle_id="nope"),
        START + 2 * DAY,
        Refused(["no review summary for cycle 'nope'"]),
    ),
    # DeclineReviewSummary
    Decision(
        "a summary declined is withheld at once",
        with_review,
        c.DeclineReviewSummary(cycle_id="h1"),
        START + 2 * DAY,
        [m.ReviewSummaryWithheld(cycle_id="h1")],
    ),
    Decision(
        "declining a shared summary is refused",
        review_shared,
        c.DeclineReviewSummary(cycle_id="h1"),
        START + 2 * DAY,
        Refused(["the summary for cycle 'h1' is already shared"]),
    ),
    Decision(
        "declining after the window closed is refused (it was withheld anyway)",
        with_review,
        c.DeclineReviewSummary(cycle_id="h1"),
        START + 21 * DAY,
        Refused(["the approval window closed at 2027-01-31T09:00:00+00:00"]),
    ),
    # PauseMentorship
    Decision(
        "a pause records when it began",
        active,
        c.PauseMentorship(reason="Parental leave"),
        START + DAY,
        [m.MentorshipPaused(reason="Parental leave", paused_at=START + DAY)],
    ),
    Decision(
        "pausing twice, without a reason, is refused",
        paused,
        c.PauseMentorship(reason=""),
        START + 2 * DAY,
        Refused(["cannot pause while the relationship is paused", "reason is required"]),
    ),
    # ResumeMentorship
    Decision(
        "resuming an active relationship restarts the cadence",
        paused,
        c.ResumeMentorship(),
        START + 11 * DAY,
        [m.MentorshipResumed(paused_for=10 * DAY, next_conversation_due=START + 25 * DAY)],
    ),
    Decision(
        "resuming onboarding sets no conversation due date",
        paused_in_onboarding,
        c.ResumeMentorship(),
        START + 3 * DAY,
        [m.MentorshipResumed(paused_for=2 * DAY, next_conversation_due=None)],
    ),
    Decision(
        "resuming what is not paused is refused",
        active,
        c.ResumeMentorship(),
        START + DAY,
        Refused(["cannot resume while the relationship is active"]),
    ),
    # CloseMentorship
    Decision(
        "closing opens the survey window",
        active,
        c.CloseMentorship(reason="completed"),
        START + DAY,
        [m.ClosureStarted(reason="completed", survey_closes_at=START + 8 * DAY)],
    ),
    Decision(
        "closing for a rematch is refused",
        active,
        c.CloseMentorship(reason="rematch"),
        START + DAY,
        Refused(["use a rematch request to close with reason 'rematch'"]),
    ),
    Decision(
        "closing twice is refused",
        closing,
        c.CloseMentorship(reason="mismatch"),
        START + 2 * DAY,
        Refused(["cannot close while the relationship is closing"]),
    ),
    # RequestRematch
    Decision(
        "a rematch request closes with reason rematch",
        active,
        c.RequestRematch(reason="No chemistry"),
        START + DAY,
        [
            m.RematchRequested(
                mentee_id="p-002", previous_mentor_id="p-001", reason="No chemistry"
            ),
            m.ClosureStarted(reason="rematch", survey_closes_at=START + 8 * DAY),
        ],
    ),
    Decision(
        "a rematch of a closed relationship, without a reason, is refused",
        closed,
        c.RequestRematch(reason=" "),
        START + 3 * DAY,
        Refused(
            ["cannot request a rematch while the relationship is closed", "reason is required"]
        ),
    ),
    # SubmitSurvey
    Decision(
        "a survey answer is recorded",
        closing,
        c.SubmitSurvey(
            person_id="p-001", satisfaction=5, value=4, would_recommend=True, comment="Great"
        ),
        START + 2 * DAY,
        [
            m.SurveySubmitted(
                person_id="p-001", satisfaction=5, value=4, would_recommend=True, comment="Great"
            )
        ],
    ),
    Decision(
        "the second survey answer closes the relationship",
        mentor_answered,
        c.SubmitSurvey(person_id="p-002", satisfaction=4, value=3, would_recommend=False),
        START + 2 * DAY,
        [
            m.SurveySubmitted(person_id="p-002", satisfaction=4, value=3, would_recommend=False),
            m.MentorshipClosed(
                reason="completed", conversations_held=1, goals_achieved=0, surveys_received=2
            ),
        ],
    ),
    Decision(
        "a survey before closing, from a stranger, out of range is refused",
        active,
        c.SubmitSurvey(person_id="p-009", satisfaction=0, value=6, would_recommend=True),
        START + DAY,
        Refused(
            [
                "cannot submit a closing survey while the relationship is active",
                "person_id 'p-009' is not part of this relationship",
                "satisfaction must be between 1 and 5",
                "value must be between 1 and 5",
            ]
        ),
    ),
    Decision(
        "a second survey answer from the same person is refused",
        mentor_answered,
        c.SubmitSurvey(person_id="p-001", satisfaction=5, value=5, would_recommend=True),
        START + 3 * DAY,
        Refused(["p-001 already answered the survey"]),
    ),
    # GiveFeedback
    Decision(
        "the mentee rates the mentor after a conversation",
        active,
        c.GiveFeedback(
            conversation_number=1,
            usefulness=5,
            listening=4,
            clarity=3,
            comment="Helpful",
            actor=MENTEE,
        ),
        START + DAY,
        [
            m.FeedbackGiven(
                conversation_number=1,
                person_id="p-002",
                to="mentor",
                usefulness=5,
                listening=4,
                clarity=3,
                comment="Helpful",
            )
        ],
    ),
    Decision(
        "the mentor rates the mentee after a conversation",
        mentee_gave_feedback,
        c.GiveFeedback(conversation_number=1, preparation=4, follow_through=5, actor=MENTOR),
        START + DAY,
        [
            m.FeedbackGiven(
                conversation_number=1,
                person_id="p-001",
                to="mentee",
                preparation=4,
                follow_through=5,
            )
        ],
    ),
    Decision(
        "feedback without a participant is refused",
        active,
        c.GiveFeedback(conversation_number=1, usefulness=5, listening=5, clarity=5),
        START + DAY,
        Refused(["feedback is given by a participant, for their own side"]),
    ),
    Decision(
        "the mentor rating themselves on a conversation never held is refused",
        active,
        c.GiveFeedback(conversation_number=2, usefulness=5, preparation=9, actor=MENTOR),
        START + DAY,
        Refused(
            [
                "conversation 2 was not held",
                "preparation must be between 1 and 5",
                "follow_through: a rating from 1 to 5 is required",
                "usefulness: rates the mentor, who does not rate themselves",
            ]
        ),
    ),
    Decision(
        "feedback after the window, or twice, is refused",
        mentee_gave_feedback,
        c.GiveFeedback(conversation_number=1, usefulness=5, listening=5, clarity=5, actor=MENTEE),
        START + 15 * DAY,
        Refused(
            [
                "the feedback window of conversation 1 closed at 2027-01-25T09:00:00+00:00",
                "you already gave feedback on conversation 1",
            ]
        ),
    ),
    # SkipConversation
    Decision(
        "skipping the next conversation records it as missed and moves the rhythm on",
        active,
        c.SkipConversation(actor=MENTOR),
        START + DAY,
        [
            m.ConversationMissed(
                conversation_number=2,
                due_at=_next_due(),
                consecutive_misses=1,
                next_conversation_due=_next_due() + _active().terms.conversation_cadence,
            )
        ],
    ),
    Decision(
        "no conversation can be skipped during onboarding",
        onboarding,
        c.SkipConversation(),
        START + DAY,
        Refused(["cannot skip a conversation while the relationship is onboarding"]),
    ),
    # ExtendDeadline
    Decision(
        "the onboarding deadline is extended",
        onboarding,
        c.ExtendDeadline(deadline="onboarding", new_deadline=START + 30 * DAY, reason="Holidays"),
        START + DAY,
        [
            m.DeadlineExtended(
                deadline="onboarding", new_deadline=START + 30 * DAY, reason="Holidays"
            )
        ],
    ),
    Decision(
        "the next conversation's due date is extended",
        active,
        c.ExtendDeadline(deadline="conversation", new_deadline=START + 20 * DAY, reason="Travel"),
        START + DAY,
        [
            m.DeadlineExtended(
                deadline="conversation", new_deadline=START + 20 * DAY, reason="Travel"
            )
        ],
    ),
    Decision(
        "extending the conversation deadline in onboarding, into the past, is refused",
        onboarding,
        c.ExtendDeadline(deadline="conversation", new_deadline=START, reason=""),
        START + DAY,
        Refused(
            [
                "cannot extend the conversation deadline while the relationship is onboarding",
                "reason is required",
                "new_deadline must be in the future",
            ]
        ),
    ),
    # Permissions: each side acts only for itself; HR for either, with a record.
    Decision(
        "a participant records their own training",
        onboarding,
        c.CompleteTraining(person_id="p-002", module="active-listening", actor=MENTEE),
        START,
        [m.TrainingModuleCompleted(person_id="p-002", module="active-listening")],
    ),
    Decision(
        "HR's change is recorded as HR's",
        active,
        c.PauseMentorship(reason="Leave", actor=HR),
        START + DAY,
        [
            m.MentorshipPaused(reason="Leave", paused_at=START + DAY),
            m.ChangeMadeByHr(
                token_id="tok_test", change="pause_mentorship", recorded=["MentorshipPaused"]
            ),
        ],
    ),
    Decision(
        "HR's change with a token without id is recorded as unknown",
        ready_for_kickoff,
        _conversation(START + DAY, ["g-1"]).model_copy(update={"actor": c.Actor(role="hr_admin")}),
        START + DAY,
        [
            m.ConversationHeld(
                conversation_number=1,
                kickoff=True,
                held_at=START + DAY,
                goal_ids=["g-1"],
                action_items=[
                    m.ActionItem(
                        item_id="a-1", owner="mentee", description="Draft", due_at=START + 8 * DAY
                    )
                ],
            ),
            m.OnboardingCompleted(next_conversation_due=START + 15 * DAY),
            m.ChangeMadeByHr(
                token_id="unknown",
                change="log_conversation",
                recorded=["ConversationHeld", "OnboardingCompleted"],
            ),
        ],
    ),
    Decision(
        "the owner reschedules their own action item",
        active,
        c.RescheduleActionItem(item_id="a-1", due_at=START + 9 * DAY, actor=MENTEE),
        START + DAY,
        [m.ActionItemRescheduled(item_id="a-1", due_at=START + 9 * DAY)],
    ),
    Decision(
        "someone outside the relationship is denied",
        active,
        c.AchieveGoal(goal_id="g-1", actor=_as("mentee", "p-999")),
        START + DAY,
        Denied(["you are not the mentee of this relationship"]),
    ),
    Decision(
        "a participant may not record another's training",
        onboarding,
        c.CompleteTraining(person_id="p-001", module="active-listening", actor=MENTEE),
        START,
        Denied(["participants record this for themselves only"]),
    ),
    Decision(
        "the mentor may not change the mentee's goals",
        active,
        c.ReviseGoal(goal_id="g-1", progress=10, actor=MENTOR),
        START + DAY,
        Denied(["only the mentee can change their goals"]),
    ),
    Decision(
        "only an action item's owner completes it",
        active,
        c.CompleteActionItem(item_id="a-1", actor=MENTOR),
        START + DAY,
        Denied(["action item 'a-1' is the mentee's: only its owner can change it"]),
    ),
    Decision(
        "a participant gives feedback to the other side only",
        active,
        _conversation(START + DAY, ["g-1"]).model_copy(
            update={"feedback_to_mentor": "Great mentor", "actor": MENTOR}
        ),
        START + DAY,
        Denied(
            [
                "feedback_to_mentor: the mentor gives feedback to the other side only, "
                "not to themselves"
            ]
        ),
    ),
    Decision(
        "a participant closes only with a reason of their own",
        active,
        c.CloseMentorship(reason="mentor_left", actor=MENTEE),
        START + DAY,
        Denied(
            [
                "reason: the mentee can close with completed, mentee_left, mismatch, "
                "not 'mentor_left'"
            ]
        ),
    ),
    Decision(
        "only the mentor sets challenges",
        active,
        c.SetChallenge(skill="x", description="y", due_at=START + 9 * DAY, actor=MENTEE),
        START + DAY,
        Denied(["only the mentor sets challenges"]),
    ),
    Decision(
        "only the mentee declines their review summary",
        with_review,
        c.DeclineReviewSummary(cycle_id="h1", actor=MENTOR),
        START + DAY,
        Denied(["only the mentee can decide on their review summary"]),
    ),
    Decision(
        "only the mentee shares their review summary",
        with_review,
        c.ApproveReviewSummary(cycle_id="h1", actor=MENTOR),
        START + DAY,
        Denied(["only the mentee can share their review summary"]),
    ),
    Decision(
        "HR may not approve a summary for the mentee",
        with_review,
        c.ApproveReviewSummary(cycle_id="h1", actor=HR),
        START + DAY,
        Denied(["only the participant can do this, not HR on their behalf"]),
    ),
    Decision(
        "HR may not give a participant's feedback",
        active,
        c.GiveFeedback(conversation_number=1, usefulness=5, listening=5, clarity=5, actor=HR),
        START + DAY,
        Denied(["only the participant can do this, not HR on their behalf"]),
    ),
    Decision(
        "participants do not extend deadlines",
        active,
        c.ExtendDeadline(
            deadline="conversation", new_deadline=START + 20 * DAY, reason="x", actor=MENTOR
        ),
        START + DAY,
        Denied(["only HR or ops extend deadlines"]),
    ),
]


@pytest.mark.parametrize("case", DECISIONS, ids=lambda case: case.name)
def test_decide(case: Decision) -> None:
    state = case.state()

    if isinstance(case.expected, Denied):
        assert permission_problems(state, case.command) == case.expected.problems
        with pytest.raises(NotPermitted) as denied:
            decide(state, case.command, case.now)
        assert denied.value.problems == case.expected.problems
    elif isinstance(case.expected, Refused):
        assert permission_problems(state, case.command) == []
        assert check(state, case.command, case.now) == case.expected.problems
        with pytest.raises(CommandRejected) as refused:
            decide(state, case.command, case.now)
        assert refused.value.problems == case.expected.problems
    else:
        assert permission_problems(state, case.command) == []
        assert check(state, case.command, case.now) == []
        assert decide(state, case.command, case.now) == case.expected


def test_every_command_handler_has_an_accepted_and_a_refused_case() -> None:
    accepted = {type(case.command) for case in DECISIONS if isinstance(case.expected, list)}
    refused = {type(case.command) for case in DECISIONS if isinstance(case.expected, Refused)}

    commands = set(get_args(c.MentorshipCommand))

    assert commands - accepted == set()
    assert commands - refused == set()


@dataclass(frozen=True)
class Moment:
    name: str
    state: StateBuilder
    now: datetime
    due: list[DomainEvent]
    wakes_at: datetime | None
    """`next_wakeup` of the state, before the due events."""


def _missed(number: int, due_days: int, streak: int) -> list[DomainEvent]:
    """The reminder and the miss of conversation ``number``, due START + ``due_days``."""
    due_at = START + due_days * DAY
    return [
        m.ConversationReminderDue(conversation_number=number, due_at=due_at),
        m.ConversationMissed(
            conversation_number=number,
            due_at=due_at,
            consecutive_misses=streak,
            next_conversation_due=due_at + 14 * DAY,
        ),
    ]


@cache
def escalated() -> MentorshipState:
    """Two conversations missed after the kickoff, escalated once (at START + 31 days)."""
    return replay(
        item_done(),
        [
            *_missed(2, 14, 1),
            *_missed(3, 28, 2),
            m.MentorshipEscalated(
                consecutive_misses=2, reason="2 consecutive conversations missed"
            ),
        ],
    )


@cache
def with_review_cycle() -> MentorshipState:
    return _onboarding(review_cycles=[START + 5 * DAY])


SCHEDULE = [
    Moment("nothing is due before the first timer", active, START + DAY, [], START + 7 * DAY),
    Moment(
        "an action item's check-in falls due",
        active,
        START + 7 * DAY,
        [m.ActionItemCheckInDue(item_id="a-1", owner="mentee", due_at=START + 7 * DAY)],
        START + 7 * DAY,
    ),
    Moment(
        "a conversation reminder goes out a seventh of the cadence early",
        item_done,
        START + 12 * DAY,
        [m.ConversationReminderDue(conversation_number=2, due_at=START + 14 * DAY)],
        START + 12 * DAY,
    ),
    Moment(
        "a conversation is missed after the grace period",
        item_done,
        START + 17 * DAY,
        _missed(2, 14, 1),
        START + 12 * DAY,
    ),
    Moment(
        "a second miss in a row escalates",
        item_done,
        START + 31 * DAY,
        [
            *_missed(2, 14, 1),
            *_missed(3, 28, 2),
            m.MentorshipEscalated(
                consecutive_misses=2, reason="2 consecutive conversations missed"
            ),
        ],
        START + 12 * DAY,
    ),
    Moment(
        "a streak escalates only once",
        escalated,
        START + 45 * DAY,
        _missed(4, 42, 3),
        START + 40 * DAY,
    ),
    Moment(
        "onboarding is reminded of before its deadline",
        onboarding,
        START + 19 * DAY,
        [m.OnboardingReminderDue(deadline=START + 21 * DAY, missing=MISSING_AT_START)],
        START + 19 * DAY,
    ),
    Moment(
        "onboarding falls overdue at its deadline",
        onboarding,
        START + 21 * DAY,
        [
            m.OnboardingReminderDue(deadline=START + 21 * DAY, missing=MISSING_AT_START),
            m.OnboardingOverdue(deadline=START + 21 * DAY, missing=MISSING_AT_START),
        ],
        START + 19 * DAY,
    ),
    Moment(
        "a pause stops the clock of the rhythm",
        paused,
        START + 100 * DAY,
        [],
        START + 365 * DAY,
    ),
    Moment(
        "a pause stops the onboarding clock",
        paused_in_onboarding,
        START + 30 * DAY,
        [],
        START + 365 * DAY,
    ),
    Moment(
        "a review deadline still counts while paused",
        paused_with_review,
        START + 20 * DAY,
        [m.ReviewSummaryWithheld(cycle_id="h1")],
        START + 20 * DAY,
    ),
    Moment(
        "the program end opens the survey window, even while paused",
        paused,
        START + 365 * DAY,
        [m.ClosureStarted(reason="completed", survey_closes_at=START + 372 * DAY)],
        START + 365 * DAY,
    ),
    Moment(
        "the survey window's end closes the relationship",
        closing,
        START + 8 * DAY,
        [
            m.MentorshipClosed(
                reason="completed", conversations_held=1, goals_achieved=0, surveys_received=0
            )
        ],
        START + 8 * DAY,
    ),
    Moment("a closed relationship has no timers", closed, START + 400 * DAY, [], None),
    Moment(
        "a review cycle wakes the workflow to draft a summary",
        with_review_cycle,
        START + 5 * DAY,
        [],
        START + 5 * DAY,
    ),
]


@pytest.mark.parametrize("case", SCHEDULE, ids=lambda case: case.name)
def test_schedule(case: Moment) -> None:
    state = case.state()

    assert next_wakeup(state) == case.wakes_at
    assert due_events(state, case.now) == case.due
    assert due_events(replay(state, case.due), case.now) == []
