"""A person's notification preferences: ``GET`` / ``PUT /people/{id}/notification-preferences``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.notification_spec import Channel, Digest, QuietHoursChoice


class NotificationPreferencesRequest(BaseModel):
    """The person's choices, replacing the stored ones; a field left out or null goes back
    to the program's default."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel | None = Field(
        default=None, description="email, or none (no messages at all); null: the default"
    )
    quiet_hours: QuietHoursChoice = None
    digest: Digest | None = Field(
        default=None,
        description="How often an HR contact gets the digest of HR-facing notices: daily, "
        "weekly or off; null: the default",
    )


class NotificationPreferencesView(NotificationPreferencesRequest):
    """The person's stored choices; null where they made none (the program's default)."""

    person_id: str = Field(description="Participant id, or an HR contact's id")
