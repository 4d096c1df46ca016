"""Who gets a message, at which address, when and how: read from the public API.

The notifier is built as an outside service would be: it learns what happens from the bus
and who the people are from ``GET /cohorts/{cohort_id}/contacts`` (role ``service``), which
answers each person's name, address, time zone and effective preferences (their own, else
the cohort spec's ``notifications:`` defaults), the program's HR contacts and its webhooks,
and leaves out anyone forgotten. Answers are cached for a short while (`ApiDirectory.ttl`):
a changed preference applies within it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import time as clock_time
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

from notifications.schedule import QuietHours

Channel = Literal["email", "none"]
DigestFrequency = Literal["daily", "weekly", "off"]


class QuietHoursWindow(BaseModel):
    """Quiet hours as the API answers them (``HH:MM`` local times)."""

    model_config = ConfigDict(frozen=True)

    start: clock_time
    end: clock_time

    def rule(self) -> QuietHours:
        """The window as a rule."""
        return QuietHours(self.start, self.end)


class PersonContact(BaseModel):
    """A participant as far as messages go."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    person_id: str
    name: str
    email: str | None = None
    timezone: str = "UTC"
    languages: list[str] = Field(default_factory=list)
    channel: Channel = "email"
    quiet_hours: QuietHoursWindow | None = None


class HrContact(BaseModel):
    """Someone in HR who receives escalations, review outcomes and digests."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str
    email: str
    timezone: str = "UTC"
    digest: DigestFrequency = "daily"
    quiet_hours: QuietHoursWindow | None = None


class Webhook(BaseModel):
    """A program's incoming webhook."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["slack", "teams"]
    url: str


class CohortContacts(BaseModel):
    """The answer of ``GET /cohorts/{cohort_id}/contacts``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    cohort_id: str
    people: list[PersonContact] = Field(default_factory=list)
    hr_contacts: list[HrContact] = Field(default_factory=list)
    webhooks: list[Webhook] = Field(default_factory=list)

    def person(self, person_id: str) -> PersonContact | None:
        """The contact of ``person_id``; None when unknown or forgotten."""
        return next((p for p in self.people if p.person_id == person_id), None)


class Directory(Protocol):
    """Where the notifier learns who people are (`ApiDirectory` in production)."""

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        """The cohort's contacts for ``person_ids``; raises `DirectoryUnavailable`."""
        ...

    def forget(self, person_id: str) -> None:
        """Drop whatever is kept about ``person_id``."""
        ...


class DirectoryUnavailable(Exception):
    """The API did not answer (or answered an error other than 404): try the event later."""


class ApiDirectory:
    """Contacts from the public API, cached per cohort and asked people for ``ttl`` seconds.

    Args:
        base_url: Where the API is (``http://127.0.0.1:8000``).
        token: A bearer token with the ``service`` role.
        ttl: Seconds an answer is reused.
        timeout: Seconds a request may take.
    """

    def __init__(
        self, base_url: str, token: str, *, ttl: float = 30.0, timeout: float = 10.0
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self.ttl = ttl
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, CohortContacts]] = {}
        self._lock = asyncio.Lock()

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        """The cohort's contacts for ``person_ids`` (with its HR contacts and webhooks).

        An unknown cohort answers no one (a relationship of a cohort the API no longer
        knows has no one to notify).

        Raises:
            DirectoryUnavailable: The API is away or failing.
        """
        key = (cohort_id, tuple(sorted(set(person_ids))))
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            response = await self._client.get(
                f"/cohorts/{cohort_id}/contacts", params=[("person_id", p) for p in key[1]]
            )
        except httpx.TransportError as error:
            raise DirectoryUnavailable(f"API unreachable: {type(error).__name__}") from error
        if response.status_code == 404:
            answer = CohortContacts(cohort_id=cohort_id)
        elif response.is_success:
            answer = CohortContacts.model_validate_json(response.content)
        else:
            raise DirectoryUnavailable(f"API answered HTTP {response.status_code}")
        async with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (time.monotonic(), answer)
        return answer

    def forget(self, person_id: str) -> None:
        """Drop every cached answer naming ``person_id`` (they were forgotten)."""
        for key in [key for key in self._cache if person_id in key[1]]:
            self._cache.pop(key, None)
        for key, (_, answer) in list(self._cache.items()):
            if any(contact.id == person_id for contact in answer.hr_contacts):
                self._cache.pop(key, None)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
