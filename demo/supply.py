"""Inventory simulation per SKU x node that issues the purchase orders.

Stock and purchase orders must tell one consistent story (what was ordered,
when it was promised, when it really arrived, what was on the shelf), because
the planning layer measures lead-time variability from the POs and checks
cover against the snapshots. A planner's continuous-review (s, Q) policy with
the primary supplier drives it: reorder when stock plus open orders falls to
lead-time demand plus safety days; order at least the MOQ, in whole packs.
Sales are never lost from the orders feed: stock simply floors at zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.network import demo_nodes, market_by_code
from demo.arrays import position_in_run
from demo.catalogue import Catalogue
from demo.clock import Timeline
from demo.demand import Demand
from demo.market_profiles import market_codes

FORECAST_ALPHA = 1.0 / 28.0  # planner's exponentially smoothed daily demand
LAUNCH_FORECAST_DAYS = 28  # first weeks after a launch use the launch plan instead
SAFETY_DAYS = 14.0
CAN_ORDER = 1.5  # joint replenishment: top up SKUs within 50% of their reorder point
BASE_COVER_DAYS = 30.0  # order cover, plus half the lead time for far suppliers
PRELAUNCH_MARGIN = 7  # first stock ordered to land a week before launch
STOP_REORDER_BEFORE = 60  # no new buys this many days before a planned phase-out
CANCEL_RATE = 0.015
CANCEL_AFTER = (3, 21)
LONG_DELAY_DAYS = (10, 35)
MIN_LEAD_SHARE = 0.7  # nothing lands faster than 70% of the quote
SNAPSHOT_WEEKS = 26

PO_COLUMNS = ["po_id", "po_line", "supplier_id", "sku", "destination_node", "quantity",
              "ordered_at", "promised_at", "received_at", "status"]
INVENTORY_COLUMNS = ["snapshot_date", "node", "sku", "on_hand"]


@dataclass(frozen=True)
class Supply:
    purchase_orders: pd.DataFrame  # PO_COLUMNS
    snapshots: dict[str, pd.DataFrame]  # 'YYYY-MM-DD' (a Monday) -> INVENTORY_COLUMNS


@dataclass(frozen=True)
class _Pairs:
    """SKU x node combinations the merchant stocks, with their sourcing terms."""

    sku: np.ndarray
    node: np.ndarray
    units: np.ndarray  # [P, D] node demand (sum of its markets)
    launch_plan: np.ndarray  # [P] expected units/day over the first weeks after launch
    launch: np.ndarray  # [P] first selling day at the node
    stop_buying: np.ndarray  # [P] first day without new buys
    supplier: np.ndarray  # [P] supplier index in catalogue.suppliers
    moq: np.ndarray
    pack: np.ndarray
    quoted: np.ndarray


def _pairs(catalogue: Catalogue, demand: Demand, D: int) -> _Pairs:
    node_codes = [n.code for n in demo_nodes()]
    member = np.zeros((len(market_codes()), len(node_codes)))
    for m, code in enumerate(market_codes()):
        member[m, node_codes.index(market_by_code()[code].node)] = 1.0
    stocked = (demand.listed.astype(float) @ member) > 0  # [S, N]
    s_idx, n_idx = np.nonzero(stocked)
    units = np.einsum("smd,mn->snd", demand.units, member, optimize=True)[s_idx, n_idx]
    mu = np.einsum("smd,mn->snd", demand.mu, member, optimize=True)[s_idx, n_idx]
    in_node = demand.listed[:, :, None] & (member[None] > 0)  # [S, M, N]
    launch = np.where(in_node, demand.launch[:, :, None], D).min(axis=1)[s_idx, n_idx]
    stop = np.where(in_node, demand.stop[:, :, None], -1).max(axis=1)[s_idx, n_idx]
    csum = np.concatenate([np.zeros((len(s_idx), 1)), np.cumsum(mu, axis=1)], axis=1)
    hi = np.minimum(launch + LAUNCH_FORECAST_DAYS, D)
    lo = np.minimum(launch, D - 1)
    plan = (csum[np.arange(len(s_idx)), hi] - csum[np.arange(len(s_idx)), lo]) / np.maximum(hi - lo, 1)
    skus = catalogue.skus
    sup_index = {sid: i for i, sid in enumerate(catalogue.suppliers["supplier_id"])}
    return _Pairs(
        sku=s_idx, node=n_idx, units=units.astype(np.int64), launch_plan=plan, launch=launch,
        stop_buying=np.where(stop < D, stop - STOP_REORDER_BEFORE, np.iinfo(np.int64).max),
        supplier=skus["supplier_id"].map(sup_index).to_numpy()[s_idx],
        moq=skus["moq"].to_numpy()[s_idx], pack=skus["pack_size"].to_numpy()[s_idx],
        quoted=skus["quoted_lead_time_days"].to_numpy()[s_idx],
    )


def _order_qty(daily: np.ndarray, days: np.ndarray, moq: np.ndarray, pack: np.ndarray) -> np.ndarray:
    want = np.maximum(np.ceil(daily * days), moq)
    return (np.ceil(want / pack) * pack).astype(np.int64)


def simulate_supply(catalogue: Catalogue, demand: Demand, timeline: Timeline, rng: np.random.Generator) -> Supply:
    """Run the stock + replenishment simulation over the whole history."""
    D = timeline.days
    n_nodes = len(demo_nodes())
    p = _pairs(catalogue, demand, D)
    P = len(p.sku)
    sup = catalogue.suppliers
    bias = sup["late_bias_days"].to_numpy()
    spread = sup["late_sd_days"].to_numpy()
    delay_rate = sup["long_delay_rate"].to_numpy()
    cover = BASE_COVER_DAYS + p.quoted / 2.0

    horizon = D + 200
    arrivals = np.zeros((P, horizon), dtype=np.int64)
    cancels = np.zeros((P, horizon), dtype=np.int64)
    first_buy = p.launch - p.quoted - PRELAUNCH_MARGIN
    preloaded = first_buy <= 0
    on_hand = np.where(preloaded, np.ceil(p.launch_plan * (p.quoted + rng.uniform(14, 42, P))), 0).astype(np.int64)
    on_order = np.zeros(P, dtype=np.int64)
    estimate = p.launch_plan.copy()
    snap_days = np.flatnonzero(timeline.weekday == 0)[-SNAPSHOT_WEEKS:]
    snaps: dict[int, np.ndarray] = {}
    po_parts: list[tuple[np.ndarray, ...]] = []

    for d in range(D):
        on_hand += arrivals[:, d]
        on_order -= arrivals[:, d] + cancels[:, d]
        sold = p.units[:, d]
        on_hand = np.maximum(on_hand - sold, 0)
        selling = d >= p.launch
        estimate = np.where(selling, estimate + FORECAST_ALPHA * (sold - estimate), estimate)
        daily = np.where(d - p.launch < LAUNCH_FORECAST_DAYS, p.launch_plan, estimate)
        reorder_point = daily * (p.quoted + SAFETY_DAYS)
        reorder = selling & (d < p.stop_buying) & (daily > 0) & (on_hand + on_order <= reorder_point)
        # Can-order: SKUs of a supplier already being ordered for this node join the PO early.
        triggered = np.unique(p.supplier[reorder] * n_nodes + p.node[reorder])
        joins = (selling & (d < p.stop_buying) & (daily > 0) & (on_hand + on_order <= CAN_ORDER * reorder_point)
                 & np.isin(p.supplier * n_nodes + p.node, triggered))
        initial = (~preloaded) & (first_buy == d)
        buy = np.flatnonzero(reorder | joins | initial)
        if len(buy):
            qty = _order_qty(daily[buy], np.where(initial[buy], cover[buy] + SAFETY_DAYS, cover[buy]),
                             p.moq[buy], p.pack[buy])
            # One PO per supplier and node that day; its lines travel together.
            group, g_inv = np.unique(p.supplier[buy] * n_nodes + p.node[buy], return_inverse=True)
            g_sup = group // n_nodes
            late = bias[g_sup] + rng.normal(0.0, 1.0, len(group)) * spread[g_sup]
            late += np.where(rng.random(len(group)) < delay_rate[g_sup],
                             rng.integers(LONG_DELAY_DAYS[0], LONG_DELAY_DAYS[1] + 1, len(group)), 0)
            quoted = p.quoted[buy]
            actual = np.maximum(np.round(quoted + late[g_inv]), np.ceil(MIN_LEAD_SHARE * quoted)).astype(np.int64)
            cancelled = rng.random(len(buy)) < CANCEL_RATE
            cancel_day = d + rng.integers(CANCEL_AFTER[0], CANCEL_AFTER[1] + 1, len(buy))
            np.add.at(arrivals, (buy[~cancelled], d + actual[~cancelled]), qty[~cancelled])
            np.add.at(cancels, (buy[cancelled], cancel_day[cancelled]), qty[cancelled])
            on_order[buy] += qty
            po_parts.append((np.full(len(buy), d), buy, qty, quoted, actual, cancelled, cancel_day))
        if d in snap_days:
            snaps[d] = on_hand.copy()

    return Supply(
        purchase_orders=_po_table(po_parts, p, catalogue, timeline),
        snapshots=_snapshot_tables(snaps, p, first_buy, catalogue, timeline),
    )


def _po_table(parts: list[tuple[np.ndarray, ...]], p: _Pairs, catalogue: Catalogue, timeline: Timeline) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=PO_COLUMNS)
    day, pair, qty, quoted, actual, cancelled, cancel_day = (np.concatenate(x) for x in zip(*parts))
    D = timeline.days
    supplier_ids = catalogue.suppliers["supplier_id"].to_numpy()[p.supplier[pair]]
    node_codes = np.array([n.code for n in demo_nodes()])[p.node[pair]]
    sku_codes = catalogue.skus["sku"].to_numpy()[p.sku[pair]]
    order = np.lexsort((sku_codes, node_codes, supplier_ids, day))
    day, pair, qty, quoted, actual, cancelled, cancel_day = (
        x[order] for x in (day, pair, qty, quoted, actual, cancelled, cancel_day))
    supplier_ids, node_codes, sku_codes = supplier_ids[order], node_codes[order], sku_codes[order]
    key = pd.Series(day).astype(str) + "|" + supplier_ids + "|" + node_codes
    new_po = np.r_[True, key.to_numpy()[1:] != key.to_numpy()[:-1]]
    po_no = np.cumsum(new_po)

    def iso(days: np.ndarray) -> np.ndarray:
        return np.datetime_as_string(np.datetime64(timeline.start, "D") + days, unit="D").astype(object)

    arrived = ~cancelled & (day + actual <= D - 1)
    was_cancelled = cancelled & (cancel_day <= D - 1)
    status = np.where(arrived, "received", np.where(was_cancelled, "cancelled", "open"))
    return pd.DataFrame({
        "po_id": [f"PO-{n:06d}" for n in (po_no + 100_000).tolist()],
        "po_line": position_in_run(po_no) + 1,
        "supplier_id": supplier_ids,
        "sku": sku_codes,
        "destination_node": node_codes,
        "quantity": qty,
        "ordered_at": iso(day),
        "promised_at": iso(day + quoted),
        "received_at": np.where(arrived, iso(day + actual), ""),
        "status": status,
    })


def _snapshot_tables(snaps: dict[int, np.ndarray], p: _Pairs, first_buy: np.ndarray, catalogue: Catalogue,
                     timeline: Timeline) -> dict[str, pd.DataFrame]:
    node_codes = np.array([n.code for n in demo_nodes()])[p.node]
    sku_codes = catalogue.skus["sku"].to_numpy()[p.sku]
    order = np.lexsort((sku_codes, node_codes))
    handled_from = np.minimum(first_buy, p.launch)  # the node handles the SKU once it is first bought
    out: dict[str, pd.DataFrame] = {}
    for d, on_hand in sorted(snaps.items()):
        keep = order[handled_from[order] <= d]
        date = str(timeline.iso[d])
        out[date] = pd.DataFrame({
            "snapshot_date": date, "node": node_codes[keep], "sku": sku_codes[keep], "on_hand": on_hand[keep],
        })
    return out
