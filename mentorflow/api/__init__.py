"""The HTTP API (FastAPI): routes of the contract over Temporal and the read models."""

from mentorflow.api.app import create_app
from mentorflow.api.limits import ApiLimits

__all__ = ["ApiLimits", "create_app"]
