"""The FastAPI application: `create_app(settings)` wires routers, errors, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.types import Scope
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from domain.cohort_references import spec_document_schema
from eventstore import Pool, create_pool
from mentorflow.api import (
    codec,
    cohorts,
    contacts,
    health,
    mentorships,
    people,
    preferences,
    profile,
    relationship_commands,
    review_cycles,
)
from mentorflow.api.codec_sessions import migrate_api_schema
from mentorflow.api.context import ApiServices, connect_temporal
from mentorflow.api.errors import install_error_handlers
from mentorflow.api.jwt_auth import AccessTokenVerifier
from mentorflow.api.limits import ApiLimits
from mentorflow.api.middleware import (
    AuthenticationMiddleware,
    BodyLimitMiddleware,
    RequestContextMiddleware,
)
from mentorflow.api.oidc_issuer import OidcIssuer
from mentorflow.api.rate_limits import (
    WriteRateLimiter,
    WriteRateLimitMiddleware,
    document_rate_limit,
)
from mentorflow.api.readiness import ReadinessProbe
from mentorflow.api.scim import install_scim
from mentorflow.api.tokens import TokenRegistry
from mentorflow.console.app import install_console
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.metrics import install_metrics
from mentorflow.settings import Settings
from mentorflow.telemetry import instrument_api
from notifications import migrate_outbox
from projections import migrate_read_models
from vault import PersonalDataVault

log = structlog.get_logger(__name__)

API_VERSION = "1.0.0"
DESCRIPTION = """
The way in for HR systems, participants and integrations. Writes go through the
relationships' and cohorts' Temporal workflows (a rejected change is a 422 naming every
reason, and nothing is recorded); reads come from the read models, with the live stage from
the workflow where it matters.

Every route but `/healthz`, `/readyz` and `/metrics` (Prometheus) needs `Authorization: Bearer
<token>`: a token from `mentorflow tokens add`, or, with single sign-on configured, a JWT
access token of the OpenID Connect issuer (`MENTORFLOW_OIDC_ISSUER`, audience
`MENTORFLOW_OIDC_AUDIENCE`). Errors share one shape: `{"error": {"code", "message",
"problems", "request_id"}}`.
"""


class MentorflowApi(FastAPI):
    """FastAPI, with the cohort spec's schema in the OpenAPI document.

    ``POST /cohorts`` reads its body itself, so that a bad spec is reported by
    `parse_cohort_spec` (every problem, with exact locations) rather than by FastAPI; the
    spec's schema is therefore added to the document here.
    """

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document (built once)."""
        if self.openapi_schema is None:
            document = get_openapi(
                title=self.title,
                version=self.version,
                description=self.description,
                routes=self.routes,
            )
            spec = spec_document_schema(ref_template="#/components/schemas/{model}")
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in {**spec.pop("$defs", {}), "CohortSpec": spec}.items():
                # A spec model that is also a route's body (a late joiner's ParticipantSpec)
                # is already there, as FastAPI renders it (without defaults): the same
                # fields mean the same model. Other fields under the same name are a clash.
                existing = schemas.get(name)
                if existing is not None and _fields(existing) != _fields(schema):
                    raise RuntimeError(f"OpenAPI schema name clash: {name}")
                schemas[name] = schema
            document_rate_limit(document)
            self.openapi_schema = document
        return self.openapi_schema


def _fields(schema: dict[str, Any]) -> set[str]:
    return set(schema.get("properties", {})) or set(schema.get("enum", []))


def _operation_id(route: APIRoute) -> str:
    """The route function's name (``log_conversation``), not FastAPI's path-derived id."""
    return route.name


LAUNCH_PATHS = frozenset(
    {"/cohorts", "/hr/cohorts/new", "/hr/people/import", "/hr/people/import/apply"}
)
"""The API's launch and the console's: a whole cohort spec in the body (or a people CSV file,
up to 10 MiB, in base64 when carried to be applied)."""


def _body_limit(limits: ApiLimits) -> Callable[[Scope], int]:
    def limit(scope: Scope) -> int:
        if scope["method"] == "POST" and scope["path"].rstrip("/") in LAUNCH_PATHS:
            return limits.max_cohort_body_bytes
        if scope["path"].startswith(codec.PREFIX + "/"):  # a compressed cohort spec, in base64
            return limits.max_cohort_body_bytes
        return limits.max_body_bytes

    return limit


