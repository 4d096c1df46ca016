"""``mentorflow mail list | show ID``: what the local stack's SMTP sink received.

Reads the mailbox under the state directory (``.mentorflow/mail``, `devstack.mailbox`);
needs no running server. Times are shown in this machine's time zone.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from devstack.mailbox import MAIL_DIR_NAME, StoredMail, list_mail, read_mail
from mentorflow.settings import state_dir

mail_app = typer.Typer(
    name="mail",
    help="Messages the local stack's SMTP sink received (under .mentorflow/mail).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


def _local_time(mail: StoredMail) -> str:
    return mail.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _summary(mail: StoredMail) -> dict[str, object]:
    return {
        "id": mail.mail_id,
        "received_at": mail.received_at.isoformat(),
        "from": mail.mail_from,
        "to": list(mail.rcpt_tos),
        "subject": mail.subject,
        "message_id": mail.message_id,
    }


@mail_app.command("list")
def list_messages(json_output: JsonOption = False) -> None:
    """List the received messages, oldest first: id, time, from -> to, subject."""
    directory = state_dir() / MAIL_DIR_NAME
    messages = list_mail(directory)
    if json_output:
        typer.echo(json.dumps([_summary(mail) for mail in messages], indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    if not messages:
        console.print(
            f"No messages in {directory}. The sink stores what it receives there while "
            "`mentorflow stack up` runs it."
        )
        return
    # One line per message, never folded: easy to read, to grep and to copy an id from.
    for mail in messages:
        typer.echo(
            f"{mail.mail_id}  {_local_time(mail)}  {mail.mail_from} -> "
            f"{', '.join(mail.rcpt_tos)}  {mail.subject}"
        )
    console.print(f"{len(messages)} message{'s' * (len(messages) != 1)} in {directory}")


@mail_app.command()
def show(
    mail_id: Annotated[str, typer.Argument(metavar="ID", help="A message id from `mail list`.")],
    json_output: JsonOption = False,
) -> None:
    """Show one message: its envelope, main headers and text body."""
    mail = read_mail(state_dir() / MAIL_DIR_NAME, mail_id)
    body = mail.text_body()
    if json_output:
        typer.echo(json.dumps({**_summary(mail), "text_body": body}, indent=2))
        return
    lines = [
        f"Id: {mail.mail_id}",
        f"Received: {_local_time(mail)}",
        f"Envelope-From: {mail.mail_from}",
        f"Envelope-To: {', '.join(mail.rcpt_tos)}",
        *(f"{name}: {mail.message[name]}" for name in _SHOWN_HEADERS if name in mail.message),
        "",
        body if body is not None else "(no text part)",
    ]
    typer.echo("\n".join(lines))
