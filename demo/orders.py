"""Turn daily units into order lines: baskets, customers, clock times, prices, returns.

The forecast only sees units per SKU x market x day, but the orders feed is
what a shop exports: orders of 1-3 lines, a pseudonymous customer, a channel,
a local timestamp with its UTC offset, the price paid, and returns booked as
negative lines on the original order weeks later.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.network import market_by_code
from demo.arrays import position_in_run
from demo.catalogue import Catalogue
from demo.catalogue_specs import CATEGORIES
from demo.clock import Timeline, day_start_seconds, localize
from demo.demand import Demand
from demo.market_profiles import (
    APP_WEEKEND_LIFT, CHANNEL_MIX, CHANNELS, CURRENCY_DECIMALS, HOURLY_BASE, market_codes,
)
from demo.pricing import format_money, market_currencies, round_money, shelf_prices

NEW_LINE_P = 0.85  # chance the next unit of a SKU-day starts a new line (else quantity + 1)
NEW_ORDER_P = 0.72  # chance the next line of a market-day starts a new order
MAX_LINES = 3
NEW_CUSTOMER_P = 0.58  # share of orders placed by a first-time customer
RETURN_DAYS = (5, 30)
ORDER_BASE = 10_000_001
CUSTOMER_BASE = 10_001

ORDER_COLUMNS = [
    "order_id", "line_id", "ordered_at", "channel", "customer_id", "sku", "quantity",
    "unit_price", "currency", "ship_to_country", "fulfilment_node",
]


@dataclass(frozen=True)
class Orders:
    """lines: contract columns plus _utc (epoch s), _month ('YYYY-MM' local), _market, _return;
    orders: one row per order (order_id, _market, _utc, _day) for shipment tracking."""

    lines: pd.DataFrame
    orders: pd.DataFrame


def _hour_cdf() -> np.ndarray:
    """[channel, sun_or_mon, 24] cumulative hour-of-day distribution."""
    out = np.empty((len(CHANNELS), 2, 24))
    evening = np.zeros(24)
    evening[19:23] = 1.0
    office = np.zeros(24)
    office[9:18] = 1.0
    for c, ch in enumerate(CHANNELS):
        for sm in (0, 1):
            w = HOURLY_BASE.copy()
            if ch == "app":
                w *= 1.0 + 0.4 * evening - 0.2 * office
            if ch == "marketplace":
                w = 0.7 * w + 0.3 * w.mean()
            if sm:
                w *= 1.0 + 0.3 * evening
            out[c, sm] = np.cumsum(w) / w.sum()
    return out


def _lines_from_units(units: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Split each SKU x market x day count into lines (mostly quantity 1)."""
    s, m, d = np.nonzero(units)
    u = units[s, m, d]
    cell = np.repeat(np.arange(len(u)), u)
    first = np.r_[True, cell[1:] != cell[:-1]]
    starts = first | (rng.random(len(cell)) < NEW_LINE_P)
    qty = np.bincount(np.cumsum(starts) - 1)
    line_cell = cell[starts]
    return s[line_cell], m[line_cell], d[line_cell], qty


