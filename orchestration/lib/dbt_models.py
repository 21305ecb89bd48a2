"""The asset keys of dbt models, as the Python assets downstream of dbt name them, and the run's planning date.

A dbt model in schema `s` is the asset ["s", name] (defs/dbt/assets.py's
translator keys them so); the domains read their inputs by these keys without
importing the dbt assets.
"""

import dagster as dg


def model_key(schema: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([schema, name])


PLANNING_CALENDAR = model_key("intermediate", "int_planning_calendar")


def planning_date(conn):
    """The run's planning date (a datetime.date): the last day of intermediate.int_planning_calendar."""
    [(as_of,)] = conn.execute(f"select max(calendar_date) from {'.'.join(PLANNING_CALENDAR.path)}").fetchall()
    return as_of
