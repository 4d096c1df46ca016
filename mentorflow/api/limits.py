"""Limits that protect the service; going over one is a 413 or 422 that names it.

The cohort size limit comes from Temporal: the cohort workflow receives the whole spec as its
input, and Temporal rejects payloads over 2 MiB (``limit.blobSize.error``). A validated
participant takes about 510 bytes of JSON; the data converter compresses large payloads
(`mentorflow.converter`), about 11:1 for specs, so 20,000 participants (≈ 10 MB of JSON,
≈ 1 MB compressed) stay under it. The body limit of a launch is larger than the default so
that a spec at the participant limit fits.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MiB = 1024 * 1024
MAX_PAGE_SIZE = 200
"""Largest ``limit`` of a list (static: it is part of the OpenAPI document)."""
DEFAULT_PAGE_SIZE = 50


class ApiLimits(BaseModel):
    """Bounds on requests and on how long the API waits for others."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=1 * MiB, ge=1, description="Every route but the launch")
    max_cohort_body_bytes: int = Field(default=16 * MiB, ge=1, description="POST /cohorts")
    max_cohort_participants: int = Field(default=20_000, ge=2)
    max_projection_lag_events: int = Field(
        default=10_000, ge=0, description="/readyz fails when a projection is further behind"
    )
    update_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Wait for a workflow update's outcome"
    )
    query_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Wait for a workflow query (the live stage)"
    )
    probe_timeout_seconds: float = Field(default=3.0, gt=0, description="Each /readyz check")
    signal_concurrency: int = Field(
        default=32, ge=1, description="Review-cycle signals in flight at once"
    )
