"""Read models: projections with per-stream checkpoints, a JetStream runner, and rebuild.

Each projection folds the events of its streams into a state and maps it to rows in the
``read_models`` schema; rows, state and checkpoint are written in one transaction, so each
event takes effect exactly once however often, and in whatever order, it is delivered.
"""

from projections.applier import HandleResult, Outcome, ProjectionApplier
from projections.base import Projection, StreamProgress
from projections.config import ProjectorConfig
from projections.errors import (
    EventNotInStore,
    ProjectionError,
    RebuildInProgress,
    StreamOutOfOrder,
    UnknownProjection,
)
from projections.metrics import ProjectionLag, ProjectionStatus, RateMeter, projection_status
from projections.queries import (
    CohortDashboardView,
    MentorLoadView,
    read_cohort_dashboard,
    read_mentor_load,
)
from projections.rebuild import RebuildResult, rebuild_projections
from projections.registry import all_projections, select_projections
from projections.router import projection_router, run_projector, wait_for_stream
from projections.schema import SCHEMA, migrate_read_models

__all__ = [
    "SCHEMA",
    "CohortDashboardView",
    "EventNotInStore",
    "HandleResult",
    "MentorLoadView",
    "Outcome",
    "Projection",
    "ProjectionApplier",
    "ProjectionError",
    "ProjectionLag",
    "ProjectionStatus",
    "ProjectorConfig",
    "RateMeter",
    "RebuildInProgress",
    "RebuildResult",
    "StreamOutOfOrder",
    "StreamProgress",
    "UnknownProjection",
    "all_projections",
    "migrate_read_models",
    "projection_router",
    "projection_status",
    "read_cohort_dashboard",
    "read_mentor_load",
    "rebuild_projections",
    "run_projector",
    "select_projections",
    "wait_for_stream",
]
