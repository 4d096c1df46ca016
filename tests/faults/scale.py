"""How big a fault run is: CI-sized by default, soak-sized with ``MENTORFLOW_SOAK=1``.

The same tests run at both sizes (``make soak`` sets the variable); only these numbers
change. The CI run keeps the whole fault suite to a few minutes on two cores.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import timedelta

SOAK_ENV = "MENTORFLOW_SOAK"
SEED_ENV = "MENTORFLOW_FAULT_SEED"


@dataclass(frozen=True)
class Calendar:
    """An accelerated program calendar: seconds where real programs have weeks."""

    program: timedelta
    cadence: timedelta
    grace: timedelta
    onboarding: timedelta

    @property
    def survey_window(self) -> timedelta:
        """How long closing surveys stay open (half a cadence, as in the product)."""
        return self.cadence / 2


@dataclass(frozen=True)
class FaultScale:
    """The sizes of one fault run."""

    name: str
    relationships: int
    """Pairs of the cohort whose worker is killed."""
    worker_kills: int
    calendar: Calendar
    burst_events: int
    """Events of the burst during which relay and projector are killed."""
    burst_seconds: float
    """How long the burst is spread over, so that the kills land in it."""
    relay_kills: int
    projector_kills: int
    restart_relationships: int
    """Pairs of the cohort running while PostgreSQL and NATS restart."""
    restart_calendar: Calendar
    restart_rounds: int
    """PostgreSQL crashes and NATS kills, each."""
    long_transaction_events: int
    append_rounds: int
    """Rounds of 50 concurrent appends at one expected version."""


CI = FaultScale(
    name="ci",
    relationships=200,
    worker_kills=3,
    calendar=Calendar(
        program=timedelta(seconds=90),
        cadence=timedelta(seconds=15),
        grace=timedelta(seconds=5),
        onboarding=timedelta(seconds=45),
    ),
    burst_events=10_000,
    burst_seconds=15.0,
    relay_kills=3,
    projector_kills=3,
    restart_relationships=20,
    restart_calendar=Calendar(
        program=timedelta(seconds=36),
        cadence=timedelta(seconds=12),
        grace=timedelta(seconds=4),
        onboarding=timedelta(seconds=30),
    ),
    restart_rounds=1,
    long_transaction_events=3_000,
    append_rounds=10,
)

SOAK = FaultScale(
    name="soak",
    relationships=200,
    worker_kills=20,
    calendar=Calendar(
        program=timedelta(seconds=480),
        cadence=timedelta(seconds=40),
        grace=timedelta(seconds=10),
        onboarding=timedelta(seconds=120),
    ),
    burst_events=30_000,
    burst_seconds=90.0,
    relay_kills=15,
    projector_kills=15,
    restart_relationships=50,
    restart_calendar=Calendar(
        program=timedelta(seconds=150),
        cadence=timedelta(seconds=20),
        grace=timedelta(seconds=5),
        onboarding=timedelta(seconds=60),
    ),
    restart_rounds=4,
    long_transaction_events=30_000,
    append_rounds=100,
)


def current_scale() -> FaultScale:
    """The soak sizes when ``MENTORFLOW_SOAK=1``, the CI sizes otherwise."""
    return SOAK if os.environ.get(SOAK_ENV) == "1" else CI


def fault_seed() -> int:
    """The seed of a test's fault schedule: ``MENTORFLOW_FAULT_SEED`` to replay one, else new.

    Tests report it with their figures; the timing of a replayed run still differs, so a
    replay reproduces the schedule, not every interleaving.
    """
    return int(os.environ.get(SEED_ENV) or random.randrange(2**32))
