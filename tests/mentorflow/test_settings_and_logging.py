"""Settings precedence and structured logging."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pydantic
import pytest
import structlog

from bus.broker import BROKER_LOGGER, broker_options
from mentorflow.logging import REDACTED, configure_logging
from mentorflow.settings import LogFormat, load_settings


def test_defaults_are_the_contract_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.temporal_address == "localhost:7233"
    assert settings.temporal_namespace == "default"
    assert settings.task_queue == "mentorflow"
    assert settings.nats_url == "nats://localhost:4222"
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.tokens_file == tmp_path / "tokens.json"
    assert settings.log_format is LogFormat.CONSOLE


def test_stack_env_fills_in_what_the_environment_does_not_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    (tmp_path / "stack.env").write_text(
        "MENTORFLOW_TEMPORAL_ADDRESS=127.0.0.1:17233\nMENTORFLOW_NATS_URL=nats://127.0.0.1:14222\n"
    )
    monkeypatch.setenv("MENTORFLOW_NATS_URL", "nats://explicit:4222")

    settings = load_settings()

    assert settings.temporal_address == "127.0.0.1:17233"
    assert settings.nats_url == "nats://explicit:4222"
    assert load_settings(nats_url="nats://override:1").nats_url == "nats://override:1"


def test_json_logs_are_one_object_per_line_with_bound_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(LogFormat.JSON, "INFO")
    try:
        structlog.get_logger("t").info("appended", stream_id="mentorship-c-p", notes="secret")
        logging.getLogger("temporalio.worker").warning("from the stdlib")
    finally:
        configure_logging(LogFormat.CONSOLE, "WARNING")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    assert lines[0]["event"] == "appended"
    assert lines[0]["stream_id"] == "mentorship-c-p"
    assert lines[0]["notes"] == REDACTED
    assert lines[1]["event"] == "from the stdlib"
    assert lines[1]["logger"] == "temporalio.worker"


FORGED = "/mentorships/x\n2027-01-11T09:00:00Z [info     ] forged line\x1b[2J\x85"


def test_console_lines_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogFormat.CONSOLE, "INFO")
    try:
        structlog.get_logger("t").info("request", path=FORGED, plain="/x\x1b[31m")
        logging.getLogger("uvicorn.access").info('"GET %s HTTP/1.1" 404', FORGED)
        structlog.get_logger("t").info("message\r\nwith a forged line", reason=["a\x00b"])
    finally:
        configure_logging(LogFormat.CONSOLE, "WARNING")
    output = capsys.readouterr().err

    lines = output.splitlines()
    assert len(lines) == 3, output
    assert not any(character in output for character in "\x1b\x85\x00\r")
    assert "\\x1b[31m" in lines[0]  # escaped, not interpreted by the terminal
    assert "x\\n2027" in lines[1]
    assert "message\\r\\nwith" in lines[2]


def test_json_lines_escape_control_characters_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogFormat.JSON, "INFO")
    try:
        structlog.get_logger("t").info("request", path=FORGED)
        logging.getLogger("uvicorn.access").info('"GET %s HTTP/1.1" 404', FORGED)
    finally:
        configure_logging(LogFormat.CONSOLE, "WARNING")
    output = capsys.readouterr().err

    lines = output.splitlines()
    assert len(lines) == 2, output
    assert not any(character in output for character in "\x1b\x85")
    assert json.loads(lines[0])["path"] == FORGED  # machines still read the exact text
    assert FORGED in json.loads(lines[1])["event"]


def test_the_person_match_of_single_sign_on_is_read_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MENTORFLOW_OIDC_ISSUER", "https://idp.example")
    default = load_settings().oidc_config()
    monkeypatch.setenv("MENTORFLOW_OIDC_PERSON_MATCH", "employee_number")
    matched = load_settings().oidc_config()
    monkeypatch.setenv("MENTORFLOW_OIDC_PERSON_MATCH", "phone")

    with pytest.raises(pydantic.ValidationError) as invalid:
        load_settings()

    assert default is not None
    assert default.person_match == "person_id"
    assert matched is not None
    assert matched.person_match == "employee_number"
    assert "unknown person match 'phone' (one of: person_id, email" in str(invalid.value)


def test_faststream_logs_in_the_configured_format_without_its_per_task_chatter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(LogFormat.JSON, "INFO")
    try:
        logger = broker_options()["logger"]
        logger.info("callback for Task-131 is being executed...")
        logger.warning("subscriber failed")
    finally:
        configure_logging(LogFormat.CONSOLE, "WARNING")
    output = capsys.readouterr()

    lines = output.err.splitlines()
    assert len(lines) == 1, output
    assert json.loads(lines[0])["event"] == "subscriber failed"
    assert json.loads(lines[0])["logger"] == BROKER_LOGGER
    assert "Task-131" not in output.out + output.err


def test_an_empty_pull_fetch_is_no_error_but_other_failures_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(LogFormat.JSON, "INFO")
    logger = broker_options()["logger"]
    try:
        for error in (TimeoutError(), RuntimeError("a bug")):
            try:
                raise error
            except Exception:
                logger.exception("Task-7 raised an exception, retrying...")
    finally:
        configure_logging(LogFormat.CONSOLE, "WARNING")

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    record = json.loads(lines[0])
    assert record["level"] == "error"
    assert "RuntimeError: a bug" in record["exception"]
