"""The scenarios a run stresses by default, picked from the data so a demo always tests something real.

The widest single-supplier exposure, the slowest inbound node and the
largest market; one whose data is missing is left out rather than invented.
"""
from __future__ import annotations

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
    forecast) is left out rather than invented.
    """
    out: list[Scenario] = []
    prim = inputs.primary_supplier.dropna(subset=["supplier_id"])
    if not prim.empty:
        units = inputs.arrivals.groupby("supplier_id")["quantity"].sum()
        ranked = (
            prim.groupby("supplier_id")["sku"].nunique().rename("skus").to_frame()
            .assign(units=lambda f: units.reindex(f.index).fillna(0.0))
            .reset_index()
            .sort_values(["skus", "units", "supplier_id"], ascending=[False, False, True])
        )
        top = ranked.iloc[0]
        out.append(
            Scenario(
                name=f"{top['supplier_id']} out {supplier_weeks} weeks (primary of {int(top['skus'])} SKUs)",
                supplier_out={str(top["supplier_id"]): supplier_weeks},
            )
        )
    lines = inputs.arrivals
    if not lines.empty:
        lt = resolve_lead_times(inputs.lead_times).set_index("sku")["lead_time_days"]
        frame = lines.assign(L=lines["sku"].map(lt), q=pd.to_numeric(lines["quantity"]).astype(float)).dropna(subset=["L"])
        if not frame.empty and frame["q"].sum() > 0:
            by_node = (
                frame.assign(Lq=frame["L"] * frame["q"]).groupby("node")[["Lq", "q"]].sum()
                .assign(L=lambda f: f["Lq"] / f["q"]).reset_index()
                .sort_values(["L", "q", "node"], ascending=[False, False, True])
            )
            top = by_node.iloc[0]
            out.append(
                Scenario(
                    name=f"{top['node']} inbound +{lane_days} days (slowest inbound, L {top['L']:.0f} d)",
                    lane_delay_days={str(top["node"]): lane_days},
                )
            )
    fc = inputs.forecast
    fc = fc[pd.to_datetime(fc["forecast_date"]) >= pd.Timestamp(inputs.as_of)]
    if not fc.empty:
        volume = fc.groupby("market")["mean"].sum().reset_index().sort_values(["mean", "market"], ascending=[False, True])
        market = str(volume.iloc[0]["market"])
        out.append(Scenario(name=f"demand +{uplift:.0%} in {market}", demand_uplift={market: uplift}))
    return out
