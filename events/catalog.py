"""The catalog: every domain event type, as a discriminated union by ``event_type``.

Decoding a stored envelope looks the class up by ``event_type``, upcasts the stored ``data``
from its ``schema_version`` to the class's current one, and validates it. The union itself
(`DomainEventUnion`) is what JSON Schema export and typed APIs use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter

from events import cohort as k
from events import departure as d
from events import mentorship as m
from events import person as p
from events.base import DomainEvent
from events.envelope import EventEnvelope, RecordedEvent
from events.upcasters import UPCASTERS
from events.upcasting import UpcasterChain

DomainEventUnion = Annotated[
    k.CohortLaunched
    | k.MatchingCompleted
    | k.MatchesApproved
    | k.MentorshipsStarted
    | k.ParticipantJoined
    | k.MenteeRematched
    | k.RematchFailed
    | k.CohortClosed
    | m.MentorshipMatched
    | m.OnboardingStarted
    | m.TrainingModuleCompleted
    | m.OnboardingReminderDue
    | m.OnboardingOverdue
    | m.OnboardingCompleted
    | m.GoalSet
    | m.GoalRevised
    | m.GoalAchieved
    | m.GoalDropped
    | m.ActionItemsCarriedOver
    | m.ConversationHeld
    | m.FeedbackGiven
    | m.ChangeMadeByHr
    | m.ConversationReminderDue
    | m.ConversationMissed
    | m.MentorshipEscalated
    | m.ActionItemCheckInDue
    | m.ActionItemCompleted
    | m.ActionItemRescheduled
    | m.ChallengeSet
    | m.ChallengeProgressRecorded
    | m.ReviewSummaryDrafted
    | m.ReviewSummaryShared
    | m.ReviewSummaryWithheld
    | m.MentorshipPaused
    | m.MentorshipResumed
    | m.DeadlineExtended
    | m.RematchRequested
    | m.ClosureStarted
    | m.SurveySubmitted
    | m.MentorshipClosed
    | p.PersonProfiled
    | p.ProfileUpdated
    | p.ManagerChanged
    | p.PersonDeactivated
    | p.PersonReactivated
    | p.PersonForgotten
    | p.TraitsAssessed
    | p.TraitsConsentWithdrawn
    | d.DepartureStarted
    | d.DepartureConcluded
    | d.ReportingLineConflictFound,
    Field(discriminator="event_type"),
]


class UnknownEventType(LookupError):
    """An envelope names an event type the catalog does not know."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class EventCatalog:
    """Event classes by name, with the upcasters that bring old versions up to date."""

    def __init__(
        self, event_classes: Iterable[type[DomainEvent]], upcasters: UpcasterChain | None = None
    ) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}
        for event_class in event_classes:
            name = event_class.model_fields["event_type"].default
            if not isinstance(name, str) or name != event_class.__name__:
                raise ValueError(f"{event_class.__name__}.event_type must default to its name")
            self._classes[name] = event_class
        self.upcasters = upcasters or UpcasterChain()

    @property
    def event_types(self) -> list[str]:
        """Every known event type, sorted."""
        return sorted(self._classes)

    def event_class(self, event_type: str) -> type[DomainEvent]:
        """The current class of ``event_type``."""
        try:
            return self._classes[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def decode_data(
        self, event_type: str, schema_version: int, data: dict[str, Any]
    ) -> DomainEvent:
        """Validate stored ``data`` as the current version of ``event_type``."""
        event_class = self.event_class(event_type)
        current = event_class.schema_version
        if schema_version != current:
            data = self.upcasters.upcast(event_type, schema_version, current, data)
        return event_class.model_validate(data)

    def decode_json(self, event_type: str, schema_version: int, data_json: str) -> DomainEvent:
        """Like `decode_data`, from JSON text: parsed and validated in one pass when current."""
        event_class = self.event_class(event_type)
        if schema_version == event_class.schema_version:
            return event_class.model_validate_json(data_json)
        return self.decode_data(event_type, schema_version, json.loads(data_json))

    def decode(self, envelope: EventEnvelope) -> RecordedEvent:
        """Decode an envelope into a typed recorded event."""
        fields = envelope.model_dump(exclude={"data"})
        event = self.decode_data(envelope.event_type, envelope.schema_version, envelope.data)
        return RecordedEvent(**fields, event=event)

    def json_schemas(self) -> dict[str, Any]:
        """JSON Schema of every event's data, by event type, with its version."""
        return {
            name: {
                "schema_version": event_class.schema_version,
                "stream_type": event_class.stream_type,
                "schema": event_class.model_json_schema(),
            }
            for name, event_class in sorted(self._classes.items())
        }


DOMAIN_EVENT_ADAPTER: TypeAdapter[DomainEvent] = TypeAdapter(DomainEventUnion)
CATALOG = EventCatalog(get_args(get_args(DomainEventUnion)[0]), UPCASTERS)
