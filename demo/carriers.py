"""Carrier tracking events for the months since the merchant connected tracking.

Lane performance, delivery promises and customs-hold risk are computed from
these, so each lane has its own carriers, services, transit-time spread
(lognormal) and customs-hold rate: domestic and intra-EU lanes never stop at
customs, US->CA and post-Brexit EU->GB lanes do. What is in the parcel matters
too: customs inspects cosmetics (ingredient and labelling checks) and
batteries/electronics (dangerous-goods and conformity papers) more often and
for longer than clothing, so the hold odds and length of a shipment follow the
riskiest HS chapter it carries (CHAPTER_RISK), rescaled per lane so the lane's
overall hold rate stays its own. Only the last six calendar months exist, as
when a merchant switches tracking on recently.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from demo.network import market_by_code, node_by_code
from demo.clock import SECONDS_PER_DAY, Timeline, utc_iso
from demo.market_profiles import market_codes

TRACKING_MONTHS = 6
GB_FROM_EU_HUB = 0.05  # share of GB orders shipped from Amsterdam when Birmingham is short
EXCEPTION_RATE = 0.01
EXCEPTION_RETURNED = 0.2  # of exceptions, share sent back instead of delivered late

EVENT_COLUMNS = ["event_id", "shipment_id", "order_id", "carrier", "service", "origin_node",
                 "origin_country", "destination_country", "event_type", "event_at"]


@dataclass(frozen=True)
class Service:
    carrier: str
    service: str  # express, standard, economy
    share: float
    median_days: float  # pickup to delivery
    sigma: float  # lognormal spread of transit time


@dataclass(frozen=True)
class Lane:
    services: tuple[Service, ...]
    hold_rate: float = 0.0  # share of shipments stopped at customs
    hold_median_days: float = 0.0


LANES: dict[tuple[str, str], Lane] = {
    ("US-EWR", "US"): Lane((Service("USPS", "economy", 0.35, 4.5, 0.35), Service("UPS", "standard", 0.45, 3.2, 0.30),
                            Service("FedEx", "express", 0.20, 1.6, 0.25))),
    ("US-EWR", "CA"): Lane((Service("UPS", "standard", 0.50, 5.0, 0.35), Service("DHL Express", "express", 0.25, 2.5, 0.30),
                            Service("USPS", "economy", 0.25, 8.0, 0.45)), hold_rate=0.09, hold_median_days=1.8),
    ("GB-BHX", "GB"): Lane((Service("Royal Mail", "standard", 0.55, 2.0, 0.35), Service("Royal Mail", "economy", 0.25, 3.5, 0.40),
                            Service("DHL Express", "express", 0.20, 1.2, 0.25))),
    ("NL-AMS", "NL"): Lane((Service("PostNL", "standard", 0.80, 1.3, 0.30), Service("DHL Express", "express", 0.20, 1.0, 0.20))),
    ("NL-AMS", "DE"): Lane((Service("DHL Parcel", "standard", 0.60, 2.3, 0.30), Service("PostNL", "economy", 0.25, 3.5, 0.35),
                            Service("UPS", "express", 0.15, 1.5, 0.25))),
    ("NL-AMS", "FR"): Lane((Service("PostNL", "standard", 0.45, 3.0, 0.35), Service("DHL Parcel", "standard", 0.35, 2.8, 0.30),
                            Service("UPS", "express", 0.20, 1.8, 0.25))),
    ("NL-AMS", "GB"): Lane((Service("DHL Express", "express", 0.50, 2.5, 0.35), Service("PostNL", "economy", 0.50, 5.5, 0.45)),
                           hold_rate=0.14, hold_median_days=2.5),
    ("AU-SYD", "AU"): Lane((Service("Australia Post", "standard", 0.60, 4.0, 0.45), Service("Australia Post", "express", 0.25, 2.0, 0.35),
                            Service("DHL Express", "express", 0.15, 1.8, 0.30))),
    ("JP-NRT", "JP"): Lane((Service("Yamato", "standard", 0.60, 1.5, 0.30), Service("Japan Post", "economy", 0.40, 2.5, 0.35))),
}


@dataclass(frozen=True)
class ChapterRisk:
    hold_factor: float  # odds of a hold relative to a baseline chapter (textiles 61/62) on the same lane
    days_factor: float  # length of a hold relative to the lane's hold_median_days


# HS chapters customs stops more often than clothing; every other chapter is 1.0 / 1.0.
CHAPTER_RISK: dict[str, ChapterRisk] = {
    "33": ChapterRisk(2.0, 1.3),  # cosmetics, perfumes: ingredient lists, labelling, some are dangerous goods
    "85": ChapterRisk(1.8, 1.2),  # electrical goods, lithium batteries: DG declarations, conformity marks
}
BASELINE_RISK = ChapterRisk(1.0, 1.0)

_TYPES = ("picked_up", "in_transit", "customs_hold", "customs_cleared", "exception", "delivered", "returned")


def tracking_start(end: date) -> date:
    """First day of tracking: the start of the month five months before `end`'s month."""
    months = end.year * 12 + end.month - 1 - (TRACKING_MONTHS - 1)
    return date(months // 12, months % 12 + 1, 1)


def _epoch(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64)) * SECONDS_PER_DAY