def _baskets(ls, lm, ld, qty, n_skus: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Group lines of the same market and day into orders of 1-3 distinct SKUs."""
    n = len(ls)
    o = np.lexsort((rng.random(n), ld, lm))
    ls, lm, ld, qty = ls[o], lm[o], ld[o], qty[o]
    start = np.r_[True, (lm[1:] != lm[:-1]) | (ld[1:] != ld[:-1])] | (rng.random(n) < NEW_ORDER_P)
    while True:
        oid = np.cumsum(start) - 1
        over = position_in_run(oid) == MAX_LINES
        if not over.any():
            break
        start |= over
    # Two lines of one SKU in one basket become one line with the summed quantity.
    _, first, inv = np.unique(oid * n_skus + ls, return_index=True, return_inverse=True)
    merged_qty = np.bincount(inv, weights=qty).astype(np.int64)
    keep = np.sort(first)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    qty_out = np.empty(len(first), dtype=np.int64)
    qty_out[rank] = merged_qty
    oid = oid[keep]
    line_no = position_in_run(oid) + 1
    return oid, ls[keep], lm[keep], ld[keep], qty_out, line_no


def _customers(order_market: np.ndarray, order_no: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stable customer numbers; repeat customers come back within their own market."""
    n = len(order_market)
    first_order = np.full(n, -1, dtype=np.int64)  # order_no of each customer's first order, by local index
    local = np.empty(n, dtype=np.int64)
    market_of_cust: list[np.ndarray] = []
    offset = 0
    for m in range(len(market_codes())):
        idx = np.flatnonzero(order_market == m)
        idx = idx[np.argsort(order_no[idx], kind="stable")]
        new = rng.random(len(idx)) < NEW_CUSTOMER_P
        if len(idx):
            new[0] = True
        seen = np.cumsum(new) - new  # customers known before this order
        pick = np.where(new, np.cumsum(new) - 1, np.floor(rng.random(len(idx)) * np.maximum(seen, 1)).astype(np.int64))
        local[idx] = pick + offset
        first_order[offset:offset + new.sum()] = order_no[idx[new]]
        market_of_cust.append(np.full(new.sum(), m))
        offset += int(new.sum())
    first_order = first_order[:offset]
    number = np.empty(offset, dtype=np.int64)
    number[np.argsort(first_order, kind="stable")] = np.arange(offset)
    return number[local] + CUSTOMER_BASE


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.array([f"{prefix}{n:0{width}d}" for n in numbers.tolist()], dtype=object)


def _localize_by_market(local: np.ndarray, market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO text with offset and UTC seconds for local times of each market's storefront."""
    iso = np.empty(len(local), dtype=object)
    utc = np.empty(len(local), dtype=np.int64)
    for m, code in enumerate(market_codes()):
        w = market == m
        iso[w], utc[w] = localize(local[w], market_by_code()[code].timezone)
    return iso, utc


def _channels_and_clock(om: np.ndarray, od: np.ndarray, timeline: Timeline,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Channel index per order (apps gain at weekends) and local time (evenings, Sun/Mon busiest)."""
    n = len(om)
    weekend = (timeline.weekday[od] >= 5).astype(int)
    mix = np.array([CHANNEL_MIX[c] for c in market_codes()])[:, None, :].repeat(2, axis=1)
    mix[:, 1, 2] *= APP_WEEKEND_LIFT
    cdf = np.cumsum(mix / mix.sum(axis=2, keepdims=True), axis=2)[om, weekend]
    channel = (rng.random(n)[:, None] > cdf[:, :2]).sum(axis=1)
    sun_mon = np.isin(timeline.weekday[od], (0, 6)).astype(int)
    hour = (rng.random(n)[:, None] > _hour_cdf()[channel, sun_mon][:, :23]).sum(axis=1)
    local = day_start_seconds(timeline, od) + hour * 3600 + rng.integers(0, 3600, n)
    return channel, local


def _returns(catalogue: Catalogue, oid: np.ndarray, ls: np.ndarray, lm: np.ndarray, ld: np.ndarray,
             qty: np.ndarray, timeline: Timeline, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Sold lines that come back (category return rate, 5-30 days later, never after the end):
    (index of the sold line, units back, return line_id, ISO time, UTC seconds)."""
    rate = np.array([CATEGORIES[c].return_rate for c in catalogue.skus["cat_idx"].to_numpy()])
    back = rng.binomial(qty, rate[ls])
    r = np.flatnonzero(back > 0)
    r_day = ld[r] + rng.integers(RETURN_DAYS[0], RETURN_DAYS[1] + 1, len(r))
    known = r_day < timeline.days
    r, r_day = r[known], r_day[known]
    r_local = day_start_seconds(timeline, r_day) + rng.integers(8 * 3600, 20 * 3600, len(r))
    r_iso, r_utc = _localize_by_market(r_local, lm[r])
    in_order = np.lexsort((r_utc, oid[r]))  # returns of one order numbered in time order
    r, r_iso, r_utc = r[in_order], r_iso[in_order], r_utc[in_order]
    lines_per_order = np.bincount(oid)
    r_line = lines_per_order[oid[r]] + position_in_run(oid[r]) + 1
    return r, back[r], r_line, r_iso, r_utc


def build_orders(catalogue: Catalogue, demand: Demand, timeline: Timeline,
                 rng: np.random.Generator, price_rng: np.random.Generator) -> Orders:
    """Order lines (sales and returns) for the whole history."""
    ls, lm, ld, qty = _lines_from_units(demand.units, rng)
    oid, ls, lm, ld, qty, line_no = _baskets(ls, lm, ld, qty, catalogue.n_skus, rng)
    first_line = np.flatnonzero(np.r_[True, oid[1:] != oid[:-1]])
    om, od = lm[first_line], ld[first_line]
    n_orders = len(om)
    channel, local = _channels_and_clock(om, od, timeline, rng)
    iso, utc = _localize_by_market(local, om)

    # Order numbers follow the time orders were placed, across all storefronts.
    order_no = np.empty(n_orders, dtype=np.int64)
    order_no[np.lexsort((np.arange(n_orders), om, utc))] = np.arange(n_orders)
    order_id = _ids("O", order_no + ORDER_BASE, 8)
    customer_id = _ids("C", _customers(om, order_no, rng), 7)

    currencies = np.array(market_currencies())
    zero_dec = np.array([CURRENCY_DECIMALS.get(c, 2) == 0 for c in currencies])
    prices = shelf_prices(catalogue, timeline, price_rng)
    year = (timeline.year - timeline.year[0]).astype(np.int64)
    paid = round_money(prices[ls, lm, year[ld]] * (1.0 - demand.discount[ls, lm, ld]), zero_dec[lm])

    r, r_units, r_line, r_iso, r_utc = _returns(catalogue, oid, ls, lm, ld, qty, timeline, rng)

    all_oid = np.concatenate([oid, oid[r]])
    all_m = np.concatenate([lm, lm[r]])
    lines = pd.DataFrame({
        "order_id": order_id[all_oid],
        "line_id": np.concatenate([line_no, r_line]).astype(np.int64),
        "ordered_at": np.concatenate([iso[oid], r_iso]),
        "channel": np.array(CHANNELS)[channel[all_oid]],
        "customer_id": customer_id[all_oid],
        "sku": catalogue.skus["sku"].to_numpy()[np.concatenate([ls, ls[r]])],
        "quantity": np.concatenate([qty, -r_units]).astype(np.int64),
        "unit_price": format_money(np.concatenate([paid, paid[r]]), zero_dec[all_m]),
        "currency": currencies[all_m],
        "ship_to_country": np.array(market_codes())[all_m],
        "fulfilment_node": np.array([market_by_code()[c].node for c in market_codes()])[all_m],
        "_utc": np.concatenate([utc[oid], r_utc]),
        "_market": all_m,
        "_return": np.r_[np.zeros(len(oid), bool), np.ones(len(r), bool)],
    })
    lines["_month"] = [t[:7] for t in lines["ordered_at"].tolist()]
    order = np.lexsort((lines["line_id"].to_numpy(), order_no[all_oid], lines["_utc"].to_numpy()))
    lines = lines.take(order).reset_index(drop=True)
    by_no = np.argsort(order_no)
    orders = pd.DataFrame({"order_id": order_id[by_no], "_market": om[by_no], "_utc": utc[by_no], "_day": od[by_no]})
    return Orders(lines=lines, orders=orders)
