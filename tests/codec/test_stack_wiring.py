"""The Temporal UI is pointed at the API's codec: by the local stack and by docker-compose."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from devstack.stack import StackConfig
from devstack.stack.config import codec_endpoint
from devstack.stack.temporal_server import TemporalServer
from mentorflow.api.codec import PREFIX, codec_cors_origins
from mentorflow.settings import Settings
from tests.support import assert_eventually

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def command_of(config: StackConfig) -> list[str]:
    return TemporalServer(config, config.endpoints()).command()


def flag(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def test_the_local_ui_calls_the_codec_of_the_local_api(tmp_path: Path) -> None:
    settings = Settings(temporal_address="localhost:7233", api_host="127.0.0.1", api_port=8000)

    command = command_of(StackConfig.from_settings(settings, tmp_path))
    headless = command_of(StackConfig.from_settings(settings, tmp_path, headless=True))

    # The UI is at localhost:8233: the codec must be on the same site for the session cookie.
    assert flag(command, "--ui-codec-endpoint") == "http://localhost:8000/codec"
    assert urlsplit(flag(command, "--ui-codec-endpoint") or "").path == PREFIX
    assert "http://localhost:8233" in codec_cors_origins(settings)
    assert flag(headless, "--ui-codec-endpoint") is None


@pytest.mark.parametrize(
    ("temporal_address", "api_host", "expected"),
    [
        ("127.0.0.1:7233", "127.0.0.1", "http://127.0.0.1:8000/codec"),
        ("127.0.0.1:7233", "0.0.0.0", "http://127.0.0.1:8000/codec"),  # noqa: S104
        ("[::1]:7233", "::1", "http://[::1]:8000/codec"),
        ("temporal.internal:7233", "api.example.com", "http://api.example.com:8000/codec"),
    ],
)
def test_the_codec_endpoint_follows_the_api_address(
    temporal_address: str, api_host: str, expected: str
) -> None:
    settings = Settings(temporal_address=temporal_address, api_host=api_host, api_port=8000)

    assert codec_endpoint(settings) == expected


@pytest.mark.servers  # starts a Temporal dev server of its own
async def test_the_dev_server_ui_announces_the_codec_endpoint(tmp_path: Path) -> None:
    codec = "http://127.0.0.1:8000/codec"
    config = StackConfig.for_tests(tmp_path, temporal_ui=True, ui_codec_endpoint=codec)
    server = TemporalServer(config, config.endpoints())
    await server.prepare()
    ui = config.endpoints().temporal_ui_url
    with (tmp_path / "temporal.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *server.command(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        async with httpx.AsyncClient(timeout=2) as http:

            async def ui_settings() -> dict[str, Any] | None:
                try:
                    answer = await http.get(f"{ui}/api/v1/settings")
                except httpx.TransportError:
                    return None
                return cast(dict[str, Any], answer.json()) if answer.is_success else None

            settings = await assert_eventually(ui_settings, timeout=60, interval=0.25)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)

    assert settings is not None
    assert settings["Codec"]["Endpoint"] == codec


def test_docker_compose_points_the_ui_at_the_api_codec_with_credentials() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    ui = services["temporal-ui"]
    ui_environment = ui["environment"]
    api_environment = services["api"]["environment"]
    endpoint = urlsplit(ui_environment["TEMPORAL_CODEC_ENDPOINT"])
    api_published = {str(port).rsplit(":", 1)[-1]: str(port) for port in services["api"]["ports"]}
    ui_host_port = next(str(port) for port in ui["ports"]).rsplit(":", 1)[0].rsplit(":", 1)[-1]
    origins = api_environment["MENTORFLOW_CODEC_CORS_ORIGINS"].split(",")

    assert endpoint.path == PREFIX
    assert str(endpoint.port) in api_published
    assert ui_environment["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    # The browser's UI origin is allowed, on the same host as the codec (same site).
    assert f"http://{endpoint.hostname}:{ui_host_port}" in origins
    for service in ("worker", "api"):
        assert "MENTORFLOW_PAYLOAD_KEYS" in services[service]["environment"], service
