"""Move stock between nodes before buying more.

A SKU can be short at one node while another node sits on stock it will not
sell for months. Before a purchase order goes out, the plan looks for that
idle stock on the node-to-node lanes (reference.node_transfer_lanes) and
prices both options:

- transfer: fixed cost per shipment + units x weight x freight per kg;
- buy instead: the order cost the transfer saves (when it covers the whole
  need) + a year of carrying cost on the idle units that would otherwise sit
  at the source.

A transfer is recommended when it is cheaper and arrives no later than a new
purchase would (transit days <= the destination's lead time). Only a
source's excess is offered (stock above its excess cover plus its safety
stock, as the plan computes it), so a transfer never creates a new shortage
at the source. Needs are served most urgent first (earliest projected
stock-out), each from its cheapest lane per unit.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from planning.order_quantity import orderable_quantity

TRANSFER_COLUMNS: tuple[str, ...] = (
    "sku", "from_node", "to_node", "units", "mode", "transit_days", "arrival_date", "transfer_cost_eur",
    "purchase_cost_avoided_eur", "saving_eur", "covers_need", "recommended",
)
LANE_COLUMNS = ("from_node", "to_node", "mode", "cost_eur_per_kg", "fixed_cost_eur", "transit_days")


def recommend_transfers(
    plan: pd.DataFrame,
    lanes: pd.DataFrame,
    weights: pd.DataFrame,
    as_of: dt.date,
    order_cost_eur: float,
    annual_carrying_rate: float,
) -> pd.DataFrame:
    """Transfer options for the plan's rows that need an order now, cheapest source first.

    Args:
        plan: `build_inventory_plan` output (needs sku, node, recommended_order_qty,
            order_up_to, inventory_position, excess_units, unit_cost_eur,
            lead_time_days, projected_stockout_date).
        lanes: from_node, to_node, mode, cost_eur_per_kg, fixed_cost_eur, transit_days.
        weights: sku, weight_kg (kg per unit; a missing weight counts as 0 kg
            and only the fixed cost is charged).
        as_of: plan date (arrival = as_of + transit days).
        order_cost_eur, annual_carrying_rate: the policy's, to price buying instead.

    Returns one row per (need, source) allocation, `TRANSFER_COLUMNS`, with
    `recommended` true when the transfer is cheaper than buying and arrives in time.
    """
    missing = [c for c in LANE_COLUMNS if c not in lanes.columns]
    if missing:
        raise ValueError(f"`lanes` is missing columns {missing}")
    weight = weights.drop_duplicates("sku").set_index("sku")["weight_kg"].astype(float)
    needs = plan[plan["recommended_order_qty"] > 0].assign(
        need=lambda f: np.maximum(f["order_up_to"] - f["inventory_position"], 0.0)
    )
    needs = needs[needs["need"] > 0].sort_values(["projected_stockout_date", "sku", "node"], na_position="last")
    spare = plan.loc[plan["excess_units"] >= 1, ["sku", "node", "excess_units", "unit_cost_eur"]].copy()
    spare["left"] = np.floor(spare["excess_units"])
    spare = spare.set_index(["sku", "node"])
    rows = []
    as_of_ts = pd.Timestamp(as_of).normalize()
    for need in needs.itertuples(index=False):
        candidates = lanes[(lanes["to_node"] == need.node)]
        candidates = candidates[[(need.sku, n) in spare.index for n in candidates["from_node"]]]
        if candidates.empty:
            continue
        kg = float(np.nan_to_num(weight.get(need.sku, 0.0)))  # a missing weight: only the fixed cost
        per_unit = candidates["cost_eur_per_kg"].to_numpy(dtype=float) * kg
        candidates = candidates.assign(per_unit=per_unit).sort_values(["per_unit", "transit_days", "from_node"])
        left = float(need.need)
        for lane in candidates.itertuples(index=False):
            if left <= 0:
                break
            available = float(spare.at[(need.sku, lane.from_node), "left"])
            units = float(min(available, np.ceil(left)))
            if units <= 0:
                continue
            spare.at[(need.sku, lane.from_node), "left"] = available - units
            left -= units
            cost = float(lane.fixed_cost_eur) + units * lane.per_unit
            covers = left <= 0
            avoided = (order_cost_eur if covers else 0.0) + units * float(need.unit_cost_eur) * annual_carrying_rate
            in_time = float(lane.transit_days) <= float(need.lead_time_days)
            rows.append(
                {
                    "sku": need.sku,
                    "from_node": lane.from_node,
                    "to_node": need.node,
                    "units": int(units),
                    "mode": lane.mode,
                    "transit_days": int(lane.transit_days),
                    "arrival_date": as_of_ts + pd.Timedelta(days=int(lane.transit_days)),
                    "transfer_cost_eur": cost,
                    "purchase_cost_avoided_eur": avoided,
                    "saving_eur": avoided - cost,
                    "covers_need": covers,
                    "recommended": bool(in_time and avoided > cost),
                }
            )
    out = pd.DataFrame(rows, columns=list(TRANSFER_COLUMNS))
    return out.astype({"units": "int64", "transit_days": "int64", "covers_need": bool, "recommended": bool})


def apply_transfers(plan: pd.DataFrame, transfers: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """The plan with transfer_in_units, transfer_out_units and purchase_after_transfers (units).

    `skus` gives each SKU's moq and pack_size. purchase_after_transfers is
    what still has to be bought after the
    recommended transfers in, made orderable (MOQ, packs); 0 when transfers
    cover the need. The original recommended_order_qty is kept beside it so a
    planner sees both.
    """
    rec = transfers[transfers["recommended"]]
    tin = rec.groupby(["sku", "to_node"])["units"].sum().rename("transfer_in_units")
    tout = rec.groupby(["sku", "from_node"])["units"].sum().rename("transfer_out_units")
    out = plan.merge(tin.rename_axis(["sku", "node"]).reset_index(), on=["sku", "node"], how="left")
    out = out.merge(tout.rename_axis(["sku", "node"]).reset_index(), on=["sku", "node"], how="left")
    out[["transfer_in_units", "transfer_out_units"]] = (
        out[["transfer_in_units", "transfer_out_units"]].fillna(0).astype("int64")
    )
    terms = out[["sku"]].merge(skus[["sku", "moq", "pack_size"]].drop_duplicates("sku"), on="sku", how="left")
    need = np.maximum(out["order_up_to"] - out["inventory_position"] - out["transfer_in_units"], 0.0)
    still = (out["recommended_order_qty"] > 0) & (need > 0)
    orderable = orderable_quantity(need.to_numpy(), terms["moq"].to_numpy(), terms["pack_size"].to_numpy())
    out["purchase_after_transfers"] = np.where(
        still & (out["transfer_in_units"] > 0), orderable, np.where(still, out["recommended_order_qty"], 0)
    ).astype("int64")
    return out
