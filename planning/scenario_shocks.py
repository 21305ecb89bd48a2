"""A scenario applied to the plan inputs: demand surged, open PO lines moved, lead times lengthened.

`apply_scenario` returns new `PlanInputs` (the given ones are not changed);
what each knob moves is in `planning.scenario_definitions`. Unknown
suppliers, nodes or markets fail here: a typo would otherwise read as "no risk".
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from planning.inputs import _names
from planning.scenario_definitions import DAYS_PER_WEEK, Scenario
from planning.scenario_inputs import PlanInputs


def _check_known(scenario: Scenario, inputs: PlanInputs) -> None:
    """Raise ValueError naming suppliers, nodes and markets the data does not know.

    A typo ("SUP-08") would otherwise run a scenario that changes nothing and
    reports "no risk", which reads as good news.
    """
    for attr, known, what in (
        ("supplier_out", inputs.suppliers, "suppliers"),
        ("lane_delay_days", inputs.nodes, "nodes"),
        ("demand_uplift", inputs.markets, "markets"),
    ):
        unknown = set(getattr(scenario, attr)) - known
        if unknown:
            raise ValueError(
                f"scenario {scenario.name!r}: unknown {what} in {attr}: {_names(unknown)}; known {what}: {_names(known)}"
            )


def _shift_arrivals(arrivals: pd.DataFrame, shift_days: np.ndarray, as_of: dt.date) -> pd.DataFrame:
    """Move each line `shift_days` later; an overdue line moves from day 1 (where the projection books it)."""
    out = arrivals.copy()
    dates = pd.to_datetime(out["expected_arrival_date"]).dt.normalize()
    moved = shift_days > 0
    if moved.any():
        day_one = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        start = dates.where(dates >= day_one, day_one)
        dates = dates.where(~moved, start + pd.to_timedelta(shift_days, unit="D"))
    out["expected_arrival_date"] = dates
    return out


def apply_scenario(inputs: PlanInputs, scenario: Scenario) -> PlanInputs:
    """The plan inputs as they would be under `scenario` (a new PlanInputs; `inputs` is not changed).

    - forecast: rows of an uplifted market have p10/p50/p90/mean times (1 + x);
    - arrivals: lines from an out supplier +7N days, lines into a delayed
      node +N days (both add up; overdue lines count from day 1);
    - lead_times: SKUs whose primary supplier is out +7N days on the observed
      mean and the quote;
    - node_extra_lead_time_days: the lane delays, added to any already there.

    Raises ValueError naming unknown suppliers, nodes or markets.
    """
    _check_known(scenario, inputs)

    forecast = inputs.forecast
    uplift = {m: x for m, x in scenario.demand_uplift.items() if x != 0.0}
    if uplift:
        forecast = forecast.copy()
        factor = 1.0 + forecast["market"].astype(str).map(uplift).fillna(0.0).to_numpy(dtype=float)
        for col in ("p10", "p50", "p90", "mean"):
            forecast[col] = pd.to_numeric(forecast[col]).to_numpy(dtype=float) * factor

    weeks = {s: w for s, w in scenario.supplier_out.items() if w > 0}
    delays = {n: d for n, d in scenario.lane_delay_days.items() if d > 0}
    arrivals = inputs.arrivals
    if weeks or delays:
        supplier = inputs.arrivals["supplier_id"].astype("string")
        shift = (
            supplier.map(lambda s: DAYS_PER_WEEK * weeks.get(s, 0) if isinstance(s, str) else 0).fillna(0).to_numpy(dtype=int)
            + inputs.arrivals["node"].astype(str).map(lambda n: delays.get(n, 0)).to_numpy(dtype=int)
        )
        arrivals = _shift_arrivals(inputs.arrivals, shift, inputs.as_of)

    lead_times = inputs.lead_times
    if weeks:
        primary = inputs.primary_supplier.set_index("sku")["supplier_id"].astype(str)
        extra = lead_times["sku"].map(primary).map(lambda s: DAYS_PER_WEEK * weeks.get(s, 0) if isinstance(s, str) else 0)
        lead_times = _add_lead_time(lead_times, extra.fillna(0).to_numpy(dtype=float))

    node_extra = dict(inputs.node_extra_lead_time_days)
    for node, days in delays.items():
        node_extra[node] = node_extra.get(node, 0) + days

    return dataclasses.replace(
        inputs, forecast=forecast, arrivals=arrivals, lead_times=lead_times, node_extra_lead_time_days=node_extra
    )


def _add_lead_time(lead_times: pd.DataFrame, extra_days: np.ndarray | float) -> pd.DataFrame:
    """Lead times `extra_days` longer, observed mean and quote alike (the std is left as it was)."""
    out = lead_times.copy()
    for col in ("lead_time_mean_days", "quoted_lead_time_days"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float) + extra_days
    return out
