"""The messy merchant's order lines: ten years of a growing webshop, as its shop system exports them.

Retail orders come from a daily level per country (thin early years, growth,
a Covid bump, seasons, Black Friday, no orders on the closed weekday), then
baskets, SKUs alive that day, prices from the shop's price lists, customers
(some guests), cancellations and returns. Mixed into the same export are
wholesale (B2B) lines of 500..20,000 units, stock write-offs (negative
lines at price 0 with no customer), shipping protection and gift cards (no
stocked good: line_type not_stocked), as a real shop system books them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from demo.arrays import position_in_run
from demo.catalogue import Catalogue
from demo.catalogue_specs import CATEGORIES
from demo.clock import Timeline, day_start_seconds
from demo.market_profiles import HOURLY_BASE
from demo.messy.countries import COUNTRIES, WHOLESALE_COUNTRIES
from demo.messy.shop import (
    PriceLists, SkuLife, day_level, money, open_day, pick_skus, price_lists, sku_life, stamp, working_days,
)

DAY_SHAPE = 10.0  # gamma shape of the country-day noise
BASKET = (0.75, 0.93)  # P(1 line), P(<= 2 lines)
GUEST_RATE = 0.07  # orders without a customer id (guest checkout)
NEW_CUSTOMER_P = 0.62
CANCEL_RATE = 0.025  # retail orders cancelled before shipping (lines kept, line_type cancellation)
RETURN_DAYS = (5, 30)
MARKETPLACE_FROM, APP_FROM = date(2018, 6, 1), date(2021, 4, 1)

WHOLESALE_FROM = date(2018, 3, 1)
WHOLESALE_LINES = 150  # at scale 1.0 over WHOLESALE_REFERENCE_DAYS (about one a month); a history gets its share
WHOLESALE_REFERENCE_DAYS = (date(2026, 10, 30) - WHOLESALE_FROM).days + 1  # to the default end (demo.generate)
WHOLESALE_UNITS = (500, 20_000)
WHOLESALE_PRICE_SHARE = 0.5  # of the retail list price
WRITE_OFF_LINES = 1_200  # at scale 1.0
BIG_WRITE_OFF_RATE = 0.1  # "thrown away": a batch of 50..400 units, else 1..12 damaged units
# lines that are no stocked good, as a shop system exports them beside the goods (line_type not_stocked)
PROTECTION_SKU, PROTECTION_RATE, PROTECTION_PRICE = "ROUTEINS", 0.03, "1.95"  # shipping protection on retail orders
PROTECTION_REFUND_RATE = 0.1  # of the protected orders, those whose protection is refunded: a plain return line
GIFT_CARD_RATE = 0.004  # gift-card-only orders per retail order; no SKU, and e-mailed ones ship nowhere
GIFT_CARD_EMAILED, GIFT_CARD_VALUES = 0.6, (25, 50, 100)

COUNTRY_INDEX = {c.code: i for i, c in enumerate(COUNTRIES)}  # a country code's position in COUNTRIES

ORDER_COLUMNS = [
    "order_id", "line_id", "ordered_at", "channel", "customer_id", "sku", "quantity", "line_type",
    "unit_price", "currency", "ship_to_country", "fulfilment_node",
]



@dataclass(frozen=True)
class Network:
    """What the simulation needs from the messy merchant's config."""

    home_node: str  # ships everything but GB (and GB before gb_node_since)
    gb_node: str
    gb_node_since: date




