"""Named AES-256 keys: the payload keys of the Temporal codec and the vault's master keys.

A key ring is every key still needed to decrypt (old ones included, so keys can rotate)
plus the id of the one that encrypts new data. Settings carry a ring as
``"id1=<base64 32 bytes>,id2=<...>"`` and the active id separately
(``MENTORFLOW_PAYLOAD_KEYS`` / ``MENTORFLOW_PAYLOAD_KEY_ID``, ``MENTORFLOW_MASTER_KEYS`` /
``MENTORFLOW_MASTER_KEY_ID``). For local work ``mentorflow stack up`` writes freshly generated
rings once to ``.mentorflow/keys.env`` (mode 0600), which settings read like ``stack.env``,
together with the passwords of the local servers (PostgreSQL, the NATS users).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

KEY_BYTES = 32
KEYS_ENV_FILE = "keys.env"
PASSWORD_BYTES = 24
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyRingInvalid(ValueError):
    """A key ring setting is missing or malformed; the message names every problem."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{name}: " + "; ".join(problems))


class UnknownKey(LookupError):
    """Data was encrypted with a key this ring does not hold (rotated out, or another ring)."""


@dataclass(frozen=True)
class KeyRing:
    """Keys by id, and the id of the key that encrypts."""

    keys: Mapping[str, bytes] = field(repr=False)
    active_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))
        if self.active_id not in self.keys:
            raise KeyRingInvalid("key ring", [f"active key {self.active_id!r} is not in the ring"])

    @property
    def active(self) -> bytes:
        """The key new data is encrypted with."""
        return self.keys[self.active_id]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of every key in the ring, in the order listed."""
        return tuple(self.keys)

    def key(self, key_id: str) -> bytes:
        """The key with this id."""
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKey(f"no key {key_id!r} in the ring") from None

    @classmethod
    def generate(cls, key_id: str) -> KeyRing:
        """A ring of one fresh random key."""
        return cls({key_id: secrets.token_bytes(KEY_BYTES)}, key_id)

    @classmethod
    def parse(cls, name: str, spec: str, active_id: str | None) -> KeyRing:
        """Read ``"id=base64,..."``; the active id defaults to the last key listed."""
        problems: list[str] = []
        keys: dict[str, bytes] = {}
        for index, item in enumerate(filter(None, (part.strip() for part in spec.split(",")))):
            key_id, separator, encoded = item.partition("=")
            key_id = key_id.strip()
            if not separator or not _KEY_ID.match(key_id):
                problems.append(f"entry {index + 1} is not 'id=<base64 key>' with a plain id")
                continue
            try:
                raw = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                problems.append(f"key {key_id!r} is not valid base64")
                continue
            if len(raw) != KEY_BYTES:
                problems.append(f"key {key_id!r} has {len(raw)} bytes, AES-256 needs {KEY_BYTES}")
                continue
            if key_id in keys:
                problems.append(f"key {key_id!r} is listed twice")
            keys[key_id] = raw
        if not keys and not problems:
            problems.append("no keys")
        active = active_id or (list(keys)[-1] if keys else "")
        if keys and active not in keys:
            problems.append(f"active key {active!r} is not in the ring")
        if problems:
            raise KeyRingInvalid(name, problems)
        return cls(keys, active)

    def to_spec(self) -> str:
        """The ``"id=base64,..."`` form ``parse`` reads."""
        return ",".join(
            f"{key_id}={base64.b64encode(key).decode()}" for key_id, key in self.keys.items()
        )


def generate_password() -> str:
    """A random password of URL-safe characters (fits URLs, env files and config files)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def read_env_file(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of a file like ``keys.env``; empty when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    variables: dict[str, str] = {}
    for line in text.splitlines():
        key, separator, value = line.partition("=")
        if separator and not key.lstrip().startswith("#"):
            variables[key.strip()] = value.strip().strip("'\"")
    return variables


def ensure_local_keys(state_dir: Path, passwords: Iterable[str] = ()) -> dict[str, str]:
    """Make ``keys.env`` hold fresh payload and master keys and a password per variable.

    Variables already in the file keep their values; missing ones are generated and appended
    (a state directory from before a variable existed gets it on the next ``stack up``).
    Only for local stacks: production passes keys through the environment or a secret store.

    Args:
        state_dir: The directory of ``keys.env``.
        passwords: Names of variables that hold a generated password (`generate_password`).

    Returns:
        Every variable of the file.
    """
    path = state_dir / KEYS_ENV_FILE
    existing = read_env_file(path)
    wanted: dict[str, str] = {}
    if "MENTORFLOW_PAYLOAD_KEYS" not in existing:
        payload = KeyRing.generate("p1")
        wanted["MENTORFLOW_PAYLOAD_KEYS"] = payload.to_spec()
        wanted["MENTORFLOW_PAYLOAD_KEY_ID"] = payload.active_id
    if "MENTORFLOW_MASTER_KEYS" not in existing:
        master = KeyRing.generate("m1")
        wanted["MENTORFLOW_MASTER_KEYS"] = master.to_spec()
        wanted["MENTORFLOW_MASTER_KEY_ID"] = master.active_id
    wanted.update(
        (variable, generate_password()) for variable in passwords if variable not in existing
    )
    if not wanted:
        return existing
    state_dir.mkdir(parents=True, exist_ok=True)
    lines = (
        []
        if existing or path.exists()
        else ["# Generated by mentorflow for the local stack; losing it loses the local data."]
    )
    lines += [f"{key}={value}" for key, value in wanted.items()]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        handle.write("\n".join(lines) + "\n")
    return {**existing, **wanted}
