"""Exponential backoff with jitter, and a sleep that a stop request cuts short."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays that double from ``initial`` up to ``maximum``; `reset` after a success.

    Jitter (up to a quarter of the delay) keeps several relays or projectors that lost the
    same server from retrying in lockstep.
    """

    initial: float = 0.1
    maximum: float = 10.0
    attempts: int = field(default=0, init=False)

    def next_delay(self) -> float:
        """The delay before the next attempt (and count the attempt)."""
        delay = min(self.maximum, self.initial * 2.0**self.attempts)
        self.attempts += 1
        return delay * (1 + random.random() / 4)

    def reset(self) -> None:
        """Start again from ``initial``."""
        self.attempts = 0


async def sleep_unless_stopped(stop: asyncio.Event, delay: float) -> bool:
    """Sleep ``delay`` seconds or until ``stop`` is set; return whether it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)
    return stop.is_set()
