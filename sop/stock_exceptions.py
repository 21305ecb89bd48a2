"""The exceptions of the inventory plan's rows, SKU x node: what to expedite, what is below its safety stock,
what is excess, and where the supplier's smallest order outlasts the demand (sop/exceptions.py lists every type).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crossdock.merchant_settings import ExceptionSettings
from crossdock.plan_labels import AS_PLANNED, DEMAND_FROM_FORECAST, EXCESS, EXPEDITE, MAX_COVER_DAYS, NONE_FEASIBLE
from sop.exception_rows import day_text, empty_rows, finish_rows


def _known_stock(plan: pd.DataFrame) -> pd.DataFrame:
    """Plan rows whose stock is known (a node without an inventory feed has on_hand null: no verdict to raise)."""
    return plan[plan["on_hand"].notna()]


def expedite(plan: pd.DataFrame, impact: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """Rows the plan says to expedite or transfer, each with the cheapest fix scenario_impact priced for it.

    `plan`: publish.inventory_plan (sku, node, action, on_hand, projected_stockout_date, lead_time_days,
    unit_cost_eur); `impact`: publish.scenario_impact (its AS_PLANNED rows are the plan's own).
    """
    rows = plan[plan["action"] == EXPEDITE]
    if rows.empty:
        return empty_rows()
    fixes = impact[impact["scenario"] == AS_PLANNED]
    rows = rows.merge(fixes, on=["sku", "node"], how="left", suffixes=("", "_fix"))
    units = rows["shortfall_units"].astype(float)

    def problem(r: pd.Series, short: float) -> str:
        lead = f" ({float(r['lead_time_days']):.0f} days)" if pd.notna(r["lead_time_days"]) else ""
        text = f"stock runs out on {day_text(r['projected_stockout_date'])}"
        # the plan's date is before its own transfers; the shortfall is priced with them made (scenario_impact)
        moved, after = r.get("transfer_in_units"), r.get("baseline_stockout_date")
        if pd.notna(moved) and moved > 0 and pd.notna(after) and pd.Timestamp(after) != pd.Timestamp(r["projected_stockout_date"]):
            text += f", on {day_text(after)} with the {moved:,.0f} units the plan moves in"
        text += f", before a purchase placed today lands{lead}"
        if pd.notna(short):
            return text + f"; {short:,.0f} units go unserved until then"
        if covered(r):
            return text + f"; the {moved:,.0f} units the plan moves in cover it until then"
        return text

    def covered(r: pd.Series) -> bool:
        """The plan's transfers in leave no shortfall: scenario_impact, which ran, has no as-planned row for it."""
        moved = r.get("transfer_in_units")
        return not impact.empty and pd.isna(r.get("scenario")) and pd.notna(moved) and moved > 0

    def fix(r: pd.Series) -> str | None:
        if covered(r):
            return f"make the transfer in of {r['transfer_in_units']:,.0f} units (transfer_recommendations)"
        if pd.isna(r.get("contingency")):
            return None
        if r["contingency"] == NONE_FEASIBLE:
            return f"none feasible: {r['contingency_detail']}"
        landing = f", lands {day_text(r['contingency_arrival_date'])}" if pd.notna(r["contingency_arrival_date"]) else ""
        return f"{r['contingency']} {r['contingency_detail']}: {int(r['contingency_units']):,} units{landing}"

    out = pd.DataFrame({
        "exception_id": "expedite:" + rows["sku"] + ":" + rows["node"],
        "sku": rows["sku"], "node": rows["node"],
        "subject": rows["sku"] + " at " + rows["node"],
        "problem": [problem(r, u) for (_, r), u in zip(rows.iterrows(), units)],
        "units_affected": units,
        "value_eur": units * rows["unit_cost_eur"].astype(float),
        "fix": [fix(r) for _, r in rows.iterrows()],
        "fix_cost_eur": rows["contingency_cost_eur"].astype(float),
    })
    return finish_rows(out, "expedite", settings)


def below_safety_stock(plan: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """SKU x node rows with less on hand than their safety stock, except those already raised as expedite.

    `plan`: publish.inventory_plan (sku, node, action, on_hand, safety_stock, unit_cost_eur,
    recommended_order_qty, order_by_date, transfer_in_units, and purchase_after_transfers when the plan has it:
    the order beside a transfer in is what is still bought after it, not the order before it).
    """
    rows = _known_stock(plan)
    rows = rows[(rows["on_hand"].astype(float) < rows["safety_stock"].astype(float)) & (rows["action"] != EXPEDITE)]
    if rows.empty:
        return empty_rows()
    short = rows["safety_stock"].astype(float) - rows["on_hand"].astype(float)
    cost = rows["unit_cost_eur"].astype(float)
    bought = "purchase_after_transfers" if "purchase_after_transfers" in rows else "recommended_order_qty"
    order = rows[bought].fillna(0).astype(float)
    transfer_in = rows["transfer_in_units"].fillna(0).astype(float)

    def fix(qty: float, moved: float, by: object, unit_cost: float) -> str | None:
        parts = []
        if moved > 0:
            parts.append(f"transfer in {moved:,.0f} units")
        if qty > 0:
            parts.append(f"order {qty:,.0f} units" + (f" by {day_text(by)}" if pd.notna(by) else "")
                         + (f" (€{qty * unit_cost:,.2f} at cost)" if pd.notna(unit_cost) else ""))
        return "; ".join(parts) or None

    out = pd.DataFrame({
        "exception_id": "below_safety_stock:" + rows["sku"] + ":" + rows["node"],
        "sku": rows["sku"], "node": rows["node"],
        "subject": rows["sku"] + " at " + rows["node"],
        "problem": [f"{oh:,.0f} on hand, below the safety stock of {ss:,.0f}"
                    for oh, ss in zip(rows["on_hand"].astype(float), rows["safety_stock"].astype(float))],
        "units_affected": short,
        "value_eur": short * cost,
        "fix": [fix(q, m, b, c) for q, m, b, c in zip(order, transfer_in, rows["order_by_date"], cost)],
        "fix_cost_eur": np.where(order > 0, order * cost, np.nan),
    })
    return finish_rows(out, "below_safety_stock", settings)


def excess(plan: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """SKU x node rows the plan calls excess: more on hand than the policy would ever hold, and long cover.

    `plan`: publish.inventory_plan (sku, node, action, on_hand, days_of_cover, excess_units, excess_value_eur,
    transfer_out_units).
    """
    rows = plan[plan["action"] == EXCESS]
    if rows.empty:
        return empty_rows()
    moved = rows["transfer_out_units"].fillna(0).astype(float)
    out = pd.DataFrame({
        "exception_id": "excess:" + rows["sku"] + ":" + rows["node"],
        "sku": rows["sku"], "node": rows["node"],
        "subject": rows["sku"] + " at " + rows["node"],
        "problem": [f"{oh:,.0f} on hand cover {_cover_days(cover)}; {units:,.0f} units are beyond the excess cover and "
                    "safety stock the policy allows"
                    for oh, cover, units in zip(rows["on_hand"].astype(float), rows["days_of_cover"].astype(float),
                                                rows["excess_units"].astype(float))],
        "units_affected": rows["excess_units"].astype(float),
        "value_eur": rows["excess_value_eur"].astype(float),
        "fix": [f"transfer out {m:,.0f} units (transfer_recommendations)" if m > 0 else None for m in moved],
    })
    return finish_rows(out, "excess", settings)


def _cover_days(cover: float) -> str:
    """Days of cover in words: the plan publishes at most MAX_COVER_DAYS, which reads as ten years or more."""
    return f"{MAX_COVER_DAYS // 365} years or more" if cover >= MAX_COVER_DAYS else f"{cover:,.0f} days"


def moq_outlasts_demand(plan: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """SKU x node rows with an order to place where the smallest order the supplier accepts (its MOQ, or one
    pack) covers more than `moq_cover_days` of the node's demand.

    The plan raises every order to the MOQ and rounds it up to whole packs, as the supplier demands, so a MOQ
    of 5,000 on a SKU selling 180 a year is bought as 5,000: 27 years of stock, which no verdict of the plan
    questions (the order is what makes the excess, after the purchase). Someone should ask for smaller terms
    or another supplier before it is placed. `plan`: publish.inventory_plan (sku, node, mean_daily_demand,
    moq, pack_size, supplier_id, unit_cost_eur, recommended_order_qty, and demand_basis, order_terms_assumed
    and purchase_after_transfers when the plan has them).
    """
    bought = "purchase_after_transfers" if "purchase_after_transfers" in plan else "recommended_order_qty"
    demand = plan["mean_daily_demand"].astype(float)
    moq = plan["moq"].astype(float).fillna(0)
    pack = plan["pack_size"].astype(float).fillna(1)
    smallest = np.ceil(np.maximum(moq, 1.0) / pack) * pack  # the MOQ in whole packs, as planning orders it
    order = plan[bought].fillna(0).astype(float)
    limit = demand * settings.moq_cover_days
    # one unit is no term to negotiate; a row whose demand is partly unknown (a held-back market) cannot be judged
    whole = plan["demand_basis"].eq(DEMAND_FROM_FORECAST) if "demand_basis" in plan else True
    hit = (order > 0) & (demand > 0) & (smallest > 1) & (smallest > limit) & (order - limit >= 1) & whole
    rows = plan[hit]
    if rows.empty:
        return empty_rows()
    demand, moq, pack, smallest, order = demand[hit], moq[hit], pack[hit], smallest[hit], order[hit]
    beyond = np.floor(order - limit[hit])
    cover = np.minimum(smallest / demand, MAX_COVER_DAYS)
    assumed = (rows["order_terms_assumed"].astype("boolean").fillna(False).astype(bool) if "order_terms_assumed" in rows
               else pd.Series(False, index=rows.index))
    terms = [f"a pack of {p:,.0f}" if m <= 1 else f"MOQ {m:,.0f}" if s == m else f"MOQ {m:,.0f} in packs of {p:,.0f}: {s:,.0f}"
             for m, p, s in zip(moq, pack, smallest)]
    who = [str(s) if pd.notna(s) else "the supplier" for s in rows["supplier_id"]]
    out = pd.DataFrame({
        "exception_id": "moq_outlasts_demand:" + rows["sku"] + ":" + rows["node"],
        "sku": rows["sku"], "node": rows["node"],
        "subject": rows["sku"] + " at " + rows["node"],
        "problem": [f"the smallest order {w} accepts ({t}) is {_cover_days(c)} of demand at {d:,.2f} a day: this "
                    f"order of {o:,.0f} units buys {b:,.0f} beyond {settings.moq_cover_days:,.0f} days"
                    for w, t, c, d, o, b in zip(who, terms, cover, demand, order, beyond)],
        "units_affected": beyond,
        "value_eur": beyond * rows["unit_cost_eur"].astype(float),
        "measure": cover,
        "fix": ["no supplier line names the terms, crossdock.yaml's assumptions stand in: send the supplier's own"
                if a else f"ask {w} for a smaller MOQ or pack, or buy from another supplier"
                for a, w in zip(assumed, who)],
    })
    return finish_rows(out, "moq_outlasts_demand", settings)
