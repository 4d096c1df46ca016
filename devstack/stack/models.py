"""What the stack reports: the resolved addresses after ``up``, and each server's status."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SERVER_NAMES = ("temporal", "nats", "postgres", "smtp", "oidc")

LOCAL_OIDC_CLIENT_ID = "mentorflow-console"
LOCAL_OIDC_CLIENT_SECRET = "local-development-only"  # noqa: S105 (the mock accepts any secret)
LOCAL_OIDC_PERSON_CLAIM = "employee_id"


class StackAddresses(BaseModel):
    """Where the servers of a stack answer, as every mentorflow process configures them.

    Attributes:
        temporal_address: ``host:port`` of the Temporal frontend.
        nats_url: ``nats://host:port``.
        database_url: ``postgresql://…/database``.
        smtp_host: The SMTP sink's host (``mentorflow mail``).
        smtp_port: The SMTP sink's port.
        oidc_issuer: The development OpenID Connect provider (console single sign-on).
        temporal_ui_url: The Temporal Web UI, None when headless.
        started: The servers this ``up`` started; empty when all were already running.
    """

    model_config = ConfigDict(frozen=True)

    temporal_address: str
    nats_url: str
    database_url: str
    smtp_host: str
    smtp_port: int
    oidc_issuer: str
    temporal_ui_url: str | None = None
    started: tuple[str, ...] = Field(default=())

    def as_environment(self) -> dict[str, str]:
        """The ``MENTORFLOW_*`` variables that point settings at these servers."""
        return {
            "MENTORFLOW_TEMPORAL_ADDRESS": self.temporal_address,
            "MENTORFLOW_NATS_URL": self.nats_url,
            "MENTORFLOW_DATABASE_URL": self.database_url,
            "MENTORFLOW_SMTP_HOST": self.smtp_host,
            "MENTORFLOW_SMTP_PORT": str(self.smtp_port),
            # The console signs in through the development provider; its users carry the
            # participant id in `employee_id` (devstack.stack.oidc_server).
            "MENTORFLOW_OIDC_ISSUER": self.oidc_issuer,
            "MENTORFLOW_OIDC_CLIENT_ID": LOCAL_OIDC_CLIENT_ID,
            "MENTORFLOW_OIDC_CLIENT_SECRET": LOCAL_OIDC_CLIENT_SECRET,
            "MENTORFLOW_OIDC_PERSON_CLAIM": LOCAL_OIDC_PERSON_CLAIM,
        }


class ServerState(StrEnum):
    """How a server is doing."""

    UP = "up"
    """Answers its readiness check."""
    DOWN = "down"
    """Nothing answers, and nothing that ``up`` started should be running."""
    CRASHED = "crashed"
    """``up`` started it and it is gone, without ``down``."""
    UNRESPONSIVE = "unresponsive"
    """``up`` started it and it runs, but does not answer."""


class ServerStatus(BaseModel):
    """One server of ``mentorflow stack status``.

    Attributes:
        name: ``temporal``, ``nats``, ``postgres``, ``smtp`` or ``oidc``.
        address: The address clients use.
        state: Up, down, crashed or unresponsive.
        started_by_stack: Whether ``up`` started it (and ``down`` will stop it).
        pid: Its process id, when ``up`` started it.
        exit_code: How it ended, when known (only in the process that started it).
        log_path: Its log, when ``up`` started it.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    state: ServerState
    started_by_stack: bool
    pid: int | None = None
    exit_code: int | None = None
    log_path: Path | None = None


class StackStatus(BaseModel):
    """Every server of the stack.

    Attributes:
        servers: One entry per server, in a fixed order.
        temporal_ui_url: The Temporal Web UI, None when headless.
    """

    model_config = ConfigDict(frozen=True)

    servers: tuple[ServerStatus, ...]
    temporal_ui_url: str | None = None

    @property
    def all_up(self) -> bool:
        """Whether every server answers."""
        return all(server.state is ServerState.UP for server in self.servers)

    @property
    def crashed(self) -> tuple[ServerStatus, ...]:
        """Servers that ``up`` started and that died, or hang, without ``down``."""
        return tuple(
            server
            for server in self.servers
            if server.state in {ServerState.CRASHED, ServerState.UNRESPONSIVE}
        )

    def server(self, name: str) -> ServerStatus:
        """The status of the server called ``name``.

        Raises:
            KeyError: When there is no such server.
        """
        for server in self.servers:
            if server.name == name:
                return server
        raise KeyError(name)
