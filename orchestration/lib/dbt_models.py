"""The asset keys of dbt models, as the Python assets downstream of dbt name them, and the run's planning date.

A dbt model in schema `s` is the asset ["s", name] (defs/dbt/assets.py's
translator keys them so); the domains read their inputs by these keys without
importing the dbt assets.
"""

import datetime as dt

import dagster as dg

from crossdock.engine import WarehouseLike, as_warehouse


def model_key(schema: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([schema, name])


PLANNING_CALENDAR = model_key("intermediate", "int_planning_calendar")


def planning_date(target: WarehouseLike) -> dt.date | None:
    """The run's planning date: the last day of intermediate.int_planning_calendar (None while it is empty)."""
    [(as_of,)] = as_warehouse(target).rows(f"select max(calendar_date) from {'.'.join(PLANNING_CALENDAR.path)}")
    return as_of


NO_ORDERS = "no order has been loaded (marts.fct_daily_demand is empty): ingest some orders first (landing/orders/)."


def required_planning_date(target: WarehouseLike, step: str) -> dt.date:
    """The planning date, or a failure saying that a step planned on it needs orders: without an order day there
    is no date to forecast from or price the rules of."""
    as_of = planning_date(target)
    if as_of is None:
        raise dg.Failure(description=f"{step} has no planning date: {NO_ORDERS}")
    return as_of
