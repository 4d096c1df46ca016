"""structlog, configured once from settings, with stdlib logging routed through it.

Temporal's and FastStream's stdlib records go through the same processors, so a person reads
one console format and a machine reads one JSON shape. Personal free text is never passed to a
logger in the first place; `redact_personal_fields` is a second line of defence for keys that
carry it by name.

Values can come from outside (a request path, an exception message), so a rendered line never
holds a control character: a newline in a path would otherwise start a forged line of the
console format, and an escape sequence would rewrite the terminal. The JSON renderer escapes
every one already (``json.dumps`` with ``ensure_ascii``); for the console,
`escape_control_characters` writes C0 and C1 controls (and DEL) as Python escapes (``\\n``,
``\\x1b``). Tracebacks keep their lines; their text comes from our code and the libraries'.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
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
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
_TRACEBACK_KEYS = frozenset({"exc_info", "exception", "stack", "stack_info"})


def redact_personal_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace values whose key names personal free text."""
    for key in PERSONAL_KEYS.intersection(event_dict):
        event_dict[key] = REDACTED
    return event_dict


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Add ``trace_id`` and ``span_id`` (W3C hex) of the current span, when there is one.

    The span is OpenTelemetry's current one where the line is logged (stdlib records are
    formatted in the logging call, hence in the same context), so a line can be found from
    its trace and the other way round.
    """
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


def _escaped(text: str) -> str:
    return _CONTROL_CHARACTERS.sub(lambda match: repr(match.group())[1:-1], text)


def escape_control_characters(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Write control characters of every key and value as escapes (``\\n``, ``\\x1b``).

    Text is escaped; another value only when its `repr` holds a control character (the console
    renderer shows the `repr` of other values). Tracebacks are left to the exception formatter.
    """
    escaped: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key not in _TRACEBACK_KEYS:
            if isinstance(value, str):
                value = _escaped(value)
            elif _CONTROL_CHARACTERS.search(text := repr(value)):
                value = _escaped(text)
        escaped[_escaped(key)] = value
    event_dict.clear()
    event_dict.update(escaped)
    return event_dict


_FASTSTREAM = ("faststream", "faststream.access", "mentorflow.faststream")
"""FastStream's loggers: its own defaults (with a handler and format of their own until
configured) and the one mentorflow's brokers use (`bus.broker.BROKER_LOGGER`)."""


def configure_logging(log_format: LogFormat = LogFormat.CONSOLE, level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger. Safe to call more than once."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        redact_personal_fields,
    ]
    renderers: list[structlog.types.Processor]
    if log_format is LogFormat.JSON:
        # ensure_ascii (the default): every control character, C1 included, becomes \\uXXXX.
        renderers = [structlog.processors.JSONRenderer()]
        shared.append(structlog.processors.format_exc_info)
    else:
        renderers = [
            escape_control_characters,
            # No local variables in tracebacks: they may hold request bodies or conversation
            # notes.
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(),
                exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
            ),
        ]

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
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that configure their own loggers (uvicorn's default config gives its access
    # log a handler of its own and stops propagation) would bypass the escaping and redaction
    # above: route them through the root handler again.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", *_FASTSTREAM):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.disabled = False
    # FastStream logs each task callback and message at INFO ("callback for Task-… is being
    # executed"); its warnings and errors (a subscriber that failed) are what operators need.
    for name in _FASTSTREAM:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Temporal's loggers put their context into the message by default; as key-values it is
    # filterable (workflow_id, run_id, activity_type) and the message stays constant.
    temporal_activity.logger.activity_info_on_message = False
    temporal_activity.logger.activity_info_on_extra = True
    temporal_workflow.logger.workflow_info_on_message = False
    temporal_workflow.logger.workflow_info_on_extra = True
