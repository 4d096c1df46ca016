"""The synthetic cohort generator used by the benchmark and for demos at scale."""

from __future__ import annotations

from pathlib import Path

from domain.cohort_spec import parse_cohort_spec
from examples.generate_cohort import generate_cohort, main
from matching import SolverOptions, match_cohort


def test_generated_cohorts_are_valid_and_have_the_requested_roles() -> None:
    spec = parse_cohort_spec(generate_cohort(120, 40, seed=1))

    assert len(spec.mentees) == 120
    assert len(spec.mentors) == 40
    assert any(p.manager_id for p in spec.participants)
    assert any(p.is_mentor and p.is_mentee for p in spec.participants)


def test_the_same_seed_gives_the_same_cohort_and_another_seed_another() -> None:
    assert generate_cohort(30, 10, seed=5) == generate_cohort(30, 10, seed=5)
    assert generate_cohort(30, 10, seed=5) != generate_cohort(30, 10, seed=6)


def test_the_command_line_writes_json_and_yaml(tmp_path: Path) -> None:
    arguments = ["--mentees", "12", "--mentors", "5", "--seed", "2"]
    main([*arguments, "-o", str(tmp_path / "cohort.json")])
    main([*arguments, "--format", "yaml", "-o", str(tmp_path / "cohort.yaml")])

    from_json = parse_cohort_spec((tmp_path / "cohort.json").read_text(encoding="utf-8"))
    from_yaml = parse_cohort_spec((tmp_path / "cohort.yaml").read_text(encoding="utf-8"), "yaml")
    assert from_json == from_yaml
    assert from_json.cohort_id == "synthetic-12x5-s2"


def test_sparse_and_dense_paths_agree_on_a_synthetic_cohort() -> None:
    spec = parse_cohort_spec(generate_cohort(300, 90, seed=4))
    sparse = SolverOptions(dense_cells=0, mentee_candidates=4, reserve=8)

    dense_result = match_cohort(spec)
    sparse_result = match_cohort(spec, options=sparse)

    assert dense_result.solver.method == "dense"
    assert sparse_result.solver.method == "sparse"
    assert sparse_result.matched_count == dense_result.matched_count
    assert sparse_result.total_score == dense_result.total_score
