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
from domain.mentorship.catalog import BY_COMMAND
from domain.mentorship.state import MentorshipState, Stage, replay
from domain.text import text_problem
from events import DomainEvent
from events import mentorship as m

TEXT_LIMIT = 4000
SUMMARY_LIMIT = 3000
CLOCK_SKEW = timedelta(minutes=5)
NOTE_FRAGMENT = 12
"""A summary may not contain any private-note line at least this long."""
QUOTES_PRIVATE_NOTES = "edited_text contains private conversation notes, which are never shared"
QUOTE_ATTEMPTS = 3
"""Edited summaries refused for quoting a note, per cycle, before edits are refused outright.

The refusal tells whether a guessed line is in someone's private notes; unbounded, it would
be an oracle for reading them line by line. The workflow counts these refusals in its
handler (validators cannot record anything) and the rules refuse further edits of the
cycle's summary; approving the draft as it is stays possible."""

_OPEN = (Stage.ONBOARDING, Stage.ACTIVE)
_NOT_ENDED = (Stage.MATCHED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PAUSED)

Outcome = tuple[list[str], list[DomainEvent]]
C = TypeVar("C", bound=c.Command)
_HANDLERS: dict[type[Any], Callable[[MentorshipState, Any, datetime], Outcome]] = {}


class CommandRejected(ValueError):
    """A command broke the rules; nothing was recorded."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class NotPermitted(ValueError):
    """The command's actor may not make this change; nothing was recorded."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


STATE_BUDGET_BYTES = 512 * 1024
"""The most a relationship's state may take as JSON.

The state travels whole in every continue-as-new and rematch, inside a Temporal payload
capped at 2 MiB; a quarter of that leaves room for the workflow input around it and for
years of ordinary use (a three-year relationship with fortnightly conversations takes about
100 KiB). A change that would push the state past it is refused like any other broken rule.
"""


_GROWING: tuple[type[Any], ...] = (
    c.AddGoal,
    c.ReviseGoal,
    c.LogConversation,
    c.SetChallenge,
    c.RecordChallengeProgress,
    c.GiveFeedback,
)
"""Commands that add text to the state: the only ones the budget can refuse. Closing,
pausing, completing, approving and the like always stay possible, whatever the size."""


def check(state: MentorshipState, command: c.MentorshipCommand, now: datetime) -> list[str]:
    """Every problem of ``command`` against ``state`` (empty when it may proceed).

    The update validators use it; the state budget is checked here only (not in `decide`,
    which replay runs again over recorded updates).
    """
    problems, events = _HANDLERS[type(command)](state, command, now)
    if not problems and events and isinstance(command, _GROWING):
        problems = _budget_problems(state, replay(state, events))
    return problems


def _budget_problems(before: MentorshipState, after: MentorshipState) -> list[str]:
    size = len(after.model_dump_json())
    if size <= STATE_BUDGET_BYTES or size <= len(before.model_dump_json()):
        return []
    return [
        f"the relationship would hold {size // 1024} KiB, over its budget of "
        f"{STATE_BUDGET_BYTES // 1024} KiB: write less, or continue in a new relationship"
    ]


def permission_problems(state: MentorshipState, command: c.MentorshipCommand) -> list[str]:
    """Why the command's actor may not make this change (empty when they may).

    Which sides may make it, and whether HR may for them, is the command table's
    (`catalog.COMMANDS`): goals are the mentee's, challenges the mentor's, and HR may act
    for either side (recorded as HR's, `ChangeMadeByHr`) except for a participant's consent
    (approving a review summary) and opinions (feedback). The finer rules are here: action
    items are completed and rescheduled by their owner, a participant records only their
    own training and survey, gives feedback only to the other side, and states only closure
    reasons that are theirs to state. Without an actor the command comes
    from a holder of the payload key (ops tools, tests), who is trusted.
    """
    actor = command.actor
    if actor is None:
        return []
    entry = BY_COMMAND[type(command)]
    if actor.role == "hr_admin":
        if not entry.hr:
            return ["only the participant can do this, not HR on their behalf"]
        return []
    side = actor.role
    expected = state.mentor_id if side == "mentor" else state.mentee_id
    if actor.person_id != expected:
        return [f"you are not the {side} of this relationship"]
    if side not in entry.sides:
        return [entry.denied_side or f"only the {' or '.join(sorted(entry.sides))} can do this"]
    return _SIDE_RULES.get(type(command), _anyone)(state, command, side)


def _anyone(state: MentorshipState, command: Any, side: str) -> list[str]:
    return []


def _own_person(state: MentorshipState, command: Any, side: str) -> list[str]:
    own = state.mentor_id if side == "mentor" else state.mentee_id
    return [] if command.person_id == own else ["participants record this for themselves only"]


