"""The program settings a relationship runs under."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

DEFAULT_TRAINING_MODULES = ["active-listening", "constructive-feedback", "career-goal-setting"]


class ProgramTerms(BaseModel):
    """Calendar and rules of the program, fixed when the relationship starts.

    The windows not named in the cohort spec (reminder lead, review and survey windows) scale
    with the cadence, so an accelerated demo calendar (``PT30S``) keeps its proportions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cohort_id: str
    program_name: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    conversation_cadence: timedelta = Field(gt=timedelta(0))
    grace_period: timedelta = Field(ge=timedelta(0))
    onboarding_window: timedelta = Field(gt=timedelta(0))
    escalate_after_missed: int = Field(default=2, ge=1)
    training_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_TRAINING_MODULES))
    review_cycles: list[AwareDatetime] = Field(default_factory=list)
    reminder_lead: timedelta | None = None
    review_window: timedelta | None = None
    survey_window: timedelta | None = None

    @property
    def effective_reminder_lead(self) -> timedelta:
        """How long before a deadline a reminder goes out (default: a seventh of the cadence)."""
        return (
            self.reminder_lead if self.reminder_lead is not None else self.conversation_cadence / 7
        )

    @property
    def effective_review_window(self) -> timedelta:
        """How long the mentee has to approve a review summary (default: one cadence)."""
        return self.review_window if self.review_window is not None else self.conversation_cadence

    @property
    def effective_survey_window(self) -> timedelta:
        """How long the closing survey stays open (default: half a cadence)."""
        return (
            self.survey_window if self.survey_window is not None else self.conversation_cadence / 2
        )
