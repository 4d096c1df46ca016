"""Bearer-token authentication (tokens from `mentorflow.api.tokens`) and role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mentorflow.api.context import Services
from mentorflow.api.errors import Forbidden, Unauthenticated
from mentorflow.api.tokens import Principal, Role

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `mentorflow tokens add --role ROLE [--person ID]`.",
)


async def current_principal(
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from the ``Authorization: Bearer`` header.

    Raises:
        Unauthenticated: No bearer token, or one the tokens file does not know.
    """
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("a bearer token is required")
    principal = services.tokens.lookup(credentials.credentials)
    if principal is None:
        raise Unauthenticated("the bearer token is not known")
    structlog.contextvars.bind_contextvars(role=principal.role.value)
    return principal


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
