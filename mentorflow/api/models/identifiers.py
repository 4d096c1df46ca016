"""Path and body identifiers, with the patterns the workflows' ids follow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import StringConstraints

from domain.cohort_spec import PARTICIPANT_ID_PATTERN

COHORT_ID_PATTERN = r"^[a-z0-9-]{3,64}$"
PERSON_ID_PATTERN = rf"^{PARTICIPANT_ID_PATTERN}$"
MENTORSHIP_ID_PATTERN = r"^mentorship-[A-Za-z0-9._@-]{1,160}$"
LOCAL_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"

CohortIdText = Annotated[str, StringConstraints(pattern=COHORT_ID_PATTERN)]
LocalIdText = Annotated[str, StringConstraints(pattern=LOCAL_ID_PATTERN)]
PersonIdText = Annotated[str, StringConstraints(pattern=PERSON_ID_PATTERN)]

CohortIdPath = Annotated[
    str, Path(pattern=COHORT_ID_PATTERN, description="Cohort id", examples=["eng-2027-q1"])
]
PersonIdPath = Annotated[
    str, Path(pattern=PERSON_ID_PATTERN, description="Participant id", examples=["p-002"])
]
MentorshipIdPath = Annotated[
    str,
    Path(
        pattern=MENTORSHIP_ID_PATTERN,
        description="The relationship's workflow id, also its event stream id",
        examples=["mentorship-eng-2027-q1-p-002"],
    ),
]
ItemIdPath = Annotated[str, Path(pattern=LOCAL_ID_PATTERN, examples=["a-1"])]
GoalIdPath = Annotated[str, Path(pattern=LOCAL_ID_PATTERN, examples=["g-1"])]
ChallengeIdPath = Annotated[str, Path(pattern=LOCAL_ID_PATTERN, examples=["c-1"])]
CycleIdPath = Annotated[str, Path(pattern=LOCAL_ID_PATTERN, examples=["2027-h1"])]
