"""The email an outbox entry becomes: headers derived from the entry alone.

Nothing here depends on when or how often the entry is sent: ``Message-ID`` comes from the
outbox key and ``Date`` from when the entry was recorded, so every (re)send of one entry is
the same message to the recipient's mail system, which is what makes a duplicate after a
crash recognisable (and, for many clients, collapsed).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from notifications.config import SmtpConfig
from notifications.models import OutboxEntry


def build_email(entry: OutboxEntry, config: SmtpConfig) -> EmailMessage:
    """The message for ``entry``, from ``config.from_address``."""
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = entry.address
    message["Subject"] = entry.subject
    message["Date"] = format_datetime(entry.created_at)
    message["Message-ID"] = entry.key.message_id(config.domain)
    # RFC 3834: an automatic message; auto-responders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(entry.text_body)
    return message
