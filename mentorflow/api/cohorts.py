"""Cohorts: launch (HR systems, integrations), list, inspect, dashboard."""

from __future__ import annotations

import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request, Response

from domain.cohort_spec import CohortSpecInvalid, ParticipantSpec
from mentorflow.api.auth import HrAdmin, HrOrService
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import (
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    BadRequest,
    InvalidInput,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from mentorflow.api.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from mentorflow.api.models.cohorts import (
    ApprovalRequest,
    CohortDashboard,
    CohortLive,
    CohortPage,
    CohortView,
)
from mentorflow.api.models.identifiers import COHORT_ID_PATTERN, PERSON_ID_PATTERN, CohortIdPath
from mentorflow.api.read_models import cohort_dashboard, cohort_page, cohort_summary
from mentorflow.api.temporal import cohort_matching, cohort_snapshot, launch, update_cohort
from mentorflow.cohorts import CohortMatching, LaunchResult
from mentorflow.directory.cohort_specs import parse_spec_with_directory
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import (
    AddParticipant,
    ApproveMatches,
    MatchingOutcome,
    PairOverride,
    ParticipantAdded,
)

log = structlog.get_logger(__name__)
router = APIRouter(tags=["cohorts"], responses=ERROR_RESPONSES)

_SPEC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The cohort spec of the contract (JSON; the CLI also reads YAML files). "
        "A participant may be a reference to a directory person (`person_id` and the cohort's "
        "own fields), resolved from the people directory at launch",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CohortSpec"}}},
    }
}


async def _spec_document(request: Request) -> object:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the cohort spec as application/json, not {content_type}",
            ["content-type: application/json expected"],
        )
    body = await request.body()
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        problem = f"body: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        raise InvalidInput("the body is not valid JSON; nothing was launched", [problem]) from error
    except UnicodeDecodeError as error:
        raise BadRequest("the body is not UTF-8 text", [f"body: {error.reason}"]) from error


def _check_size(document: dict[str, Any], limit: int) -> None:
    participants = document.get("participants")
    if isinstance(participants, list) and len(participants) > limit:
        raise LimitExceeded(
            f"a cohort has at most {limit} participants; this spec has {len(participants)}",
            [f"participants: at most {limit} participants per cohort"],
        )


@router.post(
    "/cohorts",
    status_code=202,
    summary="Launch a cohort (once per cohort id)",
    response_description="Launched: the matching outcome",
    responses={
        200: {
            "model": LaunchResult,
            "description": "Already launched: nothing started; the existing cohort's matching",
        }
    },
    openapi_extra=_SPEC_BODY,
)
async def launch_cohort(
    request: Request, response: Response, services: Services, _caller: HrOrService
) -> LaunchResult:
    """Validate the spec, start the cohort's workflow once and answer with its matching.

    A participant may reference a directory person instead of inlining a profile
    (``{"person_id": "p-001", "roles": ["mentee"], "seniority": 3}``); it is resolved from the
    people directory. A bad spec is a 422 naming every problem (unknown, deactivated, removed
    or forgotten people among them), and nothing is started. The same cohort id
    again, even concurrently or after the cohort closed, starts nothing: the answer (200) has
    ``already_launched: true`` and the existing cohort's matching.
    """
    result = await launch_document(services, await _spec_document(request))
    response.status_code = 200 if result.already_launched else 202
    response.headers["Location"] = f"/cohorts/{result.cohort_id}"
    return result


async def launch_document(services: ApiServices, document: object) -> LaunchResult:
    """Validate a decoded spec and launch it: ``POST /cohorts`` and the web console's launch.

    Participants that reference directory people (``person_id``) are resolved from the
    directory first (`mentorflow.directory.cohort_specs`); the validation and the launch then
    run on the resolved spec.

    Raises:
        InvalidInput: The spec is invalid (every problem named); nothing was started.
        LimitExceeded: Too many participants, or too large for a Temporal payload.
        ServiceUnavailable: Temporal did not answer.
    """
    if not isinstance(document, dict):
        raise InvalidInput(
            "the cohort spec is invalid; nothing was launched",
            ["document: expected a JSON object with cohort_id, program and participants"],
            code="cohort_spec_invalid",
        )
    _check_size(document, services.limits.max_cohort_participants)
    try:
        spec = await parse_spec_with_directory(document, services.people_directory())
    except CohortSpecInvalid as invalid:
        raise InvalidInput(
            "the cohort spec is invalid; nothing was launched",
            invalid.problems,
            code="cohort_spec_invalid",
        ) from invalid
    result = await launch(services.client, spec, services.settings.task_queue)
    log.info("cohort launch", cohort_id=spec.cohort_id, already_launched=result.already_launched)
    return result