def order_customs_risk(lines: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """Per order: hold_factor and days_factor of the riskiest HS chapter among its sold SKUs.

    Customs stops the whole parcel for one suspect item, so the order takes its
    riskiest chapter's factors (ties in hold_factor: the longer hold). `lines`
    are the order lines (order_id, sku, _return), `skus` the catalogue (sku,
    hs_code; a blank code is an ordinary chapter, 1.0 / 1.0).
    """
    chapter = skus.set_index("sku")["hs_code"].astype(str).str.slice(0, 2)
    sold = lines.loc[~lines["_return"].to_numpy(), ["order_id", "sku"]]
    sku_chapter = sold["sku"].map(chapter)
    factors = pd.DataFrame({
        "order_id": sold["order_id"].to_numpy(),
        "hold_factor": sku_chapter.map({c: r.hold_factor for c, r in CHAPTER_RISK.items()})
        .fillna(BASELINE_RISK.hold_factor).to_numpy(dtype=float),
        "days_factor": sku_chapter.map({c: r.days_factor for c, r in CHAPTER_RISK.items()})
        .fillna(BASELINE_RISK.days_factor).to_numpy(dtype=float),
    })
    return (factors.sort_values(["order_id", "hold_factor", "days_factor"], kind="stable")
            .drop_duplicates("order_id", keep="last").reset_index(drop=True))


def _hold_odds(factor: np.ndarray, hold_rate: float) -> np.ndarray:
    """Hold probability per shipment: the lane's rate times the shipment's factor over the lane's mean factor,
    so the riskier mix changes who is held, not how often the lane is held overall."""
    return np.clip(hold_rate * factor / factor.mean(), 0.0, 1.0)


def build_tracking(orders: pd.DataFrame, timeline: Timeline, rng: np.random.Generator,
                   risk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tracking events (EVENT_COLUMNS plus _month 'YYYY-MM' in UTC) for orders placed since tracking began.

    `orders` has one row per sales order: order_id, _market, _utc (sorted by order_id).
    `risk` (from `order_customs_risk`: order_id, hold_factor, days_factor) makes
    customs holds depend on what the parcel carries; without it, or for an
    order it lacks, every parcel has the lane's average odds and hold length.
    """
    start = max(tracking_start(timeline.end), timeline.start)
    cutoff = _epoch(timeline.end) + SECONDS_PER_DAY  # nothing after the end date is known yet
    sel = orders[orders["_utc"] >= _epoch(start)]
    n = len(sel)
    dest = np.array(market_codes())[sel["_market"].to_numpy()]
    node_of = {code: market.node for code, market in market_by_code().items()}
    origin = np.array([node_of[c] for c in dest], dtype=object)
    origin[(dest == "GB") & (rng.random(n) < GB_FROM_EU_HUB)] = "NL-AMS"
    placed = sel["_utc"].to_numpy()
    hold_factor = np.ones(n)
    days_factor = np.ones(n)
    if risk is not None:
        by_order = risk.set_index("order_id")
        ids = sel["order_id"]
        hold_factor = ids.map(by_order["hold_factor"]).fillna(1.0).to_numpy(dtype=float)
        days_factor = ids.map(by_order["days_factor"]).fillna(1.0).to_numpy(dtype=float)

    carrier = np.empty(n, dtype=object)
    service = np.empty(n, dtype=object)
    transit = np.empty(n)
    hold = np.zeros(n)
    for (o, d), lane in LANES.items():
        w = np.flatnonzero((origin == o) & (dest == d))
        if not len(w):
            continue
        shares = np.array([s.share for s in lane.services])
        pick = (rng.random(len(w))[:, None] > np.cumsum(shares / shares.sum())[:-1]).sum(axis=1)
        carrier[w] = np.array([s.carrier for s in lane.services], dtype=object)[pick]
        service[w] = np.array([s.service for s in lane.services], dtype=object)[pick]
        med = np.array([s.median_days for s in lane.services])[pick]
        sig = np.array([s.sigma for s in lane.services])[pick]
        transit[w] = med * np.exp(rng.normal(0.0, 1.0, len(w)) * sig)
        if lane.hold_rate > 0:
            held = rng.random(len(w)) < _hold_odds(hold_factor[w], lane.hold_rate)
            hold[w[held]] = lane.hold_median_days * days_factor[w[held]] * np.exp(rng.normal(0.0, 0.6, held.sum()))

    day = float(SECONDS_PER_DAY)
    picked = placed + np.maximum(3600, 20 * 3600 * np.exp(rng.normal(0.0, 0.5, n))).astype(np.int64)
    moving = picked + rng.integers(2 * 3600, 10 * 3600, n)
    delivered = (picked + (transit + hold) * day).astype(np.int64)
    delivered = np.maximum(delivered, moving + 3600)
    held = hold > 0
    hold_at = (moving + rng.uniform(0.2, 0.6, n) * np.maximum(transit * day - (moving - picked), 3600)).astype(np.int64)
    cleared = (hold_at + hold * day).astype(np.int64)
    delivered = np.where(held, np.maximum(delivered, cleared + 3600), delivered)
    exception = rng.random(n) < EXCEPTION_RATE
    exc_from = np.where(held, cleared, moving)
    exc_at = (exc_from + rng.uniform(0.2, 0.8, n) * np.maximum(delivered - exc_from, 3600)).astype(np.int64)
    returned = exception & (rng.random(n) < EXCEPTION_RETURNED)
    delivered = np.where(exception, np.maximum(delivered, exc_at) + (rng.uniform(2, 6, n) * day).astype(np.int64), delivered)
    returned_at = exc_at + (rng.uniform(5, 12, n) * day).astype(np.int64)

    ship = np.arange(n)
    parts = [
        (ship, 0, picked), (ship, 1, moving), (ship[held], 2, hold_at[held]), (ship[held], 3, cleared[held]),
        (ship[exception], 4, exc_at[exception]), (ship[~returned], 5, delivered[~returned]),
        (ship[returned], 6, returned_at[returned]),
    ]
    s_idx = np.concatenate([p[0] for p in parts])
    t_idx = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    at = np.concatenate([p[2] for p in parts])
    keep = at < cutoff
    s_idx, t_idx, at = s_idx[keep], t_idx[keep], at[keep]
    order = np.lexsort((t_idx, s_idx, at))
    s_idx, t_idx, at = s_idx[order], t_idx[order], at[order]

    shipment_no = np.arange(n) + 1
    country_of = {code: node.country for code, node in node_by_code().items()}
    origin_country = np.array([country_of[o] for o in origin], dtype=object)
    stamp = utc_iso(at)
    return pd.DataFrame({
        "event_id": [f"EV{k:09d}" for k in range(1, len(at) + 1)],
        "shipment_id": np.array([f"SH{k:09d}" for k in shipment_no.tolist()], dtype=object)[s_idx],
        "order_id": sel["order_id"].to_numpy()[s_idx],
        "carrier": carrier[s_idx],
        "service": service[s_idx],
        "origin_node": origin[s_idx],
        "origin_country": origin_country[s_idx],
        "destination_country": dest[s_idx],
        "event_type": np.array(_TYPES)[t_idx],
        "event_at": stamp,
        "_month": [s[:7] for s in stamp.tolist()],
    })
