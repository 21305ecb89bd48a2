"""One S&OP cycle's demand plan, from the frames the run reads: the consensus and what each override did.

The Dagster asset reads the warehouse, calls `build_cycle`, stores and stages
what it returns; everything in between is here, testable without Dagster.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from sop.consensus import build_consensus
from sop.cycle_store import cycle_of
from sop.overrides import APPLIED, cycle_overrides
from sop.value_added import seasonal_naive

OVERRIDE_OUTPUT_COLUMNS: list[str] = [
    "cycle", "override_id", "entered_at", "author", "level", "market", "category", "sku", "bucket", "period_start",
    "period_end", "units_asked", "change_pct", "reason_code", "comment", "expires_on", "status", "days_covered",
    "units_statistical", "units_before", "units_after",
]
PLAN_OUTPUT_COLUMNS: list[str] = [
    "cycle", "planning_date", "sku", "market", "category", "demand_date", "naive_mean", "statistical_mean", "mean",
    "p10", "p50", "p90", "override_ids", "overrides_as_of",
]


@dataclass(frozen=True)
class CycleFrames:
    cycle: str
    planning_date: dt.date
    plan: pd.DataFrame  # publish.demand_plan's rows of this cycle
    overrides: pd.DataFrame  # publish.forecast_overrides' rows of this cycle

    @property
    def applied(self) -> int:
        return int((self.overrides["status"] == APPLIED).sum())

    @property
    def units_moved(self) -> float:
        """Consensus minus statistical units over the horizon: what the overrides added (negative: took away)."""
        return float(self.plan["mean"].sum() - self.plan["statistical_mean"].sum())


def build_cycle(forecast: pd.DataFrame, revisions: pd.DataFrame, history: pd.DataFrame,
                catalogue: pd.DataFrame | None = None, markets: Collection[str] | None = None,
                held_back: pd.DataFrame | None = None) -> CycleFrames:
    """The cycle of `forecast`'s origin (its `as_of`): the consensus of the forecast and the override `revisions`
    known to the run, with the seasonal naive stage from `history` (units sold per SKU x market x day).
    `catalogue` (sku, category: marts.dim_sku) names the SKUs an override may list in a market the forecast
    has no row for; without it, only the forecast's SKUs. `markets`: the merchant's (reference.markets), the
    codes an override may name; without them, the forecast's. `held_back`: the series (sku, market) the forecast left
    out because the training-data gate held their market back, whose overrides wait (`sop.consensus.HELD_BACK`)."""
    planning_date = pd.Timestamp(forecast["as_of"].max()).date()
    days = pd.to_datetime(forecast["forecast_date"])
    overrides = cycle_overrides(revisions, days.min().date(), days.max().date())
    known = [forecast[["sku", "category"]]] + ([] if catalogue is None else [catalogue[["sku", "category"]]])
    categories = pd.concat(known, ignore_index=True).drop_duplicates("sku")
    consensus = build_consensus(forecast, categories, overrides, markets, held_back)
    cycle = cycle_of(planning_date)
    plan = consensus.plan.rename(columns={"forecast_date": "demand_date"})
    plan["naive_mean"] = seasonal_naive(history, plan, planning_date)
    entered = pd.to_datetime(revisions["entered_at_utc"], utc=True)
    plan = plan.assign(
        cycle=cycle, planning_date=planning_date,
        overrides_as_of=entered.max().tz_localize(None) if len(entered) else pd.NaT,
    )
    moved = consensus.overrides.rename(columns={"units": "units_asked"}).assign(
        cycle=cycle, entered_at=pd.to_datetime(consensus.overrides["entered_at_utc"], utc=True).dt.tz_localize(None),
    )
    return CycleFrames(cycle, planning_date, plan[PLAN_OUTPUT_COLUMNS], moved.reindex(columns=OVERRIDE_OUTPUT_COLUMNS))
