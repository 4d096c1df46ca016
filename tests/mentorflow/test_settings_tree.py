"""One settings tree: every process's configurations come from `Settings`, env names kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pydantic
import pytest

from bus import BusConfig
from bus.relay import RelayOptions
from eventstore import DatabaseSettings
from mentorflow.commands import CommandsConfig
from mentorflow.settings import MetricsSettings, Settings, load_settings, split_address
from projections import RunnerOptions


def test_unset_sections_give_the_adapters_own_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    settings = load_settings()

    assert settings.bus_config() == BusConfig()
    assert settings.relay_options() == RelayOptions()
    assert settings.projector_options() == RunnerOptions()
    assert settings.commands_config() == CommandsConfig()
    assert settings.database == DatabaseSettings(settings.database_url)


def test_every_contract_variable_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    values = {
        "MENTORFLOW_TEMPORAL_ADDRESS": "temporal.internal:7233",
        "MENTORFLOW_TEMPORAL_NAMESPACE": "hr",
        "MENTORFLOW_TASK_QUEUE": "mentoring",
        "MENTORFLOW_DATABASE_URL": "postgresql://app:pw@db.internal:5432/mentorflow",
        "MENTORFLOW_NATS_URL": "nats://nats.internal:4222",
        "MENTORFLOW_API_HOST": "0.0.0.0",  # noqa: S104
        "MENTORFLOW_API_PORT": "8080",
        "MENTORFLOW_API_TOKENS_FILE": str(tmp_path / "t.json"),
        "MENTORFLOW_LOG_FORMAT": "json",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert (settings.temporal_address, settings.temporal_namespace, settings.task_queue) == (
        "temporal.internal:7233",
        "hr",
        "mentoring",
    )
    assert (settings.api_host, settings.api_port) == ("0.0.0.0", 8080)  # noqa: S104
    assert settings.tokens_file == tmp_path / "t.json"
    assert settings.log_format == "json"
    assert settings.database.url == values["MENTORFLOW_DATABASE_URL"]
    assert settings.bus_config().nats_url == values["MENTORFLOW_NATS_URL"]


def test_sections_read_their_own_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    for name, value in {
        "MENTORFLOW_BUS_DUPLICATE_WINDOW": "PT2H",
        "MENTORFLOW_BUS_MAX_AGE": "P7D",
        "MENTORFLOW_BUS_STREAM_NAME": "SIDE_EVENTS",
        "MENTORFLOW_BUS_SUBJECT_PREFIX": "side.events",
        "MENTORFLOW_BUS_RELAY_PAGE_SIZE": "50",
        "MENTORFLOW_DATABASE_POOL_MIN_SIZE": "1",
        "MENTORFLOW_DATABASE_POOL_MAX_SIZE": "4",
        "MENTORFLOW_PROJECTOR_PAGE_SIZE": "250",
        "MENTORFLOW_PROJECTOR_POLL_INTERVAL": "0.5",
        "MENTORFLOW_COMMANDS_MAX_DELIVER": "3",
    }.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    bus = settings.bus_config()
    assert (bus.duplicate_window, bus.max_age) == (timedelta(hours=2), timedelta(days=7))
    assert (bus.stream_name, bus.subject_prefix) == ("SIDE_EVENTS", "side.events")
    assert settings.relay_options() == RelayOptions(page_size=50)
    assert (settings.database.min_size, settings.database.max_size) == (1, 4)
    assert settings.projector_options() == RunnerOptions(page_size=250, poll_interval=0.5)
    assert settings.commands_config() == CommandsConfig(max_deliver=3)


def test_a_bus_section_the_bus_refuses_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MENTORFLOW_BUS_SUBJECT_PREFIX", "mentorflow.*")

    with pytest.raises(pydantic.ValidationError, match="subject_prefix"):
        load_settings().bus_config()


def test_the_database_url_of_stack_env_reaches_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("MENTORFLOW_DATABASE_URL", raising=False)
    (tmp_path / "stack.env").write_text(
        "MENTORFLOW_DATABASE_URL=postgresql://postgres@127.0.0.1:15432/mentorflow\n"
    )

    assert load_settings().database.url == "postgresql://postgres@127.0.0.1:15432/mentorflow"
    assert Settings(database_url="postgresql://x/y").database.url == "postgresql://x/y"


def test_metrics_are_off_unless_an_address_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    assert load_settings().metrics == MetricsSettings(address=None, temporal_address=None)

    monkeypatch.setenv("MENTORFLOW_METRICS_ADDRESS", "0.0.0.0:9464")
    monkeypatch.setenv("MENTORFLOW_METRICS_TEMPORAL_ADDRESS", "[::1]:9465")
    monkeypatch.setenv("MENTORFLOW_METRICS_REFRESH_INTERVAL", "5")
    metrics = load_settings().metrics

    assert (metrics.address, metrics.temporal_address) == ("0.0.0.0:9464", "[::1]:9465")
    assert metrics.refresh_interval == 5
    assert split_address("[::1]:9465") == ("::1", 9465)


def test_a_metrics_address_without_a_port_names_every_bad_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MENTORFLOW_METRICS_ADDRESS", "9464")
    monkeypatch.setenv("MENTORFLOW_METRICS_TEMPORAL_ADDRESS", "localhost:70000")

    with pytest.raises(pydantic.ValidationError) as refused:
        load_settings()

    problems = {str(error["loc"][-1]): error["msg"] for error in refused.value.errors()}
    assert problems.keys() == {"address", "temporal_address"}
    assert "'9464' is not host:port" in problems["address"]
    assert "'localhost:70000' is not host:port" in problems["temporal_address"]
