"""The messy shop's world, which every kind of its order lines is drawn from.

How busy each day is (thin early years, growth, a Covid bump, seasons, Black
Friday, the closed weekday), which SKUs are on sale (an original range,
launches, discontinued lines, a few too new for the catalogue), the price
lists that rise over the years, and each country's clock. demo/messy/simulate.py
draws the retail, wholesale, write-off and not-stocked lines from these.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from demo.catalogue import Catalogue
from demo.clock import Timeline, localize, offsets_grid
from demo.messy.countries import COUNTRIES, PRICE_LIST_RATE, WHOLE_UNIT_PRICES

CLOSED_WEEKDAY = 6  # Sunday: the shop takes no orders and books nothing (local time of each country)
WEEKLY = np.array([1.30, 1.05, 1.00, 1.00, 0.92, 0.78, 0.0])  # Mon..Sun; Monday catches up on Sunday
MONTHLY = np.array([0.80, 0.75, 0.90, 1.00, 1.05, 1.00, 0.95, 0.90, 0.95, 1.00, 1.25, 1.40])
ORDERS_PER_DAY = 160.0  # retail orders a day at the end of history, at scale 1.0
GROWTH_MIDPOINT_YEARS, GROWTH_WIDTH_YEARS, GROWTH_FLOOR = 3.8, 1.2, 0.05
COVID = (date(2020, 3, 16), date(2021, 2, 28), 1.35)
BLACK_FRIDAY_FROM = 2018
LAUNCH_RAMP_DAYS = 20.0
ORIGINAL_RANGE = 0.35  # share of SKUs selling from the first day
NEW_SKU_RATE = 0.08  # SKUs launched in the last six months (too new for the catalogue)
DISCONTINUED_RATE = 0.35  # of the SKUs older than about four years


@dataclass(frozen=True)
class SkuLife:
    launch: np.ndarray  # first day a SKU can sell
    stop: np.ndarray  # first day it no longer sells (= days when never discontinued)
    weights: np.ndarray  # [day, sku] relative chance a line is that SKU


def _black_friday(year: int) -> date:
    first = date(year, 11, 1)
    thanksgiving = first.toordinal() + (3 - first.weekday()) % 7 + 21
    return date.fromordinal(thanksgiving + 1)


def day_level(timeline: Timeline, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Expected retail orders per day over all countries [D], and the discount of each day [D]."""
    D = timeline.days
    years = np.arange(D) / 365.25
    growth = GROWTH_FLOOR + (1 - GROWTH_FLOOR) / (1 + np.exp(-(years - GROWTH_MIDPOINT_YEARS) / GROWTH_WIDTH_YEARS))
    growth /= growth[-1]
    month = pd.DatetimeIndex(timeline.dates).month.to_numpy() - 1
    level = ORDERS_PER_DAY * scale * growth * MONTHLY[month] * WEEKLY[timeline.weekday]
    covid_from, covid_to, bump = COVID
    iso = timeline.iso
    level = np.where((iso >= covid_from.isoformat()) & (iso <= covid_to.isoformat()), level * bump, level)
    discount = np.zeros(D)
    by_iso = {d: i for i, d in enumerate(iso.tolist())}
    for year in range(max(timeline.start.year, BLACK_FRIDAY_FROM), timeline.end.year + 1):
        bf = _black_friday(year).toordinal()
        for offset, lift in ((0, 3.0), (1, 1.6), (3, 2.0)):  # Friday, Saturday, Cyber Monday
            i = by_iso.get(date.fromordinal(bf + offset).isoformat())
            if i is not None:
                level[i] *= lift
                discount[i] = 0.2
    for month_day, factor in (("12-24", 0.6), ("12-25", 0.25), ("12-26", 0.6), ("01-01", 0.4)):
        level = np.where(np.char.endswith(iso.astype(str), month_day), level * factor, level)
    return level, discount


def sku_life(catalogue: Catalogue, timeline: Timeline, rng: np.random.Generator) -> SkuLife:
    """The range changes over ten years: an original range, launches every year, discontinued SKUs,
    and a few new SKUs in the last months that no catalogue lists yet."""
    S, D = catalogue.n_skus, timeline.days
    popularity = catalogue.skus["popularity"].to_numpy()
    by_draw = np.argsort(rng.random(S))
    original = by_draw[:max(3, int(round(ORIGINAL_RANGE * S)))]
    later = by_draw[len(original):]
    new = later[:max(2, int(round(NEW_SKU_RATE * S)))]
    launch = np.zeros(S, dtype=np.int64)
    launch[later] = ((D - 240) * np.sqrt(rng.uniform(0.02, 1.0, len(later)))).astype(np.int64)
    launch[new] = D - rng.integers(20, 180, len(new))
    launch[new[0]] = D - rng.integers(40, 70)  # at least one launched in the last two months
    launch = np.maximum(launch, 0)
    popularity = popularity.copy()
    popularity[new] = np.maximum(popularity[new], np.median(popularity))  # a launch is promoted
    keep_alive = original[np.argsort(-popularity[original], kind="stable")][:3]
    ends = launch + rng.integers(700, 2600, S)
    stopping = (rng.random(S) < DISCONTINUED_RATE) & (launch < D - 1500)
    stopping[keep_alive] = False
    stopping[new] = False
    stop = np.where(stopping & (ends < D - 200), ends, D).astype(np.int64)

    day = np.arange(D)[:, None]
    since = day - launch[None, :]
    ramp = np.where(launch[None, :] > 0, 1.0 - np.exp(-(since + 1) / LAUNCH_RAMP_DAYS), 1.0)
    drift = rng.normal(-0.04, 0.15, S)
    trend = np.exp(drift[None, :] * np.maximum(since, 0) / 365.0)
    alive = (since >= 0) & (day < stop[None, :])
    weights = np.where(alive, popularity[None, :] * ramp * trend, 0.0)
    return SkuLife(launch=launch, stop=stop, weights=weights)


