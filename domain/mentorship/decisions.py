"""Commands to events: every rule of a relationship, checked before anything is recorded.

`check` lists every problem of a command (the workflow's update validators use it, so a
rejected update leaves no trace but its rejection); `decide` turns an accepted command into
the events to record, including follow-ups (onboarding completed, relationship closed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from domain.mentorship import commands as c
from domain.mentorship.state import MentorshipState, Stage, replay
from events import DomainEvent
from events import mentorship as m

TEXT_LIMIT = 4000
SUMMARY_LIMIT = 3000
CLOCK_SKEW = timedelta(minutes=5)
NOTE_FRAGMENT = 12
"""A summary may not contain any private-note line at least this long."""

_OPEN = (Stage.ONBOARDING, Stage.ACTIVE)
_NOT_ENDED = (Stage.MATCHED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PAUSED)

Outcome = tuple[list[str], list[DomainEvent]]
C = TypeVar("C", bound=c._Command)
_HANDLERS: dict[type[Any], Callable[[MentorshipState, Any, datetime], Outcome]] = {}


class CommandRejected(ValueError):
    """A command broke the rules; nothing was recorded."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check(state: MentorshipState, command: c.MentorshipCommand, now: datetime) -> list[str]:
    """Every problem of ``command`` against ``state`` (empty when it may proceed)."""
    problems, _ = _HANDLERS[type(command)](state, command, now)
    return problems


def decide(
    state: MentorshipState, command: c.MentorshipCommand, now: datetime
) -> list[DomainEvent]:
    """The events ``command`` records, follow-ups included.

    Raises:
        CommandRejected: With every problem, when the command breaks a rule.
    """
    problems, events = _HANDLERS[type(command)](state, command, now)
    if problems:
        raise CommandRejected(problems)
    return events + follow_ups(replay(state, events), now)


def follow_ups(state: MentorshipState, now: datetime) -> list[DomainEvent]:
    """Events that follow from a state by itself: onboarding done, all surveys in."""
    if state.stage is Stage.ONBOARDING and not state.missing_for_onboarding():
        return [m.OnboardingCompleted(next_conversation_due=now + state.terms.conversation_cadence)]
    if state.stage is Stage.CLOSING and all(p in state.surveys for p in state.participants):
        return [closed_event(state)]
    return []


def closed_event(state: MentorshipState) -> m.MentorshipClosed:
    """The closing fact, with the relationship's outcome figures."""
    return m.MentorshipClosed(
        reason=state.closure_reason or "completed",
        conversations_held=state.conversations_held,
        goals_achieved=sum(goal.status == "achieved" for goal in state.goals.values()),
        surveys_received=len(state.surveys),
    )


def _handles(
    command_type: type[C],
) -> Callable[[Callable[[MentorshipState, C, datetime], Outcome]], Any]:
    def register(handler: Callable[[MentorshipState, C, datetime], Outcome]) -> Any:
        _HANDLERS[command_type] = handler
        return handler

    return register


def _stage_problem(state: MentorshipState, allowed: tuple[Stage, ...], action: str) -> list[str]:
    if state.stage in allowed:
        return []
    return [f"cannot {action} while the relationship is {state.stage.value}"]


def _text_problems(field: str, text: str, *, required: bool, limit: int = TEXT_LIMIT) -> list[str]:
    if required and not text.strip():
        return [f"{field} is required"]
    if len(text) > limit:
        return [f"{field} is longer than {limit} characters"]
    return []


@_handles(c.CompleteTraining)
def _complete_training(
    state: MentorshipState, command: c.CompleteTraining, now: datetime
) -> Outcome:
    problems = _stage_problem(state, (*_OPEN, Stage.PAUSED), "record training")
    if command.person_id not in state.participants:
        problems.append(f"person_id {command.person_id!r} is not part of this relationship")
    if command.module not in state.terms.training_modules:
        problems.append(
            f"module {command.module!r} is not one of the program's: "
            + ", ".join(state.terms.training_modules)
        )
    elif command.module in state.training_completed.get(command.person_id, []):
        problems.append(f"{command.person_id} already completed {command.module}")
    return problems, [m.TrainingModuleCompleted(person_id=command.person_id, module=command.module)]


