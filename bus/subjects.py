"""NATS names of the contract: the events stream, its subjects, the command subjects.

Event subjects are ``{prefix}.{stream_type}.{event_type}`` with the prefix
``mentorflow.events``, so consumers filter by stream type (``mentorflow.events.cohort.>``)
or by event (``mentorflow.events.*.ConversationHeld``). The prefix and the stream name are
parameters only so that tests can run side by side on one server; production uses the
defaults.
"""

from __future__ import annotations

import re

EVENTS_STREAM = "MENTORFLOW_EVENTS"
"""The JetStream stream holding every published event."""

EVENTS_SUBJECT_PREFIX = "mentorflow.events"
"""Prefix of every event subject."""

COHORT_LAUNCH_SUBJECT = "mentorflow.commands.cohort.launch"
"""Where other systems send cohort launch commands."""

MESSAGE_ID_HEADER = "Nats-Msg-Id"
"""JetStream's de-duplication header; the relay sets it to the event id."""

# A subject token: no separators, wildcards or whitespace (NATS would split or reject it).
_TOKEN = re.compile(r"[^\s.*>]+")
_SUBJECT = re.compile(r"[^\s.*>]+(\.[^\s.*>]+)*")
_STREAM_NAME = re.compile(r"[A-Za-z0-9_-]+")


def is_token(text: str) -> bool:
    """Whether ``text`` can be one token of a subject."""
    return _TOKEN.fullmatch(text) is not None


def is_subject_prefix(text: str) -> bool:
    """Whether ``text`` is a literal subject (dot-separated tokens, no wildcards)."""
    return _SUBJECT.fullmatch(text) is not None


def is_stream_name(text: str) -> bool:
    """Whether ``text`` is a usable JetStream stream name."""
    return _STREAM_NAME.fullmatch(text) is not None


def stream_type_of(stream_id: str) -> str:
    """``cohort`` or ``mentorship``: the stream id up to its first dash (the contract's rule)."""
    return stream_id.split("-", 1)[0]


def event_subject(stream_type: str, event_type: str, prefix: str = EVENTS_SUBJECT_PREFIX) -> str:
    """The subject an event is published on, e.g. ``mentorflow.events.mentorship.GoalSet``."""
    return f"{prefix}.{stream_type}.{event_type}"


def events_filter(
    prefix: str = EVENTS_SUBJECT_PREFIX,
    *,
    stream_type: str | None = None,
    event_type: str | None = None,
) -> str:
    """A subscription filter over event subjects.

    Args:
        prefix: The event subject prefix.
        stream_type: Only events of this stream type (``cohort``, ``mentorship``).
        event_type: Only events of this type.

    Returns:
        ``{prefix}.>`` when neither is given, otherwise ``{prefix}.{type or *}.{event or *}``.
    """
    if stream_type is None and event_type is None:
        return f"{prefix}.>"
    return f"{prefix}.{stream_type or '*'}.{event_type or '*'}"
