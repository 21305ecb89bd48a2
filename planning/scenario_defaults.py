"""The scenarios a run stresses by default, picked from the data so a demo always tests something real.

The widest single-supplier exposure, the slowest inbound node and the
largest market; one whose data is missing is left out rather than invented.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planning.lead_time import resolve_lead_times
from planning.scenario_definitions import Scenario
from planning.scenario_inputs import PlanInputs


def default_scenarios(
    inputs: PlanInputs, supplier_weeks: int = 4, lane_days: int = 7, uplift: float = 0.3
) -> list[Scenario]:
    """Three scenarios picked from the data so a demo always stresses something real.

    - the primary supplier of the most SKUs (ties: most open PO units, then
      id) out `supplier_weeks` weeks: the widest single-supplier exposure;
    - the slowest inbound node, by the quantity-weighted lead time of the
      SKUs on its open PO lines (ties: most open units, then name), slowed by
      `lane_days` days: the node where a late lane hurts longest;
    - `uplift` more demand in the market with the largest forecast over the
      horizon (ties: name).

    A scenario whose data is missing (no primary suppliers, no open lines, no
    forecast) is left out rather than invented; `pick_default_scenarios` also says which and why.
    """
    return pick_default_scenarios(inputs, supplier_weeks, lane_days, uplift).run


@dataclass(frozen=True)
class DefaultScenarios:
    """The default scenarios the data gave (`run`), and those it could not: what each would have been -> why not."""

    run: list[Scenario]
    left_out: dict[str, str]


def pick_default_scenarios(
    inputs: PlanInputs, supplier_weeks: int = 4, lane_days: int = 7, uplift: float = 0.3
) -> DefaultScenarios:
    """`default_scenarios` and the ones it left out, picked once."""
    picks = [_supplier_out(inputs, supplier_weeks), _slowest_inbound(inputs, lane_days), _largest_market(inputs, uplift)]
    return DefaultScenarios(
        run=[pick for pick in picks if isinstance(pick, Scenario)],
        left_out=dict(pick for pick in picks if not isinstance(pick, Scenario)),
    )


def _supplier_out(inputs: PlanInputs, weeks: int) -> Scenario | tuple[str, str]:
    prim = inputs.primary_supplier.dropna(subset=["supplier_id"])
    if prim.empty:
        return f"the primary supplier of the most SKUs out {weeks} weeks", "no SKU has a primary supplier"
    units = inputs.arrivals.groupby("supplier_id")["quantity"].sum()
    ranked = (
        prim.groupby("supplier_id")["sku"].nunique().rename("skus").to_frame()
        .assign(units=lambda f: units.reindex(f.index, fill_value=0.0).astype(float))
        .reset_index()
        .sort_values(["skus", "units", "supplier_id"], ascending=[False, False, True])
    )
    top = ranked.iloc[0]
    return Scenario(
        name=f"{top['supplier_id']} out {weeks} weeks (primary of {int(top['skus'])} SKUs)",
        supplier_out={str(top["supplier_id"]): weeks},
    )


def _slowest_inbound(inputs: PlanInputs, days: int) -> Scenario | tuple[str, str]:
    left_out = f"the slowest inbound node +{days} days"
    lines = inputs.arrivals
    if lines.empty:
        return left_out, "no open purchase order line to weigh the nodes' lead times by"
    lt = resolve_lead_times(inputs.lead_times).set_index("sku")["lead_time_days"]
    frame = lines.assign(L=lines["sku"].map(lt), q=pd.to_numeric(lines["quantity"]).astype(float)).dropna(subset=["L"])
    if frame.empty or frame["q"].sum() <= 0:
        return left_out, "no open purchase order line with units and a known lead time"
    by_node = frame.assign(Lq=frame["L"] * frame["q"]).groupby("node")[["Lq", "q"]].sum()
    by_node["L"] = by_node["Lq"] / by_node["q"]  # the lead time of the node's open units, quantity-weighted
    top = by_node.reset_index().sort_values(["L", "q", "node"], ascending=[False, False, True]).iloc[0]
    return Scenario(
        name=f"{top['node']} inbound +{days} days (slowest inbound, L {top['L']:.0f} d)",
        lane_delay_days={str(top["node"]): days},
    )


def _largest_market(inputs: PlanInputs, uplift: float) -> Scenario | tuple[str, str]:
    fc = inputs.forecast
    fc = fc[pd.to_datetime(fc["forecast_date"]) >= pd.Timestamp(inputs.as_of)]
    if fc.empty:
        return f"demand +{uplift:.0%} in the largest market", "no forecast from the planning date on"
    volume = fc.groupby("market")["mean"].sum().reset_index().sort_values(["mean", "market"], ascending=[False, True])
    market = str(volume.iloc[0]["market"])
    return Scenario(name=f"demand +{uplift:.0%} in {market}", demand_uplift={market: uplift})
