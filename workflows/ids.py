"""Workflow ids of the contract (a mentorship's id is also its event stream id)."""

from __future__ import annotations


def cohort_workflow_id(cohort_id: str) -> str:
    """``cohort-{cohort_id}``."""
    return f"cohort-{cohort_id}"


def mentorship_workflow_id(cohort_id: str, mentee_id: str, rematch: int = 0) -> str:
    """``mentorship-{cohort_id}-{mentee_id}``, with ``-r{n}`` after the n-th rematch."""
    base = f"mentorship-{cohort_id}-{mentee_id}"
    return base if rematch == 0 else f"{base}-r{rematch}"


def person_changes_workflow_id(person_id: str) -> str:
    """``person-changes-{person_id}``: the leaver and mover flows of one person."""
    return f"person-changes-{person_id}"
