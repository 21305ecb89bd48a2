"""Who owns each exception and where it stands: the owners' updates folded onto what the plans raised.

Three inputs: the exceptions today's plan raises (sop/exceptions.py), the
log of what earlier plans raised (audit.exception_log: one row per exception
and planning day, with that day's figures) and the owners' updates
(staging.stg_exception_updates, every update kept). The result has one row per
exception ever raised:

- status and owner: the latest update's (by its time); an update that leaves
  owner empty keeps the one before; without an update, 'open' and the type's
  default owner. The latest update wins even when it is older than the plan:
  a resolved expedite the next plan still shows stays resolved until someone
  opens it again (its `raised` says the plan still sees it). But one that a
  plan run after the update no longer raised and today's raises again is a
  new occurrence of the same problem (a product dismissed as delisted, back
  on sale, stopped again): it is open again, its history says when.
- raised: today's plan raises it. An event type (EVENT_TYPES: a landed-cost
  jump is seen once, when the rule changes) stays raised, with the figures
  of the day it was seen, until its status is resolved or dismissed.
- is_open: raised and not resolved or dismissed; the open list.
- first_raised_date / last_seen_date: the first and last planning day a plan
  raised it. An exception no plan raises any more keeps its row, its last
  figures and its history, with raised false.
- history: every update, oldest first, in words.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crossdock.merchant_settings import ExceptionSettings
from crossdock.plan_labels import CLOSED_STATUSES, EXCEPTION_TYPES
from sop.exception_rows import RAISED_COLUMNS
from sop.exceptions import EVENT_TYPES

CLOSED: frozenset[str] = frozenset(CLOSED_STATUSES)
"""Statuses that take an exception off the open list (feeds.contracts.EXCEPTION_STATUSES has all five)."""
OPEN = "open"

LOG_COLUMNS: tuple[str, ...] = (*RAISED_COLUMNS, "as_of")
"""audit.exception_log as sop reads it: what one planning day raised (sop/exception_log.py adds run id and time)."""
UPDATE_COLUMNS: tuple[str, ...] = ("exception_id", "updated_at_utc", "updated_by", "status", "owner", "note")
"""staging.stg_exception_updates."""

EXCEPTION_COLUMNS: tuple[str, ...] = (
    *RAISED_COLUMNS, "owner", "status", "raised", "is_open", "first_raised_date", "last_seen_date",
    "last_update_at", "last_updated_by", "last_note", "updates", "history", "as_of",
)
"""publish.exceptions, in declared order."""


def latest_updates(updates: pd.DataFrame) -> pd.DataFrame:
    """Per exception: its current status and owner, the last update's time, author and note, the count, the history.

    The owner is the latest one named (an update may leave it empty: unchanged); owner is null when no update
    named one.
    """
    columns = ["exception_id", "status", "owner", "last_update_at", "last_updated_by", "last_note", "updates", "history"]
    if updates is None or updates.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "updates" else object) for c in columns})
    ordered = updates.sort_values(["exception_id", "updated_at_utc"], kind="mergesort")
    grouped = ordered.groupby("exception_id", sort=True)
    last = grouped.tail(1).set_index("exception_id")

    def line(r: pd.Series) -> str:
        owner = f", owner {r['owner']}" if pd.notna(r["owner"]) else ""
        note = f": {r['note']}" if pd.notna(r["note"]) and str(r["note"]).strip() else ""
        return f"{pd.Timestamp(r['updated_at_utc']):%Y-%m-%d %H:%M} UTC {r['updated_by']}: {r['status']}{owner}{note}"

    history = ordered.assign(line=[line(r) for _, r in ordered.iterrows()]).groupby("exception_id")["line"].agg(" | ".join)
    return pd.DataFrame({
        "exception_id": last.index,
        "status": last["status"].to_numpy(),
        "owner": grouped["owner"].agg(lambda s: s.dropna().iloc[-1] if s.notna().any() else None).reindex(last.index).to_numpy(),
        "last_update_at": last["updated_at_utc"].to_numpy(),
        "last_updated_by": last["updated_by"].to_numpy(),
        "last_note": last["note"].to_numpy(),
        "updates": grouped.size().reindex(last.index).astype("int64").to_numpy(),
        "history": history.reindex(last.index).to_numpy(),
    })


def _utc(times: pd.Series) -> pd.Series:
    """Times in UTC without a zone: the updates' are zoned (timestamptz), the log's are UTC without one."""
    return pd.to_datetime(times, utc=True).dt.tz_convert(None)


def raised_again(raised_ids: set[str], earlier: pd.DataFrame, status: pd.DataFrame, as_of: dt.date) -> dict[str, dt.date]:
    """Closed exceptions raised on `as_of` that were gone from a plan since the occurrence their owner closed:
    {id: the planning day they were raised again after that gap}.

    `earlier`: the log's rows of other days with logged_at (`sop.exception_log.read_log`; without it nothing is
    known and nothing reopens). A gap is a planning day before `as_of` and after the last day a plan run before
    the update raised it (the occurrence the owner saw), whose plan ran after the update and did not raise it.
    Planning days order the gap, so a backfill or a re-run of an earlier day is none; the runs' times say only
    what the owner had seen. A day whose plan raised no exception at all leaves no row, so a gap on such a day
    is not seen.
    """
    if earlier.empty or "logged_at" not in earlier.columns:
        return {}
    closed = status[status["status"].isin(CLOSED) & status["exception_id"].isin(raised_ids)]
    log = earlier.assign(as_of=pd.to_datetime(earlier["as_of"]), logged_at=_utc(earlier["logged_at"]))
    log = log[log["as_of"] < pd.Timestamp(as_of)]
    if closed.empty or log.empty:
        return {}
    runs = log.groupby("as_of")["logged_at"].max().sort_index()
    days, ran = runs.index.to_numpy(), runs.to_numpy()
    ids = closed["exception_id"].to_numpy()
    mine = log[log["exception_id"].isin(ids)]
    raised_on = np.zeros((len(ids), len(days)), dtype=bool)  # exception x planning day: logged as raised
    raised_on[pd.Index(ids).get_indexer(mine["exception_id"]), days.searchsorted(mine["as_of"].to_numpy())] = True
    updated = _utc(closed["last_update_at"]).to_numpy()[:, None]
    seen = raised_on & (ran[None, :] <= updated)  # raised by a run the owner could have seen before the update
    column = np.arange(len(days))[None, :]
    last_seen = np.where(seen.any(axis=1), np.where(seen, column, -1).max(axis=1), -1)[:, None]
    gap = ~raised_on & (ran[None, :] > updated) & (column > last_seen)
    last_gap = np.where(gap, column, -1).max(axis=1)[:, None]
    back = np.where(raised_on & (column > last_gap), column, len(days)).min(axis=1)
    return {exception_id: pd.Timestamp(days[b] if b < len(days) else as_of).date()
            for exception_id, b, g in zip(ids, back, gap.any(axis=1)) if g}


def carried_events(raised: pd.DataFrame, log: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Event exceptions an earlier plan raised, not raised today, and not closed: they stay raised, as last logged."""
    if log is None or log.empty:
        return raised.iloc[0:0]
    events = log[log["type"].isin(EVENT_TYPES) & ~log["exception_id"].isin(raised["exception_id"])]
    closed = set(status.loc[status["status"].isin(CLOSED), "exception_id"])
    events = events[~events["exception_id"].isin(closed)]
    last = events.sort_values(["exception_id", "as_of"], kind="mergesort").groupby("exception_id").tail(1)
    return last.loc[:, list(RAISED_COLUMNS)]


