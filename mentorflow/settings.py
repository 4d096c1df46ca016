"""Settings of every mentorflow process, read once at start-up (never at import time).

Precedence, highest first: explicit keyword arguments, ``MENTORFLOW_*`` environment
variables, then ``.mentorflow/stack.env`` written by ``mentorflow stack up`` (so every
command finds the servers the local stack resolved) and ``.mentorflow/keys.env`` (the local
stack's generated keys), then the defaults of the contract.
"""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mentorflow.keyring import KEYS_ENV_FILE, KeyRing, KeyRingInvalid

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


class Settings(BaseSettings):
    """Every setting of the public contract; all optional."""

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
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated IPs or CIDRs of TLS-terminating proxies whose X-Forwarded-Proto "
            "and X-Forwarded-For the API believes (default none)"
        ),
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, proxies: str) -> str:
        for proxy in filter(None, (entry.strip() for entry in proxies.split(","))):
            ipaddress.ip_network(proxy, strict=False)  # its ValueError names the entry
        return proxies

    @field_validator("write_rate_limit")
    @classmethod
    def _rate_in_limits_notation(cls, rate: str) -> str:
        parse_many(rate)  # its ValueError quotes the rate
        return rate

    @property
    def tokens_file(self) -> Path:
        """The tokens file in force."""
        return self.api_tokens_file or state_dir() / "tokens.json"

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
