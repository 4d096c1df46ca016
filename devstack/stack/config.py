"""What the local stack runs where: `StackConfig`, and `free_port` to give tests their ports.

``StackConfig.from_settings`` gives the developer stack of ``mentorflow stack up`` (addresses
from settings, Web UI on the gRPC port + 1000, its payload codec the API's ``/codec``);
``StackConfig.for_tests`` gives the test suite a private stack on free loopback ports, headless
unless asked otherwise.

Both authenticate: the NATS and PostgreSQL URLs carry the credentials of the stack
(`devstack.stack.credentials`): the ``mentorflow`` NATS user and the database password,
from ``keys.env`` for the developer stack and freshly generated for a test stack.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from temporalio.common import SearchAttributeKey

from devstack.stack.credentials import SERVICE_USER, StackCredentials, with_credentials
from devstack.stack.endpoints import (
    POSTGRES_SCHEMES,
    Endpoint,
    StackEndpoints,
    parse_endpoints,
)
from mentorflow.api.codec_auth import CODEC_PATH, TEMPORAL_UI_PORT_OFFSET
from mentorflow.settings import STACK_ENV_FILE, Settings
from workflows.search_attributes import ALL_KEYS


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now.

    The port is only free at the time of the call: start the server on it soon after.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _is_loopback(host: str) -> bool:
    return Endpoint(host.strip("[]"), 0).is_loopback


def codec_endpoint(settings: Settings) -> str:
    """The API's payload codec as the browser showing the Temporal UI reaches it.

    The UI calls the codec with the operator's session cookie, which the browser sends only
    to the same site: when both servers are local (or the API listens on every interface),
    the codec URL uses the UI's host name, so ``localhost:8233`` calls ``localhost:8000``
    rather than ``127.0.0.1:8000``, another site.
    """
    ui_host = settings.temporal_address.rpartition(":")[0] or "localhost"
    api_host = settings.api_host
    every_interface = api_host in ("0.0.0.0", "::")  # noqa: S104 - a comparison, not a bind
    host = api_host
    if every_interface or (_is_loopback(api_host) and _is_loopback(ui_host)):
        host = ui_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}{CODEC_PATH}"


def with_password(url: str, password: str, default_user: str = "postgres") -> str:
    """A database URL with ``password``, unless it already has one."""
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return with_credentials(
        parts._replace(netloc=host).geturl(), unquote(parts.username or default_user), password
    )


DEFAULT_OIDC_ISSUER = "http://127.0.0.1:9400"
"""Where ``stack up`` runs the development OpenID Connect provider (oidc-provider-mock's port)."""


def _local_issuer(configured: str | None) -> str:
    """The configured issuer when it is a local provider; the default otherwise (a real
    provider configured for this installation is not the stack's to run)."""
    if configured is not None and _is_loopback(urlsplit(configured).hostname or ""):
        return configured
    return DEFAULT_OIDC_ISSUER


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass(frozen=True)
class StackConfig:
    """Where the local stack's servers listen and keep their data.

    Attributes:
        state_dir: Holds ``stack.json``, ``stack.env``, ``logs/`` and the servers' data.
        temporal_address: ``host:port`` of the Temporal frontend.
        temporal_namespace: Namespace checked for readiness and given the search attributes.
        temporal_ui_port: Port of the Web UI; None runs Temporal headless.
        ui_codec_endpoint: The remote payload codec the Web UI calls (the API's ``/codec``).
        nats_url: ``nats://user:password@host:port``.
        database_url: ``postgresql://user:password@host:port/database``.
        smtp_host: Where the SMTP sink listens (``mentorflow mail``; the notifier sends there).
        smtp_port: Its port.
        oidc_issuer: The development OpenID Connect provider's issuer URL (``http://host:port``).
        credentials: The passwords a server started by the stack requires; None starts NATS
            without authentication (PostgreSQL always takes the URL's password). A URL
            without credentials gets them: NATS user ``mentorflow``, the database password.
        search_attributes: Custom search attributes to register (the contract's by default).
        start_timeout: Seconds a server may take to become ready.
        stop_timeout: Seconds a server may take to stop before it is killed.
    """

    state_dir: Path
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int | None = None
    ui_codec_endpoint: str | None = None
    nats_url: str = "nats://localhost:4222"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/mentorflow"
    smtp_host: str = "localhost"
    smtp_port: int = 8025
    oidc_issuer: str = DEFAULT_OIDC_ISSUER
    search_attributes: tuple[SearchAttributeKey[Any], ...] = field(default=ALL_KEYS)
    credentials: StackCredentials | None = field(default=None, hash=False)
    start_timeout: float = 60.0
    stop_timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.credentials is None:
            return
        if urlsplit(self.nats_url).scheme == "nats":
            password = self.credentials.nats_passwords[SERVICE_USER]
            object.__setattr__(
                self, "nats_url", with_credentials(self.nats_url, SERVICE_USER, password)
            )
        if urlsplit(self.database_url).scheme in POSTGRES_SCHEMES:
            object.__setattr__(
                self,
                "database_url",
                with_password(self.database_url, self.credentials.database_password),
            )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        state_dir: Path,
        *,
        temporal_ui_port: int | None = None,
        headless: bool = False,
    ) -> StackConfig:
        """The developer stack: addresses from settings, data under ``state_dir``.

        The passwords come from ``<state_dir>/keys.env`` (generated there when missing).

        Args:
            settings: Supplies the Temporal, NATS and PostgreSQL addresses.
            state_dir: Usually `mentorflow.settings.state_dir()`.
            temporal_ui_port: Web UI port; by default the gRPC port + 1000.
            headless: Run Temporal without its Web UI.
        """
        ui_port = temporal_ui_port
        if ui_port is None and not headless:
            _, _, port_text = settings.temporal_address.rpartition(":")
            # An unparsable address is reported, with every other problem, by endpoints().
            ui_port = int(port_text) + TEMPORAL_UI_PORT_OFFSET if port_text.isdigit() else None
        credentials = StackCredentials.local(state_dir)
        return cls(
            state_dir=state_dir,
            temporal_address=settings.temporal_address,
            temporal_namespace=settings.temporal_namespace,
            temporal_ui_port=None if headless else ui_port,
            ui_codec_endpoint=codec_endpoint(settings),
            nats_url=settings.nats_url,
            database_url=settings.database_url,
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            oidc_issuer=_local_issuer(settings.oidc_issuer),
            credentials=credentials,
        )

    @classmethod
    def for_tests(
        cls,
        state_dir: Path,
        *,
        temporal_ui: bool = False,
        database: str = "mentorflow",
        ui_codec_endpoint: str | None = None,
    ) -> StackConfig:
        """A private stack on free loopback ports, for a test session.

        Args:
            state_dir: A directory of the test session (e.g. from ``tmp_path_factory``).
            temporal_ui: Also serve the Temporal Web UI (on another free port).
            database: Name of the database to create.
            ui_codec_endpoint: The payload codec the Web UI calls.
        """
        ports = _distinct_free_ports(6)
        temporal_port, ui_port, nats_port, postgres_port, smtp_port, oidc_port = ports
        credentials = StackCredentials.generate()
        return cls(
            state_dir=state_dir,
            temporal_address=f"127.0.0.1:{temporal_port}",
            temporal_ui_port=ui_port if temporal_ui else None,
            ui_codec_endpoint=ui_codec_endpoint,
            nats_url=f"nats://127.0.0.1:{nats_port}",
            database_url=f"postgresql://postgres@127.0.0.1:{postgres_port}/{database}",
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            oidc_issuer=f"http://127.0.0.1:{oidc_port}",
            credentials=credentials,
            start_timeout=60.0,
            stop_timeout=15.0,
        )

    def nats_url_for(self, user: str) -> str:
        """The NATS URL as ``user`` (a name of `NATS_USERS`) connects.

        Raises:
            KeyError: When the stack has no credentials, or no such user.
        """
        if self.credentials is None:
            raise KeyError(user)
        return self.credentials.nats_url(self.nats_url, user)

    @property
    def log_dir(self) -> Path:
        """One ``<server>.log`` per started server."""
        return self.state_dir / "logs"

    @property
    def record_file(self) -> Path:
        """``stack.json``: what ``up`` started, so ``down`` stops exactly that."""
        return self.state_dir / "stack.json"

    @property
    def env_file(self) -> Path:
        """``stack.env``: the resolved addresses, read by every other command."""
        return self.state_dir / STACK_ENV_FILE

    @property
    def lock_file(self) -> Path:
        """Serialises ``up``/``down`` of one state directory."""
        return self.state_dir / "stack.lock"

    def endpoints(self) -> StackEndpoints:
        """Parse every address.

        Raises:
            StackConfigInvalid: Listing every problem found, not just the first.
        """
        return parse_endpoints(
            temporal_address=self.temporal_address,
            temporal_namespace=self.temporal_namespace,
            temporal_ui_port=self.temporal_ui_port,
            nats_url=self.nats_url,
            database_url=self.database_url,
            smtp_host=self.smtp_host,
            smtp_port=self.smtp_port,
            oidc_issuer=self.oidc_issuer,
        )
