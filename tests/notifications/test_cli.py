"""``mentorflow mail list | show`` and ``mentorflow deadletters …`` on the command line."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mentorflow.cli.app import app
from notifications import OutboxDelivery, PostgresOutbox, SmtpSender
from tests.notifications.conftest import MailSink, a_message, unique_address

pytestmark = pytest.mark.servers


def _invoke(arguments: list[str], *, state_dir: Path, database_url: str = "") -> Result:
    environment = {"MENTORFLOW_STATE_DIR": str(state_dir)}
    if database_url:
        environment["MENTORFLOW_DATABASE_URL"] = database_url
    # The CLI points the root logger at CliRunner's stderr, which is closed afterwards.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(app, arguments, env=environment)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def _deliver(outbox: PostgresOutbox, mail_sink: MailSink) -> None:
    sender = SmtpSender(mail_sink.smtp_config())
    try:
        await OutboxDelivery(outbox, sender).deliver_due()
    finally:
        await sender.close()


async def test_mail_list_and_show_print_what_the_sink_received(
    outbox: PostgresOutbox, mail_sink: MailSink
) -> None:
    address = unique_address()
    message = a_message(address, subject="Check-in: your action item")
    await outbox.record(message)
    await _deliver(outbox, mail_sink)
    (mail,) = mail_sink.messages_to(address)

    state_dir = mail_sink.state_dir
    listed = await asyncio.to_thread(_invoke, ["mail", "list"], state_dir=state_dir)
    as_json = await asyncio.to_thread(_invoke, ["mail", "list", "--json"], state_dir=state_dir)
    shown = await asyncio.to_thread(_invoke, ["mail", "show", mail.mail_id], state_dir=state_dir)

    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.stdout.splitlines() if mail.mail_id in line)
    assert "Check-in: your action item" in line
    (summary,) = [entry for entry in json.loads(as_json.stdout) if entry["id"] == mail.mail_id]
    assert summary["to"] == [address]
    assert summary["message_id"] == message.key.message_id("example.org")
    assert shown.exit_code == 0, shown.output
    assert f"Envelope-To: {address}" in shown.stdout
    assert "Subject: Check-in: your action item" in shown.stdout
    assert f"Message-ID: {message.key.message_id('example.org')}" in shown.stdout
    assert message.text_body in shown.stdout


def test_mail_list_says_when_there_is_nothing(tmp_path: Path) -> None:
    result = _invoke(["mail", "list"], state_dir=tmp_path)

    assert result.exit_code == 0, result.output
    assert "No messages" in result.stdout


@pytest.mark.parametrize(
    ("mail_id", "problem"),
    [
        ("../stack.env", "is not a message id"),
        ("", "is not a message id"),
        ("20200101-000000-abcdef", "no message 20200101-000000-abcdef"),
    ],
)
def test_mail_show_refuses_a_bad_or_unknown_id(tmp_path: Path, mail_id: str, problem: str) -> None:
    result = _invoke(["mail", "show", mail_id], state_dir=tmp_path)

    assert result.exit_code == 2
    assert "Invalid input" in result.stderr
    assert problem in result.stderr


async def test_deadletters_list_show_retry_and_discard(
    outbox: PostgresOutbox, mail_sink: MailSink, clean_database: str, tmp_path: Path
) -> None:
    async def run(*arguments: str) -> Result:
        # In a thread: the command runs its own event loop (asyncio.run).
        return await asyncio.to_thread(
            _invoke, list(arguments), state_dir=tmp_path, database_url=clean_database
        )

    empty = await run("deadletters", "list")
    address = unique_address("fail-550")
    message = a_message(address, text_body="Words only the recipient may read")
    await outbox.record(message)
    await _deliver(outbox, mail_sink)
    (dead,) = await outbox.dead_letters()
    outbox_id = str(dead.outbox_id)

    listed = await run("deadletters", "list")
    shown = await run("deadletters", "show", outbox_id)
    as_json = await run("deadletters", "show", outbox_id, "--json")
    no_reason = await run("deadletters", "retry", outbox_id)
    retried = await run(
        "deadletters", "retry", outbox_id, "--reason", "mailbox fixed", "--by", "ops-ann"
    )
    retried_twice = await run(
        "deadletters", "retry", outbox_id, "--reason", "again", "--by", "ops-ann"
    )

    assert empty.exit_code == 0, empty.output
    assert "No dead letters" in empty.stdout
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if line.startswith(outbox_id))
    assert "550" in row
    assert shown.exit_code == 0, shown.output
    assert "State: dead" in shown.stdout
    assert f"Event: {message.event_id}" in shown.stdout
    assert "Recipient: p-001 <[personal]> by email" in shown.stdout
    for output in (listed.stdout, shown.stdout, as_json.stdout):
        assert "Words only the recipient may read" not in output
        assert address not in output
        assert message.subject not in output
    assert json.loads(as_json.stdout)["state"] == "dead"
    assert json.loads(as_json.stdout)["address"] == "[personal]"
    assert no_reason.exit_code == 2
    assert "--reason" in no_reason.stderr
    assert retried.exit_code == 0, retried.output
    assert (await outbox.entry(dead.outbox_id)).state == "pending"
    # Idempotent: asked again, nothing changes and nothing more is recorded.
    assert retried_twice.exit_code == 0, retried_twice.output
    assert [(a.action, a.actor, a.reason) for a in await outbox.actions(dead.outbox_id)] == [
        ("retry", "ops-ann", "mailbox fixed")
    ]

    await _deliver(outbox, mail_sink)  # refused again: dead again
    discarded = await run("deadletters", "discard", outbox_id, "--yes", "--reason", "left")
    history = await run("deadletters", "history", outbox_id, "--json")
    assert discarded.exit_code == 0, discarded.output
    assert (await outbox.entry(dead.outbox_id)).state == "discarded"
    assert [(a["action"], a["reason"]) for a in json.loads(history.stdout)] == [
        ("retry", "mailbox fixed"),
        ("discard", "left"),
    ]
    assert json.loads(history.stdout)[1]["actor"] == getpass.getuser()


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["deadletters", "show", "99999"], "no notification 99999"),
        (["deadletters", "discard", "99999", "--yes", "--reason", "x"], "no notification 99999"),
        (["deadletters", "show", "abc"], "Invalid value"),
        (["deadletters", "retry", "0"], "Invalid value"),
    ],
)
def test_deadletters_refuse_an_unknown_or_malformed_id(
    clean_database: str, tmp_path: Path, arguments: list[str], problem: str
) -> None:
    result = _invoke(arguments, state_dir=tmp_path, database_url=clean_database)

    assert result.exit_code == 2
    assert problem in result.stderr
