"""The base of every domain event."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A fact that happened in a stream, with its own fields only (the envelope's ``data``).

    Concrete events declare ``event_type: Literal["Name"] = "Name"`` (the discriminator of the
    catalog's union; it travels in the envelope, not in ``data``), the ``stream_type`` their
    stream belongs to, and their ``schema_version``. A published schema is never edited in
    place: a change adds a new version and an upcaster from the previous one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: str
    schema_version: ClassVar[int] = 1
    stream_type: ClassVar[str]

    def to_data(self) -> dict[str, Any]:
        """The event's own fields as JSON-ready data, without the discriminator."""
        return self.model_dump(mode="json", exclude={"event_type"})