@router.get("/cohorts", summary="Cohorts, a page at a time")
async def list_cohorts(
    services: Services,
    _caller: HrOrService,
    after: Annotated[
        str | None, Query(pattern=COHORT_ID_PATTERN, description="`next_after` of the last page")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
) -> CohortPage:
    """Cohorts in id order, from the read model."""
    return await cohort_page(services.pool, after=after, limit=limit)


@router.get("/cohorts/{cohort_id}", summary="A cohort", responses=NOT_FOUND_RESPONSE)
async def get_cohort(
    cohort_id: CohortIdPath, services: Services, _caller: HrOrService
) -> CohortView:
    """Its summary from the read model and its live state from the cohort workflow.

    Either may be missing for a moment (a launch not projected yet, a workflow without a
    worker); 404 only when neither knows the cohort.
    """
    summary = await cohort_summary(services.pool, cohort_id)
    try:
        state = await cohort_snapshot(
            services.client, cohort_id, timeout=services.limits.query_timeout_seconds
        )
    except (NotFound, ServiceUnavailable):
        if summary is None:
            raise
        return CohortView(cohort_id=cohort_id, summary=summary, live=None)
    return CohortView(cohort_id=cohort_id, summary=summary, live=CohortLive.model_validate(state))


@router.get(
    "/cohorts/{cohort_id}/dashboard", summary="HR's dashboard", responses=NOT_FOUND_RESPONSE
)
async def get_dashboard(
    cohort_id: CohortIdPath,
    services: Services,
    _caller: HrOrService,
    after: Annotated[
        str | None,
        Query(
            pattern=PERSON_ID_PATTERN,
            description="`mentor_load_next_after` of the previous page of mentor loads",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Mentor loads per page, ≤ {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
) -> CohortDashboard:
    """Pairs by stage, onboarding, cadence adherence, action plans, satisfaction, risk, load.

    The figures cover the whole cohort; the mentors' loads come ``limit`` at a time, in
    mentor id order.
    """
    dashboard = await cohort_dashboard(services.pool, cohort_id)
    if dashboard is None:
        raise NotFound(f"no cohort {cohort_id} in the read models")
    loads = sorted(dashboard.mentor_load, key=lambda load: load.mentor_id)
    if after is not None:
        loads = [load for load in loads if load.mentor_id > after]
    return dashboard.model_copy(
        update={
            "mentor_load": loads[:limit],
            "mentor_load_next_after": loads[limit - 1].mentor_id if len(loads) > limit else None,
        }
    )


@router.get(
    "/cohorts/{cohort_id}/matching",
    summary="The cohort's matching: each pair's score breakdown and reasons, unmatched mentees "
    "with reasons",
    responses=NOT_FOUND_RESPONSE,
)
async def get_matching(
    cohort_id: CohortIdPath, services: Services, _caller: HrOrService
) -> CohortMatching:
    """The draft (while awaiting HR's approval) or the final matching, live from the cohort.

    Each pair has its score, the score's parts (skills, objectives, personality, logistics)
    and the reasons in plain words; each unmatched mentee the reason; and the solver's report
    says how the optimum was found. 404 until the matching is done.
    """
    outcome = await cohort_matching(
        services.client, cohort_id, timeout=services.limits.query_timeout_seconds
    )
    return CohortMatching.of(outcome)


@router.post(
    "/cohorts/{cohort_id}/approval",
    summary="HR approves the draft matching, with overrides",
    responses=NOT_FOUND_RESPONSE,
)
async def approve_matching(
    cohort_id: CohortIdPath, body: ApprovalRequest, services: Services, _caller: HrAdmin
) -> MatchingOutcome:
    """Accept the proposed pairs, replacing some with HR's choices.

    Overrides are checked against every hard constraint and each mentor's capacity, exactly
    as the cohort's update validator does: 422 names every broken rule and records nothing.
    """
    return await update_cohort(
        services.client,
        cohort_id,
        CohortWorkflow.approve_matches,
        ApproveMatches(overrides=[PairOverride(**o.model_dump()) for o in body.overrides]),
        timeout=services.limits.update_timeout_seconds,
    )


@router.post(
    "/cohorts/{cohort_id}/participants",
    status_code=201,
    summary="Add a late joiner (validated like the spec)",
    responses=NOT_FOUND_RESPONSE,
)
async def add_participant(
    cohort_id: CohortIdPath, body: ParticipantSpec, services: Services, _caller: HrAdmin
) -> ParticipantAdded:
    """A person joins a running cohort; a mentee among them is matched at once."""
    return await update_cohort(
        services.client,
        cohort_id,
        CohortWorkflow.add_participant,
        AddParticipant(participant=body),
        timeout=services.limits.update_timeout_seconds,
    )
