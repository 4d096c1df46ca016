"""``/people/{person_id}/profile`` and ``/people/{person_id}/traits``: a person's own directory
data, read and changed by themselves.

* ``GET …/profile``: their own fields (time zone, languages, skills with levels, skills they
  want to develop, career objectives) and what the HR system says of them (name, email,
  department, manager, employee number).
* ``PUT …/profile``: replaces their own fields, all five; a field of the HR system's is
  refused by name. Only what changed is recorded (`ProfileUpdated`, source ``self``); the same
  body again records nothing.
* ``GET …/traits``: the Big Five they gave with consent, or null.
* ``PUT …/traits``: their twenty Mini-IPIP answers with ``consent: true``; the scores are kept
  (`TraitsAssessed`), the answers are not.
* ``DELETE …/traits``: withdraws the consent; the traits are removed
  (`TraitsConsentWithdrawn`). Always possible, also once deactivated.

Who: the person themselves (a participant token of theirs) reads and changes; HR reads
(403 on a change: only the person decides); anyone else gets 404, exactly as for a person the
directory does not know or forgot. A bad body is a 422 naming every problem, and nothing is
recorded. Reads fold the person's stream, so a change is visible to the next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter

from domain.person import PersonState
from domain.self_service import OwnProfile
from mentorflow.api.auth import Caller
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import (
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    Conflict,
    ErrorResponse,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from mentorflow.api.models.identifiers import PersonIdPath
from mentorflow.api.models.profile import (
    HrSystemProfileView,
    OwnProfileView,
    ProfileView,
    TraitsAssessmentRequest,
    TraitsView,
)
from mentorflow.api.tokens import PARTICIPANT_ROLES, Principal, Role
from mentorflow.directory import (
    AssessmentInvalid,
    DirectoryBusy,
    PeopleDirectory,
    PersonInactive,
    PersonIsForgotten,
    PersonNotInDirectory,
    ProfileInvalid,
    assess_traits,
    edit_own_profile,
    withdraw_traits_consent,
)

router = APIRouter(tags=["people"], responses=ERROR_RESPONSES)

PROFILE_PATH = "/people/{person_id}/profile"
TRAITS_PATH = "/people/{person_id}/traits"
CHANGE_RESPONSES: dict[int | str, dict[str, object]] = {
    **NOT_FOUND_RESPONSE,
    409: {"model": ErrorResponse, "description": "The person is deactivated"},
}


def no_profile(person_id: str) -> NotFound:
    """The one answer for a person who is not the caller's to see, unknown, or forgotten."""
    return NotFound(f"no profile for {person_id}")


def is_own(caller: Principal, person_id: str) -> bool:
    """Whether the caller is the person, signed in as a participant."""
    return caller.role in PARTICIPANT_ROLES and caller.person_id == person_id


def ensure_may_read(caller: Principal, person_id: str) -> None:
    """Raises `NotFound` unless the caller is the person or HR."""
    if not (is_own(caller, person_id) or caller.role is Role.HR_ADMIN):
        raise no_profile(person_id)


def ensure_may_change(caller: Principal, person_id: str) -> None:
    """Raises `Forbidden` for HR, `NotFound` for anyone but the person."""
    if is_own(caller, person_id):
        return
    if caller.role is Role.HR_ADMIN:
        raise Forbidden("only the person themselves changes their own profile and traits")
    raise no_profile(person_id)


def directory_of(services: ApiServices) -> PeopleDirectory:
    """The directory service over the API's pool and vault."""
    return PeopleDirectory(services.pool, services.vault)


@contextmanager
def directory_errors(person_id: str) -> Iterator[None]:
    """The directory's refusals as the API's errors (the one place they are mapped)."""
    try:
        yield
    except (PersonNotInDirectory, PersonIsForgotten):
        raise no_profile(person_id) from None
    except PersonInactive:
        raise Conflict(
            f"{person_id} is deactivated: their profile and traits stay as they were"
        ) from None
    except (ProfileInvalid, AssessmentInvalid) as invalid:
        raise InvalidInput("the request is invalid", invalid.problems) from None
    except DirectoryBusy:
        raise ServiceUnavailable(f"{person_id} keeps changing; try again") from None


