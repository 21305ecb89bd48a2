"""Insert a file's good rows into its raw table, skipping those that repeat the latest version.

A row whose key was loaded before is a new version of it (the latest wins
downstream, earlier versions stay in raw as history); a row that repeats the
latest version exactly, as overlapping exports do, is a duplicate and is not
stored again. All of it is one `insert into ... select`: the rows are typed,
pseudonymised and compared with what is loaded in a single statement, so a
million-line file is read once and never copied through Python.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import duckdb

from feeds.contracts import Contract
from feeds.findings import good_rows_sql
from feeds.row_checks import stored_pii, typed
from feeds.sql import ident

if TYPE_CHECKING:  # pragma: no cover
    from feeds.kept_rows import KeptRows


def raw_targets(contract: Contract) -> list[str]:
    """The raw table's columns the ingest fills from a file (sent, then derived), quoted, in table order."""
    return [ident(c.target_name) for c in contract.columns] + [ident(d.name) for d in contract.derived]


def new_versions_insert_sql(contract: Contract, checked: str = "checked", loaded_before: bool = True) -> str:
    """SQL inserting the rows of `checked` without a finding (`feeds.findings`) that differ from their key's latest loaded version.

    Parameters: the file id and the file's as-of date. Each distinct personal
    value is hashed once (customers come back: a million lines hold ~120k
    customer ids), not once per line. The latest version of a key is looked
    up only for keys the file holds (a semi join on the file's distinct keys:
    an `exists` made DuckDB group the whole raw table by key for every file),
    and a row is compared with it by a left join on the key (a key has one
    latest version): a `not exists` over every column would make DuckDB group
    the file's rows by all their values first.
    The rows go in in the order DuckDB's threads finish them, not the file's
    (each keeps its `_row_number`, the place in its file). `loaded_before`
    False (the raw table is empty, as on a merchant's first file) leaves the
    lookup out: there is no version to compare with.
    """
    if any(contract.column(k).pii for k in contract.key):
        raise ValueError(f"{contract.dataset}: a key column cannot be personal (it is matched as sent)")
    targets = raw_targets(contract)
    personal = [c for c in contract.columns if c.pii]
    pseudonyms = [
        f"""pseudonyms_{i} as (
    select _sent, {stored_pii('_sent')} as _stored
    from (select distinct {ident(c.name)} as _sent from {good_rows_sql(checked)} as good) as sent
),

"""
        for i, c in enumerate(personal)
    ]
    joins = "".join(f"\n    left join pseudonyms_{i} on pseudonyms_{i}._sent = good.{ident(c.name)}" for i, c in enumerate(personal))
    values = []
    for col in contract.columns:
        values.append(f"pseudonyms_{personal.index(col)}._stored" if col.pii else typed(col, f"good.{ident(col.name)}"))
    sent = {c.name: f"good.{ident(c.name)}" for c in contract.columns}
    values += [_without_trim_of_checked(d.sql.format(**sent), sent.values()) for d in contract.derived]
    keys = [ident(contract.column(k).target_name) for k in contract.key]
    same_file_key = " and ".join(f"loaded.{k} = file_keys.{k}" for k in keys)
    same_key = " and ".join(f"latest.{k} = typed_rows.{k}" for k in keys)
    same_values = " and ".join(f"latest.{t} is not distinct from typed_rows.{t}" for t in targets)
    typed_rows = f"""
insert into {contract.table} ({', '.join(targets)}, _file_id, _file_date, _row_number, _ingested_at)
with {''.join(pseudonyms)}typed_rows as (
    select {', '.join(f'{v} as {t}' for v, t in zip(values, targets))}, good._row_number
    from {good_rows_sql(checked)} as good{joins}
)"""
    if not loaded_before:
        return f"{typed_rows}\n\nselect {', '.join(f'typed_rows.{t}' for t in targets)}, ?, ?, typed_rows._row_number, now()\nfrom typed_rows\n"
    return f"""{typed_rows},

file_keys as (
    {file_keys_sql(contract, checked)}
),

versions as (
    select {', '.join(f'loaded.{t}' for t in targets)},
        row_number() over (
            partition by {', '.join(f'loaded.{k}' for k in keys)} order by _file_date desc, _ingested_at desc, _row_number desc
        ) as version_rank
    from {contract.table} as loaded
    semi join file_keys on {same_file_key}
),

latest as (
    select *, true as _found from versions where version_rank = 1
)

select {', '.join(f'typed_rows.{t}' for t in targets)}, ?, ?, typed_rows._row_number, now()
from typed_rows
left join latest on {same_key}
where latest._found is null or not ({same_values})
"""


def file_keys_sql(contract: Contract, checked: str = "checked") -> str:
    """The distinct keys of the rows of `checked` without a finding, typed and named as in the raw table."""
    keys = ", ".join(f"{typed(contract.column(k), ident(k))} as {ident(contract.column(k).target_name)}" for k in contract.key)
    return f"select distinct {keys}\n    from {good_rows_sql(checked)} as good"


def _without_trim_of_checked(sql: str, values: Iterable[str]) -> str:
    """A derived column's SQL without its `trim` of a value of `checked`, which is trimmed already
    (`checked_values_sql`): trimming it again changes nothing but decodes every value (~0.13 CPU-s
    per million lines)."""
    for value in values:
        sql = sql.replace(f"trim({value})", value)
    return sql


def insert_new_versions(
    conn: duckdb.DuckDBPyConnection, contract: Contract, file_id: str, as_of: dt.date, kept: KeptRows | None = None,
) -> int:
    """Insert the rows of `checked` without a finding that are new versions; returns how many.

    With `kept` (the warehouse is not `conn`: feeds/kept_rows.py), the kept versions of the file's keys are
    brought into `conn` first.
    """
    if kept is not None:
        kept.bring_versions(contract)
    inserted = _insert_new_versions(conn, contract, file_id, as_of)
    if kept is not None:
        kept.forget_versions(contract)
    return inserted


def _insert_new_versions(conn: duckdb.DuckDBPyConnection, contract: Contract, file_id: str, as_of: dt.date) -> int:
    [(loaded_before,)] = conn.execute(f"select exists (select 1 from {contract.table})").fetchall()
    [(inserted,)] = conn.execute(new_versions_insert_sql(contract, loaded_before=bool(loaded_before)), [file_id, as_of]).fetchall()
    return int(inserted)
