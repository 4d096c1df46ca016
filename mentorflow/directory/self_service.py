"""A person's own changes to the directory: their profile fields, their traits, their consent.

One use case per change, shared by the API and the console. Each plans with the pure rules of
`domain.self_service` inside the directory's read-plan-append loop (`PeopleDirectory.record`),
so a change is checked against the person's state at the version it is appended to:

* the directory must know the person (`PersonNotInDirectory`): HR's sources create people;
* a forgotten person is refused (`PersonIsForgotten`);
* a deactivated person's data stays as it was (`PersonInactive`), but consent can always be
  withdrawn;
* the same change twice records nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from domain.person import PersonState, PlannedChanges, profile_problems
from domain.personality import answer_problems, score
from domain.self_service import (
    OwnProfile,
    own_profile_changes,
    self_service_refusal,
    traits_assessment,
    traits_withdrawal,
)
from mentorflow.directory.service import (
    Applied,
    DirectoryError,
    PeopleDirectory,
    PersonIsForgotten,
    ProfileInvalid,
)


class PersonNotInDirectory(DirectoryError):
    """The directory has no profile of the person: HR's sources add people, not they."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"the directory has no profile of {person_id}")
        self.person_id = person_id


class PersonInactive(DirectoryError):
    """The person is deactivated: their data stays as it was until they are reactivated."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"{person_id} is deactivated in the directory")
        self.person_id = person_id


class AssessmentInvalid(DirectoryError):
    """Answers that cannot be scored, or no consent; ``problems`` names every reason."""

    def __init__(self, person_id: str, problems: list[str]) -> None:
        super().__init__(f"the answers of {person_id} are not scored: " + "; ".join(problems))
        self.person_id = person_id
        self.problems = problems


CONSENT_MISSING = "consent: the traits are scored and kept only with your consent"


def _ensure_may_change(state: PersonState, person_id: str, *, withdrawing: bool = False) -> None:
    refusal = self_service_refusal(state, withdrawing=withdrawing)
    if refusal == "forgotten":
        raise PersonIsForgotten(person_id)
    if refusal == "unknown":
        raise PersonNotInDirectory(person_id)
    if refusal == "inactive":
        raise PersonInactive(person_id)


async def edit_own_profile(
    directory: PeopleDirectory, person_id: str, edit: OwnProfile, *, now: datetime | None = None
) -> Applied:
    """Replace the person's own profile fields with ``edit``, recording only what changed.

    Raises:
        ProfileInvalid: The profile it makes breaks a rule of the directory.
        PersonNotInDirectory: The directory has no profile of them.
        PersonInactive: They are deactivated.
        PersonIsForgotten: They were forgotten.
        DirectoryBusy: Other writers kept changing the stream.
        DatabaseUnavailable: The database went away.
    """

    def plan(state: PersonState) -> PlannedChanges:
        _ensure_may_change(state, person_id)
        assert state.profile is not None  # known: checked above
        problems = profile_problems(state.profile.model_copy(update=edit.model_dump()))
        if problems:
            raise ProfileInvalid(person_id, problems)
        return own_profile_changes(state, person_id, edit)

    return await directory.record(person_id, plan, now=now)


async def assess_traits(
    directory: PeopleDirectory,
    person_id: str,
    answers: Sequence[int],
    *,
    consent: bool,
    now: datetime | None = None,
) -> Applied:
    """Score the person's Mini-IPIP answers and keep the traits, with the time of their consent.

    The answers themselves are not kept.

    Raises:
        AssessmentInvalid: The answers cannot be scored, or ``consent`` is false (every
            problem named); checked first.
        PersonNotInDirectory: The directory has no profile of them.
        PersonInactive: They are deactivated.
        PersonIsForgotten: They were forgotten.
        DirectoryBusy: Other writers kept changing the stream.
        DatabaseUnavailable: The database went away.
    """
    problems = [*answer_problems(answers), *([] if consent else [CONSENT_MISSING])]
    if problems:
        raise AssessmentInvalid(person_id, problems)
    traits = score(answers)
    at = now or datetime.now(UTC)

    def plan(state: PersonState) -> PlannedChanges:
        _ensure_may_change(state, person_id)
        return traits_assessment(state, person_id, traits, consented_at=at)

    return await directory.record(person_id, plan, now=at)


async def withdraw_traits_consent(
    directory: PeopleDirectory, person_id: str, *, now: datetime | None = None
) -> Applied:
    """Withdraw the person's consent: their traits are removed (nothing when there are none).

    Possible for a deactivated person too.

    Raises:
        PersonNotInDirectory: The directory has no profile of them.
        PersonIsForgotten: They were forgotten.
        DirectoryBusy: Other writers kept changing the stream.
        DatabaseUnavailable: The database went away.
    """
    at = now or datetime.now(UTC)

    def plan(state: PersonState) -> PlannedChanges:
        _ensure_may_change(state, person_id, withdrawing=True)
        return traits_withdrawal(state, person_id, now=at)

    return await directory.record(person_id, plan, now=at)
