"""`crossdock exceptions`: the plan's exceptions from publish.exceptions, counts per type first, then the list.

Reads the published plan in the warehouse (read-only, as `crossdock summary`
does) with the dashboard's own queries (dashboard/sop_data.py), so the two list
the same rows: what the last published run raised and the updates that run had
ingested. An update dropped into landing/exceptions/ since shows after the
next run.
"""
from __future__ import annotations

import sys
import textwrap

import pandas as pd

from crossdock.settings import Settings
from crossdock.warehouse import connect, table_exists
from dashboard.sop_data import exception_counts, exception_list

TABLE = "publish.exceptions"


def _money(value: float) -> str:
    return "" if pd.isna(value) else f"€{value:,.2f}"


def format_exceptions(counts: pd.DataFrame, rows: pd.DataFrame, as_of: object, everything: bool) -> str:
    """The text the command prints: the counts per type, then each exception in a few lines."""
    lines = [f"exceptions of the plan as of {as_of}: {int(counts['open'].sum())} open, "
             f"{int(counts['ever_raised'].sum())} ever raised", "", counts.to_string(index=False), ""]
    if rows.empty:
        lines.append("no exception matches" + ("" if everything else " (open ones only; --all for every one)"))
        return "\n".join(lines)
    for type_, group in rows.groupby("type", sort=False):
        lines.append(f"{type_} ({len(group)})")
        for r in group.itertuples():
            state = r.status + ("" if r.raised else ", no longer raised")
            money = "; ".join(x for x in (
                f"value {_money(r.value_eur)}" if pd.notna(r.value_eur) else "",
                f"fix {_money(r.fix_cost_eur)}" if pd.notna(r.fix_cost_eur) else "") if x)
            lines.append(f"  {r.exception_id}  [{state}]  owner: {r.owner}  since {r.first_raised_date:%Y-%m-%d}"
                         + (f"  {money}" if money else ""))
            lines += textwrap.wrap(r.problem, 110, initial_indent="    ", subsequent_indent="    ")
            if isinstance(r.fix, str):
                lines += textwrap.wrap(f"fix: {r.fix}", 110, initial_indent="    ", subsequent_indent="      ")
            if isinstance(r.last_note, str) and r.last_note.strip():
                lines += textwrap.wrap(f"last note: {r.last_note}", 110, initial_indent="    ", subsequent_indent="      ")
        lines.append("")
    return "\n".join(lines).rstrip()


def print_exceptions(settings: Settings, type_: str | None, owner: str | None, status: str | None, everything: bool) -> int:
    """Print the published exceptions; 1 when there is no warehouse or no published exceptions table yet."""
    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse} yet: run `crossdock run` first", file=sys.stderr)
        return 1
    with connect(str(settings.warehouse), read_only=True) as conn:
        if not table_exists(conn, TABLE):
            print(f"no {TABLE} in {settings.warehouse} yet: the next `crossdock run` publishes it", file=sys.stderr)
            return 1
        counts = exception_counts(conn)
        rows = exception_list(conn, type_, owner, status, everything)
        [(as_of,)] = conn.execute(f"select max(as_of)::date from {TABLE}").fetchall()
    print(format_exceptions(counts, rows, as_of, everything))
    print(f"\nupdate one: a CSV in {settings.landing / 'exceptions'}/ (docs/feeds.md, feed exceptions) or the dashboard's "
          "Exceptions page; it shows after the next run")
    return 0