async def _known(services: ApiServices, person_id: str) -> PersonState:
    state = await directory_of(services).get(person_id)
    if state is None or state.forgotten:
        raise no_profile(person_id)
    return state


def profile_view(state: PersonState) -> ProfileView:
    """The person's profile as the API answers it."""
    profile = state.profile
    if profile is None:
        raise no_profile(state.person_id)
    return ProfileView(
        person_id=state.person_id,
        active=state.active,
        own=OwnProfileView.model_validate(profile, from_attributes=True),
        hr_system=HrSystemProfileView.model_validate(profile, from_attributes=True),
    )


def traits_view(state: PersonState) -> TraitsView:
    """The person's traits as the API answers them."""
    return TraitsView(
        person_id=state.person_id,
        traits=state.traits,
        instrument=state.traits_instrument,
        consented_at=state.traits_consented_at,
        assessed_at=state.traits_assessed_at,
    )


@router.get(PROFILE_PATH, summary="A person's directory profile", responses=NOT_FOUND_RESPONSE)
async def get_profile(person_id: PersonIdPath, services: Services, caller: Caller) -> ProfileView:
    """Their own fields and the HR system's. The person themselves or HR."""
    ensure_may_read(caller, person_id)
    return profile_view(await _known(services, person_id))


@router.put(PROFILE_PATH, summary="Edit one's own profile", responses=CHANGE_RESPONSES)
async def put_profile(
    person_id: PersonIdPath, body: OwnProfile, services: Services, caller: Caller
) -> ProfileView:
    """Replace the person's own fields (all five); the HR system's fields are not accepted.

    The person themselves only (HR: 403). Records only what changed; the same body again
    records nothing. 409 once the person is deactivated.
    """
    ensure_may_change(caller, person_id)
    with directory_errors(person_id):
        applied = await edit_own_profile(directory_of(services), person_id, body)
    return profile_view(applied.state)


@router.get(TRAITS_PATH, summary="A person's Big Five traits", responses=NOT_FOUND_RESPONSE)
async def get_traits(person_id: PersonIdPath, services: Services, caller: Caller) -> TraitsView:
    """The traits the person gave with consent (null when none). The person themselves or HR."""
    ensure_may_read(caller, person_id)
    return traits_view(await _known(services, person_id))


@router.put(TRAITS_PATH, summary="Answer the Mini-IPIP questionnaire", responses=CHANGE_RESPONSES)
async def put_traits(
    person_id: PersonIdPath,
    body: TraitsAssessmentRequest,
    services: Services,
    caller: Caller,
) -> TraitsView:
    """Score the twenty answers into Big Five traits and keep them, with the time of consent.

    The person themselves only (HR: 403). ``consent`` must be true; the answers themselves
    are not kept. The same scores again record nothing (the first consent stands). 409 once
    the person is deactivated.
    """
    ensure_may_change(caller, person_id)
    with directory_errors(person_id):
        applied = await assess_traits(
            directory_of(services), person_id, body.answers, consent=body.consent
        )
    return traits_view(applied.state)


@router.delete(
    TRAITS_PATH, summary="Withdraw consent: remove one's traits", responses=CHANGE_RESPONSES
)
async def delete_traits(person_id: PersonIdPath, services: Services, caller: Caller) -> TraitsView:
    """Withdraw the consent given with the questionnaire: the traits are removed and no longer
    used for matching. The person themselves only (HR: 403); also once deactivated. Nothing is
    recorded when no traits are kept."""
    ensure_may_change(caller, person_id)
    with directory_errors(person_id):
        applied = await withdraw_traits_consent(directory_of(services), person_id)
    return traits_view(applied.state)
