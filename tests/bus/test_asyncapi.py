"""The committed AsyncAPI document matches what FastStream generates from the code."""

from __future__ import annotations

import json
from typing import Any

from bus.asyncapi import ASYNCAPI_FILE, documented_broker, render_asyncapi
from events import CATALOG


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_asyncapi(documented_broker()))
    return document


def test_committed_asyncapi_document_is_current() -> None:
    assert ASYNCAPI_FILE.exists(), "run: python -m bus.asyncapi"
    assert json.loads(ASYNCAPI_FILE.read_text(encoding="utf-8")) == _document(), (
        "docs/asyncapi.json is stale; run: python -m bus.asyncapi"
    )


def test_every_event_type_has_a_channel_with_its_envelope() -> None:
    document = _document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    for event_type in CATALOG.event_types:
        stream_type = CATALOG.event_class(event_type).stream_type
        assert f"mentorflow.events.{stream_type}.{event_type}" in addresses

    schemas = document["components"]["schemas"]
    held = schemas["ConversationHeld"]
    assert held["properties"]["event_type"]["const"] == "ConversationHeld"
    assert held["properties"]["data"]["$ref"] == "#/components/schemas/ConversationHeldData"
    assert "event_type" not in schemas["ConversationHeldData"]["properties"]
    assert "action_items" in schemas["ConversationHeldData"]["properties"]
    assert document["defaultContentType"] == "application/json"
