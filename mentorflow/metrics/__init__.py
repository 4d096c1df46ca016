"""Prometheus metrics of every mentorflow process (README "Operating mentorflow").

- `mentorflow.metrics.instruments`: what the code counts in process (HTTP requests, event
  store appends, notification deliveries, command dead letters), and the observers the
  composition root hands the adapters.
- `mentorflow.metrics.http`: the API's per-route request metrics and ``/metrics``.
- `mentorflow.metrics.readings`: figures read from the database (relay lag, projection lag
  and stalls, cohorts' health).
- `mentorflow.metrics.process`: a process's endpoints (``MENTORFLOW_METRICS_ADDRESS``) and
  the Temporal SDK's runtime metrics (``MENTORFLOW_METRICS_TEMPORAL_ADDRESS``).
"""

from mentorflow.metrics.http import (
    HttpMetricsMiddleware,
    install_metrics,
    route_template,
    routes_of,
)
from mentorflow.metrics.instruments import (
    count_command_dead_letter,
    observe_append,
    observe_delivery,
)
from mentorflow.metrics.process import (
    process_metrics,
    temporal_runtime,
    use_temporal_metrics,
)
from mentorflow.metrics.readings import ALL_READINGS, DatabaseReadings, Reading

__all__ = [
    "ALL_READINGS",
    "DatabaseReadings",
    "HttpMetricsMiddleware",
    "Reading",
    "count_command_dead_letter",
    "install_metrics",
    "observe_append",
    "observe_delivery",
    "process_metrics",
    "route_template",
    "routes_of",
    "temporal_runtime",
    "use_temporal_metrics",
]
