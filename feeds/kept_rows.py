"""The ingest on a warehouse that is not the DuckDB connection reading the files (Spark).

The ingest reads, maps and checks every file with DuckDB: the landing
tables, the checks, the pseudonyms and the comparison with a key's latest
version are DuckDB SQL (feeds/row_checks.py, feeds/new_versions.py), and
DuckDB reads a CSV at half the speed of its own `read_csv` (bench/ingest.py),
which no other engine on one machine comes near. On the DuckDB warehouse that
connection is the warehouse, and nothing here is used. On Spark the files are
read by an in-memory DuckDB, the file engine, whose raw and audit tables
start empty on every run, and `KeptRows` links it to the warehouse:

- whether a file was loaded before is asked of the warehouse's ledger too;
- before a file's rows are compared with their keys' latest versions, the
  versions of the keys the file holds are brought from the warehouse into the
  file engine's raw table (`bring_versions`), so a row repeating what is kept
  is a duplicate, as on DuckDB; once compared they are taken out again
  (`forget_versions`), so the file engine holds only what this run loaded;
- after a feed's files, what the run loaded goes to the warehouse (`keep`):
  the raw rows of the files loaded, their quarantined rows (replacing any of
  the same files) and the quarantined rows they answered (a fix file's
  `audit.quarantine_fixes`), then their ledger rows, last. A run killed before the
  ledger rows are in leaves its files unrecorded: the next run loads them
  again, their rows then repeat the versions already kept (counted as
  duplicates, not stored twice) and their quarantine rows replace their own.

Files go to the warehouse once per feed, not once per file: an insert on
Spark costs a job, and a first load holds years of daily files; for the
same reason the versions are not looked up in a raw table that was empty
when the run began.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb

from crossdock.engine import DuckDBWarehouse, Warehouse
from feeds.audit import ensure_schema
from feeds.contracts import Contract, contracts_for_feed
from feeds.new_versions import file_keys_sql
from feeds.sql import ident

_KEYS = "audit._ingest_file_keys"  # the keys of the file being loaded, on the warehouse while its versions are read
_QUARANTINED = "audit._ingest_quarantined"  # the run's quarantined rows, on the warehouse until they replace their files'
LEDGER = "audit.ingest_ledger"
QUARANTINE = "audit.quarantine"
FIXES = "audit.quarantine_fixes"


def _listed(ids: Iterable[str]) -> str:
    """File ids as a SQL list (they are SHA-256 hex digests: nothing to escape, checked)."""
    ids = sorted(set(ids))
    if not all(i.isalnum() for i in ids):
        raise ValueError("a file id is a hex digest")
    return ", ".join(f"'{i}'" for i in ids) or "null"


class KeptRows:
    """The warehouse the ingest keeps what it loads in, when the files are read by another DuckDB connection."""

    def __init__(self, warehouse: Warehouse, files: duckdb.DuckDBPyConnection):
        self.warehouse = warehouse
        self.files = files  # the file engine: an in-memory DuckDB holding this run's files only
        self._had_rows: dict[str, bool] = {}
        self._ledger: dict[str, int] | None = None
        ensure_schema(warehouse)

    def recorded(self, file_id: str, loaded_only: bool = True) -> bool:
        """Whether the warehouse's ledger had the file (loaded, or in any status) when this run began: one query
        a run, not one a file (the files this run records are in the file engine's ledger)."""
        if self._ledger is None:
            self._ledger = dict(self.warehouse.rows(
                f"select file_id, max(case when status = 'loaded' then 1 else 0 end) from {LEDGER} group by file_id"
            ))
        return file_id in self._ledger and (not loaded_only or bool(self._ledger[file_id]))

    def _kept_before(self, table: str) -> bool:
        """Whether the warehouse's `table` held rows when this run first looked (a first load's files find none
        there, and the run's own rows wait in the file engine until the feed is done)."""
        if table not in self._had_rows:
            self._had_rows[table] = bool(self.warehouse.rows(f"select 1 from {table} limit 1"))
        return self._had_rows[table]

    def bring_versions(self, contract: Contract, checked: str = "checked") -> None:
        """The warehouse's versions of the keys in `checked`, into the file engine's raw table."""
        if not self._kept_before(contract.table):
            return
        self.files.execute(f"create or replace temp table _file_keys as {file_keys_sql(contract, checked)}")
        columns = self.files.execute(
            "select column_name, data_type from duckdb_columns() where table_name = '_file_keys' order by column_index"
        ).fetchall()
        self.warehouse.execute(f"drop table if exists {_KEYS}")
        self.warehouse.execute(f"create table {_KEYS} ({', '.join(f'{ident(name)} {kind}' for name, kind in columns)})")
        try:
            if not self.warehouse.append_from(_KEYS, self.files, "select * from _file_keys"):
                return
            same_key = " and ".join(f"kept.{ident(name)} = file_keys.{ident(name)}" for name, _ in columns)
            versions = self.warehouse.arrow(  # Arrow, not pandas: a decimal or a zoned time compares as kept
                f"select kept.* from {contract.table} as kept semi join {_KEYS} as file_keys on {same_key}"
            )
        finally:
            self.warehouse.execute(f"drop table if exists {_KEYS}")
            self.files.execute("drop table if exists _file_keys")
        self.files.register("_kept_versions", versions)
        try:
            self.files.execute("create or replace temp table _brought as select _file_id, _row_number from _kept_versions")
            self.files.execute(f"insert into {contract.table} by name select * from _kept_versions")
        finally:
            self.files.unregister("_kept_versions")

    def forget_versions(self, contract: Contract) -> None:
        """Take the versions `bring_versions` brought out of the file engine's raw table again: they are kept on the
        warehouse already, and only the rows this run loads go there (a row is its file and its number)."""
        if self.files.execute("select count(*) from duckdb_tables() where table_name = '_brought'").fetchall()[0][0]:
            self.files.execute(f"""
                delete from {contract.table} as kept using _brought
                where kept._file_id = _brought._file_id and kept._row_number = _brought._row_number
            """)
            self.files.execute("drop table _brought")

    def keep(self, feed: str, loaded: list[str], recorded: list[str]) -> None:
        """Add the raw and quarantined rows of the files `loaded` and the ledger rows of the files `recorded` (loaded
        or rejected) to the warehouse, the ledger last."""
        files = _listed(loaded)
        if loaded:
            for contract in contracts_for_feed(feed):
                self.warehouse.append_from(
                    contract.table, self.files, f"select * from {contract.table} where _file_id in ({files})"
                )
            self._keep_quarantined(files)
            fixes = f"select * from {FIXES} where file_id in ({files})"
            if self.files.execute(f"{fixes} limit 1").fetchall():  # a fix file's answers; an insert costs Spark a job
                self.warehouse.append_from(FIXES, self.files, fixes)
        if recorded:
            self.warehouse.append_from(LEDGER, self.files, f"select * from {LEDGER} where file_id in ({_listed(recorded)})")

    def _keep_quarantined(self, files: str) -> None:
        """The quarantined rows of `files`, replacing any the warehouse has of them (left by a run killed before
        its ledger rows): added as they are when it has none, the usual case, which costs Spark no rewrite."""
        select = f"select * from {QUARANTINE} where file_id in ({files})"
        if not self.warehouse.rows(f"select 1 from {QUARANTINE} where file_id in ({files}) limit 1"):
            self.warehouse.append_from(QUARANTINE, self.files, select)
            return
        self.warehouse.execute(f"drop table if exists {_QUARANTINED}")
        self.warehouse.create_table_as(_QUARANTINED, f"select * from {QUARANTINE} where false")
        try:
            self.warehouse.append_from(_QUARANTINED, self.files, select)
            self.warehouse.replace_where(QUARANTINE, f"file_id in ({files})", (), f"select * from {_QUARANTINED}")
        finally:
            self.warehouse.execute(f"drop table if exists {_QUARANTINED}")


@contextmanager
def file_engine(warehouse: Warehouse) -> Iterator[tuple[duckdb.DuckDBPyConnection, KeptRows | None]]:
    """The DuckDB connection that reads the files, and where what it loads is kept when not in it.

    On DuckDB the warehouse's own connection (nothing to keep elsewhere); on
    any other engine an in-memory DuckDB for this run, and `KeptRows`.
    """
    if isinstance(warehouse, DuckDBWarehouse):
        yield warehouse.conn, None
        return
    files = duckdb.connect()
    try:
        yield files, KeptRows(warehouse, files)
    finally:
        files.close()
