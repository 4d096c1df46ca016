"""structlog, configured once from settings, with stdlib logging routed through it.

Temporal's and FastStream's stdlib records go through the same processors, so a person reads
one console format and a machine reads one JSON shape. Personal free text is never passed to a
logger in the first place; `redact_personal_fields` is a second line of defence for keys that
carry it by name.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity as temporal_activity
from temporalio import workflow as temporal_workflow

from mentorflow.settings import LogFormat

PERSONAL_KEYS = frozenset(
    {
        "notes",
        "private_notes",
        "feedback",
        "feedback_to_mentee",
        "feedback_to_mentor",
        "free_text",
        "name",
        "description",
        "motivation",
        "strengths",
        "note",
        "comment",
        "summary",
        "text",
        "data",
        "data_key",
        "wrapped_key",
        "master_keys",
        "payload_keys",
    }
)
REDACTED = "[redacted]"


def redact_personal_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace values whose key names personal free text."""
    for key in PERSONAL_KEYS.intersection(event_dict):
        event_dict[key] = REDACTED
    return event_dict


def configure_logging(log_format: LogFormat = LogFormat.CONSOLE, level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger. Safe to call more than once."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_personal_fields,
    ]
    renderer: structlog.types.Processor
    if log_format is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        # No local variables in tracebacks: they may hold request bodies or conversation notes.
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # ExtraAdder: stdlib ``extra=`` fields (Temporal's workflow and activity context among
        # them) become key-values instead of being dropped.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Temporal's loggers put their context into the message by default; as key-values it is
    # filterable (workflow_id, run_id, activity_type) and the message stays constant.
    temporal_activity.logger.activity_info_on_message = False
    temporal_activity.logger.activity_info_on_extra = True
    temporal_workflow.logger.workflow_info_on_message = False
    temporal_workflow.logger.workflow_info_on_extra = True
