"""The tokens file: a JSON list of hashed bearer tokens, each with a role and a person id.

    [{"sha256": "<hex digest of the token>", "role": "mentee", "person_id": "p-002",
      "created_at": "2027-01-11T09:00:00Z", "expires_at": "2027-02-10T09:00:00Z"}, ...]

``created_at`` and ``expires_at`` are optional (records written before they existed have
neither, and a token without ``expires_at`` does not expire).

Only digests are stored, so the file does not let anyone call the API. A token is a random
256-bit string (``secrets.token_urlsafe``); at that entropy an unsalted SHA-256 is as good as
a password hash, and looking a digest up in a dict leaks nothing an attacker can use.

Each token has a public id, ``tok_`` and the first 12 hex digits of its digest: derived rather
than stored, so records of every age have one, and it names a token in listings, revocations
and audit records without letting anyone call the API (48 bits of a hash of 256 random bits).
`add_token` never creates a token whose id another record already has.

`TokenRegistry` re-reads the file when it changes (inode, size or modification time), so a
token added or revoked with ``mentorflow tokens`` is in force without restarting the API. A
file that turns invalid while the API runs fails closed: no token is accepted until it is
valid again, the error is logged and ``/readyz`` says so. At start-up it is an error.
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
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Self

import structlog
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

log = structlog.get_logger(__name__)

TOKEN_BYTES = 32
PUBLIC_ID_PREFIX = "tok_"
PUBLIC_ID_DIGITS = 12


class Role(StrEnum):
    """Who a token speaks for."""

    HR_ADMIN = "hr_admin"
    MENTOR = "mentor"
    MENTEE = "mentee"
    SERVICE = "service"
    OPS = "ops"
    """Operators: the Temporal payload codec endpoint (decoded payloads in the UI), nothing else."""
    SCIM = "scim"
    """HR systems provisioning people through the SCIM service (``/scim/v2``), nothing else."""


PARTICIPANT_ROLES = frozenset({Role.MENTOR, Role.MENTEE})


class TokensFileInvalid(ValueError):
    """The tokens file cannot be read; ``problems`` names every problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


class UnknownTokenId(LookupError):
    """No token of the file has this id."""

    def __init__(self, path: Path, token_id: str) -> None:
        super().__init__(f"{path}: no token has the id {token_id}")
        self.path = path
        self.token_id = token_id


class TokenRefused(Exception):
    """A bearer token that does not authenticate anyone (the subclass says why)."""


class UnknownToken(TokenRefused):
    """The tokens file has no such token."""


class ExpiredToken(TokenRefused):
    """The token existed but has expired."""

    def __init__(self, token_id: str, expired_at: datetime) -> None:
        super().__init__(f"token {token_id} expired at {expired_at.isoformat()}")
        self.token_id = token_id
        self.expired_at = expired_at


class TokensUnavailable(TokenRefused):
    """The tokens file is invalid, so no token is accepted (fail closed)."""

    def __init__(self, invalid: TokensFileInvalid) -> None:
        super().__init__(str(invalid))
        self.invalid = invalid


def token_id_of(digest: str) -> str:
    """The public id of the token whose SHA-256 hex digest is ``digest``."""
    return PUBLIC_ID_PREFIX + digest[:PUBLIC_ID_DIGITS]


class TokenRecord(BaseModel):
    """One token of the file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex digest of the token")
    role: Role
    person_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Required for mentor and mentee"
    )
    created_at: AwareDatetime | None = Field(default=None, description="Absent on old records")
    expires_at: AwareDatetime | None = Field(default=None, description="Absent: never expires")

    @property
    def token_id(self) -> str:
        """The token's public id."""
        return token_id_of(self.sha256)

    def expired(self, now: datetime) -> bool:
        """Whether the token has expired at ``now``."""
        return self.expires_at is not None and self.expires_at <= now

    def stored(self) -> dict[str, object]:
        """The record as written to the file (optional fields only when set)."""
        record = self.model_dump(mode="json")
        return {
            key: value
            for key, value in record.items()
            if value is not None or key not in _OPTIONAL_FIELDS
        }

    @model_validator(mode="after")
    def _participants_name_a_person(self) -> Self:
        if self.role in PARTICIPANT_ROLES and self.person_id is None:
            raise ValueError(f"a {self.role.value} token needs a person_id")
        if self.role in (Role.OPS, Role.SCIM) and self.person_id is not None:
            # An ops token decodes everyone's payloads; tying it to a participant would also
            # open that participant's relationships to it.
            raise ValueError(f"an {self.role.value} token names no person")
        return self


_OPTIONAL_FIELDS = frozenset({"created_at", "expires_at"})
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
    payload = json.dumps([record.stored() for record in records], indent=2)
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


