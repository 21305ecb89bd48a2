"""Forecast value added: did each stage of the demand plan beat the one before it, once the actuals came in?

The stages are the ones each cycle's snapshot keeps (publish.demand_plan):
seasonal naive (what a plan with no forecasting at all would say), the
statistical forecast, and the consensus after the planners' overrides. Every
stage is scored on the same SKU x market x weeks, the days of the cycle's
horizon whose actuals have arrived, with the measures the forecast's gate uses
(weekly WAPE, and bias, both over units sold): a median that forecasts nothing
on intermittent days cannot win on them. `value_added` is the previous stage's
WAPE minus this one's, in WAPE points: positive helped, negative made it worse.

Scored by market and category over every day, and by planner and reason code
over the days their overrides moved (a day two planners' overrides moved counts
for both), so a team learns whose adjustments help and which reasons mislead.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crossdock.frames import require_columns

STAGES: dict[str, str] = {"seasonal naive": "naive_mean", "statistical": "statistical_mean", "consensus": "mean"}
PLAN_COLUMNS: tuple[str, ...] = (
    "cycle", "sku", "market", "category", "demand_date", "naive_mean", "statistical_mean", "mean", "override_ids",
)
OVERRIDE_COLUMNS: tuple[str, ...] = ("cycle", "override_id", "author", "reason_code")
ACTUAL_COLUMNS: tuple[str, ...] = ("sku", "market", "demand_date", "units_sold")
SCOPES: tuple[str, ...] = ("all", "market", "category", "author", "reason_code")
RESULT_COLUMNS: list[str] = [
    "cycle", "scope", "scope_value", "stage", "days_scored", "horizon_days", "series", "actual_units",
    "forecast_units", "wape", "bias", "value_added",
]


def scored_days(plan: pd.DataFrame, actuals: pd.DataFrame, last_actual_day: dt.date) -> pd.DataFrame:
    """The plan's days whose actuals have arrived (up to `last_actual_day`), each with the units sold (0 if none)
    and its week (the Monday it falls in)."""
    require_columns(plan, PLAN_COLUMNS, "demand_plan")
    require_columns(actuals, ACTUAL_COLUMNS, "actuals")
    days = plan[pd.to_datetime(plan["demand_date"]) <= pd.Timestamp(last_actual_day)].copy()
    days["demand_date"] = pd.to_datetime(days["demand_date"])
    sold = actuals.assign(demand_date=pd.to_datetime(actuals["demand_date"]))
    days = days.merge(sold[list(ACTUAL_COLUMNS)], on=["sku", "market", "demand_date"], how="left")
    days["units_sold"] = days["units_sold"].fillna(0.0).astype(float)
    days["week"] = days["demand_date"] - pd.to_timedelta(days["demand_date"].dt.weekday, unit="D")
    return days


def _by_scope(days: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """`days` once per scope it is scored in, with `scope` and `scope_value`."""
    parts = [days.assign(scope="all", scope_value="all")]
    parts += [days.assign(scope=scope, scope_value=days[scope].astype(str)) for scope in ("market", "category")]
    moved = days[days["override_ids"].notna()]
    if len(moved):
        touched = moved.assign(override_id=moved["override_ids"].str.split(",")).explode("override_id")
        touched = touched.merge(overrides[list(OVERRIDE_COLUMNS)], on=["cycle", "override_id"], how="left")
        for scope in ("author", "reason_code"):
            once = touched.drop_duplicates(["cycle", "sku", "market", "demand_date", scope])
            parts.append(once.assign(scope=scope, scope_value=once[scope].fillna("unknown").astype(str)))
    return pd.concat(parts, ignore_index=True)


def value_added(
    plan: pd.DataFrame, overrides: pd.DataFrame, actuals: pd.DataFrame, last_actual_day: dt.date
) -> pd.DataFrame:
    """Each stage's weekly WAPE, bias and value added, per cycle and scope, on the days with actuals.

    `plan`: the cycles' snapshots (PLAN_COLUMNS); `overrides`: who entered each
    override of each cycle and why; `actuals`: units sold per SKU x market x day.
    A cycle with no day of actuals yet has no row.
    """
    require_columns(overrides, OVERRIDE_COLUMNS, "forecast_overrides")
    days = scored_days(plan, actuals, last_actual_day)
    if days.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    horizon = plan.groupby("cycle")["demand_date"].nunique().rename("horizon_days")
    scoped = _by_scope(days, overrides)
    group = ["cycle", "scope", "scope_value"]
    stage_columns = list(STAGES.values())
    weeks = scoped.groupby([*group, "sku", "market", "week"], sort=True)[[*stage_columns, "units_sold"]].sum().reset_index()
    coverage = scoped.assign(_series=scoped["sku"] + "\x1f" + scoped["market"]).groupby(group).agg(
        days_scored=("demand_date", "nunique"), series=("_series", "nunique"),
    )
    rows = []
    for stage, column in STAGES.items():
        error = (weeks[column] - weeks["units_sold"])
        summed = weeks.assign(abs_error=error.abs(), error=error).groupby(group)[
            ["abs_error", "error", column, "units_sold"]].sum()
        actual = summed["units_sold"]
        safe = actual.where(actual > 0)
        rows.append(pd.DataFrame({
            "stage": stage,
            "actual_units": actual,
            "forecast_units": summed[column],
            "wape": summed["abs_error"] / safe,
            "bias": summed["error"] / safe,
        }, index=summed.index))
    result = pd.concat(rows).join(coverage).reset_index()
    result = result.merge(horizon, left_on="cycle", right_index=True)
    order = {stage: i for i, stage in enumerate(STAGES)}
    result = result.sort_values([*group, "stage"], key=lambda s: s.map(order) if s.name == "stage" else s)
    result["value_added"] = -result.groupby(group)["wape"].diff()
    result["days_scored"] = result["days_scored"].astype(np.int64)
    result["series"] = result["series"].astype(np.int64)
    result["horizon_days"] = result["horizon_days"].astype(np.int64)
    return result[RESULT_COLUMNS].reset_index(drop=True)


def seasonal_naive(history: pd.DataFrame, days: pd.DataFrame, planning_date: dt.date) -> pd.Series:
    """Each of `days`' (sku, market, demand_date) units sold on the same weekday of the week up to `planning_date`.

    Seasonal naive on the zero-filled daily panel (a day with no sale sold 0),
    as statsforecast's SeasonalNaive(season_length=7) forecasts it
    (tests/test_sop_value_added.py checks it against ml.baselines, checked in
    turn against statsforecast). Index aligned with `days`.
    """
    require_columns(history, ("sku", "market", "demand_date", "units_sold"), "history")
    first = pd.Timestamp(planning_date) - pd.Timedelta(days=6)
    dates = pd.to_datetime(history["demand_date"])
    last_week = history[(dates >= first) & (dates <= pd.Timestamp(planning_date))]
    by_weekday = last_week.assign(weekday=pd.to_datetime(last_week["demand_date"]).dt.weekday).groupby(
        ["sku", "market", "weekday"])["units_sold"].sum()
    keys = pd.MultiIndex.from_arrays(
        [days["sku"], days["market"], pd.to_datetime(days["demand_date"]).dt.weekday], names=["sku", "market", "weekday"]
    )
    return pd.Series(by_weekday.reindex(keys).fillna(0.0).to_numpy(dtype=float), index=days.index)


def consensus_value_added(value_added: pd.DataFrame | None) -> pd.DataFrame | None:
    """publish.forecast_value_added as negative_fva reads it: the consensus stage's value added over the statistical.

    That table scores each cycle's stages per scope (cycle, scope, scope_value, stage, value_added, where
    value_added is the previous stage's WAPE minus this one's); the consensus row's is what the overrides
    added. None when there is no such table or it is empty.
    """
    if value_added is None or value_added.empty:
        return None
    rows = value_added[value_added["stage"] == "consensus"]
    return rows.rename(columns={"value_added": "fva_vs_statistical"}).loc[
        :, ["cycle", "scope", "scope_value", "fva_vs_statistical", "days_scored", "horizon_days", "actual_units"]
    ].reset_index(drop=True)
