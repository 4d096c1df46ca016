"""`OutboxDelivery`: send what is due in the outbox, retry the transient, bury the permanent.

Each pass claims due entries (`PostgresOutbox.claim_due`, which counts the attempt and leases
the row), sends each over the sender's kept connection, and marks it: sent; pending again
after the policy's delay; or dead. A database that is away ends the pass (the claimed rows
come back when their lease ends); `run` waits it out and carries on.

Logs name the entry (``outbox_id``, ``event_id``, ``recipient``, ``channel``) and the SMTP
reply code, never the address, the subject, the body or the server's reply text, which may
quote the address: that goes to the row's ``last_error`` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from eventstore import DatabaseUnavailable
from eventstore.backoff import Backoff, sleep_unless_stopped
from notifications.config import RetryPolicy, SmtpConfig
from notifications.errors import DeliveryFailed, TransientDeliveryFailure
from notifications.mail import build_email
from notifications.models import Channel, OutboxEntry
from notifications.outbox import PostgresOutbox
from notifications.smtp import SmtpSender
from notifications.webhooks import WebhookSender

logger = structlog.get_logger(__name__)

_LAST_ERROR_LENGTH = 500

DeliveryObserver = Callable[[Channel, str], None]
"""Told of each attempt once its entry is marked: the channel and the outcome, ``sent``,
``retried`` or ``dead`` (e.g. to count them as metrics). It must not raise."""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one pass did.

    Attributes:
        sent: Entries the SMTP server accepted.
        retried: Entries that failed transiently and wait for another attempt.
        dead: Entries dead-lettered (permanent failure, or attempts used up).
    """

    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        """Entries this pass claimed."""
        return self.sent + self.retried + self.dead


class OutboxDelivery:
    """Delivers the outbox's due entries through one `SmtpSender`.

    Args:
        outbox: The outbox table.
        sender: The SMTP connection to send over (closed by its owner).
        policy: When to retry and when to give up.
        batch_size: Most entries one pass claims.
        webhooks: The sender of webhook entries; without one they fail transiently.
        on_outcome: Told of every attempt's channel and outcome.
    """

    def __init__(
        self,
        outbox: PostgresOutbox,
        sender: SmtpSender,
        policy: RetryPolicy | None = None,
        *,
        batch_size: int = 100,
        webhooks: WebhookSender | None = None,
        on_outcome: DeliveryObserver | None = None,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.policy = policy or RetryPolicy()
        self.batch_size = batch_size
        self.webhooks = webhooks
        self.on_outcome = on_outcome

    @property
    def smtp(self) -> SmtpConfig:
        """The SMTP configuration the messages are built and sent with."""
        return self.sender.config

    async def deliver_due(self) -> DeliveryReport:
        """One pass over the entries due now.

        Raises:
            DatabaseUnavailable: The outbox cannot be read or marked (claimed entries are
                retried when their lease ends).
        """
        entries = await self.outbox.claim_due(self.batch_size, self.policy.lease)
        outcomes: list[asyncio.Task[str]] = []
        try:
            for entry in entries:
                # The next entry goes out while this one's mark is on its way to PostgreSQL:
                # each entry is still marked right after its own reply (the same window).
                failure = await self._attempt(entry)
                outcomes.append(asyncio.create_task(self._mark(entry, failure)))
        finally:
            done = await asyncio.gather(*outcomes, return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        return DeliveryReport(
            sent=done.count("sent"), retried=done.count("retried"), dead=done.count("dead")
        )

    async def _attempt(self, entry: OutboxEntry) -> DeliveryFailed | None:
        try:
            await self._send(entry)
        except DeliveryFailed as failure:
            return failure
        return None

    async def _mark(self, entry: OutboxEntry, failure: DeliveryFailed | None) -> str:
        outcome = await self._mark_entry(entry, failure)
        if self.on_outcome is not None:
            self.on_outcome(entry.channel, outcome)
        return outcome

    async def _mark_entry(self, entry: OutboxEntry, failure: DeliveryFailed | None) -> str:
        # A fresh logger per entry: a module-level one bound once would keep the logging
        # configuration of its first use (structlog caches it), whatever came after.
        log = structlog.get_logger(__name__).bind(
            outbox_id=entry.outbox_id,
            event_id=str(entry.event_id),
            recipient=entry.recipient,
            channel=entry.channel.value,
            attempt=entry.attempts,
        )
        if failure is not None:
            error = str(failure)[:_LAST_ERROR_LENGTH]
            if failure.permanent or self.policy.gives_up(entry.attempts):
                await self.outbox.mark_dead(entry.outbox_id, error)
                log.warning(
                    "notification dead-lettered",
                    smtp_code=failure.code,
                    permanent=failure.permanent,
                )
                return "dead"
            delay = self.policy.delay(entry.attempts)
            await self.outbox.mark_retry(entry.outbox_id, error, delay)
            log.info(
                "notification failed, will retry",
                smtp_code=failure.code,
                retry_in_seconds=delay.total_seconds(),
            )
            return "retried"
        # Sent; a crash before this mark means a resend once the lease ends (same Message-ID).
        await self.outbox.mark_sent(entry.outbox_id)
        log.info("notification sent")
        return "sent"

    async def _send(self, entry: OutboxEntry) -> None:
        if entry.channel is Channel.WEBHOOK:
            if self.webhooks is None:
                raise TransientDeliveryFailure(None, "this notifier has no webhook sender")
            await self.webhooks.post(entry.address, entry.text_body)
            return
        await self.sender.send(build_email(entry, self.smtp))

    async def run(self, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
        """Deliver until ``stop`` is set: a pass, then a pause unless the pass was full."""
        backoff = Backoff(initial=poll_interval, maximum=60.0)
        while not stop.is_set():
            try:
                report = await self.deliver_due()
            except DatabaseUnavailable as error:
                logger.warning("outbox unavailable, waiting", error=str(error))
                if await sleep_unless_stopped(stop, backoff.next_delay()):
                    return
                continue
            backoff.reset()
            if report.attempted < self.batch_size and await sleep_unless_stopped(
                stop, poll_interval
            ):
                return
