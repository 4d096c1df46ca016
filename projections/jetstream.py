"""A workaround for a FastStream 0.7 + nats-py 2.x interplay that delays batches by ack_wait.

FastStream's batch pull loop fills a batch with several ``fetch`` calls and catches
``nats.errors.TimeoutError`` to stop filling. nats-py sometimes raises the plain
``asyncio.TimeoutError`` instead (when the time left is used up by its ``no_wait`` probe,
``JetStreamContext.PullSubscription._fetch_n``). That exception escapes FastStream's loop,
the task is restarted, and the messages gathered so far are dropped unacknowledged: they come
back only after ``ack_wait``, so a steady trickle of events saw latencies of ``ack_wait``.

`keep_partial_batches` makes the pull subscriptions of a connection raise nats' own
``TimeoutError`` in that case, which FastStream handles by consuming what it has.
"""

from __future__ import annotations

from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext


def keep_partial_batches(jetstream: JetStreamContext) -> None:
    """Wrap ``jetstream.pull_subscribe`` so its subscriptions time out the way FastStream expects.

    Call it after the broker connected and before it starts its subscribers.
    """
    if getattr(jetstream.pull_subscribe, "keeps_partial_batches", False):
        return
    pull_subscribe = jetstream.pull_subscribe

    async def patched_pull_subscribe(*args: Any, **kwargs: Any) -> Any:
        subscription = await pull_subscribe(*args, **kwargs)
        fetch = subscription.fetch

        async def fetch_with_nats_timeout(*fetch_args: Any, **fetch_kwargs: Any) -> Any:
            try:
                return await fetch(*fetch_args, **fetch_kwargs)
            except NatsTimeoutError:
                raise
            except TimeoutError as error:  # asyncio's, from nats-py's no_wait probe
                raise NatsTimeoutError from error

        setattr(subscription, "fetch", fetch_with_nats_timeout)  # noqa: B010
        return subscription

    setattr(patched_pull_subscribe, "keeps_partial_batches", True)  # noqa: B010
    setattr(jetstream, "pull_subscribe", patched_pull_subscribe)  # noqa: B010
