"""Scraping real ``/metrics`` endpoints and reading their series."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


def labels(**values: str) -> Labels:
    """A series' labels, as `Scrape.series` keys them."""
    return frozenset(values.items())


@dataclass(frozen=True)
class Scrape:
    """What one scrape of a ``/metrics`` endpoint exported."""

    families: dict[str, Metric]
    """By family name (a counter's without ``_total``), samples included."""

    def series(self, sample_name: str) -> dict[Labels, float]:
        """Every sample named ``sample_name``, by its labels."""
        return {
            frozenset(sample.labels.items()): sample.value
            for family in self.families.values()
            for sample in family.samples
            if sample.name == sample_name
        }

    def value(self, sample_name: str, **values: str) -> float | None:
        """One sample's value; None when that series is not exported."""
        return self.series(sample_name).get(labels(**values))

    def sum(self, sample_name: str, **where: str) -> float:
        """The sum of the samples whose labels include ``where``."""
        wanted = set(where.items())
        return sum(
            value for series, value in self.series(sample_name).items() if wanted <= set(series)
        )


def parse(text: str) -> Scrape:
    """The families of a text exposition."""
    return Scrape({family.name: family for family in text_string_to_metric_families(text)})


async def scrape(url: str, headers: Mapping[str, str] | None = None) -> Scrape:
    """GET ``url`` (a ``/metrics`` endpoint) and parse the answer.

    Raises:
        httpx.HTTPError: The endpoint does not answer 200.
    """
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.get(url, headers=headers)
    response.raise_for_status()
    return parse(response.text)
