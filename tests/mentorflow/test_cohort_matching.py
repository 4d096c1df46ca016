"""The matching view of the route and the CLI, from the cohort workflow's query answer."""

from __future__ import annotations

from events.cohort import Pair, ScoreBreakdown, SolverReport, Unmatched
from mentorflow.cohorts import CohortMatching
from workflows.cohort_models import MatchingOutcome

PROPOSED = [
    Pair(mentor_id="m1", mentee_id="e1", score=0.8, reasons=["shares python"]),
    Pair(mentor_id="m2", mentee_id="e2", score=0.6, reasons=["same time zone"]),
]
UNMATCHED = [Unmatched(mentee_id="e3", reason_code="capacity_exhausted", reason="full")]
PARTS = ScoreBreakdown(skills=0.9, objectives=1.0, personality=0.5, logistics=0.75)
SOLVER = SolverReport(method="dense", rounds=0, candidate_pairs=6)


def _outcome(**fields: object) -> MatchingOutcome:
    values: dict[str, object] = {
        "cohort_id": "c",
        "awaiting_approval": True,
        "pairs": PROPOSED,
        "unmatched": UNMATCHED,
        "total_score": 1.4,
    }
    return MatchingOutcome.model_validate(values | fields)


def test_a_draft_shows_every_proposed_pair_with_its_breakdown() -> None:
    view = CohortMatching.of(_outcome(breakdowns={"e1": PARTS, "e2": PARTS}, solver=SOLVER))

    assert view.status == "draft"
    assert [(p.mentee_id, p.breakdown, p.chosen_by_hr) for p in view.pairs] == [
        ("e1", PARTS, False),
        ("e2", PARTS, False),
    ]
    assert view.unmatched == UNMATCHED
    assert view.solver == SOLVER


def test_the_final_matching_shows_hrs_choices_without_a_breakdown() -> None:
    chosen = Pair(mentor_id="m2", mentee_id="e3", score=0.0, reasons=["chosen by HR"])
    view = CohortMatching.of(
        _outcome(
            awaiting_approval=False,
            breakdowns={"e1": PARTS, "e2": PARTS},
            approved_pairs=[PROPOSED[0], chosen, PROPOSED[1]],
        )
    )

    assert view.status == "final"
    assert [(p.mentee_id, p.chosen_by_hr) for p in view.pairs] == [
        ("e1", False),
        ("e2", False),
        ("e3", True),
    ]
    assert view.pairs[2].breakdown is None
    assert view.unmatched == []  # HR found e3 a mentor


def test_a_matching_recorded_before_breakdowns_has_none() -> None:
    view = CohortMatching.of(_outcome(awaiting_approval=False))

    assert view.status == "final"
    assert all(pair.breakdown is None for pair in view.pairs)
    assert view.solver is None
