"""Read models: projections tailing the event store with per-stream checkpoints, and rebuild.

Each projection folds the events of its streams into a state and maps it to rows in the
``read_models`` schema; rows, state, checkpoint and the projection's position in the store
are written in one transaction, so each event takes effect exactly once.
"""

from projections.base import Projection, StreamProgress
from projections.cohort_health import CohortHealth, read_cohort_health
from projections.errors import (
    EventAlreadyApplied,
    EventNotFound,
    ProjectionError,
    RebuildInProgress,
    StreamOutOfOrder,
    UnknownProjection,
)
from projections.metrics import (
    ProjectionLag,
    ProjectionStatus,
    RateMeter,
    projection_stalls,
    projection_status,
)
from projections.queries import (
    CohortDashboardView,
    MentorLoadView,
    read_cohort_dashboard,
    read_mentor_load,
)
from projections.rebuild import RebuildResult, rebuild_projections
from projections.registry import all_projections, select_projections
from projections.runner import ProjectionRunner, RunnerOptions, run_projector
from projections.schema import SCHEMA, migrate_read_models
from projections.skips import SkipRecord, skip_event

__all__ = [
    "SCHEMA",
    "CohortDashboardView",
    "CohortHealth",
    "EventAlreadyApplied",
    "EventNotFound",
    "MentorLoadView",
    "Projection",
    "ProjectionError",
    "ProjectionLag",
    "ProjectionRunner",
    "ProjectionStatus",
    "RateMeter",
    "RebuildInProgress",
    "RebuildResult",
    "RunnerOptions",
    "SkipRecord",
    "StreamOutOfOrder",
    "StreamProgress",
    "UnknownProjection",
    "all_projections",
    "migrate_read_models",
    "projection_stalls",
    "projection_status",
    "read_cohort_dashboard",
    "read_cohort_health",
    "read_mentor_load",
    "rebuild_projections",
    "run_projector",
    "select_projections",
    "skip_event",
]
