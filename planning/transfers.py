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
purchase would (transit days, plus the customs delay on a lane that crosses a
customs border, <= the destination's lead time). Only a
source's idle stock is offered, so a transfer never creates a new shortage at
the source: its excess (stock above its excess cover plus its safety stock, as
the plan computes it) and its obsolete stock (no demand over the lead time)
less what the node's forecast still expects later in the horizon (a launch
after the lead time). Obsolete stock is offered only where that forecast is
known: every market the node serves is in the forecast (`horizon_demand`); a
market no run has forecast yet leaves its node's demand unknown, not zero. A
row whose stock or demand is unknown (null) offers nothing. Needs are served most urgent first (earliest projected
stock-out), each from its cheapest lane per unit.

Customs: a bulk move across a customs border can be held like a parcel, and
what it carries decides how often and how long (publish.customs_risk, per
lane x HS chapter). `customs_days` turns that into days per SKU x node pair:
the conservative (planning-quantile) delay of the SKU's chapter on the same
country pair, else the destination country's all-chapter figure, else 0 with
a note saying no customs history exists. A transfer whose transit plus that
delay lands after a purchase would is not recommended.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from crossdock.hs_codes import hs_chapter
from planning.inputs import (
    CUSTOMS_DAYS_COLUMNS,
    CUSTOMS_RISK_COLUMNS,
    NODE_COLUMNS,
    NODE_PAIR_COLUMNS,
    SKU_HS_COLUMNS,
    TERRITORY_COLUMNS,
    require_columns,
    require_unique,
)
from planning.order_quantity import orderable_quantity

TRANSFER_COLUMNS: tuple[str, ...] = (
    "sku", "from_node", "to_node", "units", "mode", "transit_days", "customs_days", "customs_basis", "arrival_date",
    "transfer_cost_eur", "purchase_cost_avoided_eur", "saving_eur", "covers_need", "recommended",
)
"""transit_days is the lane's (whole days); customs_days (float) is added on top
for the arrival (rounded up to a whole day) and the in-time test."""
LANE_COLUMNS = ("from_node", "to_node", "mode", "cost_eur_per_kg", "fixed_cost_eur", "transit_days")
NO_BORDER = "no customs border"
NOT_ASSESSED = "customs not assessed"


def node_pairs(nodes: pd.DataFrame, territories: pd.DataFrame, lanes: pd.DataFrame) -> pd.DataFrame:
    """Every ordered pair of distinct nodes with their countries and whether a move crosses a customs border.

    The transfer-lane seed's own `crosses_customs_border` wins where it has the
    lane (it is the hand-checked fact); other pairs cross when the countries'
    customs territories differ (a country missing from `territories` is its own
    territory). Scenario reroutes may use any pair, not only the seed's lanes,
    so every pair needs an answer.
    """
    require_columns(nodes, NODE_COLUMNS, "nodes")
    require_columns(territories, TERRITORY_COLUMNS, "territories")
    require_columns(lanes, ("from_node", "to_node", "crosses_customs_border"), "lanes")
    territory = territories.set_index("alpha_2")["customs_territory"]
    sites = nodes[list(NODE_COLUMNS)].drop_duplicates("node_code")
    pairs = sites.merge(sites, how="cross", suffixes=("_from", "_to"))
    pairs = pairs[pairs["node_code_from"] != pairs["node_code_to"]].rename(
        columns={"node_code_from": "from_node", "node_code_to": "to_node", "country_from": "from_country",
                 "country_to": "to_country"}
    )
    seed = lanes[["from_node", "to_node", "crosses_customs_border"]].drop_duplicates(["from_node", "to_node"])
    pairs = pairs.merge(seed, on=["from_node", "to_node"], how="left")
    from_territory = pairs["from_country"].map(territory).fillna(pairs["from_country"])
    to_territory = pairs["to_country"].map(territory).fillna(pairs["to_country"])
    seeded = pairs["crosses_customs_border"]
    pairs["crosses_customs_border"] = seeded.where(seeded.notna(), from_territory != to_territory).astype(bool)
    return pairs[list(NODE_PAIR_COLUMNS)].sort_values(["from_node", "to_node"]).reset_index(drop=True)


def _chapter_days(customs_risk: pd.DataFrame) -> pd.Series:
    """Conservative days per (origin country, destination country, chapter); the largest when several
    origin nodes of one country ship there (plan for the slower)."""
    return customs_risk.groupby(["origin_country", "destination_country", "hs_chapter"])["conservative_added_days"].max()


def _destination_days(customs_risk: pd.DataFrame) -> pd.Series:
    """All-chapter conservative days per destination country: the largest lane into it."""
    return customs_risk.groupby("destination_country")["lane_conservative_added_days"].max()


