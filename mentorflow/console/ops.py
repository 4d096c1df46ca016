"""Links from the console to the Temporal Web UI, filtered by the contract's search attributes.

Operators find a cohort's workflows by ``MentorflowCohortId`` and a relationship's (its
rematches included) by the cohort, mentor and mentee ids. No links without
``MENTORFLOW_TEMPORAL_UI_URL``: the console does not guess where the UI is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from mentorflow.settings import Settings


@dataclass(frozen=True, slots=True)
class OpsLinks:
    """Temporal UI links of one namespace; every link is None when no UI is configured."""

    base_url: str | None
    namespace: str

    @classmethod
    def of(cls, settings: Settings) -> OpsLinks:
        """The links the settings allow."""
        base = settings.temporal_ui_url
        return cls(base.rstrip("/") if base else None, settings.temporal_namespace)

    def search(self, query: str) -> str | None:
        """The UI's workflow list filtered by a visibility query."""
        if self.base_url is None:
            return None
        namespace = quote(self.namespace, safe="")
        return f"{self.base_url}/namespaces/{namespace}/workflows?query={quote(query, safe='')}"

    def workflow(self, workflow_id: str) -> str | None:
        """One workflow's page (its current run, history and pending activities)."""
        if self.base_url is None:
            return None
        namespace = quote(self.namespace, safe="")
        return f"{self.base_url}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"

    def cohort(self, cohort_id: str) -> str | None:
        """The cohort's workflow and its relationships'."""
        return self.search(cohort_query(cohort_id))

    def relationship(self, cohort_id: str, mentor_id: str, mentee_id: str) -> str | None:
        """One pair's relationship workflow."""
        return self.search(relationship_query(cohort_id, mentor_id, mentee_id))


def cohort_query(cohort_id: str) -> str:
    """``MentorflowCohortId="…"``."""
    return f'MentorflowCohortId="{cohort_id}"'


def relationship_query(cohort_id: str, mentor_id: str, mentee_id: str) -> str:
    """The cohort's workflows of this mentor and mentee (ids never hold a quote)."""
    return (
        f'{cohort_query(cohort_id)} AND MentorflowMentorId="{mentor_id}" '
        f'AND MentorflowMenteeId="{mentee_id}"'
    )
