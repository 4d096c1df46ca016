"""``GET`` and ``PUT /people/{person_id}/notification-preferences``: a person's own choices.

A participant reads and changes their own; HR anyone's; a service reads them (the notifier
does) but changes none. Anyone else gets 404, as for a person nobody has heard of. A
forgotten person has none, and none can be set for them: the check and the write happen under
the person's vault lock, which forgetting takes too, so a choice is never stored after the
forgetting erased them.
"""

from __future__ import annotations

from fastapi import APIRouter

from mentorflow.api.auth import Caller
from mentorflow.api.context import Services
from mentorflow.api.errors import ERROR_RESPONSES, NOT_FOUND_RESPONSE, Forbidden, NotFound
from mentorflow.api.models.identifiers import PersonIdPath
from mentorflow.api.models.preferences import (
    NotificationPreferencesRequest,
    NotificationPreferencesView,
)
from mentorflow.api.tokens import PARTICIPANT_ROLES, Principal, Role
from notifications.preferences import (
    NotificationPreferences,
    PersonPreferences,
    preferences_of,
    store_preferences,
)
from vault.store import forgotten_among

router = APIRouter(tags=["people"], responses=ERROR_RESPONSES)

PATH = "/people/{person_id}/notification-preferences"


def _none(person_id: str) -> NotFound:
    """The one answer for a person whose choices the caller may not see, or who is gone."""
    return NotFound(f"no notification preferences for {person_id}")


def _is_own(caller: Principal, person_id: str) -> bool:
    return caller.role in PARTICIPANT_ROLES and caller.person_id == person_id


@router.get(PATH, summary="A person's notification preferences", responses=NOT_FOUND_RESPONSE)
async def get_notification_preferences(
    person_id: PersonIdPath, services: Services, caller: Caller
) -> NotificationPreferencesView:
    """Their channel, quiet hours and digest frequency; null where they chose nothing (the
    program's default applies).

    Their own for a participant; anyone's for HR and services.
    """
    if not (_is_own(caller, person_id) or caller.role in (Role.HR_ADMIN, Role.SERVICE)):
        raise _none(person_id)
    async with services.pool.acquire() as connection:
        if await forgotten_among(connection, [person_id]):
            raise _none(person_id)
    return _view(await preferences_of(services.pool, person_id))


@router.put(PATH, summary="Set a person's notification preferences", responses=NOT_FOUND_RESPONSE)
async def put_notification_preferences(
    person_id: PersonIdPath,
    body: NotificationPreferencesRequest,
    services: Services,
    caller: Caller,
) -> NotificationPreferencesView:
    """Replace their choices: a field left out or null goes back to the program's default;
    ``quiet_hours: "off"`` means none, whatever the program's.

    A participant sets their own; HR anyone's. A bad body is a 422 naming every problem,
    and nothing is stored.
    """
    if caller.role is Role.SERVICE:
        raise Forbidden("the service role reads notification preferences but changes none")
    if not (_is_own(caller, person_id) or caller.role is Role.HR_ADMIN):
        raise _none(person_id)
    async with services.pool.acquire() as connection, connection.transaction():
        if await services.vault.lock_person(connection, person_id) is not None:
            raise _none(person_id)  # forgotten: nothing of theirs is kept
        stored = await store_preferences(
            connection, person_id, NotificationPreferences.model_validate(body.model_dump())
        )
    return _view(stored)


def _view(stored: PersonPreferences) -> NotificationPreferencesView:
    return NotificationPreferencesView.model_validate(stored.model_dump())
