"""HR pages' pure parts: spec problems by participant, Temporal UI links, override forms,
review-cycle outcomes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.datastructures import FormData

from domain.cohort_spec import CohortSpecInvalid, parse_cohort_spec
from events.cohort import Pair
from mentorflow.api.models.review_cycles import CohortRelationship, ReviewOutcome
from mentorflow.console.hr import _page_number
from mentorflow.console.hr_approval import merged, pending_overrides, requested
from mentorflow.console.hr_reviews import cycles_of
from mentorflow.console.ops import OpsLinks
from mentorflow.console.spec_problems import WHOLE, group_problems
from mentorflow.settings import Settings
from workflows.cohort_models import MatchingOutcome, PairOverride

DOCUMENT = {
    "participants": [
        {"id": "p-001", "name": "Ada Obi"},
        {"name": "no id"},
        {"id": "p-003", "name": "Zoë Ünal"},
    ]
}


def test_problems_are_grouped_by_participant_and_field_in_spec_order() -> None:
    grouped = group_problems(
        [
            "participants[2].skills.python: Input should be less than or equal to 5 (got 9)",
            "program.starts_at: required field is missing",
            "participants[0].manager_id: unknown participant 'p-999'",
            "participants[2].skills.python: another",
            "participants[1].id: required field is missing",
            "participants[2]: not a mapping",
            "something without a location",
        ],
        DOCUMENT,
    )

    assert grouped.general == {
        "program.starts_at": ["required field is missing"],
        "document": ["something without a location"],
    }
    assert [(p.label, p.fields) for p in grouped.participants] == [
        ("p-001 (Ada Obi)", {"manager_id": ["unknown participant 'p-999'"]}),
        ("participant 2 (no id)", {"id": ["required field is missing"]}),
        (
            "p-003 (Zoë Ünal)",
            {
                "skills.python": ["Input should be less than or equal to 5 (got 9)", "another"],
                WHOLE: ["not a mapping"],
            },
        ),
    ]
    assert grouped.count == 7


def test_problems_of_an_unreadable_document_name_positions_only() -> None:
    grouped = group_problems(["participants[4].id: duplicate"], None)

    assert grouped.participants[0].label == "participant 5 (no id)"


def test_notification_problems_show_under_their_participant_or_their_path() -> None:
    document: dict[str, Any] = copy.deepcopy(DOCUMENT)
    document["participants"][0]["email"] = "ada at example"
    document["notifications"] = {
        "hr_contacts": [
            {"id": "p-003", "name": "HR", "email": "hr@example.com", "timezone": "UTC"}
        ],
        "webhooks": [{"kind": "slack", "url": "http://hooks.example.com/x"}],
    }
    with pytest.raises(CohortSpecInvalid) as invalid:
        parse_cohort_spec(document)

    grouped = group_problems(invalid.value.problems, document)

    assert set(grouped.participants[0].fields) >= {"email"}
    assert grouped.general["notifications.webhooks[0].url"] == [
        "not a webhook URL: must be an https:// URL"
    ]
    assert grouped.general["notifications.hr_contacts[0].id"][0].startswith(
        "'p-003' is also the id of participants[2]"
    )


def test_no_temporal_ui_means_no_links() -> None:
    links = OpsLinks.of(Settings(temporal_ui_url=None))

    assert links.cohort("c-1") is None
    assert links.relationship("c-1", "p-1", "p-2") is None
    assert links.workflow("mentorship-c-1-p-2") is None


def test_links_filter_by_the_contracts_search_attributes() -> None:
    links = OpsLinks.of(Settings(temporal_ui_url="http://ui:8233/", temporal_namespace="prod"))

    cohort = links.cohort("c-1")
    pair = links.relationship("c-1", "p-1", "p-2")
    workflow = links.workflow("mentorship-c-1-p-2")

    assert cohort is not None
    assert pair is not None
    assert (
        unquote(cohort) == 'http://ui:8233/namespaces/prod/workflows?query=MentorflowCohortId="c-1"'
    )
    assert workflow == "http://ui:8233/namespaces/prod/workflows/mentorship-c-1-p-2"
    assert unquote(pair).endswith(
        'query=MentorflowCohortId="c-1" AND MentorflowMentorId="p-1" AND MentorflowMenteeId="p-2"'
    )


OUTCOME = MatchingOutcome(
    cohort_id="c-1",
    awaiting_approval=True,
    pairs=[
        Pair(mentor_id="m-1", mentee_id="e-1", score=0.5),
        Pair(mentor_id="m-2", mentee_id="e-2", score=0.5),
    ],
    unmatched=[],
    total_score=1.0,
)


def test_a_swap_exchanges_the_current_mentors_pending_overrides_included() -> None:
    pending = [PairOverride(mentee_id="e-2", mentor_id="m-3")]
    form = FormData([("kind", "swap"), ("first_mentee", "e-1"), ("second_mentee", "e-2")])

    new, problems = requested(form, OUTCOME, pending)

    assert problems == {}
    assert new == [
        PairOverride(mentee_id="e-1", mentor_id="m-3"),
        PairOverride(mentee_id="e-2", mentor_id="m-1"),
    ]
    assert sorted(merged(pending, new), key=lambda o: o.mentee_id) == new


def test_an_incomplete_override_form_names_each_missing_field() -> None:
    assign = requested(FormData([("kind", "assign")]), OUTCOME, [])
    swap = requested(
        FormData([("kind", "swap"), ("first_mentee", "e-1"), ("second_mentee", "e-1")]),
        OUTCOME,
        [],
    )
    not_an_id = requested(
        FormData([("mentee_id", "e-1"), ("mentor_id", "m 1<script>")]), OUTCOME, []
    )

    assert assign == (
        [],
        {"mentee_id": ["give a mentee id"], "mentor_id": ["give the mentor's id"]},
    )
    assert swap == ([], {"second_mentee": ["choose two different mentees"]})
    assert not_an_id[1] == {"mentor_id": ["'m 1<script>' is not a participant id"]}


def test_pending_overrides_keep_only_what_the_page_could_have_written() -> None:
    form = FormData(
        [
            ("override", "e-1:m-2"),
            ("override", "bad"),
            ("override", "e 2:m-1"),
            ("override", "e-1:m-3"),
        ]
    )

    assert pending_overrides(form) == [PairOverride(mentee_id="e-1", mentor_id="m-3")]


def _outcome(mentorship_id: str, cycle_id: str, status: str) -> ReviewOutcome:
    moment = datetime(2027, 6, 30, tzinfo=UTC)
    return ReviewOutcome.model_validate(
        {
            "mentorship_id": mentorship_id,
            "cycle_id": cycle_id,
            "mentor_id": "m-1",
            "mentee_id": mentorship_id[-3:],
            "status": status,
            "drafted_at": moment,
            "respond_by": moment,
            "decided_at": None if status == "awaiting_mentee" else moment,
            "edited_by_mentee": False,
        }
    )


def test_a_cycle_lists_each_decision_and_the_running_pairs_without_a_summary() -> None:
    relationships = [
        CohortRelationship(mentorship_id=f"m-c-{e}", mentor_id="m-1", mentee_id=e, stage=stage)
        for e, stage in (("e-1", "active"), ("e-2", "active"), ("e-3", "active"), ("e-4", "closed"))
    ]
    outcomes = [
        _outcome("m-c-e-2", "h2", "withheld"),
        _outcome("m-c-e-1", "h2", "shared"),
        _outcome("m-c-e-1", "h1", "awaiting_mentee"),
    ]

    cycles = cycles_of(outcomes, relationships)

    assert [cycle.cycle_id for cycle in cycles] == ["h2", "h1"]
    h2, h1 = cycles
    assert [o.mentorship_id for o in h2.outcomes] == ["m-c-e-1", "m-c-e-2"]
    assert (h2.count("shared"), h2.count("withheld"), h2.count("awaiting_mentee")) == (1, 1, 0)
    assert [r.mentee_id for r in h2.not_drafted] == ["e-3"]  # e-4 closed: not expected
    assert [r.mentee_id for r in h1.not_drafted] == ["e-2", "e-3"]


def test_a_matching_page_number_is_read_leniently() -> None:
    assert [_page_number(text) for text in ("1", "3", "0", "-2", "x", "", "9999999")] == [
        1,
        3,
        1,
        1,
        1,
        1,
        1,
    ]


def test_a_reference_is_labelled_by_its_person_id() -> None:
    document = {"participants": [{"person_id": "p-404", "roles": ["mentee"], "seniority": 2}]}

    grouped = group_problems(
        ["participants[0].person_id: unknown person 'p-404' (not in the people directory)"],
        document,
    )

    assert [(p.label, p.fields) for p in grouped.participants] == [
        ("p-404", {"person_id": ["unknown person 'p-404' (not in the people directory)"]})
    ]
