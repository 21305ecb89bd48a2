"""Which of the planners' overrides count in a cycle, and why each of the others does not.

The overrides feed keeps every revision (feeds/contracts.py FORECAST_OVERRIDES):
an override is its latest revision entered by the cycle's cut-off, so a
consensus rebuilt later with the same cut-off applies the same overrides, even
after the planners have revised them since. A revision that cannot be applied
is never dropped in silence: it gets a status that says what to fix, and the
cycle publishes it beside the applied ones.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from crossdock.frames import require_columns

OVERRIDE_COLUMNS: tuple[str, ...] = (
    "override_id", "entered_at_utc", "author", "market", "category", "sku", "bucket", "period_start",
    "units", "change_pct", "reason_code", "comment", "expires_on", "withdrawn",
)
LEVELS = ("market", "category x market", "sku x market")  # coarse to fine: the order they are applied in
BUCKETS = ("month", "week")  # coarse to fine

APPLIED = "applied"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
BEYOND_HORIZON = "period beyond the forecast horizon"
PERIOD_PAST = "period already past"
LATE_ENTRY_DAYS = 7  # how far back a late entry is still listed when the planning date's month has just begun


def level_of(overrides: pd.DataFrame) -> pd.Series:
    """The level each override is stated at, from what it fills: a sku, a category, or the whole market."""
    level = pd.Series(LEVELS[0], index=overrides.index, dtype=object)
    level[overrides["category"].notna()] = LEVELS[1]
    level[overrides["sku"].notna()] = LEVELS[2]
    return level


def period_end(period_start: pd.Series, bucket: pd.Series) -> pd.Series:
    """The last day of each week or month that starts on `period_start`."""
    start = pd.to_datetime(period_start)
    month_end = start + pd.offsets.MonthEnd(0)
    return pd.Series(month_end.where(bucket == "month", start + pd.Timedelta(days=6)), index=period_start.index)


def latest_revisions(revisions: pd.DataFrame, cutoff: pd.Timestamp | None = None) -> pd.DataFrame:
    """Each override's latest revision entered by `cutoff` (UTC; None: every revision counts)."""
    require_columns(revisions, OVERRIDE_COLUMNS, "overrides")
    known = revisions
    if cutoff is not None:
        known = revisions[pd.to_datetime(revisions["entered_at_utc"], utc=True) <= _utc(cutoff)]
    ordered = known.sort_values(["override_id", "entered_at_utc"], kind="stable")
    return ordered.drop_duplicates("override_id", keep="last").reset_index(drop=True)


def _utc(moment: pd.Timestamp) -> pd.Timestamp:
    moment = pd.Timestamp(moment)
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def _problem(row: pd.Series) -> str | None:
    """What makes one revision impossible to apply, in words a planner can act on."""
    has_units, has_pct = pd.notna(row["units"]), pd.notna(row["change_pct"])
    if has_units == has_pct:
        return "invalid: give units or change_pct, not both" if has_units else "invalid: give units or change_pct"
    if pd.notna(row["sku"]) and pd.notna(row["category"]):
        return "invalid: give a sku or a category, not both"
    start = pd.Timestamp(row["period_start"])
    if row["bucket"] == "week" and start.weekday() != 0:
        return f"invalid: a week starts on a Monday, {start.date()} is a {start.day_name()}"
    if row["bucket"] == "month" and start.day != 1:
        return f"invalid: a month starts on the 1st, not on {start.date()}"
    return None


def cycle_overrides(
    revisions: pd.DataFrame, first_day: dt.date, last_day: dt.date, cutoff: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Every override known by `cutoff` whose period has not ended before `first_day`, or that was entered this
    cycle for a period already over: its latest revision, with `level`, `period_end` and `status`.

    `first_day`..`last_day` is the forecast's horizon; the planning date is the
    day before `first_day`. `status` is APPLIED for the overrides the consensus
    applies, else the reason it does not. An override last revised on or
    after its period's last day, recently (this cycle's month or the
    LATE_ENTRY_DAYS before the planning date), is a late entry or a wrong
    date: no run could apply it, so it is listed as PERIOD_PAST for the
    planner to see. Any other override whose period is over belongs to the cycles
    before: leaving it out keeps a cycle's list to what it weighed, not every
    override ever entered. `expires_on` is the last planning date an override
    applies on. Whether an applied override finds any forecast to adjust is
    the consensus's to say (sop/consensus.py).
    """
    latest = latest_revisions(revisions, cutoff)
    latest["level"] = level_of(latest)
    start = pd.to_datetime(latest["period_start"])
    end = period_end(latest["period_start"], latest["bucket"])
    planning_date = pd.Timestamp(first_day) - pd.Timedelta(days=1)
    entered = pd.to_datetime(latest["entered_at_utc"], utc=True).dt.tz_convert(None).dt.normalize()
    over = end < pd.Timestamp(first_day)
    # entered on or after its period's last day (a UTC day: a planner east of UTC may still be on the next):
    # no run could apply it; listed while it is recent, in this cycle's month or the week before it
    recent = entered >= min(planning_date.replace(day=1), planning_date - pd.Timedelta(days=LATE_ENTRY_DAYS))
    late = over & (entered >= end) & recent
    status = pd.Series([_problem(row) for _, row in latest.iterrows()], index=latest.index, dtype=object)
    flags = (
        (start > pd.Timestamp(last_day), BEYOND_HORIZON),
        (late, PERIOD_PAST),
        (pd.to_datetime(latest["expires_on"]) < planning_date, EXPIRED),
        (latest["withdrawn"].astype("boolean").fillna(False).astype(bool), WITHDRAWN),
    )
    for flagged, reason in flags:  # the last rule written wins: a withdrawal says most
        status = status.mask(flagged, reason)
    latest["status"] = status.fillna(APPLIED)
    latest["period_start"], latest["period_end"] = start.dt.date, end.dt.date
    return latest[(~over | late).to_numpy()].reset_index(drop=True)


def application_order(overrides: pd.DataFrame) -> pd.DataFrame:
    """The order overrides are applied in: coarse levels first, then months before weeks, then by entry time.

    A finer override so has the last word where two overlap: a planner who set
    one SKU's week after the market's month meant that SKU's number.
    """
    rank = overrides.assign(
        _level=overrides["level"].map(LEVELS.index),
        _bucket=overrides["bucket"].map(BUCKETS.index),
    )
    return rank.sort_values(["_level", "_bucket", "entered_at_utc", "override_id"], kind="stable").drop(
        columns=["_level", "_bucket"]
    )