def _item_owner(state: MentorshipState, command: Any, side: str) -> list[str]:
    item = state.action_items.get(command.item_id)
    if item is None or item.owner == side:
        return []
    return [f"action item {item.item_id!r} is the {item.owner}'s: only its owner can change it"]


def _own_feedback(state: MentorshipState, command: c.LogConversation, side: str) -> list[str]:
    other = "feedback_to_mentor" if side == "mentor" else "feedback_to_mentee"
    if getattr(command, other).strip():
        return [f"{other}: the {side} gives feedback to the other side only, not to themselves"]
    return []


_OWN_CLOSURE_REASONS: dict[str, frozenset[str]] = {
    "mentor": frozenset({"completed", "mentor_left", "mismatch"}),
    "mentee": frozenset({"completed", "mentee_left", "mismatch"}),
}


def _own_closure(state: MentorshipState, command: c.CloseMentorship, side: str) -> list[str]:
    problems = []
    if command.reason not in _OWN_CLOSURE_REASONS[side]:
        allowed = ", ".join(sorted(_OWN_CLOSURE_REASONS[side]))
        problems.append(f"reason: the {side} can close with {allowed}, not {command.reason!r}")
    if command.rematch_mentee:
        problems.append("rematch_mentee: participants ask for a rematch with its own command")
    return problems


_SIDE_RULES: dict[type[Any], Callable[[MentorshipState, Any, str], list[str]]] = {
    c.CompleteTraining: _own_person,
    c.SubmitSurvey: _own_person,
    c.CompleteActionItem: _item_owner,
    c.RescheduleActionItem: _item_owner,
    c.LogConversation: _own_feedback,
    c.CloseMentorship: _own_closure,
}


def decide(
    state: MentorshipState, command: c.MentorshipCommand, now: datetime
) -> list[DomainEvent]:
    """The events ``command`` records, follow-ups included.

    Raises:
        CommandRejected: With every problem, when the command breaks a rule.
    """
    denied = permission_problems(state, command)
    if denied:
        raise NotPermitted(denied)
    problems, events = _HANDLERS[type(command)](state, command, now)
    if problems:
        raise CommandRejected(problems)
    events = events + follow_ups(replay(state, events), now)
    actor = command.actor
    if actor is not None and actor.role == "hr_admin":
        events.append(
            m.ChangeMadeByHr(
                token_id=actor.token_id or "unknown",
                change=_change_name(type(command)),
                recorded=[event.event_type for event in events],
            )
        )
    return events


def _change_name(command_type: type[Any]) -> str:
    """``CompleteActionItem`` → ``complete_action_item``."""
    name = command_type.__name__
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name).lstrip("_")


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


def _author(state: MentorshipState, actor: c.Actor | None) -> str | None:
    """The participant a change is recorded for (whose private notes a conversation's are);
    None for HR and for ops tools, which act for no one in particular."""
    if actor is None or actor.person_id is None:
        return None
    side_id = {"mentor": state.mentor_id, "mentee": state.mentee_id}.get(actor.role)
    return actor.person_id if actor.person_id == side_id else None


def _text_problems(field: str, text: str, *, required: bool, limit: int = TEXT_LIMIT) -> list[str]:
    if required and not text.strip():
        return [f"{field} is required"]
    if len(text) > limit:
        return [f"{field} is longer than {limit} characters"]
    problem = text_problem(text)
    return [] if problem is None else [f"{field} {problem}"]


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
    for index, strength in enumerate(command.strengths):
        problems += _text_problems(f"strengths[{index}]", strength, required=False, limit=200)
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
    problems += _text_problems("reason", command.reason, required=False, limit=500)
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
    for index, skill in enumerate(command.skills):
        problems += _text_problems(f"skills[{index}]", skill, required=False, limit=100)
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
        logged_by=_author(state, command.actor),
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
    problems += _text_problems("reason", command.reason, required=False, limit=500)
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


def _review_decision_problems(state: MentorshipState, cycle_id: str, now: datetime) -> list[str]:
    """Why the mentee cannot decide on a cycle's summary now (share it or keep it private)."""
    review = state.reviews.get(cycle_id)
    if review is None:
        return [f"no review summary for cycle {cycle_id!r}"]
    if review.status != "awaiting_mentee":
        return [f"the summary for cycle {cycle_id!r} is already {review.status}"]
    if now > review.respond_by:
        return [f"the approval window closed at {review.respond_by.isoformat()}"]
    return []


@_handles(c.DeclineReviewSummary)
def _decline_review(
    state: MentorshipState, command: c.DeclineReviewSummary, now: datetime
) -> Outcome:
    problems = _review_decision_problems(state, command.cycle_id, now)
    if problems:
        return problems, []
    return problems, [m.ReviewSummaryWithheld(cycle_id=command.cycle_id)]


