"""Message models for the AsyncAPI document: the envelope, with ``data`` typed per event.

On the wire every event is the contract's `EventEnvelope`. For the document, each event type
gets a specialised envelope whose ``event_type`` and ``schema_version`` are constants and
whose ``data`` is that event's model, so a consumer reads the exact fields of
``mentorflow.events.mentorship.ConversationHeld`` rather than "an object".
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import ConfigDict, Field, create_model

from events import CATALOG, DomainEvent, EventCatalog, EventEnvelope


def _drop_discriminator(schema: dict[str, Any]) -> None:
    # ``event_type`` travels in the envelope, never inside ``data``.
    schema.get("properties", {}).pop("event_type", None)
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name != "event_type"]


def data_model(event_class: type[DomainEvent]) -> type[DomainEvent]:
    """``event_class`` as it appears in ``data``: its own fields, without ``event_type``."""
    name = event_class.__name__
    namespace = {
        "__doc__": event_class.__doc__,
        "__module__": __name__,
        "model_config": ConfigDict(title=f"{name}Data", json_schema_extra=_drop_discriminator),
    }
    return cast("type[DomainEvent]", type(f"{name}Data", (event_class,), namespace))


def envelope_model(event_class: type[DomainEvent]) -> type[EventEnvelope]:
    """The envelope of one event type, with its data model, for the AsyncAPI document."""
    name = event_class.__name__
    # Literals of values known only at run time: mypy cannot check them, pydantic can.
    event_type: Any = Literal[name]
    schema_version: Any = Literal[event_class.schema_version]
    model = create_model(
        name,
        __base__=EventEnvelope,
        __doc__=event_class.__doc__,
        __module__=__name__,
        event_type=(event_type, Field(description="PascalCase name of the event")),
        schema_version=(schema_version, Field(description="Version of the event's data schema")),
        data=(data_model(event_class), Field(description="The event's own fields")),
    )
    return cast("type[EventEnvelope]", model)


def envelope_models(catalog: EventCatalog = CATALOG) -> dict[str, type[EventEnvelope]]:
    """`envelope_model` of every event type of the catalog, by event type."""
    return {
        event_type: envelope_model(catalog.event_class(event_type))
        for event_type in catalog.event_types
    }
