"""`SmtpSender`: one reused SMTP connection, and the one place SMTP errors get their kind.

A connection is opened on the first message and kept for the next ones (a new connection
per message costs a TCP and often a TLS handshake and a login). When the server has closed
a kept connection meanwhile (servers drop idle clients), the message is sent once more on a
new connection at once, rather than waiting for the retry delay.

Which failures are which (`classify`):

- **Transient** (`TransientDeliveryFailure`, the message is retried later): any 4xx reply;
  no connection, a lost one, a timeout; and replies that are about us rather than the
  message, 5xx included (greeting, EHLO, STARTTLS, login, sender refused): a misconfigured
  or unwell relay refuses every message alike, and dead-lettering them all would only make
  work for the operator once it is fixed.
- **Permanent** (`PermanentDeliveryFailure`, dead-lettered): a 5xx reply to the recipient
  (``RCPT TO``) or to the message itself (``DATA``).
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import structlog

from notifications.config import SmtpConfig
from notifications.errors import (
    DeliveryFailed,
    PermanentDeliveryFailure,
    TransientDeliveryFailure,
)

logger = structlog.get_logger(__name__)

# Replies about the client or the session, never about one message: a 5xx here is no reason
# to give a message up.
_ABOUT_THE_SESSION: tuple[type[aiosmtplib.SMTPResponseException], ...] = (
    aiosmtplib.SMTPConnectResponseError,
    aiosmtplib.SMTPHeloError,
    aiosmtplib.SMTPAuthenticationError,
    aiosmtplib.SMTPSenderRefused,
)
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def classify(error: BaseException) -> DeliveryFailed | None:
    """The delivery failure an SMTP client error means; None when it is none of them."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        refused = error.recipients[0]
        return _by_code(refused.code, refused.message)
    if isinstance(error, _ABOUT_THE_SESSION):
        return TransientDeliveryFailure(error.code, error.message)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _by_code(error.code, error.message)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return TransientDeliveryFailure(None, f"server lacks a feature: {error}")
    if isinstance(error, _CONNECTION_LOST):
        return TransientDeliveryFailure(None, f"connection failed: {type(error).__name__}")
    return None


def _by_code(code: int, message: str) -> DeliveryFailed:
    if 500 <= code < 600:
        return PermanentDeliveryFailure(code, message)
    return TransientDeliveryFailure(code, message)


class SmtpSender:
    """Sends messages over one kept SMTP connection; one message at a time.

    Example:
        >>> sender = SmtpSender(SmtpConfig("127.0.0.1", 8025))  # doctest: +SKIP
        >>> await sender.send(message)  # doctest: +SKIP
        >>> await sender.close()  # doctest: +SKIP
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self.connections_opened = 0
        """How many connections this sender opened (connection reuse is visible in tests)."""

    async def send(self, message: EmailMessage) -> None:
        """Send ``message`` from the configured sender to its ``To`` address.

        Raises:
            TransientDeliveryFailure: Try again later.
            PermanentDeliveryFailure: Trying again cannot help.
        """
        async with self._lock:
            reused = self._client is not None and self._client.is_connected
            try:
                await self._send_once(message)
            except TransientDeliveryFailure as failure:
                if not (reused and failure.code is None):
                    raise
                # The kept connection was gone (an idle timeout): once more on a new one.
                logger.info("smtp connection lost, reconnecting", host=self.config.host)
                await self._send_once(message)

    async def _send_once(self, message: EmailMessage) -> None:
        try:
            client = await self._connected()
            await client.send_message(message, sender=self.config.from_address)
        except Exception as error:
            failure = classify(error)
            if failure is None:
                raise
            if failure.code is None or failure.code == 421:
                await self._drop()  # 421: the server is closing the connection
            raise failure from error

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            timeout=config.timeout,
            start_tls=config.starttls,
            username=config.username,
            password=config.password,
        )
        await client.connect()
        self._client = client
        self.connections_opened += 1
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        """Say goodbye to the server (QUIT) and close the connection."""
        async with self._lock:
            client, self._client = self._client, None
            if client is None or not client.is_connected:
                return
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
