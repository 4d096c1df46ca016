"""Who may connect to the local stack: NATS users with subject permissions, a database password.

NATS users (the same in docker-compose, ``docker/nats/nats-server.conf``):

- ``mentorflow``: ``mentorflow serve`` and the CLI. Serve runs the relay, the command
  consumer and the API in one process (the projector tails PostgreSQL and needs no NATS), so
  this user may publish and subscribe everywhere; it is the relay's user as much as
  ``relay`` is.
- ``relay``: publishes ``mentorflow.events.>`` (the only user besides ``mentorflow`` that may)
  and creates and updates the events stream, no other.
- ``api``: the API and its command consumer; creates the commands streams, consumes commands,
  publishes outcomes, never events or commands.
- ``commander``: an outside system allowed to send ``mentorflow.commands.>`` and read outcomes.
- ``subscriber``: an outside service that only reads events: ``mentorflow.events.>`` and
  consumers of the events stream, no stream management, no publishing of any domain subject.

Each service user names the JetStream API subjects it uses (``$JS.API.STREAM.INFO.<stream>``,
``$JS.API.CONSUMER.MSG.NEXT.<stream>.>``, ...), never ``$JS.API.>``: none of them may delete or
purge a stream, and only the relay may create or update ``MENTORFLOW_EVENTS``. Stream
management is a stream's configuration, republishing included, so a user that could update
any stream could have it republish into ``mentorflow.events.>``: ``api`` may
create its own streams (the first start) but not update them; a changed configuration of
those is an admin's job (``mentorflow``, or the ``nats`` CLI as an admin). Replies travel on
``_INBOX.>``. The names of the contract are fixed: subjects under ``mentorflow.``, the streams
below (tests with other names connect as ``mentorflow``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote, urlsplit

from mentorflow.keyring import ensure_local_keys, generate_password

DATABASE_PASSWORD_VARIABLE = "MENTORFLOW_DATABASE_PASSWORD"  # noqa: S105 - a variable name
SERVICE_USER = "mentorflow"
"""The NATS user of ``mentorflow serve``, the CLI, and the URL in ``stack.env``."""

_INBOX = "_INBOX.>"
_JETSTREAM_INFO = "$JS.API.INFO"
_EVENTS_STREAM = "MENTORFLOW_EVENTS"
"""The relay's (`bus.config.BusConfig.stream_name`)."""
_COMMANDS_STREAM = "MENTORFLOW_COMMANDS"
"""The API's command consumer's (`mentorflow.commands.CommandsConfig.stream`)."""
_COMMANDS_DEAD_LETTER_STREAM = "MENTORFLOW_COMMANDS_DEADLETTER"
"""The API's command consumer's (`mentorflow.commands.CommandsConfig.dead_letter_stream`)."""
STREAMS_BY_OWNER: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "relay": (_EVENTS_STREAM,),
        "api": (_COMMANDS_STREAM, _COMMANDS_DEAD_LETTER_STREAM),
    }
)
"""The streams each service user creates (only the relay also updates its stream)."""


