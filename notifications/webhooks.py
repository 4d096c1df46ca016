"""`WebhookSender`: a program's Slack or Microsoft Teams incoming webhook.

Both accept a JSON body with a ``text`` field (Slack's incoming webhooks; Teams' incoming
webhooks and the "post to a channel when a webhook request is received" workflow), which is
all a notice needs: a line of text with a link to the console. One HTTP client (keep-alive)
for every post.

The kinds of failure, as `notifications.smtp.classify` has them for SMTP: a 429 or a 5xx
reply, a lost connection or a timeout are transient (retried with the outbox's backoff);
any other non-2xx reply is permanent (a removed webhook answers 404 or 410; dead-lettered).
The status code goes to the error, never the URL (it holds the webhook's secret).
"""

from __future__ import annotations

import ssl

import httpx

from notifications.errors import (
    DeliveryFailed,
    PermanentDeliveryFailure,
    TransientDeliveryFailure,
)


class WebhookSender:
    """Posts text to incoming webhooks over one kept HTTP client.

    Args:
        timeout: Seconds a post may take.
        ca_file: A CA bundle to trust instead of the system's (a private chat server).
    """

    def __init__(self, timeout: float = 10.0, ca_file: str | None = None) -> None:
        verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            verify = ssl.create_default_context(cafile=ca_file)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, verify=verify)

    async def post(self, url: str, text: str) -> None:
        """Post ``text`` to the webhook at ``url``.

        Raises:
            DeliveryFailed: Transient or permanent, as the module says.
        """
        try:
            response = await self._client.post(url, json={"text": text})
        except httpx.TransportError as error:
            reason = f"webhook unreachable: {type(error).__name__}"
            raise TransientDeliveryFailure(None, reason) from error
        if response.is_success:
            return
        raise webhook_failure(response.status_code)

    async def close(self) -> None:
        """Close the kept connections."""
        await self._client.aclose()


def webhook_failure(status: int) -> DeliveryFailed:
    """The delivery failure an HTTP status means (the body is not kept: it may echo data)."""
    reason = f"webhook answered HTTP {status}"
    if status == 429 or status >= 500:
        return TransientDeliveryFailure(status, reason)
    return PermanentDeliveryFailure(status, reason)
