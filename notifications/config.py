"""How notifications are sent and retried: `SmtpConfig`, `RetryPolicy`.

Built by the composition root (``mentorflow.settings.Settings.smtp_config``); this package
reads no settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The SMTP server notifications go to.

    Attributes:
        host: Its host name or address.
        port: Its port.
        from_address: Envelope sender and ``From`` of every message; its domain is the
            right-hand side of every ``Message-ID``.
        starttls: Upgrade the connection with STARTTLS (required, not opportunistic).
        username: Login, when the server wants one.
        password: Its password.
        timeout: Seconds any single SMTP step may take.
    """

    host: str
    port: int
    from_address: str = "mentorflow@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        """The sender address's domain."""
        return self.from_address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a transiently failed notification is tried again, and when it is given up.

    The delay doubles from ``initial`` up to ``maximum``: with the defaults, tries at 0, 30 s,
    1.5 min, 3.5 min, … then hourly, dead-lettered after ``max_attempts`` (about six hours).
    No jitter: entries fail at different times already, and a due time stays predictable
    for operators.

    Attributes:
        initial: Delay after the first failure.
        maximum: Longest delay.
        max_attempts: Attempts after which a transient failure dead-letters the entry.
        lease: How long a claimed entry stays hidden from other notifiers; longer than any
            send can take (connect, STARTTLS, login, DATA, each up to the SMTP timeout).
    """

    initial: timedelta = timedelta(seconds=30)
    maximum: timedelta = timedelta(hours=1)
    max_attempts: int = 12
    lease: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.initial < timedelta(0) or self.maximum < self.initial:
            raise ValueError(
                "a retry policy needs max_attempts >= 1 and 0 <= initial <= maximum; got "
                f"{self.max_attempts}, {self.initial} and {self.maximum}"
            )

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th attempt failed transiently."""
        exponent = max(attempts - 1, 0)
        if exponent > 40:  # 2**40 times any initial delay is past any maximum
            return self.maximum
        return min(self.maximum, self.initial * (1 << exponent))

    def gives_up(self, attempts: int) -> bool:
        """Whether a transient failure at the ``attempts``-th attempt dead-letters it."""
        return attempts >= self.max_attempts
