"""The columns and DuckDB types of the two published compliance tables, as dbt's yml declares them.

Both tables are written for every merchant, including one whose plan has no
row (no supplier catalogue yet) or whose amounts are all unknown: an empty or
all-null pandas column would otherwise reach DuckDB as VARCHAR. `typed` builds
the frame with each column's declared type. The declaration is the one in
dbt_project/models/publish/_published_by_dagster.yml (crossdock.published):
the docs, the Dagster UI and the writer's casts (crossdock.publish.stage_table)
read the same list, so a column is added there, once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

import pandas as pd
import pyarrow as pa

from crossdock.published import published_table


@cache
def plan_schema() -> tuple[tuple[str, str], ...]:
    """(column, DuckDB type) of publish.compliance_plan, as declared in dbt's yml (read on first use)."""
    return published_table("compliance_plan").schema


@cache
def order_schema() -> tuple[tuple[str, str], ...]:
    """(column, DuckDB type) of publish.order_landed_cost, as declared in dbt's yml (read on first use)."""
    return published_table("order_landed_cost").schema


def plan_columns() -> tuple[str, ...]:
    """The columns of publish.compliance_plan, in order."""
    return tuple(name for name, _ in plan_schema())


def order_columns() -> tuple[str, ...]:
    """The columns of publish.order_landed_cost, in order."""
    return tuple(name for name, _ in order_schema())


def typed(rows: pd.DataFrame | Iterable[Mapping], schema: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """`rows` with exactly the schema's columns, in order, each in the pandas dtype DuckDB reads as its type."""
    columns = [name for name, _ in schema]
    frame = rows[columns].copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=columns)
    for name, kind in schema:
        column = frame[name]
        if kind == "double":
            frame[name] = column.astype("float64")
        elif kind == "bigint":
            frame[name] = column.astype("int64")
        elif kind == "boolean":
            frame[name] = column.astype(bool)
        elif kind == "date" and frame.empty:
            frame[name] = column.astype(pd.ArrowDtype(pa.date32()))
        elif kind == "varchar":
            frame[name] = column.astype(object).where(column.notna(), None)
    return frame
