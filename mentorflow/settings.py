"""Settings of every mentorflow process, read once at start-up (never at import time).

One tree: `Settings` holds the contract's top-level settings (``MENTORFLOW_*``) and one
section per part that has tuning of its own (``MENTORFLOW_DATABASE_POOL_*``,
``MENTORFLOW_BUS_*``, ``MENTORFLOW_PROJECTOR_*``, ``MENTORFLOW_COMMANDS_*``,
``MENTORFLOW_SMTP_*``, ``MENTORFLOW_METRICS_*``). The adapters' configurations are made from
it and nowhere else: `Settings.database` for `eventstore.create_pool`, `Settings.bus_config`,
`Settings.projector_options`, `Settings.commands_config`, `Settings.relay_options` and
`Settings.smtp_config`.

Addresses that ``mentorflow stack up`` resolves are top-level settings, because only those are
read from ``stack.env``: so the SMTP server's ``MENTORFLOW_SMTP_HOST`` and
``MENTORFLOW_SMTP_PORT`` are, while the rest of SMTP (sender, TLS, login, timeout) is the
``smtp`` section.

Precedence, highest first: explicit keyword arguments, ``MENTORFLOW_*`` environment
variables, then ``.mentorflow/stack.env`` written by ``mentorflow stack up`` (so every
command finds the servers the local stack resolved) and ``.mentorflow/keys.env`` (the local
stack's generated keys), then the defaults of the contract. A section reads its own
environment variables (not the files, which hold top-level settings only).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mentorflow.keyring import KEYS_ENV_FILE, KeyRing, KeyRingInvalid

if TYPE_CHECKING:  # the adapters' configurations, imported where they are made: reading
    # settings stays cheap for every command (`mentorflow.commands` alone takes seconds).
    from bus import BusConfig
    from bus.relay import RelayOptions
    from eventstore import DatabaseSettings
    from mentorflow.api.oidc_issuer import OidcConfig
    from mentorflow.commands import CommandsConfig
    from notifications import SmtpConfig
    from notifications.service import NotifierConfig
    from projections import RunnerOptions

STATE_DIR_ENV = "MENTORFLOW_STATE_DIR"
STACK_ENV_FILE = "stack.env"


class LogFormat(StrEnum):
    """How log records are rendered."""

    CONSOLE = "console"
    JSON = "json"


def state_dir() -> Path:
    """The directory holding local state (server data, stack.env, tokens).

    ``.mentorflow/`` under the working directory unless ``MENTORFLOW_STATE_DIR`` says otherwise.
    """
    return Path(os.environ.get(STATE_DIR_ENV, ".mentorflow")).resolve()


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True)


class DatabasePoolSettings(BaseSettings):
    """``MENTORFLOW_DATABASE_POOL_*``: the connection pool each process keeps."""

    model_config = _section("MENTORFLOW_DATABASE_POOL_")

    min_size: int = Field(default=2, ge=0, description="Connections kept open")
    max_size: int = Field(default=10, ge=1, description="Most connections at once")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to get one")
    idle_in_transaction_timeout_ms: int = Field(
        default=60_000,
        ge=0,
        description="The server ends a session this long idle in a transaction (0: never)",
    )


class BusSettings(BaseSettings):
    """``MENTORFLOW_BUS_*``: stream retention, names for isolated set-ups, relay paging.

    ``MENTORFLOW_BUS_DUPLICATE_WINDOW`` and ``MENTORFLOW_BUS_MAX_AGE`` take seconds or ISO
    8601 durations (``PT2H``, ``P30D``). ``MENTORFLOW_BUS_STREAM_NAME`` and
    ``MENTORFLOW_BUS_SUBJECT_PREFIX`` exist for tests and side-by-side installations sharing
    one NATS; consumers of the contract expect the defaults. Unset means the default of
    `bus.BusConfig` (and `bus.relay.RelayOptions`), validated there.
    """

    model_config = _section("MENTORFLOW_BUS_")

    duplicate_window: timedelta | None = None
    max_age: timedelta | None = None
    stream_name: str | None = None
    subject_prefix: str | None = None
    relay_page_size: int | None = Field(default=None, ge=1)
    relay_poll_interval: float | None = Field(default=None, gt=0)


class ProjectorSettings(BaseSettings):
    """``MENTORFLOW_PROJECTOR_*``: how the projector pages, polls and retries.

    Unset means the default of `projections.RunnerOptions`.
    """

    model_config = _section("MENTORFLOW_PROJECTOR_")

    page_size: int | None = Field(default=None, ge=1)
    poll_interval: float | None = Field(default=None, gt=0)
    retry_maximum: float | None = Field(default=None, gt=0)


class CommandsSettings(BaseSettings):
    """``MENTORFLOW_COMMANDS_*``: the cohort-launch consumer's delivery bounds.

    Unset means the default of `mentorflow.commands.CommandsConfig`. The stream and subject
    names are the contract's; setting them is for isolated tests (the dead-letter commands
    read them too).
    """

    model_config = _section("MENTORFLOW_COMMANDS_")

    max_deliver: int | None = Field(default=None, ge=1)
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    stream: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    dead_letter_stream: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class SmtpSettings(BaseSettings):
    """``MENTORFLOW_SMTP_*``: how notifications are sent (host and port are top-level).

    The defaults suit the local stack's sink: plain SMTP on loopback, no login. A real relay
    takes ``MENTORFLOW_SMTP_STARTTLS=true`` and a username and password.
    """

    model_config = _section("MENTORFLOW_SMTP_")

    from_address: str = Field(
        default="mentorflow@localhost",
        pattern=r"^[^@\s<>]+@[^@\s<>]+$",
        description="Envelope sender and From address of every notification",
    )
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS")
    username: str | None = Field(default=None, description="Login, when the relay wants one")
    password: SecretStr | None = Field(default=None, description="Password of that login")
    timeout: float = Field(default=30.0, gt=0, description="Seconds any SMTP step may take")


class NotifierSettings(BaseSettings):
    """``MENTORFLOW_NOTIFIER_*``: where the notifier reads contacts, and what it links to.

    The notifier reads ``GET /cohorts/{id}/contacts`` of the public API with a ``service``
    token, ``MENTORFLOW_NOTIFIER_API_TOKEN`` (a top-level setting, like the SMTP host: the
    ``stack.env`` that `mentorflow stack up` writes holds one for the local stack). Without
    a token, ``mentorflow serve`` runs without the notifier and says so; ``mentorflow
    notifier`` refuses to start.
    """

    model_config = _section("MENTORFLOW_NOTIFIER_")

    api_url: str | None = Field(
        default=None, description="The API the notifier asks (default: this API's address)"
    )
    console_url: str | None = Field(
        default=None,
        description="The console's public base URL in messages (default: the API's address)",
    )
    durable: str = Field(
        default="mentorflow-notifier",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The durable consumer shared by every notifier of an installation",
    )
    directory_ttl: float = Field(default=30.0, ge=0, description="Seconds contacts are cached")
    poll_interval: float = Field(default=0.5, gt=0, description="Seconds between outbox passes")
    digest_interval: float = Field(
        default=30.0, gt=0, description="Seconds between looks for due HR digests"
    )
    webhook_ca_file: str | None = Field(
        default=None, description="CA bundle for webhooks on a private server (default: system)"
    )
    lease: float = Field(
        default=300.0,
        gt=0,
        description="Seconds a claimed message is hidden from other notifiers; one a killed "
        "notifier held is sent again after it",
    )


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) as host and port.

    Raises:
        ValueError: Not a host and a port between 1 and 65535.
    """
    try:
        parts = urlsplit(f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None or port == 0 or parts.path or parts.username:
        raise ValueError(f"{address!r} is not host:port (e.g. 0.0.0.0:9464)")
    return host, port


class MetricsSettings(BaseSettings):
    """``MENTORFLOW_METRICS_*``: where each process serves its Prometheus metrics.

    The API always serves ``/metrics`` on its own port. Every process (``serve``, ``worker``,
    ``relay``, ``projector``, ``notifier``, and ``api`` too) also serves its metrics on
    ``MENTORFLOW_METRICS_ADDRESS`` when it is set. The Temporal SDK's runtime metrics come
    from the SDK's own exporter, on ``MENTORFLOW_METRICS_TEMPORAL_ADDRESS``, in the
    processes that talk to Temporal (``serve``, ``worker``, ``api``). Both are off by
    default: several processes of one host would otherwise fight over one port.
    """

    model_config = _section("MENTORFLOW_METRICS_")

    address: str | None = Field(
        default=None, description="host:port of this process's /metrics server (unset: off)"
    )
    temporal_address: str | None = Field(
        default=None,
        description="host:port of the Temporal SDK's /metrics exporter (unset: off)",
    )
    refresh_interval: float = Field(
        default=15.0,
        gt=0,
        description="Seconds between readings of the database's figures (lags, cohorts)",
    )

    @field_validator("address", "temporal_address")
    @classmethod
    def _host_and_port(cls, address: str | None) -> str | None:
        if address is not None:
            split_address(address)  # its ValueError names the value
        return address


class OidcSettings(BaseSettings):
    """``MENTORFLOW_OIDC_*``: single sign-on through an OpenID Connect provider.

    The issuer, client id, client secret and person claim are top-level settings
    (``MENTORFLOW_OIDC_ISSUER``, ``MENTORFLOW_OIDC_CLIENT_ID``, ``MENTORFLOW_OIDC_CLIENT_SECRET``,
    ``MENTORFLOW_OIDC_PERSON_CLAIM``) because the local stack writes them to ``stack.env``; the
    rest is this section. Without an issuer, single sign-on
    is off and static tokens and sign-in links work as before.

    Roles come from the claim ``role_claim`` (a string or a list of strings): each value is
    looked up in ``role_mapping`` (JSON, claim value → role, e.g. ``{"mentoring-hr":
    "hr_admin"}``); with an empty mapping a value that is a role's name is that role. The
    person of a mentor or mentee is found by the person claim as ``person_match`` says: the
    claim is the participant id itself (``person_id``), or it is matched against the email,
    employee number, external id or user name of an active person of the people directory.
    """

    model_config = _section("MENTORFLOW_OIDC_")

    audience: str | None = Field(
        default=None,
        min_length=1,
        description="The aud of API access tokens (JWT); unset: the API accepts none",
    )
    role_claim: str = Field(default="roles", min_length=1, description="Claim carrying roles")
    role_mapping: dict[str, str] = Field(
        default_factory=dict, description="Claim value -> role; empty: role names as they are"
    )
    person_match: str = Field(
        default="person_id",
        description="What the person claim is matched against: person_id (the claim is the "
        "participant id), or email, employee_number, external_id or user_name of an active "
        "directory person",
    )
    scopes: str = Field(default="openid email profile", description="Scopes of the sign-in")
    redirect_url: str | None = Field(
        default=None,
        description="The console's callback as registered at the provider "
        "(default: <the request's base URL>/sign-in/oidc/callback)",
    )
    jwks_cache_seconds: float = Field(
        default=3600.0, gt=0, description="Seconds the discovery document and keys are kept"
    )
    jwks_refresh_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Least seconds between two fetches of the keys for an unknown kid",
    )
    http_timeout: float = Field(default=10.0, gt=0, description="Seconds a provider call may take")

    @field_validator("person_match")
    @classmethod
    def _known_match(cls, value: str) -> str:
        from domain.person import person_match  # not at import: reading settings stays cheap

        return person_match(value)

    @field_validator("role_mapping")
    @classmethod
    def _mapped_to_roles(cls, mapping: dict[str, str]) -> dict[str, str]:
        from mentorflow.api.tokens import Role  # not at import: reading settings stays cheap

        known = {role.value for role in Role}
        unknown = sorted({role for role in mapping.values() if role not in known})
        if unknown:
            raise ValueError(
                f"unknown roles {', '.join(unknown)} (roles: {', '.join(sorted(known))})"
            )
        return mapping