def _creates_stream(stream: str) -> tuple[str, ...]:
    """Create a stream if missing (FastStream's declaration), look it up; never change it."""
    return (f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.CREATE.{stream}")


def _manages_stream(stream: str) -> tuple[str, ...]:
    """Create, look up and update a stream (`bus.stream.ensure_stream`)."""
    return (*_creates_stream(stream), f"$JS.API.STREAM.UPDATE.{stream}")


def _consumes_stream(stream: str) -> tuple[str, ...]:
    """Durable pull consumers on a stream: create or look them up, fetch, acknowledge."""
    return (
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
    )


def _unique(*subjects: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(subjects))


@dataclass(frozen=True)
class NatsUser:
    """A NATS user and the subjects it may publish and subscribe to.

    Attributes:
        name: The user name.
        purpose: Who connects as this user.
        publish: Subjects (with wildcards) it may publish to.
        subscribe: Subjects (with wildcards) it may subscribe to.
    """

    name: str
    purpose: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    @property
    def password_variable(self) -> str:
        """The variable of ``keys.env`` (and of docker-compose) that holds its password."""
        return f"MENTORFLOW_NATS_PASSWORD_{self.name.upper()}"


NATS_USERS: tuple[NatsUser, ...] = (
    NatsUser(
        SERVICE_USER,
        "mentorflow serve and the CLI: every role in one process, the relay included",
        publish=(">",),
        subscribe=(">",),
    ),
    NatsUser(
        "relay",
        "mentorflow relay",
        publish=("mentorflow.events.>", _JETSTREAM_INFO, *_manages_stream(_EVENTS_STREAM)),
        subscribe=(_INBOX,),
    ),
    NatsUser(
        "api",
        "mentorflow api (with its cohort-launch command consumer)",
        publish=_unique(
            _JETSTREAM_INFO,
            *_creates_stream(_COMMANDS_STREAM),
            *_consumes_stream(_COMMANDS_STREAM),
            *_creates_stream(_COMMANDS_DEAD_LETTER_STREAM),
            "mentorflow.results.>",
            "mentorflow.deadletter.commands.>",
            _INBOX,
        ),
        subscribe=(_INBOX,),
    ),
    NatsUser(
        "commander",
        "an outside system that sends commands (an HR system launching cohorts)",
        publish=("mentorflow.commands.>", _JETSTREAM_INFO),
        subscribe=(_INBOX, "mentorflow.results.>"),
    ),
    NatsUser(
        "subscriber",
        "an outside service that reads events only",
        publish=(
            _JETSTREAM_INFO,
            f"$JS.API.STREAM.INFO.{_EVENTS_STREAM}",
            f"$JS.API.CONSUMER.CREATE.{_EVENTS_STREAM}",
            f"$JS.API.CONSUMER.CREATE.{_EVENTS_STREAM}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{_EVENTS_STREAM}.>",
            f"$JS.API.CONSUMER.INFO.{_EVENTS_STREAM}.>",
            f"$JS.API.CONSUMER.MSG.NEXT.{_EVENTS_STREAM}.>",
            f"$JS.ACK.{_EVENTS_STREAM}.>",
        ),
        subscribe=("mentorflow.events.>", _INBOX),
    ),
)


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` in it, unless it already names a user."""
    parts = urlsplit(url)
    if parts.username is not None:
        return url
    user_info = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return parts._replace(netloc=f"{user_info}@{parts.netloc}").geturl()


@dataclass(frozen=True)
class StackCredentials:
    """The passwords of the stack's servers.

    Attributes:
        nats_passwords: Password of each user of `NATS_USERS`.
        database_password: Password of the PostgreSQL superuser of the local cluster.
    """

    nats_passwords: Mapping[str, str] = field(repr=False)
    database_password: str = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nats_passwords", MappingProxyType(dict(self.nats_passwords)))

    @classmethod
    def generate(cls) -> StackCredentials:
        """Fresh random passwords (a test session's private stack)."""
        return cls({user.name: generate_password() for user in NATS_USERS}, generate_password())

    @classmethod
    def local(cls, state_dir: Path) -> StackCredentials:
        """The developer stack's passwords from ``keys.env``, generated there when missing."""
        variables = ensure_local_keys(
            state_dir,
            [DATABASE_PASSWORD_VARIABLE, *(user.password_variable for user in NATS_USERS)],
        )
        return cls(
            {user.name: variables[user.password_variable] for user in NATS_USERS},
            variables[DATABASE_PASSWORD_VARIABLE],
        )

    def nats_url(self, url: str, user: str = SERVICE_USER) -> str:
        """``url`` (``nats://host:port``, any credentials in it replaced) as ``user``.

        Raises:
            KeyError: When there is no such user.
        """
        parts = urlsplit(url)
        bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return with_credentials(bare, user, self.nats_passwords[user])
