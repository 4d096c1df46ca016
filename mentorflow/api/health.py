"""``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer); no token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mentorflow.api.context import Services
from mentorflow.api.readiness import Readiness

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: str = "ok"


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    """Answers as long as the process serves requests; checks nothing else."""
    return Health()


@router.get(
    "/readyz",
    summary="Temporal, PostgreSQL and NATS reachable; projections not far behind; tokens valid",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Something is not ready (named)"}},
)
async def readyz(services: Services) -> JSONResponse:
    """200 when every check passes, else 503; each check is ``ok``, ``down`` or ``not_ready``
    with a short reason (the details are in the server's log)."""
    readiness = await services.readiness.check(services.client, services.pool)
    return JSONResponse(
        readiness.model_dump(mode="json"), status_code=200 if readiness.ready else 503
    )
