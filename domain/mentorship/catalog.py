"""The one table of relationship commands.

Each entry names a command model of `domain.mentorship.commands`, the Temporal update that
runs it (names never change: recorded histories replay), the HTTP route that exposes it, who
may call it and what the answer carries. The workflow's updates and validators
(`workflows.mentorship`), the API routes with their OpenAPI documents
(`mentorflow.api.relationship_commands`) and the CLI (`mentorflow mentorship …`) are all
generated from it, and the rules' coarse permission check (`decisions.permission_problems`)
reads it too.

Adding a relationship command: its model (`commands.py`), its rule (`decisions.py`), its
entry here, and its events where it records new ones (`events/mentorship.py` and the fold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from domain.mentorship import commands as c

Side = Literal["mentor", "mentee"]
BOTH: frozenset[Side] = frozenset({"mentor", "mentee"})
MENTOR: frozenset[Side] = frozenset({"mentor"})
MENTEE: frozenset[Side] = frozenset({"mentee"})
NOBODY: frozenset[Side] = frozenset()

Created = Literal["goal_id", "challenge_id", "action_item_ids"]
"""What an answer names besides the recorded events: the id(s) the command created. It is the
answer type: `CommandAccepted`, or `GoalAdded`, `ChallengeSet`, `ConversationLogged`."""


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """One relationship command, everything its adapters need to know."""

    command: type[c.Command]
    update: str
    """The Temporal update name (also the CLI command, with dashes)."""
    path: str
    """``POST /mentorships/{mentorship_id}`` + this; ``{field}`` placeholders are command fields."""
    summary: str
    sides: frozenset[Side]
    """The participant sides that may call it for themselves."""
    hr: bool = True
    """HR may call it for either side (recorded as HR's change)."""
    denied_side: str = ""
    """Why a participant of another side may not (the rules' wording)."""
    acting_for: str | None = None
    """The field naming the participant acted for: a participant gives their own id."""
    created: Created | None = None
    status_code: int = 200
    idempotent: bool = False
    """Accepts an ``Idempotency-Key``: repeating the request answers its first outcome."""

    @property
    def path_fields(self) -> tuple[str, ...]:
        """The command fields the path gives, in order."""
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def operation(self) -> str:
        """The name of the change in logs and idempotency keys."""
        return self.update.replace("_", "-")


COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry(
        c.CompleteTraining,
        "complete_training",
        "/training",
        "Record a completed training module",
        BOTH,
        acting_for="person_id",
    ),
    CommandEntry(
        c.AddGoal,
        "add_goal",
        "/goals",
        "Add a career goal",
        MENTEE,
        denied_side="only the mentee can change their goals",
        created="goal_id",
        status_code=201,
        idempotent=True,
    ),
    CommandEntry(
        c.ReviseGoal,
        "revise_goal",
        "/goals/{goal_id}/revise",
        "Revise a goal",
        MENTEE,
        denied_side="only the mentee can change their goals",
    ),
    CommandEntry(
        c.AchieveGoal,
        "achieve_goal",
        "/goals/{goal_id}/achieve",
        "Mark a goal as reached",
        MENTEE,
        denied_side="only the mentee can change their goals",
    ),
    CommandEntry(
        c.DropGoal,
        "drop_goal",
        "/goals/{goal_id}/drop",
        "Drop a goal",
        MENTEE,
        denied_side="only the mentee can change their goals",
    ),
    CommandEntry(
        c.LogConversation,
        "log_conversation",
        "/conversations",
        "Log a career conversation",
        BOTH,
        created="action_item_ids",
        status_code=201,
        idempotent=True,
    ),
    CommandEntry(
        c.SkipConversation,
        "skip_conversation",
        "/conversations/skip",
        "Skip the next conversation",
        BOTH,
    ),
    CommandEntry(
        c.CompleteActionItem,
        "complete_action_item",
        "/action-items/{item_id}/complete",
        "Complete an action item",
        BOTH,
    ),
    CommandEntry(
        c.RescheduleActionItem,
        "reschedule_action_item",
        "/action-items/{item_id}/reschedule",
        "Reschedule an action item",
        BOTH,
    ),
    CommandEntry(
        c.SetChallenge,
        "set_challenge",
        "/challenges",
        "Set a skill-development challenge",
        MENTOR,
        denied_side="only the mentor sets challenges",
        created="challenge_id",
        status_code=201,
        idempotent=True,
    ),
    CommandEntry(
        c.RecordChallengeProgress,
        "record_challenge_progress",
        "/challenges/{challenge_id}/progress",
        "Record progress on a challenge",
        BOTH,
    ),
    CommandEntry(
        c.ApproveReviewSummary,
        "approve_review_summary",
        "/review-summaries/{cycle_id}/approve",
        "Share a review summary",
        MENTEE,
        hr=False,
        denied_side="only the mentee can share their review summary",
    ),
    CommandEntry(
        c.DeclineReviewSummary,
        "decline_review_summary",
        "/review-summaries/{cycle_id}/decline",
        "Keep a review summary private",
        MENTEE,
        hr=False,
        denied_side="only the mentee can decide on their review summary",
    ),
    CommandEntry(c.PauseMentorship, "pause", "/pause", "Put the relationship on hold", BOTH),
    CommandEntry(c.ResumeMentorship, "resume", "/resume", "Continue after a pause", BOTH),
    CommandEntry(c.CloseMentorship, "close", "/close", "End the relationship", BOTH),
    CommandEntry(
        c.RequestRematch,
        "request_rematch",
        "/rematch",
        "End the relationship and match the mentee again",
        BOTH,
    ),
    CommandEntry(
        c.SubmitSurvey,
        "submit_survey",
        "/feedback",
        "Give feedback on the relationship (closing survey)",
        BOTH,
        acting_for="person_id",
    ),
    CommandEntry(
        c.GiveFeedback,
        "give_feedback",
        "/conversations/{conversation_number}/feedback",
        "Give your own feedback on a conversation",
        BOTH,
        hr=False,
        status_code=201,
    ),
    CommandEntry(
        c.ExtendDeadline,
        "extend_deadline",
        "/extend-deadline",
        "Move a deadline (HR)",
        NOBODY,
        denied_side="only HR or ops extend deadlines",
    ),
)

BY_COMMAND: dict[type[c.Command], CommandEntry] = {entry.command: entry for entry in COMMANDS}
BY_UPDATE: dict[str, CommandEntry] = {entry.update: entry for entry in COMMANDS}


def entry_for(command: c.Command) -> CommandEntry:
    """The table's entry of a command (`KeyError` for a model that is not a command)."""
    return BY_COMMAND[type(command)]


def update_name(command: c.Command) -> str:
    """The Temporal update that runs ``command``."""
    return entry_for(command).update
