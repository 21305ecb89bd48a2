"""The demo merchant's planners: forecast overrides entered before each of the last two S&OP cycles.

Four planners, each with a habit the forecast value added should expose:

- ana watches what runs hot: the five pairs whose demand level (the
  simulation's momentum) stands highest on the planning date get the next
  week's units at that level, which persists for a few weeks;
- ben does the same for the five that run coldest (a competitor's lower price);
- dana knows the launch calendar: a SKU x market listed within the horizon
  gets its first whole week's units (the model has no row for it at all);
- carl is an optimist: +30% on the biggest market for the next month, on a
  campaign that does not exist in the data.

Each cycle is the last day of a month (the cycle before the history's end)
and the history's last day; overrides are entered that day at 09:00 UTC, so a
run back-dated to the earlier day (`crossdock run --as-of`) sees only its own.
ana revises one of her first cycle's overrides in the second, so the feed
carries a revision too.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd

from demo.clock import Timeline
from demo.demand import Demand

HORIZON_DAYS = 56
COLUMNS = ["override_id", "entered_at", "author", "market", "category", "sku", "bucket", "period_start", "units",
           "change_pct", "reason_code", "comment", "expires_on", "withdrawn"]


def cycle_days(end: date) -> list[date]:
    """The planning dates the demo's planners prepare: the last day of the month before `end`'s month, and `end`."""
    return [end.replace(day=1) - timedelta(days=1), end]


def _next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _row(cycle: date, number: int, author: str, **values) -> dict:
    entered = datetime.combine(cycle, time(9, 0), tzinfo=timezone.utc)
    row = dict.fromkeys(COLUMNS, "")
    row.update(override_id=f"{cycle:%Y-%m}-{author}-{number:02d}", entered_at=entered.isoformat(), author=author)
    row.update({k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()})
    return row


def _level_watch(cycle: date, day: int, demand: Demand, skus: list[str], markets: tuple[str, ...],
                 timeline: Timeline, hot: bool) -> list[dict]:
    """Next week's units for the five pairs whose demand level stands furthest above (hot) or below it."""
    week = _next_monday(cycle)
    first = (week - timeline.start).days
    if first + 7 > demand.mu.shape[2]:  # the week lies beyond the simulation (the current cycle): known level only
        first = day - 6
    watched = demand.listed & (demand.mu[:, :, day] >= 1.0)
    level = np.where(watched, demand.momentum[:, :, day], 0.0 if hot else np.inf)
    order = np.argsort(level, axis=None, kind="stable")
    author, reason, = ("ana", "market_intelligence") if hot else ("ben", "price_change")
    rows = []
    for flat in (order[::-1] if hot else order)[:5]:
        s, m = np.unravel_index(flat, level.shape)
        units = float(demand.mu[s, m, first:first + 7].sum() * demand.momentum[s, m, day])
        rows.append(_row(cycle, len(rows) + 1, author, market=markets[m], sku=skus[s], bucket="week",
                         period_start=week, units=round(units, 1), reason_code=reason,
                         comment=f"Running {demand.momentum[s, m, day]:.0%} of its usual level"))
    return rows


def _launches(cycle: date, day: int, demand: Demand, skus: list[str], markets: tuple[str, ...],
              timeline: Timeline) -> list[dict]:
    """dana's units for the first whole week of each SKU x market launching within the horizon (the history has
    none of it, so the model has no forecast for it)."""
    rows = []
    launching = demand.listed & (demand.launch > day) & (demand.launch <= day + HORIZON_DAYS - 7)
    for s, m in zip(*np.nonzero(launching)):
        start = timeline.start + timedelta(days=int(demand.launch[s, m]))
        week = start if start.weekday() == 0 else _next_monday(start)
        first = (week - timeline.start).days
        if first + 7 > demand.mu.shape[2]:
            continue
        rows.append(_row(cycle, len(rows) + 1, "dana", market=markets[m], sku=skus[s], bucket="week", period_start=week,
                         units=round(float(demand.mu[s, m, first:first + 7].sum()), 1), reason_code="new_listing",
                         comment=f"Listed in {markets[m]} from {start}"))
    return rows


def planner_overrides(demand: Demand, skus: list[str], markets: tuple[str, ...], timeline: Timeline) -> pd.DataFrame:
    """Every revision the demo's planners entered, in entry order (the landing file's rows)."""
    rows: list[dict] = []
    for cycle in cycle_days(timeline.end):
        day = (cycle - timeline.start).days
        if day < 0:
            continue
        rows += _level_watch(cycle, day, demand, skus, markets, timeline, hot=True)
        rows += _level_watch(cycle, day, demand, skus, markets, timeline, hot=False)
        rows += _launches(cycle, day, demand, skus, markets, timeline)
        biggest = markets[int(np.argmax(demand.units[:, :, max(day - 27, 0):day + 1].sum(axis=(0, 2))))]
        next_month = (cycle.replace(day=28) + timedelta(days=4)).replace(day=1)
        rows.append(_row(cycle, 1, "carl", market=biggest, bucket="month", period_start=next_month, change_pct=30.0,
                         reason_code="promotion", comment="The autumn campaign will beat last year"))
    first_ana = next((r for r in rows if r["author"] == "ana"), None)
    if first_ana is not None and timeline.end > cycle_days(timeline.end)[0]:
        revised = dict(first_ana, units=round(float(first_ana["units"]) * 0.8, 1), comment="Cooling off a little",
                       entered_at=datetime.combine(cycle_days(timeline.end)[0] + timedelta(days=1), time(8, 0),
                                                   tzinfo=timezone.utc).isoformat())
        rows.append(revised)
    return pd.DataFrame(rows, columns=COLUMNS)
