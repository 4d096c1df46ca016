"""Events of a person's own stream (``person-{person_id}``): facts about a person's data."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from events.base import DomainEvent


class PersonForgotten(DomainEvent):
    """A person was forgotten on request: their data key is gone.

    Every personal value sealed for them (store, bus, read models, backups) can no longer be
    opened and reads as ``[erased]``; ids, stages, dates and counts remain. Subscribers that
    keep copies of a person's data erase them when they see this event.
    """

    stream_type: ClassVar[str] = "person"
    event_type: Literal["PersonForgotten"] = "PersonForgotten"
    person_id: str
    forgotten_at: AwareDatetime
    requested_by: str = Field(
        description="Who asked: the role and token id (hr_admin:tok_…), or cli"
    )
