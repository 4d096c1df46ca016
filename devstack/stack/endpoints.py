"""Parsed addresses of the stack: `Endpoint`, `PostgresTarget`, `StackEndpoints`.

`parse_endpoints` checks every address and reports every problem at once, so a person fixes
their settings in one round instead of one error per run.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from devstack.stack.errors import StackConfigInvalid

DEFAULT_NATS_PORT = 4222
DEFAULT_POSTGRES_PORT = 5432
POSTGRES_SCHEMES = ("postgresql", "postgres")


def redact_password(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: for output and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user_info, _, host = parts.netloc.rpartition("@")
    user = user_info.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


@dataclass(frozen=True)
class Endpoint:
    """A TCP host and port of a server.

    Attributes:
        host: The host name or IP address as configured.
        port: The TCP port.
    """

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        """Whether a server for this endpoint can be started on this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def bind_host(self) -> str:
        """The IP address a locally started server listens on."""
        # "localhost" resolves to IPv4 first wherever /etc/hosts is the usual one, and every
        # client library here falls back across resolved addresses, so IPv4 serves both.
        return "127.0.0.1" if self.host == "localhost" else self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class PostgresTarget:
    """The PostgreSQL server and database named by a ``postgresql://`` URL.

    Attributes:
        endpoint: Host and port.
        user: The role to connect as; the superuser of a locally created cluster.
        password: The role's password, if the URL gives one.
        database: The database the services use, created when missing.
    """

    endpoint: Endpoint
    user: str
    password: str | None
    database: str


@dataclass(frozen=True)
class StackEndpoints:
    """Every address of a `StackConfig`, parsed and validated.

    Attributes:
        temporal: Temporal frontend gRPC.
        temporal_ui: Temporal Web UI, or None when headless.
        nats: NATS client port.
        postgres: PostgreSQL server and database.
        smtp: The SMTP sink.
        oidc: The development OpenID Connect provider (its issuer URL's host and port).
    """

    temporal: Endpoint
    temporal_ui: Endpoint | None
    nats: Endpoint
    postgres: PostgresTarget
    smtp: Endpoint
    oidc: Endpoint

    @property
    def temporal_ui_url(self) -> str | None:
        """The Web UI link, or None when headless."""
        return None if self.temporal_ui is None else f"http://{self.temporal_ui}"


def parse_endpoints(
    *,
    temporal_address: str,
    temporal_namespace: str,
    temporal_ui_port: int | None,
    nats_url: str,
    database_url: str,
    smtp_host: str,
    smtp_port: int,
    oidc_issuer: str,
) -> StackEndpoints:
    """Parse every address of a stack.

    Raises:
        StackConfigInvalid: Listing every problem found, not just the first.
    """
    problems: list[str] = []
    temporal = _parse_host_port("temporal_address", temporal_address, problems)
    nats = _parse_url("nats_url", nats_url, ("nats",), DEFAULT_NATS_PORT, problems)
    postgres = _parse_database_url(database_url, problems)
    smtp: Endpoint | None = None
    if not smtp_host or "/" in smtp_host:
        problems.append(f"smtp_host: {smtp_host!r} must be a host name or IP address")
    elif not 0 < smtp_port < 65536:
        problems.append(f"smtp_port: {smtp_port} is not in 1..65535")
    else:
        smtp = Endpoint(smtp_host.strip("[]"), smtp_port)
    oidc = _parse_issuer(oidc_issuer, problems)
    if not temporal_namespace:
        problems.append("temporal_namespace: must not be empty")
    ui: Endpoint | None = None
    if temporal_ui_port is not None:
        if not 0 < temporal_ui_port < 65536:
            problems.append(f"temporal UI port {temporal_ui_port}: not in 1..65535")
        elif temporal is not None:
            ui = Endpoint(temporal.host, temporal_ui_port)
    if (
        problems
        or temporal is None
        or nats is None
        or postgres is None
        or smtp is None
        or oidc is None
    ):
        raise StackConfigInvalid(problems)
    return StackEndpoints(
        temporal=temporal, temporal_ui=ui, nats=nats, postgres=postgres, smtp=smtp, oidc=oidc
    )


def _parse_issuer(issuer: str, problems: list[str]) -> Endpoint | None:
    """The development provider's host and port: a plain ``http://host:port`` URL."""
    try:
        parts = urlsplit(issuer)
        port = parts.port
    except ValueError as error:
        problems.append(f"oidc_issuer: {issuer!r}: {error}")
        return None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path.strip("/"):
        problems.append(f"oidc_issuer: {issuer!r} must be http://host:port (no path)")
        return None
    return Endpoint(parts.hostname, port)


def _checked_port(
    setting: str, port_text: str | None, default: int | None, problems: list[str]
) -> int | None:
    if port_text is None or port_text == "":
        if default is None:
            problems.append(f"{setting}: no port given")
        return default
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        problems.append(f"{setting}: port {port_text!r} is not in 1..65535")
        return None
    return int(port_text)


def _split_netloc(
    setting: str, netloc: str, default_port: int | None, problems: list[str]
) -> Endpoint | None:
    host_port = netloc.rpartition("@")[2]
    if host_port.startswith("["):
        host, _, rest = host_port[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
    else:
        host, _, port_text_or_empty = host_port.partition(":")
        port_text = port_text_or_empty if ":" in host_port else None
    if not host:
        problems.append(f"{setting}: no host given")
    port = _checked_port(setting, port_text, default_port, problems)
    if not host or port is None:
        return None
    return Endpoint(host, port)


def _parse_host_port(setting: str, value: str, problems: list[str]) -> Endpoint | None:
    if "://" in value or "/" in value:
        problems.append(f"{setting}: {value!r} must be host:port, without a scheme or path")
        return None
    return _split_netloc(setting, value, None, problems)


def _parse_url(
    setting: str, value: str, schemes: tuple[str, ...], default_port: int, problems: list[str]
) -> Endpoint | None:
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        problems.append(f"{setting}: {redact_password(value)!r} is not a {schemes[0]}:// URL")
        return None
    return _split_netloc(setting, parts.netloc, default_port, problems)


def _parse_database_url(value: str, problems: list[str]) -> PostgresTarget | None:
    setting = "database_url"
    endpoint = _parse_url(setting, value, POSTGRES_SCHEMES, DEFAULT_POSTGRES_PORT, problems)
    parts = urlsplit(value)
    database = unquote(parts.path.lstrip("/"))
    if parts.scheme in POSTGRES_SCHEMES and not database:
        problems.append(f"{setting}: {redact_password(value)!r} names no database (…/mentorflow)")
    if endpoint is None or not database:
        return None
    return PostgresTarget(
        endpoint=endpoint,
        user=unquote(parts.username) if parts.username else "postgres",
        password=unquote(parts.password) if parts.password else None,
        database=database,
    )
