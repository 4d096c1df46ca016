"""Recording domain events from workflow code: the one way both workflows append.

Event ids are derived from the workflow id, the run id and the stream version, so a retried
activity re-appends the same ids (a no-op in the store), a replay derives the same ids, and
a reset run cannot silently pass for the old one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.event_store import AppendEventsInput, EventStoreActivities
    from events import DomainEvent, NewEvent
    from workflows.origin import Origin, advance, events_origin

EVENT_ID_NAMESPACE = uuid.UUID("5b0f3f9e-8d0a-4c59-9a57-3f1d1f0c2a10")
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["StreamVersionConflict", "DuplicateEventConflict"],
)
ACTIVITY_TIMEOUT = timedelta(seconds=30)


async def record_events(
    stream_id: str,
    expected_version: int,
    events: Sequence[DomainEvent],
    *,
    origin: Origin | None = None,
) -> None:
    """Append ``events`` at ``expected_version`` through the append activity.

    Args:
        stream_id: The workflow's stream.
        expected_version: The stream version the events follow.
        events: The facts to record, in order.
        origin: Their correlation and causation ids when the workflow itself is the cause
            (a timer's, `workflows.origin.timer_origin`); by default those of the handler
            running (`workflows.origin.events_origin`).
    """
    info = workflow.info()
    now = workflow.now()
    stamp = events_origin(origin)
    event_ids = [
        uuid.uuid5(EVENT_ID_NAMESPACE, f"{info.workflow_id}/{info.run_id}/{version}")
        for version in range(expected_version + 1, expected_version + len(events) + 1)
    ]
    await workflow.execute_activity_method(
        EventStoreActivities.append_events,
        AppendEventsInput(
            stream_id=stream_id,
            expected_version=expected_version,
            events=[
                NewEvent.from_domain(
                    event,
                    event_id=event_id,
                    occurred_at=now,
                    correlation_id=stamp.correlation_id,
                    causation_id=stamp.causation_id,
                )
                for event_id, event in zip(event_ids, events, strict=True)
            ],
        ),
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
        summary=", ".join(event.event_type for event in events),
    )
    if origin is None and event_ids:
        advance(stamp, str(event_ids[-1]))