@_handles(c.AddGoal)
def _add_goal(state: MentorshipState, command: c.AddGoal, now: datetime) -> Outcome:
    problems = _stage_problem(state, (*_OPEN, Stage.PAUSED), "add a goal")
    problems += _text_problems("description", command.description, required=True)
    problems += _text_problems("motivation", command.motivation, required=False)
    if command.target_date is not None and command.target_date <= now:
        problems.append("target_date must be in the future")
    goal_id = f"g-{state.goals_created + 1}"
    return problems, [
        m.GoalSet(
            goal_id=goal_id,
            horizon=command.horizon,
            description=command.description,
            motivation=command.motivation,
            strengths=list(command.strengths),
            target_date=command.target_date,
        )
    ]


def _goal_problems(state: MentorshipState, goal_id: str) -> list[str]:
    goal = state.goals.get(goal_id)
    if goal is None:
        return [f"unknown goal {goal_id!r}"]
    if goal.status != "active":
        return [f"goal {goal_id!r} is {goal.status}"]
    return []


@_handles(c.ReviseGoal)
def _revise_goal(state: MentorshipState, command: c.ReviseGoal, now: datetime) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "revise a goal")
    problems += _goal_problems(state, command.goal_id)
    if command.description is None and command.target_date is None and command.progress is None:
        problems.append("nothing to revise: give description, target_date or progress")
    if command.description is not None:
        problems += _text_problems("description", command.description, required=True)
    if command.progress is not None and not 0 <= command.progress <= 100:
        problems.append("progress must be between 0 and 100")
    if problems:
        return problems, []
    return problems, [
        m.GoalRevised(
            goal_id=command.goal_id,
            description=command.description,
            target_date=command.target_date,
            progress=command.progress,
        )
    ]


@_handles(c.AchieveGoal)
def _achieve_goal(state: MentorshipState, command: c.AchieveGoal, now: datetime) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "achieve a goal")
    problems += _goal_problems(state, command.goal_id)
    return problems, [m.GoalAchieved(goal_id=command.goal_id)]


@_handles(c.DropGoal)
def _drop_goal(state: MentorshipState, command: c.DropGoal, now: datetime) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "drop a goal")
    problems += _goal_problems(state, command.goal_id)
    return problems, [m.GoalDropped(goal_id=command.goal_id, reason=command.reason)]


@_handles(c.LogConversation)
def _log_conversation(state: MentorshipState, command: c.LogConversation, now: datetime) -> Outcome:
    problems = _stage_problem(state, _OPEN, "log a conversation")
    if command.held_at > now + CLOCK_SKEW:
        problems.append("held_at is in the future")
    if state.last_conversation_at is not None and command.held_at < state.last_conversation_at:
        problems.append("held_at is before the previous conversation")
    if not command.goal_ids:
        problems.append("a conversation must discuss at least one of the mentee's goals")
    for goal_id in command.goal_ids:
        if goal_id not in state.goals:
            problems.append(f"goal_ids: unknown goal {goal_id!r}")
    if not command.action_items:
        problems.append("a conversation must conclude with an action plan of at least one item")
    for index, item in enumerate(command.action_items):
        problems += _text_problems(
            f"action_items[{index}].description", item.description, required=True
        )
        if item.due_at <= command.held_at:
            problems.append(f"action_items[{index}].due_at must be after held_at")
    for field in ("feedback_to_mentee", "feedback_to_mentor", "notes"):
        problems += _text_problems(field, getattr(command, field), required=False)
    if len(command.skills) > 20 or any(not skill.strip() for skill in command.skills):
        problems.append("skills must be at most 20 non-empty names")
    if problems:
        return problems, []

    kickoff = not state.kickoff_held
    first_item = state.action_items_created + 1
    event = m.ConversationHeld(
        conversation_number=state.conversations_held + state.total_misses + 1,
        kickoff=kickoff,
        held_at=command.held_at,
        due_at=state.next_conversation_due,
        goal_ids=list(command.goal_ids),
        skills=list(command.skills),
        feedback_to_mentee=command.feedback_to_mentee,
        feedback_to_mentor=command.feedback_to_mentor,
        notes=command.notes,
        action_items=[
            m.ActionItem(
                item_id=f"a-{first_item + index}",
                owner=item.owner,
                description=item.description,
                due_at=item.due_at,
            )
            for index, item in enumerate(command.action_items)
        ],
        next_conversation_due=(
            command.held_at + state.terms.conversation_cadence
            if state.stage is Stage.ACTIVE
            else None
        ),
    )
    return problems, [event]


