"""The email an outbox entry becomes: headers derived from the entry alone.

Nothing here depends on when or how often the entry is sent: ``Message-ID`` comes from the
outbox key and ``Date`` from when the entry was recorded, so every (re)send of one entry is
the same message to the recipient's mail system, which is what makes a duplicate after a
crash recognisable (and, for many clients, collapsed).
"""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime

from notifications.config import SmtpConfig
from notifications.models import OutboxEntry

_METHOD = re.compile(r"^METHOD:([A-Z]+)\r?$", re.MULTILINE)


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
    for name, value in sorted(entry.headers.items()):
        message[name] = value
    message.set_content(entry.text_body)
    if entry.html_body is not None:
        message.add_alternative(entry.html_body, subtype="html")
    if entry.calendar is not None:
        # The invitation as calendar clients expect it: a text/calendar part with the
        # iTIP method, offered as an attachment too (invite.ics) for clients that only list.
        method = _METHOD.search(entry.calendar)
        params = {"method": method.group(1)} if method else {}
        message.add_attachment(
            entry.calendar.encode(),
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params=params,
        )
    # Fixed boundaries (the generator would draw random ones): every resend is the same bytes.
    seed = uuid.uuid5(uuid.NAMESPACE_OID, str(entry.key.message_id(config.domain))).hex
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_mentorflow_{seed}_{number}")
    return message
