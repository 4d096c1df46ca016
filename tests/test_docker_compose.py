"""The production-shaped stack: docker-compose.yml, the Dockerfile and their support files.

No Docker engine is needed. The compose file and the Dockerfile are parsed and checked against
the contract and against each other; the admin-tools job scripts run under ``sh`` against stub
CLIs; ``docker compose config`` validates the file when a Compose v2 CLI is installed.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings
from temporalio.common import SearchAttributeIndexedValueType

from devstack.stack.credentials import NATS_USERS, SERVICE_USER
from devstack.stack.nats_server import authorization_block
from mentorflow.keyring import read_env_file
from mentorflow.settings import (
    STATE_DIR_ENV,
    MetricsSettings,
    NotifierSettings,
    Settings,
    SmtpSettings,
    split_address,
)
from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
HEALTHCHECK_SCRIPT = ROOT / "docker" / "healthcheck.py"
SCHEMA_SCRIPT = ROOT / "docker" / "temporal" / "setup-schema.sh"
NAMESPACE_SCRIPT = ROOT / "docker" / "temporal" / "create-namespace.sh"
POSTGRES_INIT_DIR = ROOT / "docker" / "postgres" / "initdb"
ENV_EXAMPLE = ROOT / ".env.example"
NATS_CONFIG = ROOT / "docker" / "nats" / "nats-server.conf"
PROMETHEUS_CONFIG = ROOT / "docker" / "prometheus" / "prometheus.yml"
ALERT_RULES_DIR = ROOT / "docker" / "prometheus" / "rules"
GRAFANA_DIR = ROOT / "docker" / "grafana"

APP_SERVICES = ("worker", "relay", "projector", "api", "notifier")
INFRA_SERVICES = ("postgres", "nats", "temporal", "temporal-ui")
MONITORING_SERVICES = ("prometheus", "grafana")
SETUP_JOBS = ("temporal-schema", "temporal-namespace")
# service -> a container port it must publish
PUBLISHED = {
    "temporal": 7233,
    "temporal-ui": 8080,
    "nats": 4222,
    "api": 8000,
    "prometheus": 9090,
    "grafana": 3000,
}
CLI_TYPES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}"
)
# service -> the NATS user it connects as (None: it needs no NATS)
NATS_USER_OF = {
    "worker": None,
    "relay": "relay",
    "projector": None,
    "api": "api",
    "notifier": "subscriber",
}
SECRET_NAME = re.compile(r"PASSWORD|PWD|_KEYS$|SECRET")
# The alerts the issue asks for; more may follow.
REQUIRED_ALERTS = {
    "MentorflowRelayLagging": "mentorflow_relay_lag_seconds",
    "MentorflowProjectionStalled": "mentorflow_projection_stalled",
    "MentorflowEscalationSpike": "mentorflow_cohort_escalations_total",
    "MentorflowNotificationsDeadLettered": "mentorflow_notifications_total",
}
TEMPORAL_CLIENTS = ("worker", "api")
"""The services with a Temporal client, which serve the SDK's metrics."""

Service = dict[str, Any]


# --- helpers ---------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict), "docker-compose.yml is not a mapping"
    return cast(dict[str, Any], loaded)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Service]:
    found = compose.get("services")
    assert isinstance(found, dict), "docker-compose.yml has no services"
    assert found, "docker-compose.yml has no services"
    return cast(dict[str, Service], found)


def example_environment() -> dict[str, str]:
    """The variables `.env.example` documents, with their placeholders."""
    return read_env_file(ENV_EXAMPLE)


def interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` / ``${NAME:?error}`` with `.env.example` as the environment.

    A required variable missing from `.env.example` fails: compose would refuse to start.
    """
    example = example_environment()

    def substitute(match: re.Match[str]) -> str:
        name, operator = match.group("name"), match.group("operator") or ""
        if operator.endswith("?"):
            assert name in example, f"required variable {name} is not in .env.example"
            return example[name]
        if name in example and (example[name] or operator != ":-"):
            return example[name]
        return match.group("argument") or ""

    return INTERPOLATION.sub(substitute, value)


def environment(service: Service) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (str(item).partition("=") for item in raw)
        return {name: interpolate(value) for name, _, value in pairs}
    return {str(name): interpolate(str(value)) for name, value in cast(dict[str, Any], raw).items()}


def depends_on(service: Service) -> dict[str, str]:
    """depends_on as target -> condition; the short (list) form has no condition."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(target): "" for target in raw}
    return {
        str(target): str(cast(dict[str, Any], spec or {}).get("condition", ""))
        for target, spec in cast(dict[str, Any], raw).items()
    }


def published_ports(service: Service) -> dict[int, int]:
    """container port -> host port."""
    ports: dict[int, int] = {}
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            target = int(entry["target"])
            ports[target] = int(entry.get("published") or target)
            continue
        parts = str(entry).split("/")[0].split(":")
        ports[int(parts[-1])] = int(parts[-2]) if len(parts) > 1 else int(parts[-1])
    return ports


def mounts(service: Service) -> Iterator[tuple[str, str]]:
    """(source, target) of each volume entry of a service."""
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            yield str(entry.get("source", "")), str(entry["target"])
        else:
            source, _, rest = str(entry).partition(":")
            yield source, rest.split(":")[0]


def is_bind(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def healthcheck_command(service: Service) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return [str(part) for part in test or []]


def one_shot_jobs(services: Mapping[str, Service]) -> set[str]:
    return {
        target
        for service in services.values()
        for target, condition in depends_on(service).items()
        if condition == COMPLETED
    }


def image_tag(image: str) -> str:
    name = image.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    return last.partition(":")[2]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending = f"{pending} {stripped}" if pending else stripped
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, arguments = pending.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def script_search_attributes() -> dict[str, str]:
    match = re.search(r'^SEARCH_ATTRIBUTES="([^"]*)"', NAMESPACE_SCRIPT.read_text(), re.MULTILINE)
    assert match, "create-namespace.sh has no SEARCH_ATTRIBUTES list"
    return dict(re.findall(r"(\w+):(\w+)", match.group(1)))


def load_healthcheck_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docker_healthcheck", HEALTHCHECK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- docker-compose.yml ----------------------------------------------------------------------


def test_every_service_of_the_contract_is_present(services: dict[str, Service]) -> None:
    expected = {*APP_SERVICES, *INFRA_SERVICES, *SETUP_JOBS, *MONITORING_SERVICES}
    assert expected <= services.keys(), f"missing services: {sorted(expected - services.keys())}"


def test_every_service_has_an_image_or_a_build(services: dict[str, Service]) -> None:
    for name, service in services.items():
        assert service.get("image") or service.get("build"), f"{name} has neither image nor build"


def test_third_party_images_are_pinned(services: dict[str, Service]) -> None:
    for name, service in services.items():
        if service.get("build"):
            continue
        image = str(service["image"])
        tag = image_tag(image)
        assert "$" not in image, f"{name}: the image must not depend on the environment"
        assert tag not in {"", "latest"}, f"{name}: {image} is not pinned"
        # Prometheus tags its releases v3.5.0.
        assert re.match(r"v?\d+(\.\d+)+", tag), f"{name}: {image} is not pinned to a version"


def test_temporal_is_server_plus_admin_tools_not_auto_setup(services: dict[str, Service]) -> None:
    images = [str(service.get("image", "")) for service in services.values()]
    assert not [image for image in images if "auto-setup" in image], "auto-setup is deprecated"
    server = str(services["temporal"]["image"])
    assert server.startswith("temporalio/server:")
    assert str(services["temporal-ui"]["image"]).startswith("temporalio/ui:")
    for job in SETUP_JOBS:
        tools = str(services[job]["image"])
        assert tools.startswith("temporalio/admin-tools:"), job
        # The schema the job installs is the one the server expects.
        assert image_tag(tools) == image_tag(server), f"{job} and temporal differ in version"


def test_ports_are_published(services: dict[str, Service]) -> None:
    for name, port in PUBLISHED.items():
        assert port in published_ports(services[name]), f"{name} does not publish {port}"
    assert published_ports(services["temporal"])[7233] == 7233
    assert published_ports(services["nats"])[4222] == 4222
    assert published_ports(services["api"])[8000] == 8000
    assert published_ports(services["temporal-ui"])[8080] in {8080, 8233}


def test_long_running_services_have_health_checks(services: dict[str, Service]) -> None:
    jobs = one_shot_jobs(services)
    assert jobs == set(SETUP_JOBS)
    for name, service in services.items():
        if name in jobs:
            assert service.get("restart") not in {"always", "unless-stopped"}, name
            continue
        command = healthcheck_command(service)
        assert len(command) > 1, f"{name} has no health check"
        assert command[0] in {"CMD", "CMD-SHELL"}, name
        assert not (service.get("healthcheck") or {}).get("disable"), name
        assert service.get("restart") in {"always", "unless-stopped"}, name


def test_every_dependency_exists_and_has_a_usable_condition(
    services: dict[str, Service],
) -> None:
    jobs = one_shot_jobs(services)
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert condition in {HEALTHY, COMPLETED}, f"{name} -> {target}: {condition!r}"
            if condition == HEALTHY:
                assert healthcheck_command(services[target]), f"{target} has no health check"
            else:
                assert target in jobs


def test_temporal_server_starts_after_schema_setup(services: dict[str, Service]) -> None:
    assert depends_on(services["temporal"])["temporal-schema"] == COMPLETED
    assert depends_on(services["temporal-schema"])["postgres"] == HEALTHY
    assert depends_on(services["temporal-namespace"])["temporal"] == HEALTHY
    assert depends_on(services["temporal-ui"])["temporal"] == HEALTHY


def test_app_services_wait_for_the_infrastructure(services: dict[str, Service]) -> None:
    for name in APP_SERVICES:
        service = services[name]
        assert service.get("build"), f"{name} is not built from the project's Dockerfile"
        build = service["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE, name
        assert service.get("command") == [name], f"{name} must run `mentorflow {name}`"
        dependencies = depends_on(service)
        for infrastructure in ("temporal", "postgres", "nats"):
            assert dependencies.get(infrastructure) == HEALTHY, f"{name} -> {infrastructure}"
        assert dependencies.get("temporal-namespace") == COMPLETED, name


def test_app_services_are_configured_through_the_contract_settings(
    services: dict[str, Service],
) -> None:
    known = {f"MENTORFLOW_{field.upper()}" for field in Settings.model_fields} | {STATE_DIR_ENV}
    sections: dict[str, type[BaseSettings]] = {
        "smtp": SmtpSettings,
        "notifier": NotifierSettings,
        "metrics": MetricsSettings,
    }
    known |= {
        f"MENTORFLOW_{section.upper()}_{field.upper()}"
        for section, model in sections.items()
        for field in model.model_fields
    }
    namespace_job = environment(services["temporal-namespace"])
    for name in APP_SERVICES:
        env = environment(services[name])
        settings_env = {key: value for key, value in env.items() if key.startswith("MENTORFLOW_")}
        assert settings_env.keys() <= known, (
            f"{name}: unknown {sorted(settings_env.keys() - known)}"
        )
        fields: dict[str, Any] = {}
        for key, value in settings_env.items():
            if key == STATE_DIR_ENV:
                continue
            field = key.removeprefix("MENTORFLOW_").lower()
            section = next((s for s in sections if field.startswith(f"{s}_")), None)
            if section is not None and field not in Settings.model_fields:
                fields.setdefault(section, {})[field.removeprefix(f"{section}_")] = value
            else:
                fields[field] = value
        settings = Settings.model_validate(fields)
        assert settings.temporal_address == "temporal:7233", name
        assert settings.temporal_namespace == namespace_job["TEMPORAL_NAMESPACE"], name
        nats_user = NATS_USER_OF[name]
        if nats_user is None:
            assert "MENTORFLOW_NATS_URL" not in env, f"{name} needs no NATS user"
        else:
            nats = urlsplit(settings.nats_url)
            assert (nats.scheme, nats.hostname, nats.port) == ("nats", "nats", 4222), name
            assert nats.username == nats_user, name
            assert (
                nats.password
                == environment(services["nats"])[f"MENTORFLOW_NATS_PASSWORD_{nats_user.upper()}"]
            ), name
        assert settings.payload_keys is not None, f"{name} has no MENTORFLOW_PAYLOAD_KEYS"
        assert settings.master_keys is not None, f"{name} has no MENTORFLOW_MASTER_KEYS"
        assert settings.require_encrypted_payloads, name
        assert settings.log_format == "json", name
        database = urlsplit(settings.database_url)
        assert (database.hostname, database.port, database.path) == (
            "postgres",
            5432,
            "/mentorflow",
        )
    api = environment(services["api"])
    assert api["MENTORFLOW_API_HOST"] == "0.0.0.0"  # noqa: S104 - inside its container
    assert int(api.get("MENTORFLOW_API_PORT", "8000")) == 8000


def test_passwords_agree_between_services(services: dict[str, Service]) -> None:
    postgres = environment(services["postgres"])
    database = urlsplit(environment(services["worker"])["MENTORFLOW_DATABASE_URL"])
    assert database.username == "mentorflow"
    assert database.password == postgres["MENTORFLOW_DB_PASSWORD"]
    temporal = environment(services["temporal"])
    schema_job = environment(services["temporal-schema"])
    assert temporal["POSTGRES_SEEDS"] == schema_job["SQL_HOST"] == "postgres"
    assert temporal["POSTGRES_USER"] == schema_job["SQL_USER"] == "temporal"
    assert (
        temporal["POSTGRES_PWD"] == schema_job["SQL_PASSWORD"] == postgres["TEMPORAL_DB_PASSWORD"]
    )
    assert temporal["DBNAME"] == schema_job["TEMPORAL_DB"]
    assert temporal["VISIBILITY_DBNAME"] == schema_job["TEMPORAL_VISIBILITY_DB"]


def test_every_secret_is_a_required_variable_without_a_default(
    services: dict[str, Service],
) -> None:
    text = COMPOSE_FILE.read_text()
    for match in INTERPOLATION.finditer(text):
        name, operator = match.group("name"), match.group("operator") or ""
        if SECRET_NAME.search(name):
            assert operator == ":?", f"${{{name}}} must be required (:?), not defaulted"
    for service_name, service in services.items():
        raw = service.get("environment") or {}
        assert isinstance(raw, dict), service_name
        for key, value in cast(dict[str, Any], raw).items():
            value = str(value)
            if SECRET_NAME.search(str(key)) and not str(key).endswith("_KEY_ID"):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{service_name}: {key}"
            password = urlsplit(value).password if "://" in value else None
            if password is not None:
                assert value.count("${") == 1, f"{service_name}: {key}"
                assert ":?" in value, f"{service_name}: {key}"


def test_env_example_lists_every_required_variable_with_placeholders_only() -> None:
    required = {
        match.group("name")
        for match in INTERPOLATION.finditer(COMPOSE_FILE.read_text())
        if (match.group("operator") or "") == ":?"
    }
    example = example_environment()

    assert required, "docker-compose.yml requires no variable"
    assert required <= example.keys(), (
        f"missing in .env.example: {sorted(required - example.keys())}"
    )
    for name in required:
        assert "replace-with" in example[name], f"{name} in .env.example is not a placeholder"
    for paragraph in ENV_EXAMPLE.read_text().split("\n\n"):
        lines = paragraph.strip().splitlines()
        if any(not line.startswith("#") for line in lines):
            assert lines[0].startswith("#"), f"undocumented: {lines[0]}"


def test_nats_admits_only_its_users_with_the_stack_permissions(
    services: dict[str, Service],
) -> None:
    users = [user for user in NATS_USERS if user.name != SERVICE_USER]
    config = NATS_CONFIG.read_text()

    assert authorization_block(None, users) in config
    nats_env = environment(services["nats"])
    for user in users:
        assert nats_env[user.password_variable], user.name
    assert "no_auth_user" not in config


def test_named_volumes_are_declared_and_bind_mounts_exist(
    compose: dict[str, Any], services: dict[str, Service]
) -> None:
    declared = set((compose.get("volumes") or {}).keys())
    used: set[str] = set()
    for name, service in services.items():
        for source, target in mounts(service):
            assert target.startswith("/"), f"{name}: {target}"
            if is_bind(source):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                used.add(source)
    assert used <= declared, f"undeclared volumes: {sorted(used - declared)}"
    assert declared <= used, f"unused volumes: {sorted(declared - used)}"
    assert ("nats-data", "/data") in set(mounts(services["nats"]))
    assert any(source == "postgres-data" for source, _ in mounts(services["postgres"]))


def test_nats_runs_jetstream_on_file_storage_in_its_volume(services: dict[str, Service]) -> None:
    config_source = next(
        source for source, target in mounts(services["nats"]) if target.endswith(".conf")
    )
    config = (ROOT / config_source).read_text()
    assert re.search(r"^jetstream\s*\{[^}]*store_dir:\s*/data", config, re.MULTILINE | re.DOTALL)
    command = " ".join(services["nats"]["command"])
    assert "--config" in command or "-c " in command
    assert "8222" in " ".join(healthcheck_command(services["nats"]))


def test_postgres_init_script_creates_the_event_store_database(
    services: dict[str, Service],
) -> None:
    assert (
        "./docker/postgres/initdb",
        "/docker-entrypoint-initdb.d",
    ) in set(mounts(services["postgres"]))
    scripts = sorted(POSTGRES_INIT_DIR.glob("*.sh"))
    assert scripts, "no init script"
    text = "\n".join(script.read_text() for script in scripts)
    assert "CREATE DATABASE mentorflow OWNER mentorflow" in text
    assert "CREATE ROLE temporal LOGIN CREATEDB" in text
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script.name} is not executable"


def test_namespace_job_registers_the_contract_search_attributes() -> None:
    expected = {key.name: CLI_TYPES[key.indexed_value_type] for key in ALL_KEYS}
    assert script_search_attributes() == expected


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_setup_scripts_are_valid_shell() -> None:
    for script in [SCHEMA_SCRIPT, NAMESPACE_SCRIPT, *POSTGRES_INIT_DIR.glob("*.sh")]:
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script.name}: {result.stderr}"


def compose_cli() -> list[str] | None:
    """A Compose v2 CLI (`docker compose` or `docker-compose`), or None.

    Compose v1 (Debian bookworm's docker-compose 1.29) predates the Compose Specification and
    rejects valid files (top-level `name`), so it does not count.
    """
    candidates: list[list[str]] = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for candidate in candidates:
        probe = subprocess.run(
            [*candidate, "version", "--short"], capture_output=True, text=True, timeout=30
        )
        major = probe.stdout.strip().lstrip("v").split(".")[0]
        if probe.returncode == 0 and major.isdigit() and int(major) >= 2:
            return candidate
    return None


def test_docker_compose_config_validates() -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("no Compose v2 CLI installed")
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Prometheus and Grafana ------------------------------------------------------------------


def scrape_targets(job: str) -> dict[str, str]:
    """``host:port`` -> the ``service`` label, of one job of the Prometheus config."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    (scrape,) = [entry for entry in config["scrape_configs"] if entry["job_name"] == job]
    return {
        target: group["labels"]["service"]
        for group in scrape["static_configs"]
        for target in group["targets"]
    }


def container_path(service: Service, source: str) -> str:
    """Where ``service`` mounts the repository path ``source``."""
    targets = [target for mounted, target in mounts(service) if mounted == source]
    assert targets, f"{source} is not mounted"
    return targets[0]


def test_prometheus_scrapes_every_service_where_it_serves_its_metrics(
    services: dict[str, Service],
) -> None:
    expected: dict[str, str] = {}
    temporal: dict[str, str] = {}
    for name in APP_SERVICES:
        settings = MetricsSettings.model_validate(
            {
                key.removeprefix("MENTORFLOW_METRICS_").lower(): value
                for key, value in environment(services[name]).items()
                if key.startswith("MENTORFLOW_METRICS_")
            }
        )
        assert settings.address is not None, f"{name} serves no metrics"
        host, port = split_address(settings.address)
        assert host == "0.0.0.0", f"{name}: metrics unreachable from Prometheus"  # noqa: S104
        expected[f"{name}:{port}"] = name
        if settings.temporal_address is not None:
            temporal[f"{name}:{split_address(settings.temporal_address)[1]}"] = name
        assert 9464 not in published_ports(services[name]), f"{name} publishes its metrics"

    assert scrape_targets("mentorflow") == expected
    assert scrape_targets("temporal-sdk") == temporal
    assert set(temporal.values()) == set(TEMPORAL_CLIENTS)


def test_prometheus_loads_the_rules_and_config_it_is_given(
    services: dict[str, Service],
) -> None:
    prometheus = services["prometheus"]
    command = " ".join(prometheus["command"])
    config_path = container_path(prometheus, "./docker/prometheus/prometheus.yml")
    assert f"--config.file={config_path}" in command
    rules_path = container_path(prometheus, "./docker/prometheus/rules")
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    assert config["rule_files"] == [f"{rules_path}/*.yml"]
    assert sorted(ALERT_RULES_DIR.glob("*.yml")), "no rule file"
    assert published_ports(prometheus)[9090] == 9090
    assert any(
        source == "prometheus-data" and f"--storage.tsdb.path={target}" in command
        for source, target in mounts(prometheus)
    )


def test_alert_rules_cover_the_required_alerts_each_with_severity_and_runbook() -> None:
    alerts: dict[str, dict[str, Any]] = {}
    for path in sorted(ALERT_RULES_DIR.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                assert rule["alert"] not in alerts, f"{rule['alert']} is defined twice"
                alerts[rule["alert"]] = rule
    assert REQUIRED_ALERTS.keys() <= alerts.keys()
    readme = (ROOT / "README.md").read_text()
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        assert rule["annotations"]["summary"], name
        runbook = rule["annotations"]["runbook"]
        assert runbook == "README.md#when-an-alert-fires", name
        assert name in readme, f"README says nothing of {name}"
    assert "### When an alert fires" in readme
    for name, metric in REQUIRED_ALERTS.items():
        assert metric in alerts[name]["expr"], name


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboards(
    services: dict[str, Service],
) -> None:
    grafana = services["grafana"]
    assert depends_on(grafana)["prometheus"] == HEALTHY
    provisioning = container_path(grafana, "./docker/grafana/provisioning")
    assert provisioning == "/etc/grafana/provisioning"
    dashboards_path = container_path(grafana, "./docker/grafana/dashboards")
    (datasource,) = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    assert datasource["type"] == "prometheus"
    assert urlsplit(datasource["url"]).hostname in services
    assert urlsplit(datasource["url"]).port == 9090
    (provider,) = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "dashboards" / "mentorflow.yml").read_text()
    )["providers"]
    assert provider["options"]["path"] == dashboards_path
    files = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
    assert files, "no dashboard"
    uids = set()
    for path in files:
        dashboard = json.loads(path.read_text())
        uids.add(dashboard["uid"])
        sources = [
            target["datasource"]["uid"]
            for panel in dashboard["panels"]
            for target in panel.get("targets", [])
        ]
        assert sources, f"{path.name} queries nothing"
        assert set(sources) == {datasource["uid"]}, path.name
    assert len(uids) == len(files), "two dashboards share a uid"
    home = environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.removeprefix(dashboards_path + "/") in {path.name for path in files}
    assert published_ports(grafana)[3000] == 3000


# --- the admin-tools job scripts against stub CLIs --------------------------------------------

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$STUB_LOG"
case "$(basename "$0") $*" in
    "temporal operator cluster health"*) echo "SERVING" ;;
    "temporal operator namespace describe"*) [ "$STUB_EXISTING" = all ] || exit 1 ;;
    "temporal operator search-attribute list"*)
        [ "$STUB_EXISTING" = all ] && printf '%s\\n' $STUB_SEARCH_ATTRIBUTES ;;
    "temporal-sql-tool"*" create") [ "$STUB_EXISTING" = all ] && exit 1 ;;
    "temporal-sql-tool"*" setup-schema"*) [ -n "${STUB_BROKEN:-}" ] && exit 3 ;;
esac
exit 0
"""


def run_with_stubs(
    script: Path, tmp_path: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("temporal", "temporal-sql-tool", "nc", "sleep"):
        stub = bin_dir / tool
        stub.write_text(STUB)
        stub.chmod(0o755)
    log = tmp_path / "calls.log"
    log.unlink(missing_ok=True)
    result = subprocess.run(
        ["sh", str(script)],
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(log), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_schema_job_creates_and_migrates_both_databases(tmp_path: Path) -> None:
    env = {"SQL_PASSWORD": "secret", "STUB_EXISTING": "none"}
    result, calls = run_with_stubs(SCHEMA_SCRIPT, tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    sql_calls = [call for call in calls if call.startswith("temporal-sql-tool")]
    schema_root = "/etc/temporal/schema/postgresql/v12"
    expected: list[str] = []
    for database, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        connect = "--plugin postgres12 --ep postgres -p 5432 -u temporal"
        prefix = f"temporal-sql-tool {connect} --db {database}"
        expected += [
            f"{prefix} create",
            f"{prefix} setup-schema -v 0.0",
            f"{prefix} update-schema -d {schema_root}/{schema}/versioned",
        ]
    assert sql_calls == expected
    assert "secret" not in "\n".join(calls), "the password must not be on a command line"

    # Second start: the databases exist, `create` fails, the migrations still run.
    result, calls = run_with_stubs(SCHEMA_SCRIPT, tmp_path, {**env, "STUB_EXISTING": "all"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert sum("update-schema" in call for call in calls) == 2

    # A real failure stops the job, so the server does not start on a broken schema.
    result, _ = run_with_stubs(SCHEMA_SCRIPT, tmp_path, {**env, "STUB_BROKEN": "1"})
    assert result.returncode != 0


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_namespace_job_creates_only_what_is_missing(tmp_path: Path) -> None:
    attributes = script_search_attributes()
    env = {
        "TEMPORAL_ADDRESS": "temporal:7233",
        "TEMPORAL_NAMESPACE": "default",
        "NAMESPACE_RETENTION": "720h",
        "STUB_SEARCH_ATTRIBUTES": " ".join(attributes),
    }
    result, calls = run_with_stubs(NAMESPACE_SCRIPT, tmp_path, {**env, "STUB_EXISTING": "none"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "temporal operator namespace create --namespace default --retention 720h" in " ".join(
        calls
    )
    created = {
        args[args.index("--name") + 1]: args[args.index("--type") + 1]
        for args in (shlex.split(call) for call in calls)
        if args[:4] == ["temporal", "operator", "search-attribute", "create"]
    }
    assert created == attributes
    counted = [call for call in calls if call.startswith("temporal workflow count")]
    assert len(counted) == len(attributes), "every attribute is checked through a list filter"

    result, calls = run_with_stubs(NAMESPACE_SCRIPT, tmp_path, {**env, "STUB_EXISTING": "all"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [call for call in calls if " create" in call], calls


# --- Dockerfile, .dockerignore and the health check script -----------------------------------


def test_dockerfile_builds_with_uv_and_runs_mentorflow_as_non_root() -> None:
    instructions = dockerfile_instructions()
    arguments = {
        name: default
        for keyword, args in instructions
        if keyword == "ARG"
        for name, _, default in [args.partition("=")]
    }
    bases = [
        re.sub(r"\$\{(\w+)\}", lambda match: arguments[match.group(1)], args.split()[0])
        for keyword, args in instructions
        if keyword == "FROM"
    ]
    assert len(bases) >= 2, "the Dockerfile is not multi-stage"
    for base in bases:
        assert image_tag(base) not in {"", "latest"}, f"{base} is not pinned"
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", bases[-1]), bases[-1]
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    assert "uv.lock" in DOCKERFILE.read_text()

    runtime = final_stage(instructions)
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, "the image runs as root"
    entrypoints = [args for keyword, args in runtime if keyword == "ENTRYPOINT"]
    assert entrypoints
    assert json.loads(entrypoints[-1]) == ["mentorflow"]
    venv = next(
        value
        for keyword, args in instructions
        if keyword == "ENV"
        for value in re.findall(r"UV_PROJECT_ENVIRONMENT=(\S+)", args)
    )
    runtime_env = " ".join(args for keyword, args in runtime if keyword == "ENV")
    assert f"PATH={venv}/bin:" in runtime_env.replace('"', ""), "the venv is not on PATH"


def test_compose_health_checks_use_the_script_the_image_ships(
    services: dict[str, Service],
) -> None:
    copies = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "COPY")
    assert re.search(r"docker/healthcheck\.py\s+/opt/mentorflow/healthcheck\.py", copies)
    for name in APP_SERVICES:
        command = healthcheck_command(services[name])
        assert command[1:3] == ["python", "/opt/mentorflow/healthcheck.py"], name
    assert healthcheck_command(services["api"])[-1].endswith(("/healthz", "/readyz"))


def test_dockerignore_keeps_local_state_caches_and_tests_out() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for required in (".git", ".venv", ".mentorflow", "tests", ".pytest_cache", ".mypy_cache"):
        assert required in patterns, f".dockerignore does not exclude {required}"
    assert any("__pycache__" in pattern for pattern in patterns)
    assert ".ruff_cache" in patterns

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)

    needed = ("pyproject.toml", "uv.lock", "README.md", "mentorflow/settings.py")
    for path in (*needed, "docker/healthcheck.py"):
        assert not ignored(path), f".dockerignore excludes {path}, which the build needs"


def test_healthcheck_reads_established_connections(tmp_path: Path) -> None:
    healthcheck = load_healthcheck_module()
    table = tmp_path / "tcp"
    table.write_text(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001\n"
        "   1: 0200A8C0:9C40 0300A8C0:1C41 01 00000000:00000000 00:00000000 00000000 10001\n"
        "   2: 0200A8C0:9C41 0400A8C0:107E 06 00000000:00000000 00:00000000 00000000 10001\n"
    )
    ports: set[int] = healthcheck.established_remote_ports(table.read_text().splitlines())
    assert ports == {0x1C41}  # 7233; the listener and the TIME_WAIT socket do not count
    assert healthcheck.connected([7233], tables=[table, tmp_path / "missing"]) is True
    assert healthcheck.connected([7233, 4222], tables=[table]) is False
    assert healthcheck.main(["connected", "x"]) == 2
    assert healthcheck.main(["http", "file:///etc/passwd"]) == 1