def pick_skus(life: SkuLife, day: np.ndarray, rng: np.random.Generator, power: float = 1.0) -> np.ndarray:
    """One SKU per entry of `day`, by that day's weights (raised to `power`: > 1 favours the best sellers)."""
    w = life.weights ** power
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0
    S = w.shape[1]
    flat = (cdf + np.arange(len(cdf))[:, None]).ravel()
    u = rng.random(len(day)) * (1 - 1e-9)
    return np.minimum(np.searchsorted(flat, day + u, side="right") - day * S, S - 1)


@dataclass(frozen=True)
class PriceLists:
    """The shop's price per SKU x currency x year (year 0 = the first of the history)."""

    prices: np.ndarray  # [sku, currency, year]
    currencies: list[str]  # sorted
    year_of_day: np.ndarray  # [day] year index

    def at(self, sku: np.ndarray, currency: np.ndarray, day: np.ndarray) -> np.ndarray:
        cur = np.searchsorted(self.currencies, np.asarray(currency).astype(str))
        return self.prices[sku, cur, self.year_of_day[day]]


def price_lists(catalogue: Catalogue, timeline: Timeline, rng: np.random.Generator) -> PriceLists:
    """Shelf prices; list prices rise most years (prices ten years ago were lower)."""
    currencies = sorted(PRICE_LIST_RATE)
    years = int(timeline.year[-1] - timeline.year[0] + 1)
    S = catalogue.n_skus
    rise = np.where(rng.random((S, years)) < 0.6, rng.uniform(0.0, 0.07, (S, years)), 0.0)
    rise[:, 0] = 0.0
    steps = np.cumprod(1.0 + rise, axis=1)
    eur = catalogue.skus["list_price_eur"].to_numpy()[:, None] * steps / steps[:, -1:]  # today's is the list price
    out = np.empty((S, len(currencies), years))
    for k, cur in enumerate(currencies):
        raw = eur * PRICE_LIST_RATE[cur]
        if cur in WHOLE_UNIT_PRICES:
            out[:, k] = np.maximum(np.ceil(raw / 10.0) * 10.0 - 1.0, 9.0)
        else:
            out[:, k] = np.maximum(np.ceil(raw) - 0.05, 0.95)
    return PriceLists(out, currencies, (timeline.year - timeline.year[0]).astype(np.int64))


def money(amount: np.ndarray) -> np.ndarray:
    cents = np.round(np.asarray(amount, dtype=float) * 100.0).astype(np.int64).tolist()
    return np.array([f"{c // 100}.{c % 100:02d}" for c in cents], dtype=object)


@lru_cache(maxsize=64)
def _offsets(timezone: str, start: date, days: int) -> tuple[int, np.ndarray]:
    """UTC offsets of `timezone` per hour over the whole history (+-2 days), computed once."""
    first = (date_to_days(start) - 2) * 24
    return offsets_grid(timezone, first, first + (days + 4) * 24)


def date_to_days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def stamp(local: np.ndarray, country: np.ndarray, timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """ISO text with the offset of each country's clock, and UTC seconds."""
    iso = np.empty(len(local), dtype=object)
    utc = np.empty(len(local), dtype=np.int64)
    for c in np.unique(country).tolist():
        w = country == c
        tz = COUNTRIES[c].timezone
        iso[w], utc[w] = localize(local[w], tz, _offsets(tz, timeline.start, timeline.days))
    return iso, utc


def open_day(timeline: Timeline, day: np.ndarray) -> np.ndarray:
    """Move a day that falls on the closed weekday to the next day."""
    return day + (timeline.weekday[np.minimum(day, timeline.days - 1)] == CLOSED_WEEKDAY)


def working_days(timeline: Timeline, since: date, n: int, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`n` Monday..Friday days from `since`, more of them when the business is bigger."""
    w = np.where((timeline.weekday < 5) & (timeline.dates >= np.datetime64(since)), level, 0.0)
    if w.sum() <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(timeline.days, size=n, p=w / w.sum()))