def _customers(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Customer number per order (orders in time order); repeat customers stay in their country."""
    n = len(country)
    local = np.empty(n, dtype=np.int64)
    first_seen = []
    offset = 0
    for c in np.unique(country).tolist():
        idx = np.flatnonzero(country == c)
        new = rng.random(len(idx)) < NEW_CUSTOMER_P
        new[0] = True
        seen = np.cumsum(new) - new
        pick = np.where(new, np.cumsum(new) - 1, np.floor(rng.random(len(idx)) * np.maximum(seen, 1)).astype(np.int64))
        local[idx] = pick + offset
        first_seen.append(idx[new])
        offset += int(new.sum())
    number = np.empty(offset, dtype=np.int64)
    number[np.argsort(np.concatenate(first_seen), kind="stable")] = np.arange(offset)
    return number[local]


def _retail(catalogue: Catalogue, timeline: Timeline, life: SkuLife, network: Network, scale: float,
            prices: PriceLists, rng: np.random.Generator) -> pd.DataFrame:
    D, C = timeline.days, len(COUNTRIES)
    level, discount = day_level(timeline, scale)
    weight = np.array([c.weight for c in COUNTRIES])
    weight /= weight.sum()
    tilt = np.exp(rng.normal(0.0, 0.07, C)[:, None] * ((np.arange(D) - D / 2) / 365.25)[None, :])
    since = np.array([timeline.index_of(max(date.fromisoformat(c.since), timeline.start)) for c in COUNTRIES])
    open_ = np.arange(D)[None, :] >= since[:, None]
    mu = level[None, :] * weight[:, None] * tilt * open_
    counts = rng.poisson(mu * rng.gamma(DAY_SHAPE, 1.0 / DAY_SHAPE, (C, D)))
    oc, od = np.nonzero(counts)
    n_per = counts[oc, od]
    oc, od = np.repeat(oc, n_per), np.repeat(od, n_per)
    n_orders = len(oc)

    # clock: evening-heavy local hours; channel mix changes as the shop joins a marketplace and ships an app
    hour_cdf = np.cumsum(HOURLY_BASE) / HOURLY_BASE.sum()
    hour = (rng.random(n_orders)[:, None] > hour_cdf[:23]).sum(axis=1)
    local = day_start_seconds(timeline, od) + hour * 3600 + rng.integers(0, 3600, n_orders)
    iso, utc = stamp(local, oc, timeline)
    order_date = timeline.dates[od]
    p_market = np.where(order_date >= np.datetime64(MARKETPLACE_FROM), 0.25, 0.0)
    p_app = np.where(order_date >= np.datetime64(APP_FROM), 0.08, 0.0)
    u = rng.random(n_orders)
    channel = np.where(u < p_market, "marketplace", np.where(u < p_market + p_app, "app", "web")).astype(object)

    # order numbers follow the time orders were placed; customers too
    by_time = np.lexsort((np.arange(n_orders), oc, utc))
    order_no = np.empty(n_orders, dtype=np.int64)
    order_no[by_time] = np.arange(n_orders)
    customer = np.empty(n_orders, dtype=object)
    customer[by_time] = [f"C{n + 10_001:07d}" for n in _customers(oc[by_time], rng).tolist()]
    customer[rng.random(n_orders) < GUEST_RATE] = ""
    cancelled = rng.random(n_orders) < CANCEL_RATE
    cur_of = []
    for c in COUNTRIES:
        names = [cur for cur, _ in c.currencies]
        cur_of.append((names, np.cumsum([share for _, share in c.currencies])))
    currency = np.empty(n_orders, dtype=object)
    pick = rng.random(n_orders)
    for i, (names, cdf) in enumerate(cur_of):
        w = oc == i
        currency[w] = np.array(names, dtype=object)[np.minimum((pick[w][:, None] > cdf[None, :-1]).sum(axis=1), len(names) - 1)]

    # baskets of 1-3 distinct SKUs, mostly one unit each
    u = rng.random(n_orders)
    k = 1 + (u > BASKET[0]) + (u > BASKET[1])
    lo = np.repeat(np.arange(n_orders), k)
    sku = pick_skus(life, od[lo], rng)
    keep = np.unique(lo * catalogue.n_skus + sku, return_index=True)[1]
    keep.sort()
    lo, sku = lo[keep], sku[keep]
    qty = np.minimum(rng.geometric(0.8, len(lo)), 10)
    line_no = position_in_run(lo) + 1

    shelf = prices.at(sku, currency[lo], od[lo])
    paid = np.round(shelf * (1.0 - discount[od[lo]]), 2)

    # returns: category rate, 5..30 days later (on an open day), before the end, never of a cancelled order
    rate = np.array([CATEGORIES[c].return_rate for c in catalogue.skus["cat_idx"].to_numpy()])
    back = rng.binomial(qty, rate[sku]) * ~cancelled[lo]
    r = np.flatnonzero(back > 0)
    r_day = open_day(timeline, od[lo[r]] + rng.integers(RETURN_DAYS[0], RETURN_DAYS[1] + 1, len(r)))
    known = r_day < D
    r, r_day = r[known], r_day[known]
    r_local = day_start_seconds(timeline, r_day) + rng.integers(8 * 3600, 19 * 3600, len(r))
    r_iso, r_utc = stamp(r_local, oc[lo[r]], timeline)
    in_order = np.lexsort((r_utc, lo[r]))
    r, r_iso, r_utc = r[in_order], r_iso[in_order], r_utc[in_order]
    r_line = np.bincount(lo, minlength=n_orders)[lo[r]] + position_in_run(lo[r]) + 1

    gb = np.array([c.code for c in COUNTRIES]) == "GB"
    node_gb = order_date >= np.datetime64(network.gb_node_since)
    node = np.where(gb[oc] & node_gb, network.gb_node, network.home_node).astype(object)
    r_node_gb = timeline.dates[r_day] >= np.datetime64(network.gb_node_since)
    r_node = np.where(gb[oc[lo[r]]] & r_node_gb, network.gb_node, network.home_node).astype(object)

    codes = np.array([c.code for c in COUNTRIES], dtype=object)
    all_o = np.concatenate([lo, lo[r]])
    return pd.DataFrame({
        "order_id": np.array([str(n + 100_001) for n in order_no.tolist()], dtype=object)[all_o],
        "line_id": np.concatenate([line_no, r_line]).astype(np.int64),
        "ordered_at": np.concatenate([iso[lo], r_iso]),
        "channel": channel[all_o],
        "customer_id": customer[all_o],
        "sku": catalogue.skus["sku"].to_numpy()[np.concatenate([sku, sku[r]])],
        "quantity": np.concatenate([qty, -back[r]]).astype(np.int64),
        "line_type": np.where(np.concatenate([cancelled[lo], np.zeros(len(r), bool)]), "cancellation", ""),
        "unit_price": money(np.concatenate([paid, paid[r]])),
        "currency": currency[all_o],
        "ship_to_country": codes[oc[all_o]],
        "fulfilment_node": np.concatenate([node[lo], r_node]),
        "_utc": np.concatenate([utc[lo], r_utc]),
        "_kind": np.r_[np.where(cancelled[lo], "cancellation", "sale"), np.full(len(r), "return")],
    })



def _wholesale(catalogue: Catalogue, timeline: Timeline, life: SkuLife, network: Network, scale: float,
               prices: PriceLists, rng: np.random.Generator) -> pd.DataFrame:
    """B2B orders: shops and clubs buying 500..20,000 units of a best seller, 1-2 lines, office hours.

    As many a month whatever the history's length: two years hold a fifth of
    what ten do, not all of it (which made wholesale 90 % of a two-year
    history's units against 63 % of ten years').
    """
    selling_days = int((timeline.dates >= np.datetime64(WHOLESALE_FROM)).sum())
    n_orders = max(8, int(round(WHOLESALE_LINES * scale / 1.3 * selling_days / WHOLESALE_REFERENCE_DAYS)))
    level, _ = day_level(timeline, 1.0)
    od = working_days(timeline, WHOLESALE_FROM, n_orders, level, rng)
    n_orders = len(od)
    codes = list(WHOLESALE_COUNTRIES)
    p = np.array(list(WHOLESALE_COUNTRIES.values()))
    country = rng.choice(codes, size=n_orders, p=p / p.sum())
    k = 1 + (rng.random(n_orders) < 0.3)
    lo = np.repeat(np.arange(n_orders), k)
    sku = pick_skus(life, od[lo], rng, power=1.5)
    keep = np.unique(lo * catalogue.n_skus + sku, return_index=True)[1]
    keep.sort()
    lo, sku = lo[keep], sku[keep]
    lo_units, hi_units = WHOLESALE_UNITS
    qty = np.round(np.exp(rng.uniform(np.log(lo_units), np.log(hi_units), len(lo))) / 50.0) * 50
    big = rng.permutation(len(lo))[:max(2, len(lo) // 8)]  # a few pallets-full above 10,000 units
    qty[big] = np.round(rng.uniform(10_500, hi_units, len(big)) / 50.0) * 50
    qty = np.clip(qty, lo_units, hi_units).astype(np.int64)

    ci = np.array([COUNTRY_INDEX[c] for c in country])
    local = day_start_seconds(timeline, od) + rng.integers(9 * 3600, 17 * 3600, n_orders)
    iso, utc = stamp(local, ci, timeline)
    currency = np.array([COUNTRIES[i].currencies[0][0] for i in ci], dtype=object)
    list_price = prices.at(sku, currency[lo], od[lo])
    buyer = rng.integers(1, 40, n_orders)
    customer = np.where(rng.random(n_orders) < 0.5, [f"B2B-{b:04d}" for b in buyer.tolist()], "").astype(object)
    gb_node = (country == "GB") & (timeline.dates[od] >= np.datetime64(network.gb_node_since))
    return pd.DataFrame({
        "order_id": np.array([f"WS{n + 1:05d}" for n in range(n_orders)], dtype=object)[lo],
        "line_id": position_in_run(lo) + 1,
        "ordered_at": iso[lo],
        "channel": "web",
        "customer_id": customer[lo],
        "sku": catalogue.skus["sku"].to_numpy()[sku],
        "quantity": qty,
        "line_type": "",
        "unit_price": money(np.round(list_price * WHOLESALE_PRICE_SHARE, 2)),
        "currency": currency[lo],
        "ship_to_country": country[lo],
        "fulfilment_node": np.where(gb_node, network.gb_node, network.home_node)[lo],
        "_utc": utc[lo],
        "_kind": "wholesale",
    })


def _write_offs(catalogue: Catalogue, timeline: Timeline, life: SkuLife, network: Network, scale: float,
                rng: np.random.Generator) -> pd.DataFrame:
    """Stock adjustments booked in the shop system as order lines: damaged or thrown-away units,
    a negative quantity at price 0 with no customer, at the warehouse's own country."""
    n = max(24, int(round(WRITE_OFF_LINES * scale)))
    level, _ = day_level(timeline, 1.0)
    od = working_days(timeline, timeline.start, n, level, rng)
    sku = pick_skus(life, od, rng)
    big = rng.random(len(od)) < BIG_WRITE_OFF_RATE
    qty = np.where(big, rng.integers(50, 401, len(od)), rng.integers(1, 13, len(od)))
    at_gb = (timeline.dates[od] >= np.datetime64(network.gb_node_since)) & (rng.random(len(od)) < 0.2)
    country = np.where(at_gb, "GB", "NL")
    ci = np.array([COUNTRY_INDEX[c] for c in country])
    local = day_start_seconds(timeline, od) + rng.integers(7 * 3600, 16 * 3600, len(od))
    iso, utc = stamp(local, ci, timeline)
    return pd.DataFrame({
        "order_id": [f"ADJ{i + 1:06d}" for i in range(len(od))],
        "line_id": 1,
        "ordered_at": iso,
        "channel": "web",
        "customer_id": "",
        "sku": catalogue.skus["sku"].to_numpy()[sku],
        "quantity": -qty.astype(np.int64),
        "line_type": "",
        "unit_price": "0.00",
        "currency": np.where(at_gb, "GBP", "EUR"),
        "ship_to_country": country,
        "fulfilment_node": np.where(at_gb, network.gb_node, network.home_node),
        "_utc": utc,
        "_kind": "write_off",
    })


def _not_stocked(retail: pd.DataFrame, timeline: Timeline, rng: np.random.Generator) -> pd.DataFrame:
    """Lines that are no stocked good: shipping protection added to some retail orders (a SKU of its own, the
    order's last line; some refunded days later by a return line the export does not type) and gift-card-only
    orders (no SKU; an e-mailed card has no ship-to country)."""
    firsts = retail[(retail["_kind"] == "sale") & (retail["line_id"] == 1)]
    protected = firsts[rng.random(len(firsts)) < PROTECTION_RATE]
    last_line = retail.groupby("order_id")["line_id"].max()
    protection = protected.assign(
        line_id=last_line.reindex(protected["order_id"]).to_numpy() + 1, sku=PROTECTION_SKU, quantity=1,
        line_type="not_stocked", unit_price=PROTECTION_PRICE, _kind="not_stocked")
    refunded = protection[rng.random(len(protection)) < PROTECTION_REFUND_RATE]
    sold_on = np.array([timeline.index_of(date.fromisoformat(t[:10])) for t in refunded["ordered_at"]], dtype=np.int64)
    r_day = open_day(timeline, sold_on + rng.integers(3, 15, len(refunded)))
    refunded, r_day = refunded[r_day < timeline.days], r_day[r_day < timeline.days]
    r_local = day_start_seconds(timeline, r_day) + rng.integers(9 * 3600, 18 * 3600, len(r_day))
    r_country = np.array([COUNTRY_INDEX[c] for c in refunded["ship_to_country"]], dtype=np.int64)
    r_iso, r_utc = stamp(r_local, r_country, timeline)
    refunds = refunded.assign(line_id=refunded["line_id"] + 1, ordered_at=r_iso, quantity=-1, line_type="", _utc=r_utc,
                              _kind="return")

    n = max(6, int(round(GIFT_CARD_RATE * retail["order_id"].nunique())))
    level, _ = day_level(timeline, 1.0)
    od = working_days(timeline, timeline.start, n, level, rng)
    weight = np.array([c.weight for c in COUNTRIES])
    ci = rng.choice(len(COUNTRIES), size=len(od), p=weight / weight.sum())
    local = day_start_seconds(timeline, od) + rng.integers(8 * 3600, 23 * 3600, len(od))
    iso, utc = stamp(local, ci, timeline)
    codes = np.array([c.code for c in COUNTRIES], dtype=object)
    cards = pd.DataFrame({
        "order_id": [f"GC{i + 1:06d}" for i in range(len(od))],
        "line_id": 1,
        "ordered_at": iso,
        "channel": "web",
        "customer_id": [f"C{c:07d}" for c in rng.integers(10_001, 60_000, len(od)).tolist()],
        "sku": "",
        "quantity": rng.integers(1, 3, len(od)).astype(np.int64),
        "line_type": "not_stocked",
        "unit_price": money(rng.choice(GIFT_CARD_VALUES, len(od)).astype(float)),
        "currency": [COUNTRIES[i].currencies[0][0] for i in ci],
        "ship_to_country": np.where(rng.random(len(od)) < GIFT_CARD_EMAILED, "", codes[ci]),
        "fulfilment_node": "",
        "_utc": utc,
        "_kind": "not_stocked",
    })
    return pd.concat([protection, refunds, cards], ignore_index=True)


def build_messy_orders(catalogue: Catalogue, timeline: Timeline, network: Network, scale: float,
                       rng: np.random.Generator, price_rng: np.random.Generator,
                       wholesale_rng: np.random.Generator, write_off_rng: np.random.Generator,
                       not_stocked_rng: np.random.Generator) -> tuple[pd.DataFrame, SkuLife]:
    """Every line of the export in time order: contract columns (plus line_type), _utc, _kind, _month."""
    life = sku_life(catalogue, timeline, rng)
    prices = price_lists(catalogue, timeline, price_rng)
    retail = _retail(catalogue, timeline, life, network, scale, prices, rng)
    lines = pd.concat([
        retail,
        _not_stocked(retail, timeline, not_stocked_rng),
        _wholesale(catalogue, timeline, life, network, scale, prices, wholesale_rng),
        _write_offs(catalogue, timeline, life, network, scale, write_off_rng),
    ], ignore_index=True)
    order = np.lexsort((lines["line_id"].to_numpy(), lines["order_id"].to_numpy().astype(str),
                        lines["_utc"].to_numpy()))
    lines = lines.take(order).reset_index(drop=True)
    lines["_month"] = [t[:7] for t in lines["ordered_at"].tolist()]
    return lines, life
