"""Configuration and bookkeeping of the stack, without servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack.stack import LocalStack, StackConfig, StackConfigInvalid, free_port, redact_password
from devstack.stack.processes import ProcessRecord, process_start_marker
from devstack.stack.state import load_records, save_records, write_env_file
from mentorflow.settings import Settings


def test_every_bad_address_is_reported_at_once(tmp_path: Path) -> None:
    config = StackConfig(
        state_dir=tmp_path,
        temporal_address="http://temporal:7233",
        nats_url="tcp://localhost:4222",
        database_url="postgresql://postgres@localhost:99999/",
    )

    with pytest.raises(StackConfigInvalid) as raised:
        config.endpoints()

    problems = raised.value.problems
    assert len(problems) == 4, problems
    assert [problem.split(":")[0] for problem in problems] == [
        "temporal_address",
        "nats_url",
        "database_url",
        "database_url",
    ]


def test_a_bad_smtp_sink_address_is_reported(tmp_path: Path) -> None:
    config = StackConfig(state_dir=tmp_path, smtp_host="", smtp_port=70000)

    with pytest.raises(StackConfigInvalid) as raised:
        config.endpoints()

    assert [problem.split(":")[0] for problem in raised.value.problems] == ["smtp_host"]


def test_the_smtp_sink_gets_its_own_free_port_and_goes_to_stack_env(tmp_path: Path) -> None:
    config = StackConfig.for_tests(tmp_path)
    endpoints = config.endpoints()
    ports = {endpoints.temporal.port, endpoints.nats.port, endpoints.postgres.endpoint.port}

    assert endpoints.smtp.is_loopback
    assert endpoints.smtp.port not in ports
    environment = LocalStack(config).addresses().as_environment()
    assert environment["MENTORFLOW_SMTP_HOST"] == "127.0.0.1"
    assert environment["MENTORFLOW_SMTP_PORT"] == str(config.smtp_port)
    settings = Settings(smtp_host="127.0.0.1", smtp_port=2525)
    assert StackConfig.from_settings(settings, tmp_path).endpoints().smtp.port == 2525


def test_the_oidc_provider_gets_its_own_free_port_and_goes_to_stack_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = StackConfig.for_tests(tmp_path)
    endpoints = config.endpoints()
    others = {endpoints.temporal.port, endpoints.nats.port, endpoints.smtp.port}

    assert endpoints.oidc.is_loopback
    assert endpoints.oidc.port not in others
    environment = LocalStack(config).addresses().as_environment()
    assert environment["MENTORFLOW_OIDC_ISSUER"] == config.oidc_issuer
    assert environment["MENTORFLOW_OIDC_PERSON_CLAIM"] == "employee_id"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    oidc = settings.oidc_config()
    assert oidc is not None
    assert (oidc.issuer, oidc.client_id) == (config.oidc_issuer, "mentorflow-console")


def test_a_remote_issuer_is_not_the_stacks_to_run(tmp_path: Path) -> None:
    local = Settings(oidc_issuer="http://localhost:9500")
    remote = Settings(oidc_issuer="https://login.example.com/tenant")

    assert StackConfig.from_settings(local, tmp_path).oidc_issuer == "http://localhost:9500"
    assert StackConfig.from_settings(remote, tmp_path).oidc_issuer == "http://127.0.0.1:9400"


def test_a_bad_oidc_issuer_is_reported(tmp_path: Path) -> None:
    config = StackConfig(state_dir=tmp_path, oidc_issuer="https://127.0.0.1/path")

    with pytest.raises(StackConfigInvalid) as raised:
        config.endpoints()

    assert [problem.split(":")[0] for problem in raised.value.problems] == ["oidc_issuer"]


def test_a_password_never_appears_in_a_problem(tmp_path: Path) -> None:
    config = StackConfig(state_dir=tmp_path, database_url="postgresql://app:s3cret@db:5432")

    with pytest.raises(StackConfigInvalid) as raised:
        config.endpoints()

    assert "s3cret" not in str(raised.value)


def test_the_web_ui_listens_on_the_grpc_port_plus_1000_unless_configured(tmp_path: Path) -> None:
    settings = Settings(temporal_address="localhost:7300")

    default = StackConfig.from_settings(settings, tmp_path).endpoints()
    configured = StackConfig.from_settings(settings, tmp_path, temporal_ui_port=9000).endpoints()
    headless = StackConfig.from_settings(settings, tmp_path, headless=True).endpoints()

    assert default.temporal_ui_url == "http://localhost:8300"
    assert configured.temporal_ui_url == "http://localhost:9000"
    assert headless.temporal_ui_url is None


def test_a_test_stack_gets_distinct_free_loopback_ports_and_no_web_ui(tmp_path: Path) -> None:
    endpoints = StackConfig.for_tests(tmp_path).endpoints()

    ports = {endpoints.temporal.port, endpoints.nats.port, endpoints.postgres.endpoint.port}
    assert len(ports) == 3
    assert endpoints.temporal.is_loopback
    assert endpoints.nats.is_loopback
    assert endpoints.postgres.endpoint.is_loopback
    assert endpoints.postgres.database == "mentorflow"
    assert endpoints.temporal_ui is None


def test_a_free_port_can_be_bound() -> None:
    port = free_port()

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))


def test_redaction_hides_only_the_password() -> None:
    assert redact_password("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact_password("postgresql://app@db/x") == "postgresql://app@db/x"


def test_stack_env_is_read_back_by_settings_character_for_character(tmp_path: Path) -> None:
    env_file = tmp_path / "stack.env"
    url = "postgresql://app:p#ss w$rd@127.0.0.1:5432/mentorflow"

    write_env_file(env_file, {"MENTORFLOW_DATABASE_URL": url}, ["a comment"])

    settings = Settings(_env_file=env_file)
    assert settings.database_url == url
    assert env_file.stat().st_mode & 0o077 == 0


def test_a_process_is_recognised_by_pid_and_start_time_together(tmp_path: Path) -> None:
    marker = process_start_marker(os.getpid())
    assert marker is not None

    def record(pid: int, start_marker: str) -> ProcessRecord:
        return ProcessRecord(
            server="nats",
            pid=pid,
            start_marker=start_marker,
            command=("nats-server",),
            log_path=tmp_path / "nats.log",
            started_at=datetime.now(UTC),
        )

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert record(os.getpid(), marker).is_running()
    assert not record(os.getpid(), marker + "0").is_running()
    assert not record(int(finished.stdout), marker).is_running()


def test_started_servers_round_trip_through_stack_json(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    original = ProcessRecord(
        server="temporal",
        pid=1234,
        start_marker="5678",
        command=("temporal", "server", "start-dev"),
        log_path=tmp_path / "temporal.log",
        started_at=datetime(2027, 1, 11, 9, tzinfo=UTC),
    )

    save_records(path, {"temporal": original})

    assert load_records(path) == {"temporal": original}
    assert load_records(tmp_path / "missing.json") == {}
