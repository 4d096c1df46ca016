"""The custom search attributes of the contract.

They are stored unencrypted by the Temporal server and shown in its UI, so they carry ids,
stages, dates and counts only: never names or free text.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

COHORT_ID = SearchAttributeKey.for_keyword("MentorflowCohortId")
MENTOR_ID = SearchAttributeKey.for_keyword("MentorflowMentorId")
MENTEE_ID = SearchAttributeKey.for_keyword("MentorflowMenteeId")
STAGE = SearchAttributeKey.for_keyword("MentorflowStage")
NEXT_CONVERSATION_DUE = SearchAttributeKey.for_datetime("MentorflowNextConversationDue")
MISSED_CONVERSATIONS = SearchAttributeKey.for_int("MentorflowMissedConversations")

ALL_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    COHORT_ID,
    MENTOR_ID,
    MENTEE_ID,
    STAGE,
    NEXT_CONVERSATION_DUE,
    MISSED_CONVERSATIONS,
)
