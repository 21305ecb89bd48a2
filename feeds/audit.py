"""DDL of the raw tables (from the contracts) and of the audit tables."""
from __future__ import annotations

from crossdock.engine import Warehouse, WarehouseLike, as_warehouse
from feeds.contracts import CONTRACTS, Contract
from feeds.sql import ident

WAREHOUSE_TYPES = {
    "varchar": "varchar",
    "integer": "bigint",
    "decimal": "decimal(18, 4)",
    "double": "double",
    "date": "date",
    "timestamptz": "timestamptz",
    "boolean": "boolean",
}

LEDGER_DDL = """
create table if not exists audit.ingest_ledger (
    file_id varchar not null,        -- sha256 of the file's bytes
    feed varchar not null,
    dataset varchar,                 -- null when no contract matches the file name
    file_name varchar not null,
    file_path varchar not null,
    file_date date not null,         -- the export's as-of date (feeds/file_dates.py)
    file_bytes bigint not null,
    rows_received bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_rejected bigint not null,   -- rows of a file rejected whole
    rows_duplicate bigint not null,  -- rows identical to the version already loaded (overlapping exports)
    status varchar not null,         -- loaded | rejected
    message varchar,
    ingested_at timestamptz not null
)
"""

QUARANTINE_DDL = """
create table if not exists audit.quarantine (
    file_id varchar not null,
    dataset varchar not null,
    row_number bigint not null,
    reason_code varchar not null,    -- machine-readable: first failed rule
    reason varchar not null,         -- every failed rule, for a person
    record json not null,            -- the values as sent
    quarantined_at timestamptz not null,
    contract_record json             -- the contract's columns as read (after the mapping), for the fix file
)
"""
# warehouses made before contract_record existed gain it (null for their rows)
QUARANTINE_MIGRATIONS = ("alter table audit.quarantine add column if not exists contract_record json",)

# A quarantined row a fix file answered: the export names each row (_quarantine_id), and a line of a file sent back
# with that id settles the row, loaded or quarantined again (then that new row stands for it), whatever its key now.
QUARANTINE_FIXES_DDL = """
create table if not exists audit.quarantine_fixes (
    quarantine_id varchar not null,  -- the row answered: <file_id>:<row_number> of audit.quarantine
    file_id varchar not null,        -- the file that answered it
    row_number bigint not null,      -- its line there
    fixed_at timestamptz not null
)
"""


# Every raw row says where it came from; (name, type, description).
LINEAGE_COLUMNS = (
    ("_file_id", "varchar", "The landing file the row came from (audit.ingest_ledger.file_id)."),
    ("_file_date", "date", "The date in the file's name: of two versions of a row, the later export wins, whenever it arrived."),
    ("_row_number", "bigint", "The row's place among its file's rows (1 = the first data row; blank lines are not rows, and "
     "a bad line quarantined from the same file keeps its own number, so the numbers of one file never repeat)."),
    ("_ingested_at", "timestamptz", "When the ingest loaded the file."),
)


def raw_table_columns(contract: Contract) -> list[tuple[str, str, str]]:
    """(name, warehouse type, description) of every column of the contract's raw table, in table order."""
    sent = [
        (c.target_name, WAREHOUSE_TYPES[c.type],
         c.description + (f" Stored as a keyed (HMAC-SHA256) pseudonym of `{c.name}`, never as sent." if c.pii else ""))
        for c in contract.columns
    ]
    derived = [(d.name, WAREHOUSE_TYPES[d.type], d.description) for d in contract.derived]
    return sent + derived + list(LINEAGE_COLUMNS)


def raw_table_ddl(contract: Contract) -> str:
    lineage = {name for name, _, _ in LINEAGE_COLUMNS}
    cols = [
        f"{ident(name)} {type_}" + (" not null" if name in lineage else "")
        for name, type_, _ in raw_table_columns(contract)
    ]
    return f"create table if not exists {contract.table} (\n    " + ",\n    ".join(cols) + "\n)"


def ensure_schema(target: WarehouseLike) -> None:
    """Create the raw and audit tables if missing, and add the columns a release added to them; safe on every run.

    The quarantine's migrations are DuckDB's: a warehouse on Spark is younger
    than the columns they add. The raw tables' (`add_contract_columns`) run on
    either engine.
    """
    warehouse = as_warehouse(target)
    warehouse.execute("create schema if not exists raw")
    warehouse.execute("create schema if not exists audit")
    warehouse.execute(LEDGER_DDL)
    warehouse.execute(QUARANTINE_DDL)
    warehouse.execute(QUARANTINE_FIXES_DDL)
    if warehouse.engine == "duckdb":
        for migration in QUARANTINE_MIGRATIONS:
            warehouse.execute(migration)
    for contract in CONTRACTS:
        warehouse.execute(raw_table_ddl(contract))
    add_contract_columns(warehouse)


def _raw_columns(warehouse: Warehouse) -> dict[str, set[str]]:
    """Each raw table's column names, lower case (both engines fold case): on DuckDB one catalogue query, since
    every ingest asks (eight information_schema queries tripled the cost of `ensure_schema`)."""
    tables = [contract.table for contract in CONTRACTS]
    if warehouse.engine != "duckdb":
        return {table.lower(): {c.lower() for c in warehouse.columns(table)} for table in tables}
    found: dict[str, set[str]] = {}
    for schema, table, column in warehouse.rows(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where schema_name = 'raw' and database_name = current_database()"):
        found.setdefault(f"{schema}.{table}".lower(), set()).add(column.lower())
    return found


def add_contract_columns(target: WarehouseLike) -> list[str]:
    """Add the columns a contract gained since its raw table was made (null on the rows loaded before); their names.

    A release whose contract reads one more column would otherwise fail every
    ingest into a warehouse an older release made ("table orders does not have
    a column promo_code").
    """
    warehouse = as_warehouse(target)
    existing = _raw_columns(warehouse)
    added = []
    for contract in CONTRACTS:
        have = existing.get(contract.table.lower(), set())
        for name, type_, _ in raw_table_columns(contract):
            if name.lower() not in have:
                warehouse.execute(f"alter table {contract.table} add column {ident(name)} {type_}")
                added.append(f"{contract.table}.{name}")
    return added
