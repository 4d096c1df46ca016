"""Who the notifier reaches and how: ``GET /cohorts/{id}/contacts``.

Every value is the effective one: the person's own choice where they made one
(``PUT /people/{id}/notification-preferences``), the cohort spec's default otherwise.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.notification_spec import Channel, Digest, QuietHours, WebhookKind


class PersonContact(BaseModel):
    """A participant, as the notifier addresses them."""

    person_id: str
    name: str
    email: str | None = Field(description="From the cohort spec; null: no email can reach them")
    timezone: str = Field(description="IANA time zone; quiet hours are in it")
    languages: list[str]
    channel: Channel = Field(description="Effective: their choice, else the program's default")
    quiet_hours: QuietHours | None = Field(
        description="Effective: their window, else the program's; null: none"
    )


class HrContactDetails(BaseModel):
    """An HR contact of the cohort, as the notifier addresses them."""

    id: str
    name: str
    email: str
    timezone: str
    digest: Digest = Field(description="Effective: their choice, else the cohort spec's")
    quiet_hours: QuietHours | None = Field(
        description="Effective: their window, else the program's; null: none"
    )


class WebhookTarget(BaseModel):
    """A program-level post of HR-facing notices."""

    kind: WebhookKind
    url: str = Field(description="https:// URL (a secret: whoever has it can post)")


class CohortContacts(BaseModel):
    """The asked people the cohort knows (the forgotten left out), its HR contacts and its
    webhooks."""

    cohort_id: str
    people: list[PersonContact] = Field(description="In the order asked; unknown ids left out")
    hr_contacts: list[HrContactDetails] = Field(description="In the cohort spec's order")
    webhooks: list[WebhookTarget]
