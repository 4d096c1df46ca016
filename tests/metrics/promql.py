"""What the compose dashboard and alert rules ask Prometheus for: metric names and labels.

Not a PromQL parser: the expressions of `docker/` are plain selectors, aggregations, functions
and arithmetic, and `tests.metrics.test_promql` pins what this reads out of each form. Strings
are masked first, so a label value never reads as a name; range selectors, label matchers,
grouping clauses and Grafana variables are taken out before the names are collected, and a
word followed by ``(`` is a function or an aggregation, never a metric.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "docker" / "grafana" / "dashboards"
RULES = ROOT / "docker" / "prometheus" / "rules"

KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
    | {"and", "or", "unless", "atan2", "inf", "nan", "start", "end"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*')")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_NAME = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)")
_LABEL_VALUES = re.compile(r"label_values\(\s*(?P<series>.+?)\s*,\s*(?P<label>\w+)\s*\)")


@dataclass(frozen=True)
class Matcher:
    """A label matcher of a selector: ``label op "value"``."""

    label: str
    operator: str
    value: str


@dataclass
class Expression:
    """The metric names of one expression, the labels it groups by, each selector's matchers."""

    where: str
    text: str
    metrics: set[str] = field(default_factory=set)
    grouping: set[str] = field(default_factory=set)
    matchers: dict[str, list[Matcher]] = field(default_factory=dict)


def read(text: str, where: str = "") -> Expression:
    """The names and labels ``text`` (PromQL, or Grafana's ``label_values(series, label)``)
    refers to."""
    expression = Expression(where, text)
    values = _LABEL_VALUES.fullmatch(text.strip())
    if values:  # Grafana's, not PromQL: a series selector and a label name
        inner = read(values["series"], where)
        inner.grouping.add(values["label"])
        inner.text = text
        return inner
    for match in _SELECTOR.finditer(text):
        if match[1] in KEYWORDS:
            continue
        expression.matchers.setdefault(match[1], []).extend(
            Matcher(label, operator, value[1:-1])
            for label, operator, value in _MATCHER.findall(match[2])
        )
    masked = _STRING.sub('""', text)
    masked = re.sub(r"\{[^}]*\}", " ", masked)  # label matchers
    masked = re.sub(r"\[[^\]]*\]", " ", masked)  # ranges and subqueries
    for group in _GROUPING.finditer(masked):
        expression.grouping |= {label.strip() for label in group[1].split(",") if label.strip()}
    masked = _GROUPING.sub(" ", masked)
    masked = _VARIABLE.sub(" ", masked)
    for match in _NAME.finditer(masked):
        name = match[1]
        if name in KEYWORDS or masked[match.end() :].lstrip().startswith("("):
            continue
        expression.metrics.add(name)
    return expression


def _dashboard_queries(panels: list[dict[str, Any]], file: str) -> Iterator[tuple[str, str]]:
    for panel in panels:
        yield from _dashboard_queries(panel.get("panels", []), file)
        for target in panel.get("targets", []):
            yield f"{file}: {panel.get('title')}", target["expr"]


def dashboard_expressions() -> list[Expression]:
    """Every query of every provisioned dashboard: panels (rows included) and variables."""
    expressions: list[Expression] = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for where, expr in _dashboard_queries(dashboard["panels"], path.name):
            expressions.append(read(expr, where))
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            text: str | None = query.get("query") if isinstance(query, dict) else query
            if variable.get("type") == "query" and text:
                expressions.append(read(text, f"{path.name}: ${variable['name']}"))
    return expressions


def rule_expressions() -> list[Expression]:
    """Every alert and recording rule's expression."""
    expressions: list[Expression] = []
    for path in sorted(RULES.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                expressions.append(read(rule["expr"], f"{path.name}: {name}"))
    return expressions
