"""Daily demand per SKU x market: the signal the forecast is trained and tested on.

Expected units are a product of interpretable factors (SKU popularity, market
size, weekly rhythm, category seasonality by hemisphere, trend, public holidays,
sales events with discounts, launch and phase-out), and realised units are
negative binomial around them. The factors use the same calendars
(crossdock.calendar) the forecast's features use, so a good model can learn
them and a seasonal-naive baseline cannot learn all of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.calendar import market_calendar
from demo.network import market_by_code
from demo.catalogue import Catalogue
from demo.catalogue_specs import CATEGORIES
from demo.clock import Timeline
from demo.market_profiles import (
    GROWTH_PER_YEAR, LISTING_RATE, MIN_UNITS_PER_DAY, UNITS_PER_DAY, market_codes, weekly_pattern,
)

# Public holidays: most are a day off (people shop online a bit more); a few shut everything.
HOLIDAY_EFFECT: dict[str, float] = {
    "Christmas Day": 0.40, "New Year's Day": 0.75, "Thanksgiving Day": 0.70,
    "Good Friday": 0.88, "Easter Sunday": 0.85, "Second Day of Christmas": 0.85,
}
DEFAULT_HOLIDAY_EFFECT = 1.08

# Uplift range drawn once per event occurrence, for SKUs taking part (discounted).
EVENT_UPLIFT: dict[str, tuple[float, float]] = {
    "black_friday": (3.0, 5.0), "cyber_monday": (2.0, 3.0), "prime_day": (1.8, 2.3),
    "boxing_day": (1.8, 2.6), "soldes": (2.2, 2.6), "click_frenzy": (1.8, 2.2), "hatsuuri": (2.0, 2.8),
}
EVENT_PARTICIPATION: dict[str, float] = {
    "black_friday": 0.80, "cyber_monday": 0.70, "prime_day": 0.60, "boxing_day": 0.70,
    "soldes": 0.60, "click_frenzy": 0.60, "hatsuuri": 0.70,
}
# Categories that join some events more than others (fashion sales, tech deals).
PARTICIPATION_OVERRIDE: dict[tuple[str, str], float] = {
    ("soldes", "apparel"): 0.95, ("soldes", "footwear"): 0.95,
    ("prime_day", "electronics_accessories"): 0.85, ("boxing_day", "apparel"): 0.85,
}
SOLDES_DECAY = 0.88  # French sales are busiest on day one
NON_PARTICIPANT_POWER = 0.25  # traffic halo for SKUs not on promotion

LAUNCH_RAMP_DAYS = 12.0
PHASE_OUT_TAPER_DAYS = 45.0
LATE_ENTRY_WINDOW = 42  # "launched in a new market in the last 6 weeks"
MARKET_DAY_NOISE = 0.07
GAMMA_SHAPE = (6.0, 20.0)  # per-SKU day-to-day overdispersion (CV 0.22-0.41 of the gamma factor)
MOMENTUM_PHI = 0.93  # day-to-day persistence of a SKU's demand level
MOMENTUM_SD = 0.18
NEW_PRODUCT_RATE = 0.10  # SKUs launched during the history
LATER_ENTRY_RATE = 0.04  # SKU x market pairs opened after the SKU sold elsewhere
PHASE_OUT_RATE = 0.07  # SKU x market pairs delisted while the SKU sells on elsewhere
SKU_DRIFT_MEAN = -0.06  # products age: per-year log trend of a SKU, before market growth
SKU_DRIFT_SD = 0.20


@dataclass(frozen=True)
class Demand:
    """Arrays are [sku, market, day] in catalogue and market_codes() order."""

    mu: np.ndarray  # expected units (float64)
    units: np.ndarray  # realised sold units (int32)
    discount: np.ndarray  # fraction off the list price (float32), 0 outside events
    listed: np.ndarray  # [sku, market] the pair exists at some point
    launch: np.ndarray  # [sku, market] first day the pair can sell
    stop: np.ndarray  # [sku, market] first day without sales (= days when never phased out)
    momentum: np.ndarray  # [sku, market, day] the AR(1) level factor the realised units drew on (bench/forecast_floor.py)


def _seasonality(timeline: Timeline) -> np.ndarray:
    """[category, market, day] yearly pattern, mean ~1, with the Christmas gift rush."""
    mids = np.array([15, 45, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349], dtype=float)
    xs = np.concatenate([[mids[-1] - 365], mids, [mids[0] + 365]])
    doy = timeline.day_of_year.astype(float)
    idx = pd.DatetimeIndex(timeline.dates)
    md = idx.month.values * 100 + idx.day.values
    # Gift rush: ramps from 10 Nov to 18 Dec, holds, drops on the 23rd/24th, lull to 3 Jan.
    ramp_start = pd.to_datetime(pd.DataFrame({"year": idx.year, "month": 11, "day": 10})).values
    days_in = (idx.values - ramp_start).astype("timedelta64[D]").astype(int)
    gift = np.where((md >= 1110) & (md <= 1218), np.clip(days_in / 38.0, 0, 1), 0.0)
    gift = np.where((md >= 1219) & (md <= 1222), 1.0, gift)
    gift = np.where(md == 1223, 0.6, np.where(md == 1224, 0.2, gift))
    gift = np.where((md >= 1225) | (md <= 103), -0.25, gift)

    out = np.empty((len(CATEGORIES), len(market_codes()), timeline.days))
    for c, cat in enumerate(CATEGORIES):
        vals = np.array(cat.monthly) / np.mean(cat.monthly)
        ys = np.concatenate([[vals[-1]], vals, [vals[0]]])
        north = np.interp(doy, xs, ys)
        south = np.interp((doy + 182.0) % 365.0, xs, ys)
        lift = 1.0 + cat.gift_amplitude * gift
        for m, code in enumerate(market_codes()):
            flip = cat.weather_driven and market_by_code()[code].southern_hemisphere
            out[c, m] = (south if flip else north) * lift
    return out


def _calendar(timeline: Timeline, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Holiday factor [M, D], event uplift [M, D], event occurrence id [M, D] (-1 none), occurrence names."""
    M, D = len(market_codes()), timeline.days
    holiday = np.ones((M, D))
    lift = np.ones((M, D))
    occurrence = np.full((M, D), -1, dtype=np.int32)
    names: list[str] = []
    for m, code in enumerate(market_codes()):
        cal = market_calendar(code, timeline.start, timeline.end)
        hol = cal["holiday_name"].to_numpy()
        holiday[m] = [HOLIDAY_EFFECT.get(h, DEFAULT_HOLIDAY_EFFECT) if h is not None else 1.0 for h in hol]
        ev = cal["event_name"].to_numpy()
        d = 0
        while d < D:
            if ev[d] is None:
                d += 1
                continue
            name, start = ev[d], d
            while d < D and ev[d] == name:
                d += 1
            low, high = EVENT_UPLIFT.get(name, (1.5, 2.0))
            peak = rng.uniform(low, high)
            span = np.arange(d - start)
            decay = SOLDES_DECAY ** span if name == "soldes" else np.ones(len(span))
            lift[m, start:d] = 1.0 + (peak - 1.0) * decay
            occurrence[m, start:d] = len(names)
            names.append(name)
    return holiday, lift, occurrence, names


