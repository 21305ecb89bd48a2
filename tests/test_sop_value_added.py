"""Forecast value added per stage, hand-worked: weekly WAPE on the days with actuals, by scope."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sop.value_added import RESULT_COLUMNS, value_added

MONDAY = dt.date(2026, 11, 2)


def plan_rows(sku: str, market: str, category: str, naive: float, statistical: float, consensus: float,
              override_ids: str | None = None, days: int = 14, cycle: str = "2026-10") -> pd.DataFrame:
    dates = [MONDAY + dt.timedelta(days=d) for d in range(days)]
    return pd.DataFrame({
        "cycle": cycle, "sku": sku, "market": market, "category": category, "demand_date": dates,
        "naive_mean": naive, "statistical_mean": statistical, "mean": consensus, "override_ids": override_ids,
    })


OVERRIDES = pd.DataFrame({"cycle": ["2026-10", "2026-10"], "override_id": ["o1", "o2"],
                          "author": ["ana", "ben"], "reason_code": ["promotion", "market_intelligence"]})


def actuals(sku: str, market: str, per_day: float, days: int = 14) -> pd.DataFrame:
    return pd.DataFrame({"sku": sku, "market": market, "units_sold": per_day,
                         "demand_date": [MONDAY + dt.timedelta(days=d) for d in range(days)]})


def row(result: pd.DataFrame, scope: str, value: str, stage: str) -> pd.Series:
    found = result[(result["scope"] == scope) & (result["scope_value"] == value) & (result["stage"] == stage)]
    assert len(found) == 1, (scope, value, stage)
    return found.iloc[0]


def test_each_stage_is_scored_on_the_same_weeks_and_value_added_is_the_wape_it_saved():
    plan = pd.concat([
        plan_rows("A", "DE", "shoes", naive=1.0, statistical=3.0, consensus=4.0, override_ids="o1"),
        plan_rows("B", "DE", "bags", naive=2.0, statistical=2.0, consensus=1.0, override_ids="o2"),
    ])
    sold = pd.concat([actuals("A", "DE", 4.0), actuals("B", "DE", 2.0)])
    result = value_added(plan, OVERRIDES, sold, MONDAY + dt.timedelta(days=13))
    assert list(result.columns) == RESULT_COLUMNS
    # all: actual 2 weeks x (28 + 14) = 84; naive misses A by 21/week and B by 0: 42/84
    naive, stat, consensus = (row(result, "all", "all", s) for s in ("seasonal naive", "statistical", "consensus"))
    assert (naive["wape"], stat["wape"], consensus["wape"]) == pytest.approx((42 / 84, 14 / 84, 14 / 84))
    assert pd.isna(naive["value_added"]) and stat["value_added"] == pytest.approx(28 / 84)
    assert consensus["value_added"] == pytest.approx(0.0)
    assert consensus["bias"] == pytest.approx(-14 / 84) and (consensus["days_scored"], consensus["series"]) == (14, 2)
    # ana's override (A) made it right, ben's (B) made a right forecast wrong
    assert row(result, "author", "ana", "consensus")["value_added"] == pytest.approx(14 / 56)
    assert row(result, "author", "ben", "consensus")["value_added"] == pytest.approx(-0.5)
    assert row(result, "reason_code", "market_intelligence", "consensus")["wape"] == pytest.approx(0.5)
    assert row(result, "category", "bags", "statistical")["wape"] == pytest.approx(0.0)


def test_only_days_with_actuals_count_and_the_weeks_net_out_within_a_week():
    plan = plan_rows("A", "DE", "shoes", naive=0.0, statistical=2.0, consensus=2.0, days=28)
    sold = actuals("A", "DE", 0.0, days=10)
    sold.loc[sold.index % 7 == 0, "units_sold"] = 14.0  # all of a week sold on its Monday
    result = value_added(plan, OVERRIDES, sold, MONDAY + dt.timedelta(days=9))
    stat = row(result, "all", "all", "statistical")
    assert (stat["days_scored"], stat["horizon_days"]) == (10, 28)
    # week 1: forecast 14 vs 14 (daily WAPE would say 12/7 wrong); week 2 (3 days): 6 vs 14
    assert stat["wape"] == pytest.approx(8 / 28)
    assert row(result, "all", "all", "seasonal naive")["wape"] == pytest.approx(1.0)


def test_a_cycle_without_actuals_yet_has_no_rows_and_no_sale_gives_no_wape():
    plan = plan_rows("A", "DE", "shoes", naive=1.0, statistical=1.0, consensus=1.0)
    assert value_added(plan, OVERRIDES, actuals("A", "DE", 1.0), MONDAY - dt.timedelta(days=1)).empty
    nothing_sold = value_added(plan, OVERRIDES, actuals("A", "DE", 0.0), MONDAY + dt.timedelta(days=13))
    assert nothing_sold["wape"].isna().all() and (nothing_sold["forecast_units"] == 14.0).all()


def test_cycles_are_scored_apart_and_an_override_counts_in_its_own_cycle():
    plan = pd.concat([
        plan_rows("A", "DE", "shoes", 1.0, 2.0, 3.0, override_ids="o1", cycle="2026-09"),
        plan_rows("A", "DE", "shoes", 1.0, 2.0, 2.0, cycle="2026-10"),
    ])
    result = value_added(plan, OVERRIDES, actuals("A", "DE", 3.0), MONDAY + dt.timedelta(days=13))
    assert sorted(result["cycle"].unique()) == ["2026-09", "2026-10"]
    # o1 is a 2026-10 override id: in 2026-09 it names nobody we know
    assert row(result, "author", "unknown", "consensus")["cycle"] == "2026-09"
    assert row(result.query("cycle == '2026-09'"), "all", "all", "consensus")["wape"] == pytest.approx(0.0)
