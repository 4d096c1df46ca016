"""Bearer-token authentication (tokens from `mentorflow.api.tokens`, or JWT access tokens of
the OpenID Connect issuer: `mentorflow.api.jwt_auth`) and role checks.

A bearer token shaped like a JWT goes to the issuer's verifier when one is configured
(``MENTORFLOW_OIDC_ISSUER`` and ``MENTORFLOW_OIDC_AUDIENCE``); every other token is looked up
in the tokens file, which stays the way in for services and ops. A refused JWT gets one
answer whatever the reason (the reason is logged): the caller learns nothing about which
check failed.

`AuthenticationMiddleware` (`mentorflow.api.middleware`) authenticates every request that
needs a token before anything reads its body, and leaves the principal in the ASGI scope;
the `Caller` dependency takes it from there (and authenticates by itself where no middleware
ran, so that a route is never open by mistake).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from eventstore import DatabaseUnavailable
from mentorflow.api.context import Services
from mentorflow.api.errors import Forbidden, ServiceUnavailable, Unauthenticated
from mentorflow.api.jwt_auth import AccessTokenVerifier, JwtRefused, looks_like_jwt
from mentorflow.api.oidc_issuer import IssuerUnavailable
from mentorflow.api.tokens import (
    ExpiredToken,
    Principal,
    Role,
    TokenRegistry,
    TokensUnavailable,
    UnknownToken,
)

log = structlog.get_logger(__name__)

PRINCIPAL_SCOPE_KEY = "mentorflow.principal"
"""Where the authentication middleware leaves the caller in the ASGI scope (per request)."""

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `mentorflow tokens add --role ROLE [--person ID]`.",
)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value; None otherwise."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(tokens: TokenRegistry, token: str | None) -> Principal:
    """The principal of a bearer token.

    Raises:
        Unauthenticated: No token, an unknown or expired one, or an invalid tokens file (which
            refuses every token).
    """
    if token is None:
        raise Unauthenticated("a bearer token is required")
    try:
        principal = tokens.authenticate(token)
    except UnknownToken:
        raise Unauthenticated("the bearer token is not known") from None
    except ExpiredToken:
        raise Unauthenticated("the bearer token has expired") from None
    except TokensUnavailable:
        # Logged by the registry (with the file's problems) and shown by /readyz.
        raise Unauthenticated("no token is accepted now: the tokens file is invalid") from None
    structlog.contextvars.bind_contextvars(role=principal.role.value, token_id=principal.token_id)
    return principal


async def authenticate_bearer(
    tokens: TokenRegistry, verifier: AccessTokenVerifier | None, token: str | None
) -> Principal:
    """The principal of a bearer token: a JWT of the issuer, or a token of the tokens file.

    Raises:
        Unauthenticated: No token, or one that is not accepted.
        ServiceUnavailable: A JWT arrived while the issuer's keys (or the people directory,
            to find its person) cannot be had.
    """
    if token is None or verifier is None or not looks_like_jwt(token):
        return authenticate(tokens, token)
    try:
        principal = await verifier.principal(token)
    except JwtRefused:
        raise Unauthenticated("the bearer token is not accepted") from None
    except IssuerUnavailable as error:
        log.warning("identity provider unreachable", reason=error.reason)
        raise ServiceUnavailable("the identity provider cannot be reached; retry later") from None
    except DatabaseUnavailable:
        log.warning("people directory unavailable for a bearer JWT")
        raise ServiceUnavailable("the people directory cannot be read; retry later") from None
    structlog.contextvars.bind_contextvars(role=principal.role.value, token_id=principal.token_id)
    return principal


def scope_principal(scope: Scope) -> Principal | None:
    """The caller the authentication middleware found for this request, if it ran."""
    principal = scope.get(PRINCIPAL_SCOPE_KEY)
    return principal if isinstance(principal, Principal) else None


async def current_principal(
    request: Request,
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from the ``Authorization: Bearer`` header.

    Raises:
        Unauthenticated: No bearer token, or one that is not accepted.
        ServiceUnavailable: A JWT arrived while the issuer's keys cannot be had.
    """
    principal = scope_principal(request.scope)
    if principal is not None:
        return principal
    token = credentials.credentials if credentials is not None else None
    return await authenticate_bearer(services.tokens, services.access_tokens, token or None)


Caller = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only ``roles``."""
    allowed = frozenset(roles)

    async def check(principal: Caller) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise Forbidden(f"this needs one of the roles {names}")
        return principal

    return check


HrOrService = Annotated[Principal, Depends(require_roles(Role.HR_ADMIN, Role.SERVICE))]
HrAdmin = Annotated[Principal, Depends(require_roles(Role.HR_ADMIN))]
