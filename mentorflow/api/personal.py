"""Which values of an answer are personal, whose, and where they were sealed.

Read models keep personal values as the vault sealed them. An answer opens exactly the fields
declared here, each for the person its event declares as the owner and only from the event
fields it is projected from; a token anywhere else (a skill, an id, another person's field)
stays as it is or reads as ``[erased]``. Nothing is opened because of its shape alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from mentorflow.api.models.people import DevelopmentPlan, PlanPart
from vault import PersonalDataVault
from vault.store import SealedAt

GOAL_DESCRIPTION = ("GoalSet.description", "GoalRevised.description")
GOAL_MOTIVATION = ("GoalSet.motivation",)
CHALLENGE_DESCRIPTION = ("ChallengeSet.description",)
ITEM_DESCRIPTION = (
    "ConversationHeld.action_items.description",
    "ActionItemsCarriedOver.items.description",
)
FEEDBACK_TO_MENTEE = ("ConversationHeld.feedback_to_mentee",)
FEEDBACK_TO_MENTOR = ("ConversationHeld.feedback_to_mentor",)
FEEDBACK_COMMENT = ("FeedbackGiven.comment",)


@dataclass(frozen=True, slots=True)
class _Slot:
    """One personal value of the answer and how to put its opened text back."""

    where: SealedAt
    put: Callable[[str], None]


def _plan_slots(part: PlanPart, mentee_id: str) -> list[_Slot]:
    stream, mentor_id = part.mentorship_id, part.mentor_id
    slots: list[_Slot] = []

    def add(value: str, owner: str, paths: tuple[str, ...], put: Callable[[str], None]) -> None:
        slots.append(_Slot(SealedAt(value, owner, stream, paths), put))

    for goal in part.goals:
        add(
            goal.description,
            mentee_id,
            GOAL_DESCRIPTION,
            partial(_set, goal, "description"),
        )
        add(goal.motivation, mentee_id, GOAL_MOTIVATION, partial(_set, goal, "motivation"))
    for challenge in part.challenges:
        add(
            challenge.description,
            mentee_id,
            CHALLENGE_DESCRIPTION,
            partial(_set, challenge, "description"),
        )
    for item in part.action_items:
        add(
            item.description,
            mentee_id,
            ITEM_DESCRIPTION,
            partial(_set, item, "description"),
        )
    for entry in part.feedback:
        if entry.author_id is not None:
            owner, paths = entry.author_id, FEEDBACK_COMMENT
        elif entry.direction == "to_mentor":
            owner, paths = mentor_id, FEEDBACK_TO_MENTOR
        else:
            owner, paths = mentee_id, FEEDBACK_TO_MENTEE
        add(entry.feedback, owner, paths, partial(_set, entry, "feedback"))
    return slots


def _set(model: object, field: str, value: str) -> None:
    setattr(model, field, value)


async def open_plan(vault: PersonalDataVault, plan: DevelopmentPlan) -> DevelopmentPlan:
    """A copy of ``plan`` with its declared personal values opened (or ``[erased]``)."""
    opened = plan.model_copy(deep=True)
    slots = [slot for part in opened.relationships for slot in _plan_slots(part, plan.person_id)]
    for slot, text in zip(
        slots, await vault.open_values([slot.where for slot in slots]), strict=True
    ):
        slot.put(text)
    return opened
