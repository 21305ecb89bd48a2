"""The BI copies hold exactly what schema publish holds, and replacing them leaves nothing stale."""
from __future__ import annotations

import duckdb
import pytest

from crossdock.bi_export import SNAPSHOT_NAME, export_published


def test_parquet_and_snapshot_copy_every_published_table_and_drop_tables_no_longer_published(tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create schema publish")
    conn.execute("create table publish.inventory_plan as select range as sku, range * 2.5 as safety_stock from range(100)")
    conn.execute("create table publish.old_table as select 1 as x")
    folder = tmp_path / "bi"
    assert export_published(conn, folder, ("inventory_plan", "old_table")) == {"inventory_plan": 100, "old_table": 1}

    conn.execute("drop table publish.old_table")
    conn.execute("insert into publish.inventory_plan select 100, 1.0")
    assert export_published(conn, folder, ("inventory_plan",)) == {"inventory_plan": 101}  # replaces, never appends
    conn.close()

    assert sorted(p.name for p in (folder / "parquet").iterdir()) == ["inventory_plan.parquet"]
    parquet = duckdb.sql(f"select count(*), sum(safety_stock) from '{folder / 'parquet' / 'inventory_plan.parquet'}'").fetchall()
    assert parquet == [(101, sum(i * 2.5 for i in range(100)) + 1.0)]
    with duckdb.connect(str(folder / SNAPSHOT_NAME), read_only=True) as snap:
        assert snap.execute("select count(*) from publish.inventory_plan").fetchall() == [(101,)]
        tables = snap.execute("select table_name from information_schema.tables where table_schema = 'publish'").fetchall()
        assert tables == [("inventory_plan",)]
    assert sorted(p.name for p in tmp_path.glob("bi*")) == ["bi"]  # nothing half-written beside it


def test_the_folder_is_swapped_whole_and_a_failed_export_leaves_the_previous_copies(tmp_path):
    """Written beside the folder and renamed into place: an export that fails half-way changes nothing."""
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create schema publish")
    conn.execute("create table publish.inventory_plan as select range as sku from range(10)")
    conn.execute("create table publish.plan_runs as select 'run-1' as run_id")
    folder = tmp_path / "bi"
    export_published(conn, folder, ("inventory_plan", "plan_runs"))
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    conn.execute("create or replace table publish.inventory_plan as select range as sku from range(20)")
    conn.execute("create view publish.zz_broken as select error('disk full') as x")  # copied last, after the others
    with pytest.raises(duckdb.Error, match="disk full"):
        export_published(conn, folder, ("inventory_plan", "plan_runs", "zz_broken"))
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.glob("bi*")) == ["bi"]  # no half-written folder left

    conn.execute("drop view publish.zz_broken")
    export_published(conn, folder, ("inventory_plan", "plan_runs"))
    conn.close()
    assert sorted(p.name for p in tmp_path.glob("bi*")) == ["bi"]
    assert duckdb.sql(f"select count(*) from '{folder / 'parquet' / 'inventory_plan.parquet'}'").fetchall() == [(20,)]


def test_by_default_every_declared_publish_table_is_copied_and_nothing_else(tmp_path):
    """The BI contract is the declaration (dbt_project/models/publish/*.yml), not whatever sits in publish."""
    from crossdock.published import published_tables

    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create schema publish")
    for name in published_tables():
        conn.execute(f"create table publish.{name} as select 1 as x")
    conn.execute("create table publish.scratch_by_hand as select 1 as x")
    rows = export_published(conn, tmp_path / "bi")
    conn.close()
    assert set(rows) == set(published_tables()) and "plan_runs" in rows
    assert not (tmp_path / "bi" / "parquet" / "scratch_by_hand.parquet").exists()
