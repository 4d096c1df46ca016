"""JSON Schema export of the event catalog: ``python -m events.schema`` writes the document.

The committed copy (``docs/events.schema.json``) is checked by a test, so a schema change
cannot land unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path

from events.catalog import CATALOG
from events.envelope import EventEnvelope

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "events.schema.json"


def render_event_schemas() -> str:
    """The envelope's and every event's JSON Schema, as stable, pretty JSON."""
    document = {
        "title": "mentorflow events",
        "envelope": EventEnvelope.model_json_schema(),
        "events": CATALOG.json_schemas(),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write the document next to the code's docs."""
    SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_text(render_event_schemas(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
