"""Get quarantined rows back out so a person can fix and re-submit them.

A quarantined row keeps its values as sent (audit.quarantine.record) and as
the contract read them (contract_record: after the source's mapping, with the
line numbers a mapping derived). The export is in the contract's layout, so
the fixed file goes into the feed's own folder under the dataset's prefix
(`fix_file_name`), loads without a mapping, and every line keeps its identity:
a fix updates its own line and can never overwrite another. Rows whose key has
been loaded since are resolved and not exported, and so are rows a fix file
answered: the export names each row (`_quarantine_id`), and a line sent back
with it settles the row whatever its key became (a bad node or date in the
key was never loaded under it) or, quarantined again, is listed in its place.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd

from crossdock.spreadsheet import spreadsheet_safe
from feeds.contracts import CONTRACTS
from feeds.sql import ident


QUARANTINE_ID = "_quarantine_id"
"""The export's column naming each row (<file_id>:<row_number>); a fix file that keeps it settles the row."""


def record_fixes(conn: duckdb.DuckDBPyConnection, file_id: str, header: list[str], table: str = "landed") -> int:
    """Record the lines of a landed file (`table`, one row per line with _row_number) that answer a quarantined row
    (their `_quarantine_id`), loaded or quarantined again: the row they answer is settled. Returns how many."""
    column = next((h for h in header if h.strip().lower() == QUARANTINE_ID), None)
    if column is None:
        return 0
    value = f"trim({ident(column)})"
    [(count,)] = conn.execute(
        f"insert into audit.quarantine_fixes select {value}, ?, _row_number, now() from {ident(table)} "
        f"where coalesce({value}, '') <> ''", [file_id]
    ).fetchall()  # DuckDB answers an insert with its row count
    return int(count)


