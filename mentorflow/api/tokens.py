"""The tokens file: a JSON list of hashed bearer tokens, each with a role and a person id.

    [{"sha256": "<hex digest of the token>", "role": "mentee", "person_id": "p-002"}, ...]

Only digests are stored, so the file does not let anyone call the API. A token is a random
256-bit string (``secrets.token_urlsafe``); at that entropy an unsalted SHA-256 is as good as
a password hash, and looking a digest up in a dict leaks nothing an attacker can use.

`TokenRegistry` re-reads the file when it changes (inode, size or modification time), so a
token added with ``mentorflow tokens add`` works without restarting the API. A file that turns
invalid while the API runs is logged and the tokens read before stay in force; at start-up it
is an error.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Self

import structlog
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

log = structlog.get_logger(__name__)

TOKEN_BYTES = 32


class Role(StrEnum):
    """Who a token speaks for."""

    HR_ADMIN = "hr_admin"
    MENTOR = "mentor"
    MENTEE = "mentee"
    SERVICE = "service"
    OPS = "ops"
    """Operators: the Temporal payload codec endpoint (decoded payloads in the UI), nothing else."""


PARTICIPANT_ROLES = frozenset({Role.MENTOR, Role.MENTEE})


class TokensFileInvalid(ValueError):
    """The tokens file cannot be read; ``problems`` names every problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


class TokenRecord(BaseModel):
    """One token of the file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex digest of the token")
    role: Role
    person_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Required for mentor and mentee"
    )

    @model_validator(mode="after")
    def _participants_name_a_person(self) -> Self:
        if self.role in PARTICIPANT_ROLES and self.person_id is None:
            raise ValueError(f"a {self.role.value} token needs a person_id")
        if self.role is Role.OPS and self.person_id is not None:
            # An ops token decodes everyone's payloads; tying it to a participant would also
            # open that participant's relationships to it.
            raise ValueError("an ops token names no person")
        return self


_RECORDS = TypeAdapter(list[TokenRecord])


def hash_token(token: str) -> str:
    """The digest stored for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def read_tokens(path: Path) -> list[TokenRecord]:
    """The records of the tokens file (none when it does not exist).

    Raises:
        TokensFileInvalid: It exists but is not a valid tokens file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise TokensFileInvalid(path, [error.strerror or str(error)]) from error
    try:
        return _RECORDS.validate_json(text)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in detail['loc']) or 'document'}: {detail['msg']}"
            for detail in error.errors(include_url=False)
        ]
        raise TokensFileInvalid(path, problems) from error


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # A sidecar lock file: the tokens file itself is replaced (not rewritten) on every add.
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _write_private(path: Path, records: list[TokenRecord]) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    payload = json.dumps([record.model_dump(mode="json") for record in records], indent=2)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(payload + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def add_token(path: Path, role: Role, person_id: str | None = None) -> str:
    """Create a token, store its digest in ``path`` (mode 0600) and return the token.

    The token itself is returned once and stored nowhere.

    Raises:
        pydantic.ValidationError: A mentor or mentee token without a person id.
        TokensFileInvalid: The existing file is not a valid tokens file.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = TokenRecord(sha256=hash_token(token), role=role, person_id=person_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        _write_private(path, [*read_tokens(path), record])
    return token


_FileStamp = tuple[int, int, int] | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role, and the person behind a participant token."""

    role: Role
    person_id: str | None


class TokenRegistry:
    """The tokens of the tokens file, by digest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: _FileStamp = None
        self._principals: dict[str, Principal] = {}

    def load(self) -> int:
        """Read the file now; return how many tokens it holds.

        Raises:
            TokensFileInvalid: The file exists but is not a valid tokens file.
        """
        with self._lock:
            self._reload(self._file_stamp())
            return len(self._principals)

    def lookup(self, token: str) -> Principal | None:
        """The principal of ``token``; None for an unknown token."""
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        self._reload(stamp)
                    except TokensFileInvalid as error:
                        self._stamp = stamp  # report once per change, keep the old tokens
                        log.error(
                            "tokens file invalid", path=str(error.path), problems=error.problems
                        )
        return self._principals.get(hash_token(token))

    def _file_stamp(self) -> _FileStamp:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def _reload(self, stamp: _FileStamp) -> None:
        records = read_tokens(self.path)
        self._principals = {
            record.sha256: Principal(record.role, record.person_id) for record in records
        }
        self._stamp = stamp
        if stamp is None:
            log.warning(
                "no tokens file: every request needing a token is refused", path=str(self.path)
            )