@_handles(c.ApproveReviewSummary)
def _approve_review(
    state: MentorshipState, command: c.ApproveReviewSummary, now: datetime
) -> Outcome:
    review = state.reviews.get(command.cycle_id)
    problems = _review_decision_problems(state, command.cycle_id, now)
    text = command.edited_text
    if text is not None:
        problems += _text_problems("edited_text", text, required=True, limit=SUMMARY_LIMIT)
    if text is not None and review is not None and review.quote_refusals >= QUOTE_ATTEMPTS:
        problems.append(
            f"edited_text: {QUOTE_ATTEMPTS} edits of this summary quoted private notes; "
            "approve the draft as it is, or let it be withheld"
        )
    elif text is not None and not problems:
        # Only for a summary awaiting this very approval, with nothing else wrong: every
        # answer of this check is counted (QUOTE_ATTEMPTS), so it is no oracle.
        folded = text.casefold()
        if any(fragment in folded for fragment in _private_note_fragments(state)):
            problems.append(QUOTES_PRIVATE_NOTES)
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
    if not command.rematch_mentee:
        return problems, [_closure(state, command.reason, now)]
    if command.reason not in _REMATCHING_CLOSURES:
        problems.append(
            f"rematch_mentee: only a closure with mentor_left or mismatch matches the mentee "
            f"again, not {command.reason!r}"
        )
    return problems, [
        m.RematchRequested(
            mentee_id=state.mentee_id,
            previous_mentor_id=state.mentor_id,
            reason=f"closed: {command.reason}",
        ),
        _closure(state, command.reason, now),
    ]


_REMATCHING_CLOSURES = frozenset({"mentor_left", "mismatch"})


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


FEEDBACK_RATINGS: dict[str, tuple[str, ...]] = {
    "mentor": ("usefulness", "listening", "clarity"),
    "mentee": ("preparation", "follow_through"),
}
"""What each side is rated on: the mentee rates the mentor, the mentor rates the mentee."""


@_handles(c.GiveFeedback)
def _give_feedback(state: MentorshipState, command: c.GiveFeedback, now: datetime) -> Outcome:
    actor = command.actor
    giver = None if actor is None or actor.role == "hr_admin" else actor.role
    problems: list[str] = []
    if giver is None:
        return ["feedback is given by a participant, for their own side"], []
    receiver: m.ItemOwner = "mentee" if giver == "mentor" else "mentor"
    held_at = state.conversation_times.get(command.conversation_number)
    if held_at is None and not state.conversation_times and state.last_conversation_at:
        # A state carried over from before conversation times were kept: the last one is
        # the only one whose feedback window can still be open.
        last_number = state.conversations_held + state.total_misses
        if command.conversation_number == last_number:
            held_at = state.last_conversation_at
    if held_at is None:
        problems.append(f"conversation {command.conversation_number} was not held")
    elif now > held_at + state.terms.conversation_cadence:
        problems.append(
            f"the feedback window of conversation {command.conversation_number} closed at "
            f"{(held_at + state.terms.conversation_cadence).isoformat()}"
        )
    if f"{command.conversation_number}:{giver}" in state.feedback_given:
        problems.append(f"you already gave feedback on conversation {command.conversation_number}")
    ratings = {name: getattr(command, name) for name in FEEDBACK_RATINGS[receiver]}
    for name, rating in ratings.items():
        if rating is None:
            problems.append(f"{name}: a rating from 1 to 5 is required")
        elif not 1 <= rating <= 5:
            problems.append(f"{name} must be between 1 and 5")
    for name in FEEDBACK_RATINGS[giver]:
        if getattr(command, name) is not None:
            problems.append(f"{name}: rates the {giver}, who does not rate themselves")
    problems += _text_problems("comment", command.comment, required=False)
    if problems:
        return problems, []
    author = state.mentor_id if giver == "mentor" else state.mentee_id
    return problems, [
        m.FeedbackGiven(
            conversation_number=command.conversation_number,
            person_id=author,
            to=receiver,
            comment=command.comment,
            **ratings,
        )
    ]


@_handles(c.SkipConversation)
def _skip(state: MentorshipState, command: c.SkipConversation, now: datetime) -> Outcome:
    problems = _stage_problem(state, (Stage.ACTIVE,), "skip a conversation")
    due = state.next_conversation_due
    if due is None:
        return problems or ["no conversation is due"], []
    return problems, [
        m.ConversationMissed(
            conversation_number=state.conversations_held + state.total_misses + 1,
            due_at=due,
            consecutive_misses=state.consecutive_misses + 1,
            next_conversation_due=due + state.terms.conversation_cadence,
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
