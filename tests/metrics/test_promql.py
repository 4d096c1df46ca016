"""The reading of PromQL that checks the dashboard and the rules: what it finds in each form."""

from __future__ import annotations

from tests.metrics.promql import Matcher, dashboard_expressions, read, rule_expressions


def test_names_come_out_of_aggregations_functions_and_arithmetic() -> None:
    expression = read(
        'histogram_quantile(0.95, sum by (route, le) (rate(a_bucket{route!="/x"}[5m])))'
        " / on (route) group_left sum without (pod) (b_total offset 1h) > bool 1e-9"
    )

    assert expression.metrics == {"a_bucket", "b_total"}
    assert expression.grouping == {"route", "le", "pod"}
    assert expression.matchers == {"a_bucket": [Matcher("route", "!=", "/x")]}


def test_label_values_strings_and_grafana_variables_are_not_metric_names() -> None:
    variable = read("label_values(cohort_pairs, cohort_id)")
    selector = read('max(up_metric{cohort_id=~"$cohort", stage="sum(x)"}) by (stage)')
    spaced = read("sum  (rate( c_total [$__rate_interval] )) and on() vector(1)")

    assert (variable.metrics, variable.grouping) == ({"cohort_pairs"}, {"cohort_id"})
    assert selector.metrics == {"up_metric"}
    assert selector.matchers["up_metric"] == [
        Matcher("cohort_id", "=~", "$cohort"),
        Matcher("stage", "=", "sum(x)"),
    ]
    assert spaced.metrics == {"c_total"}


def test_a_misspelt_metric_is_read_as_the_name_it_is() -> None:
    assert read("max by (relay) (mentorflow_relay_lag_secnds) > 60").metrics == {
        "mentorflow_relay_lag_secnds"
    }


def test_every_dashboard_panel_and_rule_names_at_least_one_metric() -> None:
    expressions = [*dashboard_expressions(), *rule_expressions()]

    assert len(expressions) > 20
    assert all(expression.metrics for expression in expressions), [
        expression.where for expression in expressions if not expression.metrics
    ]
