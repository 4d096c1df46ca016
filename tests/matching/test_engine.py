"""The engine's entry points: matching, unmatched reasons, overrides and rematches."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.cohort_spec import CohortSpec, parse_cohort_spec
from matching import (
    MatchedPair,
    UnknownParticipant,
    UnmatchedMentee,
    UnmatchedReason,
    assignment_violations,
    match_cohort,
    override_violations,
    rematch_mentee,
)
from tests.matching import cohort, person

EXAMPLE = Path(__file__).parents[2] / "examples" / "cohort-small.yaml"


def example() -> CohortSpec:
    return parse_cohort_spec(EXAMPLE.read_text(encoding="utf-8"), "yaml")


def pairs_of(spec: CohortSpec) -> set[tuple[str, str]]:
    return {(pair.mentor_id, pair.mentee_id) for pair in match_cohort(spec).pairs}


def test_the_example_cohort_matches_everyone_it_can_and_explains_the_rest() -> None:
    result = match_cohort(example())

    assert result.matched_count == 7
    assert [(u.mentee_id, u.reason_code) for u in result.unmatched] == [
        ("p-013", UnmatchedReason.NO_SENIOR_MENTOR)
    ]
    assert result.unmatched[0].reason == (
        "no mentor at least 1 seniority level above (mentee is level 9)"
    )
    assert all(pair.reasons for pair in result.pairs)
    assert result.total_score == pytest.approx(sum(pair.score for pair in result.pairs), abs=0.01)


def test_the_example_cohort_respects_reporting_lines_avoid_lists_and_self() -> None:
    pairs = pairs_of(example())

    assert ("p-006", "p-007") not in pairs  # Priya manages Jonas
    assert ("p-001", "p-007") not in pairs  # Ada manages Priya
    assert ("p-005", "p-010") not in pairs  # Lars and Tomas avoid each other
    assert ("p-006", "p-006") not in pairs


def test_a_larger_match_count_beats_a_better_total_score() -> None:
    # The strong mentor suits both mentees best, but only one mentor can take the senior mentee:
    # matching both mentees beats giving the strong mentor to the one who scores highest.
    strong = person("m-strong", "mentor", seniority=9, skills={"python": 5}, mentor_capacity=1)
    weak = person("m-weak", "mentor", seniority=5, skills={"python": 1}, mentor_capacity=1)
    senior_mentee = person("e-senior", seniority=7, wants_to_develop=["python"])
    junior_mentee = person("e-junior", seniority=2, wants_to_develop=["python"])

    pairs = pairs_of(cohort(strong, weak, senior_mentee, junior_mentee))

    assert pairs == {("m-strong", "e-senior"), ("m-weak", "e-junior")}


def test_unmatched_mentees_carry_the_reason_for_the_binding_constraint() -> None:
    spec = cohort(
        person("boss", "mentor", seniority=8, mentor_capacity=1),
        person("avoided", "mentor", seniority=8, avoid=["report"]),
        person("peer", "mentor", seniority=5, mentor_capacity=1),
        person("report", seniority=5, manager_id="boss"),
        person("top", seniority=8),
        person("first", seniority=2, wants_to_develop=["x"]),
        person("second", seniority=2),
    )

    reasons = {u.mentee_id: (u.reason_code, u.reason) for u in match_cohort(spec).unmatched}

    assert reasons["top"] == (
        UnmatchedReason.NO_SENIOR_MENTOR,
        "no mentor at least 1 seniority level above (mentee is level 8)",
    )
    assert reasons["report"] == (
        UnmatchedReason.ONLY_EXCLUDED_MENTORS,
        "the only mentors senior enough are in the reporting line (1) or on an avoid list (1)",
    )
    # "peer" is at the same level as "report"; the juniors find places with every mentor.
    assert set(reasons) == {"top", "report"}


def test_a_mentee_left_out_for_capacity_is_told_so() -> None:
    spec = cohort(
        person("only", "mentor", mentor_capacity=1),
        person("a"),
        person("b"),
    )

    (unmatched,) = match_cohort(spec).unmatched

    assert unmatched.reason_code is UnmatchedReason.CAPACITY_EXHAUSTED
    assert unmatched.reason == "every eligible mentor is at capacity (1 eligible mentor is full)"


def test_a_cohort_whose_only_mentor_is_the_mentee_has_no_other_mentor() -> None:
    spec = cohort(person("both", "mentor", "mentee", seniority=5), person("x", "mentor"))
    spec = spec.model_copy(update={"participants": spec.participants[:1]})

    (unmatched,) = match_cohort(spec).unmatched

    assert unmatched.reason_code is UnmatchedReason.NO_OTHER_MENTOR


def test_the_order_of_participants_does_not_change_the_result() -> None:
    spec = example()
    reversed_spec = spec.model_copy(update={"participants": spec.participants[::-1]})

    assert match_cohort(reversed_spec) == match_cohort(spec)


def test_override_that_breaks_hard_constraints_lists_every_reason() -> None:
    spec = example()

    assert override_violations(spec, "p-006", "p-007", mentor_load=1) == [
        "p-006 is in p-007's reporting line",
        "p-006 is at capacity (1 of 1 mentees)",
    ]
    assert override_violations(spec, "p-005", "p-010") == [
        "p-005 is in p-010's reporting line",
        "p-005 and p-010 are on each other's avoid list",
    ]
    assert override_violations(spec, "p-001", "p-013") == [
        "p-001 has seniority 9, below the required 10 (1 above p-013)",
    ]
    assert override_violations(spec, "p-006", "p-006") == ["p-006 cannot mentor themselves"]
    assert override_violations(spec, "p-007", "p-008") == ["'p-007' is not a mentor of this cohort"]


def test_override_that_keeps_the_rules_is_accepted() -> None:
    assert override_violations(example(), "p-004", "p-012", mentor_load=1) == []


def test_a_whole_set_of_pairs_is_checked_for_duplicates_and_capacity() -> None:
    pairs = [("p-006", "p-009"), ("p-006", "p-011"), ("p-002", "p-011"), ("p-005", "p-010")]

    assert assignment_violations(example(), pairs) == [
        "p-005 -> p-010: p-005 is in p-010's reporting line",
        "p-005 -> p-010: p-005 and p-010 are on each other's avoid list",
        "p-011 is given 2 mentors",
        "p-006 is given 2 mentees, above capacity 1",
    ]


def test_rematch_never_proposes_an_excluded_mentor_and_respects_capacity() -> None:
    spec = example()
    first = rematch_mentee(spec, "p-011", mentor_loads={})
    assert isinstance(first, MatchedPair)
    assert first.mentor_id == "p-004"

    again = rematch_mentee(spec, "p-011", mentor_loads={"p-001": 3}, excluded_mentor_ids=["p-004"])

    assert isinstance(again, MatchedPair)
    assert again.mentor_id not in {"p-004", "p-001"}


def test_rematch_without_any_place_left_says_why() -> None:
    spec = example()
    loads = {"p-001": 3, "p-002": 2, "p-003": 2, "p-004": 2, "p-005": 2, "p-006": 1}

    answer = rematch_mentee(spec, "p-012", mentor_loads=loads)

    assert isinstance(answer, UnmatchedMentee)
    assert answer.reason_code is UnmatchedReason.CAPACITY_EXHAUSTED


def test_rematch_of_someone_who_is_not_a_mentee_is_refused() -> None:
    with pytest.raises(UnknownParticipant, match="'p-001' is not a mentee"):
        rematch_mentee(example(), "p-001", mentor_loads={})
