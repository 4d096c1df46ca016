"""Who may read and change which relationship: the per-object rules of the API.

* ``hr_admin`` reaches everything, except approving a mentee's review summary (their
  consent) and giving a participant's feedback (their opinion); what HR changes on a
  participant's behalf is recorded as HR's (`ChangeMadeByHr`, with HR's token id).
* ``service`` (integrations) reads everything and launches cohorts; it changes no
  relationship.
* ``mentor`` and ``mentee`` tokens are participant tokens: they reach the relationships
  whose mentor or mentee is their person, whichever token role they hold (someone with both
  roles in a cohort mentors in one relationship and is mentored in another). Their side in
  *that* relationship decides the few side-specific changes: the mentor sets challenges,
  the mentee approves review summaries, each participant records their own training and
  survey. The relationship's rules check the side again (`decisions.permission_problems`):
  action items are changed by their owner, goals by the mentee, closure reasons are the
  caller's own.
* A relationship the caller may not see is answered 404, exactly like one that does not
  exist: no existence oracle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from domain.mentorship.commands import Actor
from mentorflow.api.errors import Forbidden, NotFound
from mentorflow.api.tokens import PARTICIPANT_ROLES, Principal, Role

Side = Literal["mentor", "mentee"]
BOTH_SIDES: frozenset[Side] = frozenset({"mentor", "mentee"})


@dataclass(frozen=True, slots=True)
class Relationship:
    """Who is in a relationship."""

    mentorship_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str

    def side_of(self, person_id: str | None) -> Side | None:
        """The person's side in this relationship; None when they are not in it."""
        if person_id == self.mentor_id:
            return "mentor"
        if person_id == self.mentee_id:
            return "mentee"
        return None


def can_read(principal: Principal, relationship: Relationship) -> bool:
    """Whether the caller may see the relationship."""
    if principal.role in (Role.HR_ADMIN, Role.SERVICE):
        return True
    return relationship.side_of(principal.person_id) is not None


def no_mentorship(mentorship_id: str) -> NotFound:
    """The one answer for a relationship that does not exist or is not the caller's."""
    return NotFound(f"no mentorship {mentorship_id}")


def ensure_can_read(principal: Principal, relationship: Relationship) -> None:
    """Raises `NotFound` unless the caller may see the relationship."""
    if not can_read(principal, relationship):
        raise no_mentorship(relationship.mentorship_id)


def ensure_can_change(
    principal: Principal,
    relationship: Relationship,
    *,
    sides: frozenset[Side] = BOTH_SIDES,
    hr_admin: bool = True,
    acting_for: str | None = None,
) -> None:
    """Raises `Forbidden` unless the caller may make this change.

    Args:
        principal: The caller.
        relationship: The relationship changed.
        sides: Which participants may make the change.
        hr_admin: Whether HR may make it for them.
        acting_for: The person the change is recorded for (training, survey): a participant
            records only their own.
    """
    if principal.role is Role.HR_ADMIN:
        if not hr_admin:
            raise Forbidden("only the participant can do this, not HR on their behalf")
        return
    if principal.role not in PARTICIPANT_ROLES:
        if not can_read(principal, relationship):
            raise no_mentorship(relationship.mentorship_id)
        raise Forbidden(f"the {principal.role.value} role changes no relationship")
    side = relationship.side_of(principal.person_id)
    if side is None:
        raise no_mentorship(relationship.mentorship_id)
    if side not in sides:
        raise Forbidden(f"only the {_either(sides)} of the relationship can do this")
    if acting_for is not None and acting_for != principal.person_id:
        raise Forbidden("participants record this for themselves only")


def _either(sides: Iterable[Side]) -> str:
    return " or ".join(sorted(sides))


def actor_of(principal: Principal, relationship: Relationship) -> Actor:
    """Who the change is recorded for: HR (with its token id), or the caller's own side."""
    if principal.role is Role.HR_ADMIN:
        return Actor(role="hr_admin", token_id=principal.token_id or None)
    side = relationship.side_of(principal.person_id)
    if side is None:
        raise no_mentorship(relationship.mentorship_id)
    return Actor(role=side, person_id=principal.person_id, token_id=principal.token_id or None)