def _lifespan(
    services: ApiServices,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings = services.settings
        owned_pool = services.database is None
        owned_client = services.temporal is None
        async with AsyncExitStack() as stack:
            if owned_pool:
                # A pool only: the API reads, the worker owns the store's schema.
                pool = await create_pool(settings.database)
                stack.push_async_callback(pool.close)
                services.database = pool
            await migrate_read_models(services.pool)  # the vault's schema too
            await migrate_api_schema(services.pool)  # codec and console sessions
            await migrate_outbox(services.pool)  # preferences; forgetting erases the outbox
            await migrate_directory(services.pool)  # the people directory's index (SCIM)
            services.personal_data = PersonalDataVault(
                services.pool, services.settings.master_keyring()
            )
            # People recorded before the directory kept lookup digests get theirs (sign-in
            # finds people by them); nothing to do after that.
            await PeopleDirectory(services.pool, services.personal_data).index_people()
            if owned_client:
                services.temporal = await connect_temporal(settings)
            stack.push_async_callback(services.readiness.close)
            log.info("api ready", tokens_file=str(services.tokens.path))
            try:
                yield
            finally:
                services.personal_data = None
                if owned_pool:
                    services.database = None
                if owned_client:
                    services.temporal = None

    return lifespan


def create_app(
    settings: Settings,
    *,
    client: Client | None = None,
    pool: Pool | None = None,
    limits: ApiLimits | None = None,
) -> FastAPI:
    """The API.

    Args:
        settings: Addresses, task queue and tokens file.
        client: A Temporal client to use; by default the lifespan connects one.
        pool: A PostgreSQL pool of the read models; by default the lifespan opens one.
        limits: Request and waiting limits; the defaults of `ApiLimits` otherwise.

    Raises:
        TokensFileInvalid: The tokens file exists but cannot be read.
    """
    limits = limits or ApiLimits()
    tokens = TokenRegistry(settings.tokens_file)
    tokens.load()
    oidc_config = settings.oidc_config()
    issuer = None if oidc_config is None else OidcIssuer(oidc_config)
    services = ApiServices(
        settings=settings,
        limits=limits,
        tokens=tokens,
        readiness=ReadinessProbe(
            tokens=tokens,
            nats_url=settings.nats_url,
            timeout=limits.probe_timeout_seconds,
            max_lag_events=limits.max_projection_lag_events,
        ),
        temporal=client,
        database=pool,
        oidc=issuer,
    )
    if issuer is not None and issuer.config.audience is not None:
        services.access_tokens = AccessTokenVerifier(
            issuer, issuer.config.audience, people=services.people_directory
        )
    access_tokens = services.access_tokens
    app = MentorflowApi(
        title="mentorflow",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=_lifespan(services),
        generate_unique_id_function=_operation_id,
    )
    app.state.services = services
    app.state.write_limiter = WriteRateLimiter(settings.write_rate_limit)  # API and console
    install_error_handlers(app)
    for module in (
        health,
        cohorts,
        contacts,
        review_cycles,
        mentorships,
        relationship_commands,
        people,
        preferences,
        profile,
    ):
        app.include_router(module.router)
    install_scim(app)  # the SCIM 2.0 service provider at /scim/v2 (scim role)
    install_console(app)  # the web console at /, signed in by session cookie
    # Outermost first: request id and access log; the token, before any body is read; the
    # token's write rate; the body limit.
    app.add_middleware(BodyLimitMiddleware, body_limit=_body_limit(limits))
    app.add_middleware(WriteRateLimitMiddleware, limiter=app.state.write_limiter)
    app.add_middleware(AuthenticationMiddleware, tokens=tokens, access_tokens=access_tokens)
    app.add_middleware(RequestContextMiddleware)
    codec.install_codec_server(app, settings)
    install_metrics(app)  # outermost of ours: every answer counted, by route template
    if proxies := [host.strip() for host in settings.trusted_proxies.split(",") if host.strip()]:
        # Outermost: behind a trusted TLS-terminating proxy every layer sees https (and the
        # client's address); from any other peer X-Forwarded-* is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    instrument_api(app)  # outermost: a request's span covers every layer
    return app
