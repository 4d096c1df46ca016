"""A real SMTP sink (the local stack's, started by the stack's code) and a migrated outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.mailbox import MAIL_DIR_NAME, StoredMail, list_mail
from devstack.stack import StackConfig
from devstack.stack.mail_server import MailServer
from devstack.stack.processes import spawn_detached, terminate
from eventstore import Pool, create_pool
from eventstore.pool import DatabaseSettings
from notifications import OutboxMessage, PostgresOutbox, SmtpConfig


@dataclass(frozen=True)
class MailSink:
    """The sink of this package's tests: where it listens and where it stores."""

    host: str
    port: int
    state_dir: Path

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / MAIL_DIR_NAME

    def smtp_config(self, **changes: object) -> SmtpConfig:
        options: dict[str, object] = {"from_address": "mentorflow@example.org", "timeout": 10.0}
        options.update(changes)
        return SmtpConfig(self.host, self.port, **options)  # type: ignore[arg-type]

    def messages_to(self, address: str) -> list[StoredMail]:
        return [mail for mail in list_mail(self.mail_dir) if address in mail.rcpt_tos]


@pytest.fixture(scope="package")
async def mail_sink(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MailSink]:
    """``python -m devstack.mail_sink`` on a free port, started and checked as `stack up` does."""
    config = StackConfig.for_tests(tmp_path_factory.mktemp("mail-sink"))
    server = MailServer(config, config.endpoints())
    process, record = spawn_detached(
        server.name, server.command(), server.log_path, cwd=server.working_dir
    )
    try:
        await server.wait_until_ready(30.0, process)
        yield MailSink(config.smtp_host, config.smtp_port, config.state_dir)
    finally:
        await terminate(record, process, 10.0)


@pytest.fixture
async def pool(clean_database: str) -> AsyncIterator[Pool]:
    """A pool on the test's database (the outbox migrated by the template)."""
    pool = await create_pool(DatabaseSettings(clean_database, min_size=1, max_size=4))
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def outbox(pool: Pool) -> PostgresOutbox:
    return PostgresOutbox(pool)


def unique_address(rule: str = "person") -> str:
    """An address no other test uses; ``rule`` is the sink's failure rule, if any."""
    return f"{rule}+{uuid.uuid4().hex[:10]}@example.org"


def a_message(address: str, **changes: object) -> OutboxMessage:
    """A notification to ``address`` about a fresh event."""
    fields: dict[str, object] = {
        "event_id": uuid.uuid4(),
        "recipient": "p-001",
        "address": address,
        "subject": "Your next career conversation is due",
        "text_body": "Ada, your conversation with Grace is due on Monday.",
    }
    fields.update(changes)
    return OutboxMessage.model_validate(fields)
