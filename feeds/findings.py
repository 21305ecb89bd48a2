"""What the checks found wrong with a file's rows: the temp table `findings`, failing rows only.

The checks never copy the file's values to say that a row is fine: each step
(the contract's rules, a key repeated in the file, the merchant's plausible
limits, a value flagged on reading) adds one row (_row_number, step,
reason_code, reason) per row it fails, and almost every row fails none.
Writing a checked copy of every line cost ~0.35 CPU-s per million lines, more
than half of what the rules cost to test; the load now reads the rows without
a finding (`good_rows_sql`) from the values as checked.

A row breaking several steps is quarantined once: its reason_code is the first
step's (the order below), its reason every step's reason in that order, as a
merchant fixing the line should read them.
"""
from __future__ import annotations

import duckdb

from feeds.sql import ident

FINDINGS = "findings"

FLAGGED_STEP = 0  # a NUL byte, an over-long value or an open quote found on reading: said first
CONTRACT_STEP = 1  # the contract's rules (row_checks)
REPEATED_KEY_STEP = 2  # a key repeated later in the file
PLAUSIBILITY_STEP = 3  # the first of the plausibility checks, which take one step each in the order they run


def create_findings(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        f"create or replace temp table {FINDINGS} (_row_number bigint not null, step integer not null, "
        "reason_code varchar not null, reason varchar)"
    )


def add_findings(conn: duckdb.DuckDBPyConnection, step: int, select_sql: str) -> None:
    """Record the rows `select_sql` returns as (_row_number, reason_code, reason) as failing `step`."""
    conn.execute(f"insert into {FINDINGS} select _row_number, {int(step)}, reason_code, reason from ({select_sql}) as found")


def good_rows_sql(checked: str = "checked") -> str:
    """SQL for the rows of `checked` without a finding so far (a subquery, to read in a `from`)."""
    return f"(select * from {ident(checked)} anti join {FINDINGS} using (_row_number))"


def failed_rows_sql() -> str:
    """SQL for one row per row with a finding: (_row_number, reason_code of the first step, every step's reason)."""
    return (
        f"select _row_number, arg_min(reason_code, step) as reason_code, string_agg(reason, '; ' order by step) as reason "
        f"from {FINDINGS} group by _row_number"
    )


def failed_row_count(conn: duckdb.DuckDBPyConnection) -> int:
    [(count,)] = conn.execute(f"select count(distinct _row_number) from {FINDINGS}").fetchall()
    return int(count)
