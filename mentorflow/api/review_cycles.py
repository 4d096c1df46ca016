"""``POST /review-cycles``: HR starts a review cycle for a cohort."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from fastapi import APIRouter

from mentorflow.api.auth import HrAdmin
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ERROR_RESPONSES, NOT_FOUND_RESPONSE, NotFound, ServiceUnavailable
from mentorflow.api.models.cohorts import ReviewCycleRequest, ReviewCycleStarted
from mentorflow.api.read_models import cohort_summary, running_mentorships
from mentorflow.api.temporal import signal_review_cycle

log = structlog.get_logger(__name__)
router = APIRouter(tags=["review cycles"], responses=ERROR_RESPONSES)


async def _signal_all(
    services: ApiServices, mentorship_ids: list[str], cycle_id: str
) -> list[bool | BaseException]:
    gate = asyncio.Semaphore(services.limits.signal_concurrency)

    async def signal(mentorship_id: str) -> bool:
        async with gate:
            return await signal_review_cycle(services.client, mentorship_id, cycle_id)

    return await asyncio.gather(*(signal(id_) for id_ in mentorship_ids), return_exceptions=True)


@router.post(
    "/review-cycles",
    status_code=202,
    summary="Start a review cycle for a cohort",
    responses=NOT_FOUND_RESPONSE,
)
async def start_review_cycle(
    body: ReviewCycleRequest, services: Services, _caller: HrAdmin
) -> ReviewCycleStarted:
    """Ask every running relationship of the cohort to draft a review summary.

    Relationships come from the read model (those not closing yet). Each drafts one summary
    per cycle id, so repeating the request with the same ``cycle_id`` is safe: after a partial
    failure, retry it.
    """
    mentorship_ids = await running_mentorships(services.pool, body.cohort_id)
    if not mentorship_ids and await cohort_summary(services.pool, body.cohort_id) is None:
        raise NotFound(f"no cohort {body.cohort_id} in the read models")
    cycle_id = body.cycle_id or f"hr-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    outcomes = await _signal_all(services, mentorship_ids, cycle_id)
    failed = [
        id_
        for id_, ok in zip(mentorship_ids, outcomes, strict=True)
        if isinstance(ok, BaseException)
    ]
    if failed:
        raise ServiceUnavailable(
            f"{len(failed)} of {len(mentorship_ids)} relationships could not be signalled; "
            f"retry with cycle_id {cycle_id!r}",
            [f"{id_}: not signalled" for id_ in failed],
        )
    signalled = [id_ for id_, ok in zip(mentorship_ids, outcomes, strict=True) if ok is True]
    ended = [id_ for id_, ok in zip(mentorship_ids, outcomes, strict=True) if ok is False]
    log.info(
        "review cycle started",
        cohort_id=body.cohort_id,
        cycle_id=cycle_id,
        signalled=len(signalled),
    )
    return ReviewCycleStarted(
        cohort_id=body.cohort_id, cycle_id=cycle_id, signalled=signalled, ended=ended
    )
