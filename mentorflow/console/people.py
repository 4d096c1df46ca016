"""How people show on participant pages: names, languages and time zones from the cohort spec.

The spec stays in the cohort's workflow (the events and read models hold ids only); a page
asks it for the cards of the two people of one relationship (`participant_cards`). When the
cohort does not answer (no cohort workflow, as for relationships started on their own, or
Temporal is slow) the page still renders, with ids instead of names and the browser's zone
captured at sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from mentorflow.api.access import Relationship
from mentorflow.api.context import ApiServices
from mentorflow.api.errors import NotFound, ServiceUnavailable
from mentorflow.api.temporal import participant_cards
from mentorflow.console.auth import Viewer
from mentorflow.console.web import time_zone_or_utc
from workflows.cohort_models import ParticipantCard


@dataclass(frozen=True)
class People:
    """The cards a page knows, by person id."""

    cards: dict[str, ParticipantCard] = field(default_factory=dict)

    def name(self, person_id: str) -> str:
        """The person's name; their id when the spec is not at hand."""
        card = self.cards.get(person_id)
        return card.name if card else person_id

    def language(self, person_id: str) -> str | None:
        """The person's first language (BCP 47 as the spec gives it), if known."""
        card = self.cards.get(person_id)
        return card.languages[0] if card and card.languages else None

    def zone(self, person_id: str | None) -> str | None:
        """The person's time zone from the spec, if known."""
        card = self.cards.get(person_id or "")
        return card.timezone if card else None

    def lang(self, person_id: str) -> Markup:
        """A ``lang`` attribute for text the person wrote or is named by ('' when unknown)."""
        language = self.language(person_id)
        return Markup(' lang="{}"').format(language) if language else Markup("")

    def person(self, person_id: str) -> Markup:
        """The person's name marked with their language, for a template."""
        return Markup("<span{}>{}</span>").format(self.lang(person_id), self.name(person_id))


async def people_of(services: ApiServices, relationship: Relationship) -> People:
    """The mentor's and the mentee's cards, or none when the cohort does not answer."""
    try:
        answer = await participant_cards(
            services.client,
            relationship.cohort_id,
            [relationship.mentor_id, relationship.mentee_id],
            timeout=services.limits.query_timeout_seconds,
        )
    except (NotFound, ServiceUnavailable):
        return People()
    return People(answer.cards)


def viewer_zone(viewer: Viewer, people: People) -> str:
    """Where the viewer's dates are shown: their zone in the spec, else the browser's."""
    return zone_for(viewer.person_id, viewer.time_zone, people)


def zone_for(person_id: str | None, browser_zone: str, people: People) -> str:
    """A person's zone from the spec when known, else the browser's (UTC if unknown)."""
    return time_zone_or_utc(people.zone(person_id) or browser_zone)