class Settings(BaseSettings):
    """Every setting of the public contract, and the sections; all optional."""

    model_config = SettingsConfigDict(
        env_prefix="MENTORFLOW_",
        extra="ignore",
        frozen=True,
    )

    temporal_address: str = Field(default="localhost:7233", description="Temporal frontend gRPC")
    temporal_namespace: str = Field(default="default")
    task_queue: str = Field(default="mentorflow")
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/mentorflow",
        description="PostgreSQL URL of the event store and read models",
    )
    nats_url: str = Field(default="nats://localhost:4222")
    smtp_host: str = Field(
        default="localhost", min_length=1, description="SMTP server that notifications go to"
    )
    smtp_port: int = Field(default=8025, ge=1, le=65535, description="Its port")
    notifier_api_token: SecretStr | None = Field(
        default=None, description="The notifier's `service` bearer token for the public API"
    )
    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_tokens_file: Path | None = Field(
        default=None,
        description="JSON list of hashed bearer tokens; default .mentorflow/tokens.json",
    )
    write_rate_limit: str = Field(
        default="60/minute",
        description=(
            "Writes per API token and API process (in memory), in the notation of the `limits` "
            "library: '60/minute', or '10/second; 60/minute'"
        ),
    )
    log_format: LogFormat = Field(default=LogFormat.CONSOLE)
    log_level: str = Field(default="INFO")
    payload_keys: SecretStr | None = Field(
        default=None,
        description="AES-256 keys of the Temporal payload codec: 'id=<base64>,...'",
    )
    payload_key_id: str | None = Field(
        default=None, description="id of the payload key that encrypts (default: the last)"
    )
    master_keys: SecretStr | None = Field(
        default=None,
        description="AES-256 master keys wrapping the per-person data keys: 'id=<base64>,...'",
    )
    master_key_id: str | None = Field(
        default=None, description="id of the master key that wraps new keys (default: the last)"
    )
    require_encrypted_payloads: bool = Field(
        default=True,
        description=(
            "Refuse Temporal payloads that arrive unencrypted (a client without the payload "
            "key); off only to replay histories recorded before encryption"
        ),
    )
    codec_cors_origins: str | None = Field(
        default=None,
        description=(
            "Comma-separated origins of the Temporal UI allowed to call the payload codec "
            "endpoint; default the local UI (Temporal gRPC port + 1000 on the Temporal host, "
            "127.0.0.1 and localhost)"
        ),
    )
    temporal_ui_url: str | None = Field(
        default=None,
        description=(
            "Base URL of the Temporal Web UI (http://localhost:8233); the web console links "
            "each cohort and relationship to it with a search-attribute query. Default none: "
            "no links (`mentorflow stack up` writes the local UI's URL to stack.env)"
        ),
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL for console sign-in and API JWTs (unset: off)",
    )
    oidc_client_id: str | None = Field(default=None, description="The console's client id")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="The console's client secret (unset: a public client)"
    )
    oidc_person_claim: str = Field(
        default="email",
        min_length=1,
        description="Claim identifying a mentor or mentee: their participant id, or what "
        "MENTORFLOW_OIDC_PERSON_MATCH matches in the people directory",
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated IPs or CIDRs of TLS-terminating proxies whose X-Forwarded-Proto "
            "and X-Forwarded-For the API believes (default none)"
        ),
    )

    database_pool: DatabasePoolSettings = Field(default_factory=DatabasePoolSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    projector: ProjectorSettings = Field(default_factory=ProjectorSettings)
    commands: CommandsSettings = Field(default_factory=CommandsSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    notifier: NotifierSettings = Field(default_factory=NotifierSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, proxies: str) -> str:
        for proxy in filter(None, (entry.strip() for entry in proxies.split(","))):
            ipaddress.ip_network(proxy, strict=False)  # its ValueError names the entry
        return proxies

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_is_https(cls, issuer: str | None) -> str | None:
        if issuer is None:
            return None
        url = urlsplit(issuer)
        loopback = url.hostname in {"localhost", "127.0.0.1", "::1"}
        if url.scheme != "https" and not (url.scheme == "http" and loopback):
            raise ValueError("the issuer must be an https URL (http only on loopback)")
        if url.query or url.fragment or not url.hostname:
            raise ValueError("the issuer must be a plain URL without query or fragment")
        return issuer.rstrip("/")

    @field_validator("write_rate_limit")
    @classmethod
    def _rate_in_limits_notation(cls, rate: str) -> str:
        parse_many(rate)  # its ValueError quotes the rate
        return rate

    @property
    def tokens_file(self) -> Path:
        """The tokens file in force."""
        return self.api_tokens_file or state_dir() / "tokens.json"

    @property
    def database(self) -> DatabaseSettings:
        """What `eventstore.create_pool` needs: the URL and this process's pool."""
        from eventstore import DatabaseSettings

        pool = self.database_pool
        return DatabaseSettings(
            self.database_url,
            min_size=min(pool.min_size, pool.max_size),
            max_size=pool.max_size,
            connect_timeout=pool.connect_timeout,
            idle_in_transaction_timeout_ms=pool.idle_in_transaction_timeout_ms,
        )

    def bus_config(self) -> BusConfig:
        """NATS and the events stream, for the relay and ``mentorflow events tail``."""
        from bus import BusConfig

        return BusConfig(
            nats_url=self.nats_url,
            **self.bus.model_dump(
                include={"duplicate_window", "max_age", "stream_name", "subject_prefix"},
                exclude_none=True,
            ),
        )

    def relay_options(self) -> RelayOptions:
        """The relay's paging and polling."""
        from bus.relay import RelayOptions

        relay = RelayOptions()
        return dataclasses.replace(
            relay,
            page_size=self.bus.relay_page_size or relay.page_size,
            poll_interval=self.bus.relay_poll_interval or relay.poll_interval,
        )

    def projector_options(self) -> RunnerOptions:
        """The projector's paging, polling and retries."""
        from projections import RunnerOptions

        return RunnerOptions(**self.projector.model_dump(exclude_none=True))

    def commands_config(self) -> CommandsConfig:
        """The cohort-launch command consumer's names and delivery bounds."""
        from mentorflow.commands import CommandsConfig

        return CommandsConfig(**self.commands.model_dump(exclude_none=True))

    def smtp_config(self) -> SmtpConfig:
        """The SMTP server and how to talk to it, for the notifications' sender."""
        from notifications import SmtpConfig

        smtp = self.smtp
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            from_address=smtp.from_address,
            starttls=smtp.starttls,
            username=smtp.username,
            password=None if smtp.password is None else smtp.password.get_secret_value(),
            timeout=smtp.timeout,
        )

    def notifier_config(self) -> NotifierConfig:
        """The notifier's bus, links, SMTP server and timings."""
        from notifications import RetryPolicy
        from notifications.messages import Links
        from notifications.service import NotifierConfig

        notifier = self.notifier
        return NotifierConfig(
            bus=self.bus_config(),
            links=Links(
                console=notifier.console_url or self.api_url(),
                from_address=self.smtp.from_address,
            ),
            smtp=self.smtp_config(),
            durable=notifier.durable,
            poll_interval=notifier.poll_interval,
            digest_interval=notifier.digest_interval,
            policy=RetryPolicy(lease=timedelta(seconds=notifier.lease)),
            webhook_ca_file=notifier.webhook_ca_file,
        )

    def api_url(self) -> str:
        """This installation's API address, as the notifier reaches it by default."""
        return self.notifier.api_url or f"http://{self.api_host}:{self.api_port}"

    def oidc_config(self) -> OidcConfig | None:
        """Single sign-on's provider and mapping; None when ``MENTORFLOW_OIDC_ISSUER`` is unset."""
        from domain.person import person_match
        from mentorflow.api.oidc_issuer import OidcConfig
        from mentorflow.api.tokens import Role

        if self.oidc_issuer is None:
            return None
        oidc = self.oidc
        secret = self.oidc_client_secret
        return OidcConfig(
            issuer=self.oidc_issuer,
            client_id=self.oidc_client_id,
            client_secret=None if secret is None else secret.get_secret_value(),
            audience=oidc.audience,
            role_claim=oidc.role_claim,
            role_mapping={value: Role(role) for value, role in oidc.role_mapping.items()},
            person_claim=self.oidc_person_claim,
            person_match=person_match(oidc.person_match),
            scopes=oidc.scopes,
            redirect_url=oidc.redirect_url,
            jwks_cache_seconds=oidc.jwks_cache_seconds,
            jwks_refresh_seconds=oidc.jwks_refresh_seconds,
            http_timeout=oidc.http_timeout,
        )

    def payload_keyring(self) -> KeyRing:
        """The payload codec's keys; `KeyRingInvalid` naming the setting when unset or bad."""
        return _keyring("MENTORFLOW_PAYLOAD_KEYS", self.payload_keys, self.payload_key_id)

    def master_keyring(self) -> KeyRing:
        """The vault's master keys; `KeyRingInvalid` naming the setting when unset or bad."""
        return _keyring("MENTORFLOW_MASTER_KEYS", self.master_keys, self.master_key_id)


def _keyring(name: str, spec: SecretStr | None, active_id: str | None) -> KeyRing:
    if spec is None:
        raise KeyRingInvalid(
            name, ["not set (run `mentorflow stack up` for local keys, or set it from a secret)"]
        )
    return KeyRing.parse(name, spec.get_secret_value(), active_id)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from overrides, the environment and ``.mentorflow/stack.env``."""
    env_files = tuple(
        path
        for path in (state_dir() / KEYS_ENV_FILE, state_dir() / STACK_ENV_FILE)
        if path.exists()
    )
    return Settings(_env_file=env_files or None, **overrides)
