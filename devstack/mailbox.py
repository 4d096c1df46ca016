"""The local SMTP sink's mailbox: one directory, two files per received message.

``<id>.eml`` holds the message exactly as it arrived (after the DATA command), and
``<id>.json`` its envelope: ``{"id", "received_at", "mail_from", "rcpt_tos", "size"}``. The
sink (`devstack.mail_sink`) writes the ``.eml`` first and the ``.json`` last, each through a
rename, so a message is listed only once both are complete. ``mentorflow mail list | show``
and the tests read them here.

Ids are ``YYYYMMDD-HHMMSS-<6 hex digits>``, the time in UTC: short enough to type, unique
(24 random bits a second), safe as file names.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

MAIL_DIR_NAME = "mail"
"""The mailbox under the state directory (``.mentorflow/mail``)."""

_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


class MailboxError(Exception):
    """Base of the mailbox's errors."""


class MailIdInvalid(MailboxError):
    """An id that cannot name a stored message (the command line's bad input)."""

    def __init__(self, mail_id: str) -> None:
        super().__init__(
            f"{mail_id!r} is not a message id (like 20270111-090000-1a2b3c); "
            "`mentorflow mail list` shows them"
        )
        self.mail_id = mail_id


class MailNotFound(MailboxError):
    """No message with this id in the mailbox."""

    def __init__(self, mail_id: str, directory: Path) -> None:
        super().__init__(
            f"no message {mail_id} in {directory}; `mentorflow mail list` shows the ids"
        )
        self.mail_id = mail_id
        self.directory = directory


@dataclass(frozen=True)
class StoredMail:
    """One received message: its envelope and its headers.

    Attributes:
        mail_id: The sink's id of the message.
        received_at: When the sink accepted it (UTC).
        mail_from: The envelope sender (``MAIL FROM``).
        rcpt_tos: The envelope recipients (``RCPT TO``) it was accepted for.
        message: The parsed message (headers and body).
    """

    mail_id: str
    received_at: datetime
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The ``Subject`` header, or "" when it has none."""
        return str(self.message.get("Subject", ""))

    @property
    def message_id(self) -> str:
        """The ``Message-ID`` header, or "" when it has none."""
        return str(self.message.get("Message-ID", ""))

    def text_body(self) -> str | None:
        """The plain-text part, None when the message has none."""
        part = self.message.get_body(preferencelist=("plain",))
        return None if part is None else str(part.get_content())


def new_mail_id(now: datetime | None = None) -> str:
    """A fresh id for a message received ``now``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def store_mail(directory: Path, mail_from: str, rcpt_tos: list[str], content: bytes) -> StoredMail:
    """Write one received message into the mailbox; return it as `read_mail` would."""
    directory.mkdir(parents=True, exist_ok=True)
    received_at = datetime.now(UTC)
    mail_id = new_mail_id(received_at)
    envelope = {
        "id": mail_id,
        "received_at": received_at.isoformat(),
        "mail_from": mail_from,
        "rcpt_tos": rcpt_tos,
        "size": len(content),
    }
    _write_atomically(directory / f"{mail_id}.eml", content)
    _write_atomically(directory / f"{mail_id}.json", json.dumps(envelope, indent=2).encode())
    return _parse(mail_id, envelope, content)


def list_mail(directory: Path) -> list[StoredMail]:
    """Every complete message, oldest first; empty when the mailbox does not exist."""
    if not directory.is_dir():
        return []
    ids = [path.stem for path in directory.glob("*.json") if _ID.match(path.stem)]
    messages = [read_mail(directory, mail_id) for mail_id in ids]
    return sorted(messages, key=lambda mail: (mail.received_at, mail.mail_id))


def read_mail(directory: Path, mail_id: str) -> StoredMail:
    """The message ``mail_id``.

    Raises:
        MailIdInvalid: When ``mail_id`` is not shaped like an id (never a path).
        MailNotFound: When the mailbox has no such message.
    """
    if not _ID.match(mail_id):
        raise MailIdInvalid(mail_id)
    try:
        envelope = json.loads((directory / f"{mail_id}.json").read_text(encoding="utf-8"))
        content = (directory / f"{mail_id}.eml").read_bytes()
    except FileNotFoundError as error:
        raise MailNotFound(mail_id, directory) from error
    return _parse(mail_id, envelope, content)


def _parse(mail_id: str, envelope: dict[str, object], content: bytes) -> StoredMail:
    message = BytesParser(_class=EmailMessage, policy=policy.default).parsebytes(content)
    recipients = envelope.get("rcpt_tos")
    return StoredMail(
        mail_id=mail_id,
        received_at=datetime.fromisoformat(str(envelope["received_at"])),
        mail_from=str(envelope.get("mail_from", "")),
        rcpt_tos=tuple(str(item) for item in recipients) if isinstance(recipients, list) else (),
        message=message,
    )


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
