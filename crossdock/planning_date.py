"""The planning date a run may be given (`crossdock run --as-of`, the dbt asset's `as_of` config).

Only its form is checked here; whether it falls within the orders (first to
last order day) is checked by dbt's `int_planning_calendar`, which knows them,
and first, before dbt starts, by the dbt asset on the loaded orders
(orchestration/defs/dbt/assets.py, as_of_outside_the_orders).
"""
from __future__ import annotations

import datetime as dt
import re

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_as_of(text: str) -> dt.date:
    """The day `text` names as YYYY-MM-DD; ValueError with the reason otherwise."""
    value = str(text).strip()
    if not _ISO_DAY.fullmatch(value):
        raise ValueError(f"as_of {text!r} is not a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"as_of {text!r} is not a day of the calendar ({error})") from None