def quarantine_summary(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined rows per dataset and reason code, newest first: how many, and how many are still open (not
    resolved by a later load of their key, as `open_quarantine` and the export count them)."""
    summary = conn.execute(
        """
        select dataset, reason_code, count(*) as rows, max(quarantined_at) as last_seen, any_value(reason) as example
        from audit.quarantine
        group by dataset, reason_code
        order by last_seen desc, rows desc
        """
    ).df()
    datasets = {c.dataset for c in CONTRACTS}
    open_rows = {
        dataset: open_quarantine(conn, dataset).get("_quarantine_code", pd.Series(dtype=object)).value_counts()
        for dataset in summary["dataset"].unique() if dataset in datasets
    }
    summary.insert(3, "open", [
        int(open_rows[d].get(code, 0)) if d in open_rows else rows  # no contract, no key: nothing resolves it
        for d, code, rows in zip(summary["dataset"], summary["reason_code"], summary["rows"])
    ])
    return summary


def open_quarantine(conn: duckdb.DuckDBPyConnection, dataset: str) -> pd.DataFrame:
    """Quarantined rows of `dataset` not resolved by a load of the same key, later or by the same file (the row
    that won over a duplicate_key one: exported and sent back, the superseded row would win in its turn), nor
    settled by a later version of their file (the same path, other bytes) loaded since:

    - a keyless row (a line cut short while the file was being written) has no key to be resolved by, and would
      stay open for ever once the whole file loaded;
    - a keyed row the later version quarantined again stands for it: listed once, as the later version says it.

    A keyed row the later version does not repeat stays open: an export overwritten daily with a moving
    window drops old lines, fixed or not.

    Returns one row per quarantined record: the values as sent, plus
    _quarantine_reason, _quarantine_code and _source_file so the person fixing them sees why.
    """
    contract = next((c for c in CONTRACTS if c.dataset == dataset), None)
    if contract is None:
        raise ValueError(f"unknown dataset {dataset!r}; one of {', '.join(c.dataset for c in CONTRACTS)}")
    fixes = conn.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() and schema_name = 'audit' "
        "and table_name = 'quarantine_fixes'"
    ).fetchall()[0][0]  # a warehouse no ingest of this release has touched yet has none
    answered = ("where not exists (select 1 from audit.quarantine_fixes as f "
                "where f.quarantine_id = q.quarantine_id)") if fixes else ""
    rows = conn.execute(
        f"""
        with named as (
            select q.*, q.file_id || ':' || cast(q.row_number as varchar) as quarantine_id, l.file_name, l.file_path,
                l.ingested_at
            from audit.quarantine as q
            -- the ingest that loaded the file wrote its rows: the same bytes rejected elsewhere before (landed
            -- before its mapping was set up) are another ledger row of the same file_id, and listed every row twice
            left join audit.ingest_ledger as l on l.file_id = q.file_id and l.status = 'loaded'
            where q.dataset = ?
        ),
        quarantined as (
            select * from named as q {answered}
        ),
        loaded_versions as (
            select file_path, file_id, ingested_at from audit.ingest_ledger where status = 'loaded'
        )
        select
            coalesce(q.contract_record, q.record), q.reason, q.reason_code, q.file_name, q.quarantined_at,
            q.quarantine_id, q.file_path, q.ingested_at,
            exists (
                select 1 from loaded_versions as v
                where v.file_path = q.file_path and v.file_id <> q.file_id and v.ingested_at > q.ingested_at
            ) as has_later_version
        from quarantined as q
        order by q.quarantined_at, q.row_number
        """,
        [dataset],
    ).fetchall()
    records = []
    for record, reason, code, file_name, quarantined_at, quarantine_id, file_path, loaded_at, later in rows:
        values = json.loads(record)
        values.pop(QUARANTINE_ID, None)  # a fix quarantined again: its own id, not the row it answered
        values["_quarantine_reason"] = reason
        values["_quarantine_code"] = code
        values["_source_file"] = file_name
        values["_quarantined_at"] = quarantined_at
        values[QUARANTINE_ID] = quarantine_id
        records.append((values, file_path, loaded_at, later))
    frame = pd.DataFrame([values for values, *_ in records])
    if frame.empty:
        return frame
    settled = _settled_by_a_later_version(frame, contract.key, [r[1:] for r in records])
    frame = frame[~settled].reset_index(drop=True)
    return frame[~_resolved(conn, contract.table, contract.key, frame)].reset_index(drop=True)


def _settled_by_a_later_version(frame: pd.DataFrame, key: tuple[str, ...], files: list[tuple]) -> pd.Series:
    """Rows a later version of their file settles (open_quarantine): keyless ones, and keyed ones a later version
    quarantined again. `files`: (file_path, the version's ingested_at, has_later_version) per row of `frame`."""
    columns = _key_columns(frame, key)
    if columns is None:  # no record has the key: each is keyless
        keys: list[tuple | None] = [None] * len(frame)
    else:
        keyed = frame[columns].notna().all(axis=1)
        keys = [k if has else None for k, has in zip(zip(*(frame[c].astype(str) for c in columns)), keyed)]
    last_quarantined: dict[tuple, object] = {}  # (path, key) -> when the latest version quarantining it loaded
    for row_key, (path, loaded_at, _) in zip(keys, files):
        if row_key is not None and loaded_at is not None:
            last_quarantined[(path, row_key)] = max(loaded_at, last_quarantined.get((path, row_key), loaded_at))
    return pd.Series([
        bool(later) and (row_key is None or last_quarantined.get((path, row_key), loaded_at) > loaded_at)
        for row_key, (path, loaded_at, later) in zip(keys, files)
    ], index=frame.index)


def _key_columns(frame: pd.DataFrame, key: tuple[str, ...]) -> list[str] | None:
    """The frame's columns holding the contract's `key`, matched as a person wrote the header; None without all."""
    lowered = {c.lower().strip(): c for c in frame.columns}
    return [lowered[k] for k in key] if all(k in lowered for k in key) else None


def _resolved(conn: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], frame: pd.DataFrame) -> pd.Series:
    columns = _key_columns(frame, key)
    if columns is None:
        return pd.Series(False, index=frame.index)  # a record without the key columns cannot be matched
    keys = frame[columns].astype(str).set_axis(list(key), axis=1)
    keys["_quarantined_at"] = frame["_quarantined_at"]
    conn.register("_quarantined_keys", keys)
    try:
        join = " and ".join(f"cast(r.{k} as varchar) = q.{k}" for k in key)
        loaded = conn.execute(
            f"select distinct {', '.join('q.' + k for k in key)} from _quarantined_keys q "
            f"join {table} r on {join} and r._ingested_at >= q._quarantined_at"
        ).df()
    finally:
        conn.unregister("_quarantined_keys")
    merged = keys[list(key)].merge(loaded.assign(_loaded=True), on=list(key), how="left")
    return merged["_loaded"].notna().set_axis(frame.index)


def fix_file_name(dataset: str, day: dt.date, folder: Path | None = None) -> str:
    """A name the ingest gives to `dataset` (its contract's prefix) and dates `day`, so fixes win over older exports;
    with `folder`, one no file there has yet (`_02`, `_03`, ... after the date): saving a second fix of the day under
    the first one's name would take that fix out of the landing folder, which `raw` is rebuilt from."""
    contract = next(c for c in CONTRACTS if c.dataset == dataset)
    stem = f"{contract.file_prefix}_fix_{day.isoformat()}"
    name, n = f"{stem}.csv", 1
    while folder is not None and (folder / name).exists():
        n += 1
        name = f"{stem}_{n:02d}.csv"  # zero-padded: files of one date load in name order, so _10 after _09
    return name


def export_quarantine(conn: duckdb.DuckDBPyConnection, dataset: str, out: Path) -> int:
    """Write the open quarantined rows of `dataset` to a CSV to fix; returns the row count.

    The _quarantine_reason, _quarantine_code, _source_file and _quarantined_at columns are for the
    reader; _quarantine_id names the row: keep it, and the fixed line settles that row even when the fix
    changes its key. The ingest loads only the columns the contract names. The file is
    opened in a spreadsheet, so a value that would run as a formula there is
    escaped with a leading quote (crossdock.spreadsheet), which the ingest removes
    again when the fixed file comes back; plain numbers such as -2 are left as
    they are. Personal values were pseudonymised when they were quarantined.
    """
    frame = open_quarantine(conn, dataset)
    if "_line_number" in frame:  # a cut-short line's number, NaN on the other rows: written 10, not 10.0
        frame["_line_number"] = pd.to_numeric(frame["_line_number"], errors="coerce").astype("Int64")
    frame = spreadsheet_safe(frame)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return len(frame)
