"""Launching and reading cohorts: idempotency, every problem of a bad spec, paging, dashboard."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode

from domain.cohort_spec import parse_cohort_spec
from examples.generate_cohort import generate_cohort
from matching import assignment_violations
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, cohort_spec, project, unique
from tests.support import assert_eventually
from workflows.cohort import CohortWorkflow


async def _launch(http: httpx.AsyncClient, tokens: Tokens, spec: dict[str, Any]) -> httpx.Response:
    return await http.post("/cohorts", json=spec, headers=tokens.hr)


async def _relationships_started(api_stack: ApiStack, cohort_id: str, pairs: int) -> None:
    handle = api_stack.client.get_workflow_handle_for(CohortWorkflow.run, f"cohort-{cohort_id}")
    await assert_eventually(
        lambda: handle.query(CohortWorkflow.state),
        lambda state: state["relationships"] == pairs,
        timeout=60,
    )


async def test_a_launch_answers_with_the_matching_and_the_cohort_becomes_readable(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    spec = cohort_spec()
    cohort_id = spec["cohort_id"]

    launched = await http.post("/cohorts", json=spec, headers=tokens.integration)
    pairs = launched.json()["outcome"]["pairs"]
    await _relationships_started(api_stack, cohort_id, len(pairs))
    await project(api_stack.store)
    cohort = await http.get(f"/cohorts/{cohort_id}", headers=tokens.hr)
    dashboard = await http.get(f"/cohorts/{cohort_id}/dashboard", headers=tokens.hr)
    mentorship = await http.get(
        f"/mentorships/mentorship-{cohort_id}-{pairs[0]['mentee_id']}", headers=tokens.hr
    )

    assert launched.status_code == 202, launched.text
    assert launched.headers["location"] == f"/cohorts/{cohort_id}"
    assert launched.json()["already_launched"] is False
    unmatched = {u["mentee_id"]: u["reason"] for u in launched.json()["outcome"]["unmatched"]}
    assert "seniority" in unmatched["p-013"]
    assert cohort.status_code == 200, cohort.text
    assert cohort.json()["summary"]["participant_count"] == len(spec["participants"])
    assert cohort.json()["live"]["relationships"] == len(pairs)
    assert cohort.json()["live"]["unmatched"] == unmatched
    assert dashboard.status_code == 200, dashboard.text
    assert dashboard.json()["pairs"] == len(pairs)
    assert dashboard.json()["pairs_by_stage"] == {"onboarding": len(pairs)}
    assert sum(load["active_mentees"] for load in dashboard.json()["mentor_load"]) == len(pairs)
    assert mentorship.json()["stage"] == "onboarding"
    # Mentor loads come a page at a time; the pages together are the whole list.
    loads, after = [], None
    while True:
        page = await http.get(
            f"/cohorts/{cohort_id}/dashboard",
            params={"limit": 1} | ({"after": after} if after else {}),
            headers=tokens.hr,
        )
        assert len(page.json()["mentor_load"]) <= 1
        loads += page.json()["mentor_load"]
        after = page.json()["mentor_load_next_after"]
        if after is None:
            break
    assert loads == sorted(dashboard.json()["mentor_load"], key=lambda load: load["mentor_id"])


async def test_the_same_cohort_five_times_at_once_is_launched_once(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    spec = cohort_spec()

    responses = await asyncio.gather(*(_launch(http, tokens, spec) for _ in range(5)))
    again = await _launch(http, tokens, spec)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 200, 200, 200, 202], [r.text for r in responses]
    answers = [response.json() for response in [*responses, again]]
    assert [answer["already_launched"] for answer in answers].count(False) == 1
    assert again.status_code == 200
    assert len({json.dumps(answer["outcome"], sort_keys=True) for answer in answers}) == 1
    runs = [
        execution
        async for execution in api_stack.client.list_workflows(
            f'WorkflowId = "cohort-{spec["cohort_id"]}"'
        )
    ]
    assert len(runs) <= 1  # visibility may lag; the event stream is authoritative
    events = await api_stack.store.read_stream(f"cohort-{spec['cohort_id']}")
    assert [event.event_type for event in events].count("CohortLaunched") == 1


async def test_a_bad_spec_is_rejected_with_every_problem_and_nothing_starts(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    spec = cohort_spec()
    spec["participants"][1]["id"] = spec["participants"][0]["id"]
    spec["participants"][2]["manager_id"] = "p-999"
    spec["participants"][3]["timezone"] = "Mars/Olympus_Mons"
    spec["participants"][4]["favourite_colour"] = "teal"
    spec["program"]["ends_at"] = "2020-01-01T00:00:00+00:00"

    response = await _launch(http, tokens, spec)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "cohort_spec_invalid"
    problems = "\n".join(error["problems"])
    for expected in ("duplicate id", "p-999", "Mars/Olympus_Mons", "unknown field", "ends_at"):
        assert expected in problems, problems
    handle = api_stack.client.get_workflow_handle(f"cohort-{spec['cohort_id']}")
    with pytest.raises(RPCError) as missing:
        await handle.describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b'{"cohort_id": ', "application/json", 422, "invalid_input"),
        (b"[1, 2]", "application/json", 422, "cohort_spec_invalid"),
        (b"cohort_id: x", "application/yaml", 415, "unsupported_media_type"),
    ],
)
async def test_unreadable_specs_are_rejected(
    http: httpx.AsyncClient,
    tokens: Tokens,
    content: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    response = await http.post(
        "/cohorts", content=content, headers={**tokens.hr, "Content-Type": content_type}
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["problems"]


async def test_a_cohort_over_the_participant_limit_is_refused_naming_the_limit(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    spec = generate_cohort(mentees=14_600, mentors=5_600, seed=3, cohort_id=unique("big"))
    assert len(spec["participants"]) > 20_000

    response = await _launch(http, tokens, spec)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "limit_exceeded"
    assert "at most 20000 participants" in error["message"]
    assert error["problems"] == ["participants: at most 20000 participants per cohort"]


async def test_cohorts_are_listed_a_page_at_a_time(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    for _ in range(2):
        assert (await _launch(http, tokens, cohort_spec())).status_code == 202
    await project(api_stack.store)

    pages: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"after": after} if after else {})
        response = await http.get("/cohorts", params=params, headers=tokens.hr)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        after = response.json()["next_after"]
        if after is None:
            break
    everything = (await http.get("/cohorts", headers=tokens.hr)).json()
    too_many = await http.get("/cohorts", params={"limit": 201}, headers=tokens.hr)

    listed = [item["cohort_id"] for page in pages for item in page["items"]]
    assert listed == [item["cohort_id"] for item in everything["items"]]
    assert listed == sorted(listed)
    assert len(listed) >= 2
    assert all(len(page["items"]) <= 1 for page in pages)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["problems"] == [
        "query.limit: Input should be less than or equal to 200"
    ]


async def test_unknown_cohorts_are_404(http: httpx.AsyncClient, tokens: Tokens) -> None:
    cohort = await http.get("/cohorts/no-such-cohort", headers=tokens.hr)
    dashboard = await http.get("/cohorts/no-such-cohort/dashboard", headers=tokens.hr)
    cycle = await http.post(
        "/review-cycles", json={"cohort_id": "no-such-cohort"}, headers=tokens.hr
    )

    assert (cohort.status_code, dashboard.status_code, cycle.status_code) == (404, 404, 404)


async def test_hr_reviews_approves_and_extends_a_cohort_through_the_api(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    spec = cohort_spec()
    spec["program"]["require_hr_approval"] = True
    cohort_id = spec["cohort_id"]
    launched = await _launch(http, tokens, spec)
    assert launched.status_code == 202, launched.text

    draft = await http.get(f"/cohorts/{cohort_id}/matching", headers=tokens.integration)
    by_participant = await http.get(
        f"/cohorts/{cohort_id}/matching", headers=tokens.headers("p-007")
    )
    # p-006 manages p-007: never their mentor, whatever HR says.
    broken = await http.post(
        f"/cohorts/{cohort_id}/approval",
        json={"overrides": [{"mentor_id": "p-006", "mentee_id": "p-007"}]},
        headers=tokens.hr,
    )
    by_service = await http.post(
        f"/cohorts/{cohort_id}/approval", json={"overrides": []}, headers=tokens.integration
    )
    approved = await http.post(
        f"/cohorts/{cohort_id}/approval", json={"overrides": []}, headers=tokens.hr
    )
    joiner = {
        "id": "p-late",
        "name": "Late Joiner",
        "roles": ["mentor"],
        "seniority": 8,
        "timezone": "Europe/Berlin",
        "skills": {"python": 4},
    }
    joined = await http.post(f"/cohorts/{cohort_id}/participants", json=joiner, headers=tokens.hr)
    hostile = await http.post(
        f"/cohorts/{cohort_id}/participants",
        json={**joiner, "id": "p-late-2", "name": "Bad\x00Name"},
        headers=tokens.hr,
    )

    assert draft.status_code == 200, draft.text
    assert draft.json()["awaiting_approval"] is True
    assert draft.json()["pairs"], draft.text
    assert all(pair["reasons"] for pair in draft.json()["pairs"])
    assert by_participant.status_code == 403
    assert broken.status_code == 422, broken.text
    assert any("p-006 -> p-007" in problem for problem in broken.json()["error"]["problems"])
    assert by_service.status_code == 403
    assert approved.status_code == 200, approved.text
    assert approved.json()["awaiting_approval"] is False
    assert joined.status_code == 201, joined.text
    assert joined.json()["participant_id"] == "p-late"
    assert hostile.status_code == 422
    assert any("name" in problem for problem in hostile.json()["error"]["problems"])


BREAKDOWN_PARTS = {"skills", "objectives", "personality", "logistics"}


async def test_the_matching_shows_each_pairs_score_breakdown_as_a_draft_then_as_approved(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    spec = cohort_spec()
    spec["program"]["require_hr_approval"] = True
    cohort_id = spec["cohort_id"]
    launched = await _launch(http, tokens, spec)
    assert launched.status_code == 202, launched.text

    draft = await http.get(f"/cohorts/{cohort_id}/matching", headers=tokens.hr)
    proposal = {p["mentee_id"]: p["mentor_id"] for p in draft.json()["pairs"]}
    override = _allowed_override(spec, proposal)
    approved = await http.post(
        f"/cohorts/{cohort_id}/approval", json={"overrides": [override]}, headers=tokens.hr
    )
    final = await http.get(f"/cohorts/{cohort_id}/matching", headers=tokens.hr)
    by_mentor = await http.get(
        f"/cohorts/{cohort_id}/matching", headers=tokens.headers(override["mentor_id"])
    )
    await _relationships_started(api_stack, cohort_id, len(final.json()["pairs"]))
    (recorded,) = [
        e
        for e in await api_stack.store.read_stream(f"cohort-{cohort_id}")
        if e.event_type == "MatchingCompleted"
    ]

    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert (body["status"], body["awaiting_approval"]) == ("draft", True)
    assert body["pairs"]
    assert all(pair["reasons"] for pair in body["pairs"])
    for pair in body["pairs"]:
        assert set(pair["breakdown"]) == BREAKDOWN_PARTS
        assert all(0 <= value <= 1 for value in pair["breakdown"].values())
        assert pair["chosen_by_hr"] is False
    assert body["solver"]["method"] in {"dense", "sparse"}
    assert body["solver"]["candidate_pairs"] >= len(body["pairs"])
    unmatched = {u["mentee_id"]: u for u in body["unmatched"]}
    assert unmatched["p-013"]["reason_code"] == "no_senior_mentor"
    assert "seniority" in unmatched["p-013"]["reason"]
    assert approved.status_code == 200, approved.text
    assert by_mentor.status_code == 403
    assert final.status_code == 200, final.text
    body = final.json()
    assert (body["status"], body["awaiting_approval"]) == ("final", False)
    chosen = {p["mentee_id"]: p for p in body["pairs"] if p["chosen_by_hr"]}
    assert list(chosen) == [override["mentee_id"]]
    assert chosen[override["mentee_id"]]["mentor_id"] == override["mentor_id"]
    assert chosen[override["mentee_id"]]["breakdown"] is None
    kept = [p for p in body["pairs"] if not p["chosen_by_hr"]]
    assert all(set(p["breakdown"]) == BREAKDOWN_PARTS for p in kept)
    assert body["solver"] == draft.json()["solver"]
    # The event keeps what the answer shows: version 2, a breakdown for every proposed pair.
    assert recorded.schema_version == 2
    assert set(recorded.data["breakdowns"]) == set(proposal)
    assert recorded.data["solver"] == body["solver"]


def _allowed_override(spec: dict[str, Any], proposal: dict[str, str]) -> dict[str, str]:
    """HR's choice of another mentor for one mentee that breaks no hard constraint."""
    parsed = parse_cohort_spec(spec)
    for mentee_id in sorted(proposal):
        for mentor in parsed.mentors:
            pairs = {**proposal, mentee_id: mentor.id}
            if mentor.id != proposal[mentee_id] and not assignment_violations(
                parsed, [(m, e) for e, m in pairs.items()]
            ):
                return {"mentor_id": mentor.id, "mentee_id": mentee_id}
    raise AssertionError("no other allowed mentor for any mentee of the example cohort")