def _item_problems(state: MentorshipState, item_id: str) -> list[str]:
    item = state.action_items.get(item_id)
    if item is None:
        return [f"unknown action item {item_id!r}"]
    if item.status != "open":
        return [f"action item {item_id!r} is already {item.status}"]
    return []


@_handles(c.CompleteActionItem)
def _complete_item(state: MentorshipState, command: c.CompleteActionItem, now: datetime) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "complete an action item")
    problems += _item_problems(state, command.item_id)
    return problems, [m.ActionItemCompleted(item_id=command.item_id, completed_at=now)]


@_handles(c.RescheduleActionItem)
def _reschedule_item(
    state: MentorshipState, command: c.RescheduleActionItem, now: datetime
) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "reschedule an action item")
    problems += _item_problems(state, command.item_id)
    if command.due_at <= now:
        problems.append("due_at must be in the future")
    return problems, [
        m.ActionItemRescheduled(
            item_id=command.item_id, due_at=command.due_at, reason=command.reason
        )
    ]


@_handles(c.SetChallenge)
def _set_challenge(state: MentorshipState, command: c.SetChallenge, now: datetime) -> Outcome:
    problems = _stage_problem(state, _OPEN, "set a challenge")
    problems += _text_problems("skill", command.skill, required=True, limit=100)
    problems += _text_problems("description", command.description, required=True)
    if command.due_at <= now:
        problems.append("due_at must be in the future")
    challenge_id = f"c-{len(state.challenges) + 1}"
    return problems, [
        m.ChallengeSet(
            challenge_id=challenge_id,
            skill=command.skill,
            description=command.description,
            due_at=command.due_at,
        )
    ]


@_handles(c.RecordChallengeProgress)
def _challenge_progress(
    state: MentorshipState, command: c.RecordChallengeProgress, now: datetime
) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "record challenge progress")
    if command.challenge_id not in state.challenges:
        problems.append(f"unknown challenge {command.challenge_id!r}")
    if not 0 <= command.progress <= 100:
        problems.append("progress must be between 0 and 100")
    problems += _text_problems("note", command.note, required=False)
    if problems:
        return problems, []
    return problems, [
        m.ChallengeProgressRecorded(
            challenge_id=command.challenge_id, progress=command.progress, note=command.note
        )
    ]


def _private_note_fragments(state: MentorshipState) -> list[str]:
    fragments: list[str] = []
    for note in state.private_notes:
        fragments.extend(
            line.strip().casefold()
            for line in note.splitlines()
            if len(line.strip()) >= NOTE_FRAGMENT
        )
    return fragments


@_handles(c.ApproveReviewSummary)
def _approve_review(
    state: MentorshipState, command: c.ApproveReviewSummary, now: datetime
) -> Outcome:
    review = state.reviews.get(command.cycle_id)
    problems: list[str] = []
    if review is None:
        problems.append(f"no review summary for cycle {command.cycle_id!r}")
    elif review.status != "awaiting_mentee":
        problems.append(f"the summary for cycle {command.cycle_id!r} is already {review.status}")
    elif now > review.respond_by:
        problems.append(f"the approval window closed at {review.respond_by.isoformat()}")
    text = command.edited_text
    if text is not None:
        problems += _text_problems("edited_text", text, required=True, limit=SUMMARY_LIMIT)
        folded = text.casefold()
        if any(fragment in folded for fragment in _private_note_fragments(state)):
            problems.append(
                "edited_text contains private conversation notes, which are never shared"
            )
    if review is None or problems:
        return problems, []
    summary = review.summary if text is None else review.summary.model_copy(update={"text": text})
    return problems, [
        m.ReviewSummaryShared(
            cycle_id=command.cycle_id, summary=summary, edited_by_mentee=text is not None
        )
    ]


