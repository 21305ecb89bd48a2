"""Copies of schema `publish` for BI tools: one Parquet file per table and a read-only snapshot database.

BI tools that opened the live warehouse would hold DuckDB's file lock and
stop the next run (or be stopped by it). They read these copies instead.
The copies are made after a run has published its whole plan (schema
publish changes in one transaction, crossdock/publish.py), and the folder
changes at once too: everything is written into `<folder>.next` beside it,
then the old folder is renamed away and the new one renamed into its place,
so a reader finds the previous plan's files or the new plan's, never a mix
(publish.plan_runs, copied like every table, names the run they are from).
On Spark the tables are read through the warehouse interface as Arrow
tables, so the copies have the same types and layout as from DuckDB.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from crossdock.engine import DuckDBWarehouse, Warehouse, WarehouseLike, as_warehouse
from crossdock.published import published_tables

SNAPSHOT_NAME = "crossdock_publish.duckdb"


def exported_tables() -> tuple[str, ...]:
    """The declared publish tables (dbt_project/models/publish/*.yml), plan_runs included, by name.

    The declaration and not information_schema: a table someone left in
    publish by hand is no part of the BI contract and is not copied.
    """
    return tuple(sorted(published_tables()))


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _write_copies(conn: duckdb.DuckDBPyConnection, folder: Path, tables: list[str]) -> dict[str, int]:
    """`folder`/parquet/<table>.parquet and `folder`/crossdock_publish.duckdb for `tables`; rows per table."""
    parquet_dir = folder / "parquet"
    parquet_dir.mkdir(parents=True)
    rows: dict[str, int] = {}
    for table in tables:
        conn.execute(f"copy publish.{table} to {_quote(parquet_dir / f'{table}.parquet')} (format parquet, compression zstd)")
        rows[table] = conn.execute(f"select count(*) from publish.{table}").fetchall()[0][0]
    conn.execute(f"attach {_quote(folder / SNAPSHOT_NAME)} as bi_snapshot")
    try:
        conn.execute("create schema bi_snapshot.publish")
        for table in tables:
            conn.execute(f"create table bi_snapshot.publish.{table} as select * from publish.{table}")
    finally:
        conn.execute("detach bi_snapshot")
    return rows


def _write_copies_from(warehouse: Warehouse, folder: Path, tables: list[str]) -> dict[str, int]:
    """The same copies from a warehouse that is not a DuckDB file (Spark): each table read as Arrow, so its
    types are kept, into the snapshot, and written to Parquet from there."""
    parquet_dir = folder / "parquet"
    parquet_dir.mkdir(parents=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(folder / SNAPSHOT_NAME)) as snapshot:
        snapshot.execute("create schema publish")
        for table in tables:
            snapshot.register("_published", warehouse.arrow(f"select * from publish.{table}"))
            try:
                [(rows[table],)] = snapshot.execute(f"create table publish.{table} as select * from _published").fetchall()
            finally:
                snapshot.unregister("_published")
            snapshot.execute(
                f"copy publish.{table} to {_quote(parquet_dir / f'{table}.parquet')} (format parquet, compression zstd)"
            )
    return rows


def _swap_in(new: Path, folder: Path) -> None:
    """Put `new` where `folder` is: two renames, the old folder deleted only once the new one is in place."""
    previous = folder.with_name(folder.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if folder.exists():
        folder.rename(previous)
    new.rename(folder)
    shutil.rmtree(previous, ignore_errors=True)


def export_published(target: WarehouseLike, folder: Path, tables: tuple[str, ...] | None = None) -> dict[str, int]:
    """Replace `folder` with parquet/<table>.parquet and crossdock_publish.duckdb of `tables` (default: every
    declared publish table); rows per table.

    A table no longer published disappears with the old folder, so nothing stale lingers for BI.
    """
    new = folder.with_name(folder.name + ".next")
    shutil.rmtree(new, ignore_errors=True)  # left by an export that crashed half-way
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        names = list(exported_tables() if tables is None else tables)
        warehouse = as_warehouse(target)
        if isinstance(warehouse, DuckDBWarehouse):
            rows = _write_copies(warehouse.conn, new, names)
        else:
            rows = _write_copies_from(warehouse, new, names)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    _swap_in(new, folder)
    return rows