def customs_days(pairs: pd.DataFrame, skus: pd.DataFrame, customs_risk: pd.DataFrame) -> pd.DataFrame:
    """Customs days each SKU adds to a move between two nodes, with the figure they came from.

    Args:
        pairs: NODE_PAIR_COLUMNS (from `node_pairs`, or the transfer lanes with
            their node countries).
        skus: sku, hs_code (marts.dim_sku); the chapter follows `hs_chapter`.
        customs_risk: CUSTOMS_RISK_COLUMNS (publish.customs_risk), days as floats.

    Returns CUSTOMS_DAYS_COLUMNS, one row per SKU x pair. For a pair that
    crosses a customs border, in this order: the chapter's
    conservative_added_days on the same country pair ('chapter 33 on NL-GB');
    the destination's all-chapter lane_conservative_added_days ('all chapters
    into GB', when the chapter never crossed on that pair); else 0 ('no customs
    history into US: 0 days assumed'). Other pairs add 0 ('no customs border').
    Parcels are the only customs evidence there is: a bulk move is planned as
    one parcel of its SKU's chapter.
    """
    require_columns(pairs, NODE_PAIR_COLUMNS, "pairs")
    require_columns(skus, SKU_HS_COLUMNS, "skus")
    require_columns(customs_risk, CUSTOMS_RISK_COLUMNS, "customs_risk")
    require_unique(pairs, ["from_node", "to_node"], "pairs")
    risk = customs_risk.astype({"conservative_added_days": float, "lane_conservative_added_days": float})
    by_chapter, by_destination = _chapter_days(risk), _destination_days(risk)
    chapters = skus[["sku"]].drop_duplicates("sku").assign(
        hs_chapter=hs_chapter(skus.drop_duplicates("sku")["hs_code"]).to_numpy()
    )
    rows = chapters.merge(pairs[list(NODE_PAIR_COLUMNS)], how="cross")
    key = pd.MultiIndex.from_frame(rows[["from_country", "to_country", "hs_chapter"]])
    own = pd.Series(by_chapter.reindex(key).to_numpy(), index=rows.index)
    fallback = rows["to_country"].map(by_destination)
    border = rows["crosses_customs_border"].astype(bool)
    lane = rows["from_country"] + "-" + rows["to_country"]
    days = np.where(~border, 0.0, own.fillna(fallback).fillna(0.0))
    basis = np.select(
        [~border, own.notna(), fallback.notna()],
        ["no customs border", "chapter " + rows["hs_chapter"] + " on " + lane, "all chapters into " + rows["to_country"]],
        default="no customs history into " + rows["to_country"] + ": 0 days assumed",
    )
    out = rows.assign(customs_days=days.astype(float), customs_basis=basis)
    return out[list(CUSTOMS_DAYS_COLUMNS)].sort_values(["sku", "from_node", "to_node"]).reset_index(drop=True)


NEED_COLUMNS: tuple[str, ...] = (
    "sku", "node", "recommended_order_qty", "order_up_to", "reorder_point", "inventory_position", "unit_cost_eur",
    "lead_time_days", "projected_stockout_date",
)
"""What a plan row's need reads: the order it recommends, the position, and the rule that says when one is due."""


