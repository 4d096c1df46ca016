"""What happens to JetStream deliveries: apply and ack, retry later, or park them.

A fetched batch is applied in one transaction and each of its messages acknowledged. If
that fails, each delivery is applied alone, so that a poison message is found and settled by
itself. Every outcome is explicit (the subscriber runs with ``AckPolicy.MANUAL``):

- applied or duplicate: ``ack``;
- the database is unreachable (or a deadlock, a plan invalidated by a rebuild's swap):
  retried in place, the delivery kept alive with ``in_progress``, for up to
  ``transient_retry_seconds``: an outage is not the message's fault and must not park it;
- anything else (undecodable body, invalid data, an event the store does not hold):
  ``nak`` with the next backoff delay until the message has been delivered ``max_deliver``
  times, then it is published to the projection's dead-letter subject with the error and
  terminated, so one poison message neither vanishes nor blocks the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError
from pydantic import ValidationError

from events import EventEnvelope
from projections.applier import HandleResult
from projections.config import ProjectorConfig
from projections.errors import TRANSIENT_ERRORS, ProjectionError

logger = structlog.get_logger(__name__)

DeadLetterSink = Callable[[bytes, dict[str, str]], Awaitable[Any]]
"""Publishes a dead letter (the original body) with the given headers, awaiting the ack."""

ERROR_HEADER = "Mentorflow-Error"
ERROR_TYPE_HEADER = "Mentorflow-Error-Type"
PROJECTION_HEADER = "Mentorflow-Projection"
SUBJECT_HEADER = "Mentorflow-Original-Subject"
DELIVERIES_HEADER = "Mentorflow-Deliveries"
_MAX_ERROR_LENGTH = 1000


class Applier(Protocol):
    """What the consumer needs of `projections.applier.ProjectionApplier`."""

    @property
    def name(self) -> str:
        """The projection's name."""
        ...

    async def handle_many(self, envelopes: Sequence[EventEnvelope]) -> HandleResult:
        """Apply a batch of deliveries in one transaction."""
        ...


def describe_error(error: BaseException) -> str:
    """A one-line description for the dead letter, without the offending input's values.

    Validation errors list locations and reasons only: the input may be personal text.
    """
    if isinstance(error, ValidationError):
        text = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or 'body'}: {detail['msg']}"
            for detail in error.errors(include_input=False, include_url=False)
        )
    else:
        text = str(error) or type(error).__name__
    return text[:_MAX_ERROR_LENGTH]


def delivery_number(message: Msg) -> int:
    """How many times JetStream has delivered this message (1 outside JetStream)."""
    try:
        return int(message.metadata.num_delivered)
    except NotJSMessageError:
        return 1


class ProjectionConsumer:
    """Handles the deliveries of one projection's consumer, a fetched batch at a time."""

    def __init__(
        self, applier: Applier, config: ProjectorConfig, dead_letters: DeadLetterSink
    ) -> None:
        self.applier = applier
        self.config = config
        self.dead_letters = dead_letters
        self.log = logger.bind(projection=applier.name)

    async def consume(self, messages: Sequence[Msg]) -> None:
        """Apply a batch of deliveries and settle each message."""
        parsed: list[tuple[Msg, EventEnvelope]] = []
        for message in messages:
            try:
                parsed.append((message, EventEnvelope.model_validate_json(message.data)))
            except ValidationError as error:
                await self._failed(message, error, self.log.bind(subject=message.subject))
        if len(parsed) > 1:
            try:
                result = await self._with_transient_retries(
                    [envelope for _, envelope in parsed], [message for message, _ in parsed]
                )
            except TRANSIENT_ERRORS as error:
                self._postponed(self.log, error)
                return
            except Exception as error:
                # Something in the batch cannot be applied: apply one delivery at a time, so
                # that only a poison message itself fails.
                self.log.info("projection.batch_failed", error_type=type(error).__name__)
            else:
                await asyncio.gather(*(message.ack() for message, _ in parsed))
                self.log.debug(
                    "projection.batch",
                    deliveries=len(parsed),
                    outcome=str(result.outcome),
                    applied=result.applied,
                    skipped=result.skipped,
                    filled_from_store=result.filled_from_store,
                )
                return
        for message, envelope in parsed:
            await self._consume_one(message, envelope)

    async def _consume_one(self, message: Msg, envelope: EventEnvelope) -> None:
        log = self.log.bind(
            subject=message.subject,
            stream_id=envelope.stream_id,
            stream_version=envelope.stream_version,
            event_type=envelope.event_type,
            event_id=str(envelope.event_id),
            correlation_id=envelope.correlation_id,
        )
        try:
            result = await self._with_transient_retries([envelope], [message])
        except TRANSIENT_ERRORS as error:
            self._postponed(log, error)
            return
        except Exception as error:
            await self._failed(message, error, log)
            return
        await message.ack()
        log.debug(
            "projection.delivery",
            outcome=str(result.outcome),
            applied=result.applied,
            skipped=result.skipped,
            filled_from_store=result.filled_from_store,
        )

    def _postponed(self, log: Any, error: BaseException) -> None:
        # Still unreachable after retrying: the delivery stays unacknowledged and JetStream
        # sends it again after ack_wait; an outage never parks a message.
        log.error("projection.delivery_postponed", error_type=type(error).__name__)

    async def _with_transient_retries(
        self, envelopes: list[EventEnvelope], messages: list[Msg]
    ) -> HandleResult:
        deadline = time.monotonic() + self.config.transient_retry_seconds
        pause = 0.1
        while True:
            try:
                return await self.applier.handle_many(envelopes)
            except TRANSIENT_ERRORS as error:
                if time.monotonic() + pause > deadline:
                    raise
                self.log.warning(
                    "projection.transient_error", error_type=type(error).__name__, retry_in=pause
                )
                # Tell JetStream the deliveries are being worked on, so ack_wait does not
                # send them again (here or to another projector) while the database is away.
                await asyncio.gather(*(message.in_progress() for message in messages))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _failed(self, message: Msg, error: Exception, log: Any) -> None:
        delivery = delivery_number(message)
        # Our own errors carry ids only; others may quote data, so only their type is logged.
        detail = str(error) if isinstance(error, ProjectionError) else None
        if delivery < self.config.max_deliver:
            delay = self.config.delay_before(delivery)
            log.warning(
                "projection.delivery_failed",
                error_type=type(error).__name__,
                error=detail,
                delivery=delivery,
                retry_in=delay,
            )
            await message.nak(delay=delay)
            return
        headers = {
            ERROR_HEADER: describe_error(error),
            ERROR_TYPE_HEADER: type(error).__name__,
            PROJECTION_HEADER: self.applier.name,
            SUBJECT_HEADER: message.subject,
            DELIVERIES_HEADER: str(delivery),
        }
        if message_id := (message.headers or {}).get("Nats-Msg-Id"):
            # The dead-letter stream drops a second copy if parking is retried after a crash.
            headers["Nats-Msg-Id"] = f"{self.applier.name}:{message_id}"
        await self.dead_letters(message.data, headers)
        await message.term()
        log.error(
            "projection.dead_lettered",
            error_type=type(error).__name__,
            error=detail,
            deliveries=delivery,
        )
