"""Recorded histories replay against today's workflow code: determinism is guarded in CI.

A change to `MentorshipWorkflow`, `CohortWorkflow` or `PersonChangesWorkflow` that would break
running workflows fails here; such a change needs `workflow.patched(...)`. Histories named
``cohort_*`` are the cohort workflow's (recorded by `test_cohort_history` with the fixtures'
payload key), ``person_changes_*`` the leaver flow's (`test_person_changes`). Re-record the
fixtures only for a deliberate, versioned change:
``MENTORFLOW_RECORD_HISTORIES=1 pytest tests/workflows``.
"""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from tests.workflows.scenario import FIXTURE_PAYLOAD_KEYS, HISTORIES
from workflows.cohort import CohortWorkflow
from workflows.mentorship import MentorshipWorkflow
from workflows.person_changes import PersonChangesWorkflow

FIXTURES = sorted(HISTORIES.glob("*.json"))
TEXTS = {path.stem: path.read_text(encoding="utf-8") for path in FIXTURES}


def test_every_scenario_has_a_recorded_history() -> None:
    assert {path.stem for path in FIXTURES} >= {
        "healthy_year",
        "neglected",
        "paused_and_resumed",
        "rematch",
        "review_withheld",
        "three_years_final_run",
        "cohort_first_run",
        "cohort_last_run",
        "person_changes_returned",
        "person_changes_left",
    }


@pytest.mark.parametrize("name", sorted(TEXTS))
async def test_recorded_history_replays_without_nondeterminism(name: str) -> None:
    history = WorkflowHistory.from_json(f"replay-{name}", TEXTS[name])
    workflows: list[type]
    if name.startswith("cohort_"):
        # Recorded with the fixtures' payload key.
        converter = data_converter(FIXTURE_PAYLOAD_KEYS)
        workflows = [CohortWorkflow]
    elif name.startswith("person_changes_"):
        # Recorded by test_person_changes with the fixtures' payload key.
        converter = data_converter(FIXTURE_PAYLOAD_KEYS)
        workflows = [PersonChangesWorkflow]
    else:
        # The histories were recorded before payloads were encrypted: they pass through.
        converter = data_converter(Settings().payload_keyring(), require_encryption=False)
        workflows = [MentorshipWorkflow]
    replayer = Replayer(workflows=workflows, data_converter=converter)

    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)

    assert result.replay_failure is None
