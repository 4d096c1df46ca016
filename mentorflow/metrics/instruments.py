"""What mentorflow counts in process, on prometheus_client's default registry.

Instruments live as long as the process (the usual prometheus_client pattern): each process
exports those its code uses, and the others at zero or without series. The adapters do not
import them: the event store and the notifier take an observer (`observe_append`,
`observe_delivery`) from the composition root, so they stay free of monitoring.

Labels are bounded: methods, route templates (never raw paths), status codes, outcomes,
channels and command names. No person, relationship or cohort id is ever a label here.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from notifications.models import Channel

HTTP_REQUESTS = Counter(
    "mentorflow_http_requests_total",
    "HTTP requests the API answered, by method, route template and status code.",
    ("method", "route", "status"),
)
HTTP_REQUEST_DURATION = Histogram(
    "mentorflow_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by method and route template.",
    ("method", "route"),
)
EVENTSTORE_APPEND_DURATION = Histogram(
    "mentorflow_eventstore_append_duration_seconds",
    "Seconds an append to the event store took, by outcome: appended, duplicate (an "
    "idempotent retry), conflict (stream version or event id taken) or failed.",
    ("outcome",),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTSTORE_APPENDED_EVENTS = Counter(
    "mentorflow_eventstore_appended_events_total",
    "Events this process appended to the event store (idempotent retries not counted).",
)
NOTIFICATIONS = Counter(
    "mentorflow_notifications_total",
    "Notification delivery attempts by channel (email, webhook) and outcome: sent, retried "
    "(a transient failure, tried again later) or dead_lettered (given up on).",
    ("channel", "outcome"),
)
COMMAND_DEAD_LETTERS = Counter(
    "mentorflow_command_dead_letters_total",
    "Bus commands parked on the dead-letter stream, by command and reason: rejected "
    "(invalid, never retried) or failed (kept failing until its deliveries ran out).",
    ("command", "reason"),
)
READING_FAILURES = Counter(
    "mentorflow_metrics_reading_failures_total",
    "Readings of the database's figures (relay, projections, cohorts) that failed; until the "
    "next one succeeds, that reading's series are missing.",
    ("reading",),
)

_DELIVERY_OUTCOMES = {"sent": "sent", "retried": "retried", "dead": "dead_lettered"}


def observe_append(*, outcome: str, events: int, seconds: float) -> None:
    """An `eventstore.AppendObserver`: the append's latency, and the events it stored."""
    EVENTSTORE_APPEND_DURATION.labels(outcome=outcome).observe(seconds)
    if outcome == "appended":
        EVENTSTORE_APPENDED_EVENTS.inc(events)


def observe_delivery(channel: Channel, outcome: str) -> None:
    """A `notifications.DeliveryObserver`: one delivery attempt's outcome."""
    NOTIFICATIONS.labels(
        channel=channel.value, outcome=_DELIVERY_OUTCOMES.get(outcome, outcome)
    ).inc()


def count_command_dead_letter(command: str, reason: str) -> None:
    """A command was parked on the dead-letter stream (``rejected`` or ``failed``)."""
    COMMAND_DEAD_LETTERS.labels(command=command, reason=reason).inc()