def _lifecycle(S: int, D: int, scale: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which SKU x market pairs exist, when they launch and when some are phased out."""
    M = len(market_codes())
    rate = np.array([LISTING_RATE[c] for c in market_codes()])
    listed = rng.random((S, M)) < rate
    listed[~listed.any(axis=1), 0] = True  # every SKU sells somewhere (the US by default)
    launch = np.zeros((S, M), dtype=np.int64)
    stop = np.full((S, M), D, dtype=np.int64)

    # New products: launched part-way through history, market by market.
    if D - 120 > 45:
        new = rng.random(S) < NEW_PRODUCT_RATE
        first = rng.integers(45, D - 120, S)
        stagger = rng.integers(0, 60, (S, M))
        launch = np.where(new[:, None] & listed, np.minimum(first[:, None] + stagger, D - 60), launch)
    # Existing products entering one more market later on.
    if D - 90 > 30:
        later = listed & (launch == 0) & (rng.random((S, M)) < LATER_ENTRY_RATE)
        later[np.arange(S), np.argmax(listed, axis=1)] = False  # keep each SKU's first market from day 0
        launch = np.where(later, rng.integers(30, D - 90, (S, M)), launch)

    # A handful of SKUs launched in a new market in the last six weeks, having sold elsewhere before.
    if D > LATE_ENTRY_WINDOW + 120:
        n_late = max(2, int(round(5 * scale)))
        seasoned = np.where(listed, launch, D).min(axis=1) < D - 120
        candidates = np.flatnonzero(seasoned & ~listed.all(axis=1))
        for s in rng.permutation(candidates)[:n_late]:
            free = np.flatnonzero(~listed[s])
            m = free[int(rng.choice(len(free), p=rate[free] / rate[free].sum()))]
            listed[s, m] = True
            launch[s, m] = D - int(rng.integers(7, LATE_ENTRY_WINDOW + 1))

    # Phase-outs in some markets only; sales stop months before the end.
    if D > 300:
        multi = listed.sum(axis=1) >= 2
        pick = listed & multi[:, None] & (launch < 0.4 * D) & (rng.random((S, M)) < PHASE_OUT_RATE)
        lo = np.maximum(launch + 120, D // 3)
        when = lo + (rng.random((S, M)) * np.maximum(D - 60 - lo, 1)).astype(np.int64)
        pick &= when < D - 60
        stop = np.where(pick, when, stop)
        for s in np.flatnonzero((stop < D).any(axis=1)):
            alive = listed[s] & (stop[s] == D)
            if not alive.any():  # keep the SKU alive in its biggest market
                keep = np.flatnonzero(listed[s])[np.argmax(rate[listed[s]])]
                stop[s, keep] = D
    return listed, launch, stop


def _lifecycle_curve(listed: np.ndarray, launch: np.ndarray, stop: np.ndarray, D: int) -> np.ndarray:
    """[S, M, D] 0..1: launch ramp-up, phase-out taper, zero outside the listing."""
    day = np.arange(D)[None, None, :]
    since = day - launch[:, :, None]
    ramp = np.where(launch[:, :, None] > 0, 1.0 - np.exp(-(since + 1) / LAUNCH_RAMP_DAYS), 1.0)
    phased = stop[:, :, None] < D
    taper = np.where(phased, np.clip((stop[:, :, None] - day) / PHASE_OUT_TAPER_DAYS, 0.0, 1.0), 1.0)
    alive = listed[:, :, None] & (since >= 0) & (day < stop[:, :, None])
    return np.where(alive, ramp * taper, 0.0)


def _events(cat: np.ndarray, lift: np.ndarray, occurrence: np.ndarray, names: list[str],
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-SKU event uplift [S, M, D] and discount [S, M, D]: SKUs on promotion get the
    full uplift and 10-30% off, the others a small halo of extra traffic."""
    S = len(cat)
    K = len(names)
    M, D = lift.shape
    uplift = np.ones((S, M, D))
    discount = np.zeros((S, M, D), dtype=np.float32)
    if K == 0:
        return uplift, discount
    cat_names = [CATEGORIES[c].name for c in cat]
    prob = np.array([[PARTICIPATION_OVERRIDE.get((n, cn), EVENT_PARTICIPATION.get(n, 0.6)) for n in names]
                     for cn in cat_names])  # [S, K]
    takes_part = rng.random((S, K)) < prob
    pct = rng.choice(np.array([0.10, 0.15, 0.20, 0.25, 0.30]), size=(S, K))
    on = occurrence >= 0
    occ = np.where(on, occurrence, 0)
    part = takes_part[:, occ] & on[None]  # [S, M, D]
    off = np.where(part, pct[:, occ], 0.0)
    full = lift[None] * (1.0 + 1.5 * (off - 0.2))
    uplift = np.where(part, full, np.where(on[None], lift[None] ** NON_PARTICIPANT_POWER, 1.0))
    return uplift, off.astype(np.float32)


def _momentum(S: int, M: int, D: int, rng: np.random.Generator) -> np.ndarray:
    """[S, M, D] multiplicative AR(1) level, mean ~1, stationary log-sd MOMENTUM_SD."""
    innovation = rng.normal(0.0, MOMENTUM_SD * np.sqrt(1 - MOMENTUM_PHI**2), (D, S, M))
    level = np.empty((D, S, M))
    level[0] = rng.normal(0.0, MOMENTUM_SD, (S, M))
    for d in range(1, D):
        level[d] = MOMENTUM_PHI * level[d - 1] + innovation[d]
    return np.exp(level - 0.5 * MOMENTUM_SD**2).transpose(1, 2, 0)


def simulate_demand(catalogue: Catalogue, timeline: Timeline, scale: float, rng: np.random.Generator,
                    volume: float | None = None) -> Demand:
    """Expected and realised daily units for every SKU x market x day.

    `volume` (default `scale`) multiplies the units sold without adding SKUs:
    bench/scale.py grows the order lines while the number of series stays put.
    """
    S, M, D = catalogue.n_skus, len(market_codes()), timeline.days
    cat = catalogue.skus["cat_idx"].to_numpy()

    listed, launch, stop = _lifecycle(S, D, scale, rng)
    life = _lifecycle_curve(listed, launch, stop, D)
    holiday, lift, occurrence, names = _calendar(timeline, rng)
    uplift, discount = _events(cat, lift, occurrence, names, rng)
    season = _seasonality(timeline)[cat]  # [S, M, D]
    weekly = np.stack([weekly_pattern(c)[timeline.weekday] for c in market_codes()])  # [M, D]

    base = catalogue.skus["popularity"].to_numpy()[:, None] * np.exp(rng.normal(0, 0.45, (S, M)))
    growth = np.log1p(np.array([GROWTH_PER_YEAR[c] for c in market_codes()]))
    slope = growth[None, :] + rng.normal(SKU_DRIFT_MEAN, SKU_DRIFT_SD, (S, M))  # per-year log trend per SKU x market
    years = (np.arange(D) - D / 2.0) / 365.0
    trend = np.exp(slope[:, :, None] * years[None, None, :])

    mu = base[:, :, None] * life * season * weekly[None] * holiday[None] * uplift * trend
    target = np.array([max(UNITS_PER_DAY[c] * (scale if volume is None else volume), MIN_UNITS_PER_DAY) for c in market_codes()])
    per_day = mu.sum(axis=(0, 2)) / D
    mu *= (target / np.where(per_day > 0, per_day, 1.0))[None, :, None]

    # Poisson-gamma (negative binomial) with SKU-specific overdispersion, a market-day shock and
    # slow-moving momentum (AR(1) in logs: a SKU running hot stays hot for a few weeks).
    shape = rng.uniform(*GAMMA_SHAPE, S)[:, None, None]
    shock = np.exp(rng.normal(-0.5 * MARKET_DAY_NOISE**2, MARKET_DAY_NOISE, (1, M, D)))
    daily = rng.gamma(shape, 1.0 / shape, (S, M, D))  # drawn before the momentum: the seed's files stay the same
    momentum = _momentum(S, M, D, rng)
    lam = mu * daily * shock * momentum
    units = rng.poisson(lam).astype(np.int32)

    # A market-day without a single sale would be broken data for the quality gate.
    empty_m, empty_d = np.nonzero(units.sum(axis=0) == 0)
    for m, d in zip(empty_m, empty_d):
        w = mu[:, m, d]
        if w.sum() <= 0:
            w = (listed[:, m] & (launch[:, m] <= d) & (stop[:, m] > d)).astype(float) + 1e-9
        units[int(rng.choice(S, p=w / w.sum())), m, d] += 1
    return Demand(mu=mu, units=units, discount=discount, listed=listed, launch=launch, stop=stop, momentum=momentum)
