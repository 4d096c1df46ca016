"""Fixtures of the fault-injection suite: the run's scale, figures, and the summary table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.figures import RESULTS, Report, render_table
from tests.faults.scale import FaultScale, current_scale


@pytest.fixture(scope="session")
def scale() -> FaultScale:
    """CI sizes, or soak sizes under ``MENTORFLOW_SOAK=1``."""
    return current_scale()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    """Where a fault test records its figures (printed, and tabled after the run)."""
    recorder = Report(request.node.name.removeprefix("test_").replace("_", " "))
    yield recorder
    recorder.finish(passed=not getattr(request.node, "fault_test_failed", False))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    if call.when == "call" and getattr(outcome, "failed", False):
        item.fault_test_failed = True  # type: ignore[attr-defined]
    return outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    terminalreporter.write_sep("=", "fault injection figures")
    for line in render_table(RESULTS, current_scale().name):
        terminalreporter.write_line(line)