@_handles(c.PauseMentorship)
def _pause(state: MentorshipState, command: c.PauseMentorship, now: datetime) -> Outcome:
    problems = _stage_problem(state, _OPEN, "pause")
    problems += _text_problems("reason", command.reason, required=True, limit=500)
    return problems, [m.MentorshipPaused(reason=command.reason, paused_at=now)]


@_handles(c.ResumeMentorship)
def _resume(state: MentorshipState, command: c.ResumeMentorship, now: datetime) -> Outcome:
    problems = _stage_problem(state, (Stage.PAUSED,), "resume")
    paused_for = now - state.paused_at if state.paused_at is not None else timedelta(0)
    next_due = None
    if state.stage_before_pause is Stage.ACTIVE:
        next_due = now + state.terms.conversation_cadence
    return problems, [m.MentorshipResumed(paused_for=paused_for, next_conversation_due=next_due)]


def _closure(state: MentorshipState, reason: m.ClosureReason, now: datetime) -> m.ClosureStarted:
    return m.ClosureStarted(
        reason=reason, survey_closes_at=now + state.terms.effective_survey_window
    )


@_handles(c.CloseMentorship)
def _close(state: MentorshipState, command: c.CloseMentorship, now: datetime) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "close")
    if command.reason == "rematch":
        problems.append("use a rematch request to close with reason 'rematch'")
    return problems, [_closure(state, command.reason, now)]


@_handles(c.RequestRematch)
def _rematch(state: MentorshipState, command: c.RequestRematch, now: datetime) -> Outcome:
    problems = _stage_problem(state, _NOT_ENDED, "request a rematch")
    problems += _text_problems("reason", command.reason, required=True, limit=500)
    return problems, [
        m.RematchRequested(
            mentee_id=state.mentee_id, previous_mentor_id=state.mentor_id, reason=command.reason
        ),
        _closure(state, "rematch", now),
    ]


@_handles(c.SubmitSurvey)
def _survey(state: MentorshipState, command: c.SubmitSurvey, now: datetime) -> Outcome:
    problems = _stage_problem(state, (Stage.CLOSING,), "submit a closing survey")
    if command.person_id not in state.participants:
        problems.append(f"person_id {command.person_id!r} is not part of this relationship")
    elif command.person_id in state.surveys:
        problems.append(f"{command.person_id} already answered the survey")
    for field in ("satisfaction", "value"):
        if not 1 <= getattr(command, field) <= 5:
            problems.append(f"{field} must be between 1 and 5")
    problems += _text_problems("comment", command.comment, required=False)
    if problems:
        return problems, []
    return problems, [
        m.SurveySubmitted(
            person_id=command.person_id,
            satisfaction=command.satisfaction,
            value=command.value,
            would_recommend=command.would_recommend,
            comment=command.comment,
        )
    ]


@_handles(c.ExtendDeadline)
def _extend(state: MentorshipState, command: c.ExtendDeadline, now: datetime) -> Outcome:
    stage = Stage.ONBOARDING if command.deadline == "onboarding" else Stage.ACTIVE
    problems = _stage_problem(state, (stage,), f"extend the {command.deadline} deadline")
    problems += _text_problems("reason", command.reason, required=True, limit=500)
    if command.new_deadline <= now:
        problems.append("new_deadline must be in the future")
    return problems, [
        m.DeadlineExtended(
            deadline=command.deadline, new_deadline=command.new_deadline, reason=command.reason
        )
    ]
