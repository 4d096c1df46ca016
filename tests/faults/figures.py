"""What each fault test reports: its figures, printed by the test and tabled at the end.

Every test records one `Figures` (faults survived, events checked, lost, duplicated, and
what else it measured); ``tests/faults/conftest.py`` prints them as one table after the run,
which is the soak's summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

RESULTS: list[Figures] = []
"""Figures of the tests run in this session, in order."""


@dataclass
class Figures:
    """The outcome of one fault test."""

    test: str
    faults: str
    """The faults injected and survived, e.g. "3 worker kill -9"."""
    events_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0
    """Wall time of the test (plus any set beforehand, such as a shared run's)."""
    outcome: str = "passed"

    def line(self) -> str:
        """One line: what the test prints."""
        details = ", ".join(f"{key} {value}" for key, value in self.notes.items())
        return (
            f"[faults] {self.test}: survived {self.faults}; {self.events_checked:,} events "
            f"checked, lost = {self.lost}, duplicated = {self.duplicated}"
            + (f"; {details}" if details else "")
            + f" ({self.seconds:.0f} s, {self.outcome})"
        )


def render_table(results: list[Figures], scale: str) -> list[str]:
    """The summary table of a run."""
    header = ("test", "faults survived", "events checked", "lost", "duplicated", "s", "outcome")
    rows = [
        (
            result.test,
            result.faults,
            f"{result.events_checked:,}",
            str(result.lost),
            str(result.duplicated),
            f"{result.seconds:.0f}",
            result.outcome,
        )
        for result in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def render(row: tuple[str, ...]) -> str:
        return " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))

    lines = [f"fault injection summary ({scale} run)", render(header)]
    lines.append("-+-".join("-" * width for width in widths))
    lines.extend(render(row) for row in rows)
    lines.extend(
        f"  {result.test}: " + ", ".join(f"{key} {value}" for key, value in result.notes.items())
        for result in results
        if result.notes
    )
    return lines


class Report:
    """Hands a test its `Figures` to fill in; prints and keeps them when the test passes."""

    def __init__(self, test: str) -> None:
        self._test = test
        self._started = time.monotonic()
        self.figures: Figures | None = None

    def __call__(self, faults: str) -> Figures:
        """The test's figures, for the faults it injects."""
        self.figures = Figures(test=self._test, faults=faults)
        return self.figures

    def finish(self, *, passed: bool) -> None:
        """Time the test, print its line, add it to the summary."""
        if self.figures is None:
            return
        self.figures.seconds += time.monotonic() - self._started
        self.figures.outcome = "passed" if passed else "FAILED"
        print(self.figures.line())
        RESULTS.append(self.figures)