def recommend_transfers(
    plan: pd.DataFrame,
    lanes: pd.DataFrame,
    weights: pd.DataFrame,
    as_of: dt.date,
    order_cost_eur: float,
    annual_carrying_rate: float,
    customs: pd.DataFrame | None = None,
    horizon_demand: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Transfer options for the plan's rows that need an order now, cheapest source first.

    Args:
        plan: `build_inventory_plan` output (needs sku, node, recommended_order_qty,
            order_up_to, reorder_point, inventory_position, excess_units, obsolete_units, unit_cost_eur,
            lead_time_days, projected_stockout_date).
        horizon_demand: `horizon_demand` output (sku, node, units): the forecast's units over the horizon at the
            nodes whose demand is known; obsolete stock is offered only there, less those units. None: not offered.
        lanes: from_node, to_node, mode, cost_eur_per_kg, fixed_cost_eur, transit_days.
        weights: sku, weight_kg (kg per unit; a missing weight counts as 0 kg
            and only the fixed cost is charged).
        as_of: plan date (arrival = as_of + transit days).
        order_cost_eur, annual_carrying_rate: the policy's, to price buying instead.
        customs: `customs_days` output (sku, from_node, to_node, customs_days,
            customs_basis); None = customs not assessed (0 days added).

    Returns one row per (need, source) allocation, `TRANSFER_COLUMNS`, with
    `recommended` true when the transfer is cheaper than buying and arrives in
    time (lane transit + customs days <= the destination's lead time). Among
    equally cheap lanes the one landing first, customs included, is used first.
    """
    missing = [c for c in LANE_COLUMNS if c not in lanes.columns]
    if missing:
        raise ValueError(f"`lanes` is missing columns {missing}")
    require_columns(plan, NEED_COLUMNS, "plan")
    delay = _customs_lookup(customs)
    weight = weights.drop_duplicates("sku").set_index("sku")["weight_kg"].astype(float)
    needs = plan[plan["recommended_order_qty"] > 0].assign(
        need=lambda f: np.maximum(f["order_up_to"] - f["inventory_position"], 0.0)
    )
    needs = needs[needs["need"] > 0].sort_values(["projected_stockout_date", "sku", "node"], na_position="last")
    spare = _idle_stock(plan, horizon_demand)
    rows = []
    as_of_ts = pd.Timestamp(as_of).normalize()
    for need in needs.itertuples(index=False):
        candidates = lanes[(lanes["to_node"] == need.node)]
        candidates = candidates[[(need.sku, n) in spare.index for n in candidates["from_node"]]]
        if candidates.empty:
            continue
        kg = float(np.nan_to_num(weight.get(need.sku, 0.0)))  # a missing weight: only the fixed cost
        per_unit = candidates["cost_eur_per_kg"].to_numpy(dtype=float) * kg
        candidates = _with_customs(candidates.assign(per_unit=per_unit), need.sku, delay).sort_values(
            ["per_unit", "days_to_land", "from_node"]
        )
        left = float(need.need)
        position = float(need.inventory_position)
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
            # the order is saved by the transfer whose units take the position above the reorder point: from there
            # no purchase is due (apply_transfers), whether or not the rest of the need is covered
            lifts = position <= float(need.reorder_point) < position + units
            position += units
            avoided = (order_cost_eur if lifts else 0.0) + units * float(need.unit_cost_eur) * annual_carrying_rate
            in_time = float(lane.days_to_land) <= float(need.lead_time_days)
            rows.append(
                {
                    "sku": need.sku,
                    "from_node": lane.from_node,
                    "to_node": need.node,
                    "units": int(units),
                    "mode": lane.mode,
                    "transit_days": int(lane.transit_days),
                    "customs_days": float(lane.customs_days),
                    "customs_basis": lane.customs_basis,
                    "arrival_date": as_of_ts + pd.Timedelta(days=_whole_days(lane.days_to_land)),
                    "transfer_cost_eur": cost,
                    "purchase_cost_avoided_eur": avoided,
                    "saving_eur": avoided - cost,
                    "covers_need": covers,
                    "recommended": bool(in_time and avoided > cost),
                }
            )
    out = pd.DataFrame(rows, columns=list(TRANSFER_COLUMNS))
    return out.astype(
        {"units": "int64", "transit_days": "int64", "customs_days": float, "covers_need": bool, "recommended": bool}
    )


def _customs_lookup(customs: pd.DataFrame | None) -> dict[tuple[str, str, str], tuple[float, str]]:
    """(sku, from_node, to_node) -> (customs days, basis); empty when customs is not assessed."""
    if customs is None:
        return {}
    require_columns(customs, CUSTOMS_DAYS_COLUMNS, "customs")
    require_unique(customs, ["sku", "from_node", "to_node"], "customs")
    days = pd.to_numeric(customs["customs_days"]).to_numpy(dtype=float)
    if not np.all(np.isfinite(days) & (days >= 0)):
        raise ValueError("`customs`.customs_days must be finite and >= 0")
    return {
        (s, f, t): (float(d), str(b))
        for s, f, t, d, b in zip(customs["sku"], customs["from_node"], customs["to_node"], days, customs["customs_basis"])
    }


def _with_customs(
    candidates: pd.DataFrame, sku: str, delay: dict[tuple[str, str, str], tuple[float, str]]
) -> pd.DataFrame:
    """The candidate lanes with customs_days, customs_basis and days_to_land (transit + customs) for `sku`."""
    held = [delay.get((sku, f, t), (0.0, NOT_ASSESSED)) for f, t in zip(candidates["from_node"], candidates["to_node"])]
    days = np.array([d for d, _ in held], dtype=float)
    return candidates.assign(
        customs_days=days,
        customs_basis=[b for _, b in held],
        days_to_land=candidates["transit_days"].to_numpy(dtype=float) + days,
    )


def _whole_days(days: float) -> int:
    """Days to a landing date: a part day of customs still costs the day (float noise ignored)."""
    return int(math.ceil(float(days) - 1e-9))


HORIZON_DEMAND_COLUMNS: tuple[str, ...] = ("sku", "node", "units")


def horizon_demand(forecast: pd.DataFrame, market_nodes: pd.DataFrame, nodes: Iterable[str], as_of: dt.date,
                   held_back: Iterable[str] = ()) -> pd.DataFrame:
    """Per SKU x node, the units the forecast (`mean`) expects from `as_of` to its horizon's end, at the `nodes`
    whose demand it knows: every market the node serves is in the forecast (a node serving none, a warehouse
    that only supplies others, expects nothing), or `held_back` by the training-data gate, whose SKUs' rows the
    plan already marks unknown (`without_held_back_demand`) while its other SKUs did not sell there. A SKU with
    no row at such a node expects 0 there."""
    forecast_markets = set(forecast["market"]) | set(held_back)
    served = market_nodes.groupby("node")["market"].agg(set).to_dict()
    known = [n for n in dict.fromkeys(nodes) if served.get(n, set()) <= forecast_markets]
    ahead = forecast[pd.to_datetime(forecast["forecast_date"]) >= pd.Timestamp(as_of)]
    units = (ahead.merge(market_nodes[["market", "node"]].drop_duplicates(), on="market")
             .groupby(["sku", "node"], as_index=False)["mean"].sum().rename(columns={"mean": "units"}))
    units = units[units["node"].isin(known)]
    # a known node without any forecast row still belongs: one row with no SKU marks it known
    bare = [n for n in known if n not in set(units["node"])]
    return pd.concat([units, pd.DataFrame({"sku": [None] * len(bare), "node": bare, "units": 0.0})],
                     ignore_index=True).loc[:, list(HORIZON_DEMAND_COLUMNS)]


def _idle_stock(plan: pd.DataFrame, horizon: pd.DataFrame | None) -> pd.DataFrame:
    """Whole idle units per sku x node that has at least one (column `left`): its excess, plus its obsolete stock
    beyond what its forecast expects later in the horizon where that is known (`horizon_demand`). Both are null
    where the stock or the demand is unknown (no inventory feed, a held-back market), so none is offered."""
    def units(column: str) -> np.ndarray:
        return pd.to_numeric(plan[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    obsolete = units("obsolete_units")
    if horizon is None:
        spare_obsolete = np.where(np.isnan(obsolete), np.nan, 0.0)
    else:
        later = plan[["sku", "node"]].merge(horizon, on=["sku", "node"], how="left")["units"].fillna(0.0).to_numpy()
        known = plan["node"].isin(set(horizon["node"])).to_numpy()
        spare_obsolete = np.where(known, np.maximum(obsolete - later, 0.0), np.where(np.isnan(obsolete), np.nan, 0.0))
    idle = np.floor(units("excess_units") + spare_obsolete + 1e-9)
    has = idle >= 1
    return plan.loc[has, ["sku", "node"]].assign(left=idle[has]).set_index(["sku", "node"])


def apply_transfers(plan: pd.DataFrame, transfers: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """The plan with transfer_in_units, transfer_out_units and purchase_after_transfers (units).

    `skus` gives each SKU's moq and pack_size. purchase_after_transfers is
    what still has to be bought after the recommended transfers in, by the
    plan's own rule on the position they leave: nothing while it is above the
    reorder point (the next order falls due later, as for any row above it),
    else max(order quantity, order-up-to - position) made orderable (MOQ,
    packs). Buying the rest of the gap to the order-up-to level whatever the
    position raised it to the MOQ on top of the units moved: 88 units in for
    a need of 50 on the demo. The original recommended_order_qty is kept
    beside it so a planner sees both.
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
    # a row whose stock is unknown has no recommended order (null), so nothing to buy after transfers either
    recommended = pd.to_numeric(out["recommended_order_qty"]).to_numpy(dtype=float, na_value=np.nan)
    moved_in = out["transfer_in_units"].to_numpy(dtype=float)
    after = pd.to_numeric(out["inventory_position"]).to_numpy(dtype=float, na_value=np.nan) + moved_in
    up_to = out["order_up_to"].to_numpy(dtype=float)
    still = (recommended > 0) & (after <= out["reorder_point"].to_numpy(dtype=float)) & (up_to > after)
    gap = np.maximum(out["order_quantity"].to_numpy(dtype=float), up_to - after)
    orderable = orderable_quantity(np.nan_to_num(gap), terms["moq"].to_numpy(), terms["pack_size"].to_numpy())
    purchase = np.where(still & (moved_in > 0), orderable, np.where(still, recommended, 0.0))
    purchase = np.where(np.isnan(recommended), np.nan, purchase)
    out["purchase_after_transfers"] = (
        pd.array(purchase, dtype="Float64").astype("Int64") if np.isnan(recommended).any() else purchase.astype("int64")
    )
    return out
