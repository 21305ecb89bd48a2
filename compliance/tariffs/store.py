"""reference.tariff_file_rates: the loaded tariffs' rows, one tariff per destination.

Loading a destination's tariff replaces every row of that destination in one
write, so loading the same file twice, or a newer file, leaves exactly one
tariff per border and never mixes two files' rows. The dbt model
int_sku_duty_rates reads this table when it exists, before the duty_rates
seed: the official tariff wins, the hand-kept seed fills what the file lacks.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from compliance.tariffs.lines import COLLAPSED_COLUMNS, TariffFile, collapse, in_force
from crossdock.engine import WarehouseLike, as_warehouse

TABLE = "reference.tariff_file_rates"
SCHEMA: tuple[tuple[str, str], ...] = (
    ("destination", "varchar"), ("hs_heading", "varchar"), ("hs6", "varchar"), ("agreement", "varchar"),
    ("qualifying_origins", "varchar"), ("mfn_rate", "double"), ("preferential_rate", "double"),
    ("rate_min", "double"), ("national_lines", "integer"), ("duty_expression", "varchar"),
    ("effective_from", "date"), ("effective_to", "date"),
    ("source", "varchar"), ("source_file", "varchar"), ("as_of", "date"), ("loaded_at", "timestamp"),
)
assert tuple(name for name, _ in SCHEMA[:len(COLLAPSED_COLUMNS)]) == COLLAPSED_COLUMNS


def table_ddl() -> str:
    return f"create table if not exists {TABLE} ({', '.join(f'{name} {type_}' for name, type_ in SCHEMA)})"


def tariff_rows(tariff: TariffFile, files: str, as_of: dt.date) -> pd.DataFrame:
    """The rows a load adds: its lines in force on `as_of`, collapsed, with their source, file names and date."""
    rows = collapse(in_force(tariff.lines, as_of))
    return rows.assign(source=tariff.source, source_file=files, as_of=as_of,
                       loaded_at=pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s"))


def store(target: WarehouseLike, rows: pd.DataFrame, destination: str) -> int:
    """Replace `destination`'s rows with `rows` (all of that destination); returns the rows written."""
    warehouse = as_warehouse(target)
    if not warehouse.exists(TABLE):
        warehouse.execute("create schema if not exists reference")
        warehouse.execute(table_ddl())
    select = ", ".join(f"cast({name} as {type_}) as {name}" for name, type_ in SCHEMA)
    return warehouse.replace_rows(TABLE, "destination = ?", [destination], rows[[n for n, _ in SCHEMA]],
                                  select_list=select)


def loaded(target: WarehouseLike) -> pd.DataFrame:
    """Every loaded row (empty, with the table's columns, when nothing was ever loaded)."""
    warehouse = as_warehouse(target)
    if not warehouse.exists(TABLE):
        return pd.DataFrame(columns=[name for name, _ in SCHEMA])
    return warehouse.query(f"select * from {TABLE} order by destination, hs_heading, hs6, agreement")


def last_loaded_at(target: WarehouseLike) -> dt.datetime | None:
    """When a tariff was last loaded (UTC), or None if none ever was: a plan published before it prices duty
    without it, so a run with nothing else new is not "nothing new" (orchestration/lib/run_inputs.py)."""
    warehouse = as_warehouse(target)
    if not warehouse.exists(TABLE):
        return None
    [(at,)] = warehouse.rows(f"select max(loaded_at) from {TABLE}")
    return None if at is None or pd.isna(at) else pd.Timestamp(at).to_pydatetime()
