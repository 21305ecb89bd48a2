"""Copies of schema `publish` for BI tools: one Parquet file per table and a read-only snapshot database.

BI tools that opened the live warehouse would hold DuckDB's file lock and
stop the next run (or be stopped by it). They read these copies instead,
which are replaced whole after each publish: every file is written beside
its target and renamed over it, so a reader sees the old or the new
version, never half of one.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

SNAPSHOT_NAME = "crossdock_publish.duckdb"


def published_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = 'publish' order by table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_published(conn: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Write `folder`/parquet/<table>.parquet and `folder`/crossdock_publish.duckdb; returns rows per table."""
    parquet_dir = folder / "parquet"
    parquet_dir.mkdir(parents=True, exist_ok=True)
    tables = published_tables(conn)
    rows: dict[str, int] = {}
    for table in tables:
        target = parquet_dir / f"{table}.parquet"
        partial = target.with_suffix(".parquet.partial")
        conn.execute(f"copy publish.{table} to {_quote(partial)} (format parquet, compression zstd)")
        os.replace(partial, target)
        rows[table] = conn.execute(f"select count(*) from publish.{table}").fetchall()[0][0]
    for stale in set(p.stem for p in parquet_dir.glob("*.parquet")) - set(tables):
        (parquet_dir / f"{stale}.parquet").unlink()  # a table no longer published must not linger for BI

    snapshot = folder / SNAPSHOT_NAME
    partial = folder / (SNAPSHOT_NAME + ".partial")
    partial.unlink(missing_ok=True)
    conn.execute(f"attach {_quote(partial)} as bi_snapshot")
    try:
        conn.execute("create schema bi_snapshot.publish")
        for table in tables:
            conn.execute(f"create table bi_snapshot.publish.{table} as select * from publish.{table}")
    finally:
        conn.execute("detach bi_snapshot")
    os.replace(partial, snapshot)
    return rows
