"""``GET /cohorts/{cohort_id}/contacts``: whom the notifier reaches, and how.

The notifier is built like an outside service: it learns what happened from the bus and whom
to tell from here. The people's names, addresses, time zones and languages, and the program's
defaults, HR contacts and webhooks, come from the cohort spec (the cohort workflow's
``participant_cards`` query); each person's own choices from ``notifications.preferences``.
A forgotten person is left out entirely, as is anyone the cohort does not know.

HR and services only; anyone else gets 404, as for a cohort that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query

from domain.notification_spec import NotificationsSpec, QuietHours
from mentorflow.api.auth import Caller
from mentorflow.api.context import Services
from mentorflow.api.errors import ERROR_RESPONSES, NOT_FOUND_RESPONSE, NotFound
from mentorflow.api.models.contacts import (
    CohortContacts,
    HrContactDetails,
    PersonContact,
    WebhookTarget,
)
from mentorflow.api.models.identifiers import CohortIdPath, PersonIdText
from mentorflow.api.temporal import participant_cards
from mentorflow.api.tokens import Role
from notifications.preferences import PersonPreferences, read_preferences
from vault.store import forgotten_among
from workflows.cohort_models import MAX_CARDS, ParticipantCardsResult

router = APIRouter(tags=["cohorts"], responses=ERROR_RESPONSES)


@router.get(
    "/cohorts/{cohort_id}/contacts",
    summary="Contacts and effective notification settings of some of a cohort's people",
    responses=NOT_FOUND_RESPONSE,
)
async def get_contacts(
    cohort_id: CohortIdPath,
    services: Services,
    caller: Caller,
    person_id: Annotated[
        list[PersonIdText],
        Query(
            min_length=1,
            max_length=MAX_CARDS,
            description=f"Participant ids, 1 to {MAX_CARDS} (repeat the parameter)",
            examples=[["p-001", "p-002"]],
        ),
    ],
) -> CohortContacts:
    """The asked participants' addresses with their effective channel and quiet hours, the
    cohort's HR contacts with their effective digest and quiet hours, and its webhooks.

    Effective: the person's own choice where they made one, the spec's ``notifications``
    default otherwise. People the cohort does not know, and forgotten people, are left out.
    """
    if caller.role not in (Role.HR_ADMIN, Role.SERVICE):
        raise NotFound(f"no cohort {cohort_id}")
    asked = list(dict.fromkeys(person_id))
    answer = await participant_cards(
        services.client, cohort_id, asked, timeout=services.limits.query_timeout_seconds
    )
    defaults = answer.notifications or NotificationsSpec()
    known = [*answer.cards, *(contact.id for contact in defaults.hr_contacts)]
    async with services.pool.acquire() as connection:
        forgotten = await forgotten_among(connection, known)
    stored = await read_preferences(services.pool, set(known) - forgotten)
    return _contacts(cohort_id, asked, answer, defaults, stored, forgotten)


def _contacts(
    cohort_id: str,
    asked: list[str],
    answer: ParticipantCardsResult,
    defaults: NotificationsSpec,
    stored: Mapping[str, PersonPreferences],
    forgotten: set[str],
) -> CohortContacts:
    people: list[PersonContact] = []
    for person_id in asked:
        card = answer.cards.get(person_id)
        if card is None or person_id in forgotten:
            continue
        own = stored.get(person_id)
        people.append(
            PersonContact(
                person_id=person_id,
                name=card.name,
                email=card.email,
                timezone=card.timezone,
                languages=card.languages,
                channel=own.channel if own and own.channel else defaults.channel,
                quiet_hours=_quiet_hours(own, defaults.quiet_hours),
            )
        )
    hr_contacts = [
        HrContactDetails(
            id=contact.id,
            name=contact.name,
            email=contact.email,
            timezone=contact.timezone,
            digest=own.digest if (own := stored.get(contact.id)) and own.digest else contact.digest,
            quiet_hours=_quiet_hours(stored.get(contact.id), defaults.quiet_hours),
        )
        for contact in defaults.hr_contacts
        if contact.id not in forgotten
    ]
    return CohortContacts(
        cohort_id=cohort_id,
        people=people,
        hr_contacts=hr_contacts,
        webhooks=[WebhookTarget(kind=hook.kind, url=hook.url) for hook in defaults.webhooks],
    )


def _quiet_hours(own: PersonPreferences | None, default: QuietHours | None) -> QuietHours | None:
    """The person's window; none when they turned quiet hours off; else the program's."""
    if own is None or own.quiet_hours is None:
        return default
    return own.quiet_hours if isinstance(own.quiet_hours, QuietHours) else None  # "off"