def add_token(
    path: Path,
    role: Role,
    person_id: str | None = None,
    *,
    expires_at: datetime | None = None,
) -> str:
    """Create a token, store its digest in ``path`` (mode 0600) and return the token.

    The token itself is returned once and stored nowhere; its id is `token_id_of` its
    `hash_token`.

    Args:
        path: The tokens file (created when missing).
        role: Who the token speaks for.
        person_id: The participant (required for mentor and mentee).
        expires_at: When the token stops working (timezone-aware); never by default.

    Raises:
        pydantic.ValidationError: A mentor or mentee token without a person id, or a naive
            ``expires_at``.
        TokensFileInvalid: The existing file is not a valid tokens file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        records = read_tokens(path)
        taken = {record.token_id for record in records}
        while True:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            record = TokenRecord(
                sha256=hash_token(token),
                role=role,
                person_id=person_id,
                created_at=datetime.now(UTC),
                expires_at=expires_at,
            )
            if record.token_id not in taken:
                break
        _write_private(path, [*records, record])
    return token


def revoke_token(path: Path, token_id: str) -> TokenRecord:
    """Remove the token with id ``token_id`` from ``path``; return its record.

    Raises:
        UnknownTokenId: No token has that id.
        TokensFileInvalid: The file is not a valid tokens file.
    """
    if not path.exists():
        raise UnknownTokenId(path, token_id)
    with _locked(path):
        records = read_tokens(path)
        kept = [record for record in records if record.token_id != token_id]
        if len(kept) == len(records):
            raise UnknownTokenId(path, token_id)
        _write_private(path, kept)
    return next(record for record in records if record.token_id == token_id)


_FileStamp = tuple[int, int, int] | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role, the person behind a participant token, and the token's id.

    ``token_id`` names the token in audit records; it is empty only for principals that do
    not come from the tokens file (tests).
    """

    role: Role
    person_id: str | None
    token_id: str = ""


class TokenRegistry:
    """The tokens of the tokens file, by digest; refuses every token while the file is invalid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: _FileStamp = None
        self._records: dict[str, TokenRecord] = {}
        self._invalid: TokensFileInvalid | None = None

    def load(self) -> int:
        """Read the file now; return how many tokens it holds.

        Raises:
            TokensFileInvalid: The file exists but is not a valid tokens file.
        """
        with self._lock:
            self._reload(self._file_stamp())
            return len(self._records)

    @property
    def invalid(self) -> TokensFileInvalid | None:
        """Why the file in force is invalid (no token is accepted then); None when it is valid.

        As of the last `refresh` (every authentication refreshes).
        """
        return self._invalid

    def refresh(self) -> None:
        """Re-read the file if it changed; an invalid file refuses every token until it is fixed."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                self._reload(stamp)
            except TokensFileInvalid as error:
                # Fail closed: a file we cannot read may be one that revoked tokens.
                self._stamp = stamp  # report once per change
                self._records = {}
                self._invalid = error
                log.error(
                    "tokens file invalid: every token is refused until it is fixed",
                    path=str(error.path),
                    problems=error.problems,
                )

    def authenticate(self, token: str) -> Principal:
        """The principal of the bearer token ``token``.

        Raises:
            UnknownToken: The file has no such token.
            ExpiredToken: It has, but the token has expired.
            TokensUnavailable: The file is invalid, so no token is accepted.
        """
        return self.authenticate_digest(hash_token(token))

    def authenticate_digest(self, digest: str) -> Principal:
        """The principal of the token whose SHA-256 hex digest is ``digest``.

        Raises:
            UnknownToken, ExpiredToken, TokensUnavailable: As `authenticate`.
        """
        self.refresh()
        if self._invalid is not None:
            raise TokensUnavailable(self._invalid)
        record = self._records.get(digest)
        if record is None:
            raise UnknownToken()
        return self._principal(record)

    def lookup(self, token: str) -> Principal | None:
        """The principal of ``token``; None for an unknown or expired token, or an invalid file."""
        try:
            return self.authenticate(token)
        except TokenRefused:
            return None

    def lookup_digest(self, digest: str) -> Principal | None:
        """The principal of the token with SHA-256 hex digest ``digest``; None as `lookup`."""
        try:
            return self.authenticate_digest(digest)
        except TokenRefused:
            return None

    def lookup_id(self, token_id: str) -> Principal | None:
        """The principal of the token with public id ``token_id``; None as `lookup`."""
        self.refresh()
        records = self._records  # replaced, never mutated: a consistent snapshot
        for digest, record in records.items():
            if record.token_id == token_id:
                return self.lookup_digest(digest)
        return None

    @staticmethod
    def _principal(record: TokenRecord) -> Principal:
        if record.expires_at is not None and record.expired(datetime.now(UTC)):
            raise ExpiredToken(record.token_id, record.expires_at)
        return Principal(record.role, record.person_id, record.token_id)

    def _file_stamp(self) -> _FileStamp:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def _reload(self, stamp: _FileStamp) -> None:
        records = read_tokens(self.path)
        was_invalid = self._invalid is not None
        self._records = {record.sha256: record for record in records}
        self._invalid = None
        self._stamp = stamp
        if was_invalid:
            log.info("tokens file valid again", path=str(self.path), tokens=len(records))
        if stamp is None:
            log.warning(
                "no tokens file: every request needing a token is refused", path=str(self.path)
            )