def _stack(first: pd.DataFrame, *more: pd.DataFrame) -> pd.DataFrame:
    """`first` with the rows of `more` below it, in `first`'s columns; empty frames add nothing (and no dtypes)."""
    frames = [f for f in (first, *more) if not f.empty]
    if len(frames) < 2:
        return (frames[0] if frames else first).reindex(columns=first.columns).reset_index(drop=True)
    return pd.concat(frames, ignore_index=True).reindex(columns=first.columns)


def fold_status(
    raised: pd.DataFrame,
    log: pd.DataFrame | None,
    updates: pd.DataFrame | None,
    as_of: dt.date,
    settings: ExceptionSettings = ExceptionSettings(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(publish.exceptions, today's log rows): every exception ever raised with its status, and what today raises.

    `raised`: sop.exceptions.raise_exceptions' rows; `log`: earlier days' LOG_COLUMNS rows (may hold rows of
    `as_of` from an earlier run of the same day: they are replaced, so a re-run is safe); `updates`:
    UPDATE_COLUMNS rows. Today's log rows are `raised` plus the event exceptions carried forward, each with
    as_of = `as_of`; write them to the log for the next run.
    """
    log = pd.DataFrame(columns=list(LOG_COLUMNS)) if log is None else log
    earlier = log[pd.to_datetime(log["as_of"]).dt.date != as_of] if not log.empty else log
    status = latest_updates(updates)
    back_on = status["exception_id"].map(raised_again(set(raised["exception_id"]), earlier, status, as_of))
    again = back_on.notna()
    status.loc[again, "history"] = (status.loc[again, "history"] + " | raised again on " + back_on[again].astype(str)
                                    + " after it was gone: open")
    status.loc[again, "status"] = OPEN
    today = _stack(raised, carried_events(raised, log, status))
    today_log = today.assign(as_of=pd.Timestamp(as_of))
    seen = _stack(today_log, earlier.loc[:, list(LOG_COLUMNS)])
    seen = seen.assign(as_of=pd.to_datetime(seen["as_of"]))
    days = seen.groupby("exception_id")["as_of"].agg(first_raised_date="min", last_seen_date="max")
    # today's figures for what today raises, else those of the last day that raised it
    gone = earlier[~earlier["exception_id"].isin(today["exception_id"])] if not earlier.empty else earlier
    last_figures = gone.sort_values(["exception_id", "as_of"], kind="mergesort").groupby("exception_id").tail(1)
    latest = _stack(today, last_figures.loc[:, list(RAISED_COLUMNS)]).set_index("exception_id")
    latest["default_owner"] = [settings.owner(t) for t in latest["type"]]
    out = latest.join(days).join(status.set_index("exception_id"), how="left")
    out["owner"] = out["owner"].where(out["owner"].notna(), out["default_owner"])
    out["status"] = out["status"].fillna(OPEN)
    out["raised"] = out.index.isin(today["exception_id"])
    out["is_open"] = out["raised"] & ~out["status"].isin(CLOSED)
    out["updates"] = out["updates"].fillna(0).astype("int64")
    out["as_of"] = pd.Timestamp(as_of)
    out = out.reset_index()
    order = {t: i for i, t in enumerate(EXCEPTION_TYPES)}
    out = out.assign(_open=~out["is_open"], _type=out["type"].map(order)).sort_values(
        ["_open", "_type", "exception_id"], kind="mergesort", ignore_index=True)
    return out.loc[:, list(EXCEPTION_COLUMNS)], today_log.loc[:, list(LOG_COLUMNS)].reset_index(drop=True)


def unknown_updates(updates: pd.DataFrame | None, exceptions: pd.DataFrame) -> list[str]:
    """Ids the updates name that no plan ever raised (a typo, or an id from another warehouse), sorted."""
    if updates is None or updates.empty:
        return []
    return sorted(set(updates["exception_id"]) - set(exceptions["exception_id"]))
