"""Synthetic `marts.fct_daily_demand` histories for the ml tests and tuning.

Not the demo generator (that lives in `demo/`): a small, fast, seeded builder
whose ground truth we control, with the patterns the forecast must handle:
weekly and yearly seasonality (flipped in the southern hemisphere), trends,
market calendars (public holidays and sales events), a long tail of
intermittent series, SKUs that launch late in some markets and SKUs that are
phased out. Output is sparse like the mart: only sku x market x day rows with
activity.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crossdock.calendar import market_calendar
from demo.network import market_by_code
from ml.model import ModelConfig

DEFAULT_END = dt.date(2025, 6, 30)
"""The last day of a synthetic history unless a test says otherwise."""
FAST_BACKTEST = ModelConfig(num_boost_round=60, num_leaves=15, min_data_in_leaf=50, row_sample=0.5)
"""A light model for tests of the backtest's mechanics (windows, blend, stopped series), not of its accuracy."""

MARKET_SIZE = {"US": 1.0, "GB": 0.6, "DE": 0.6, "FR": 0.4, "NL": 0.25, "CA": 0.3, "AU": 0.3, "JP": 0.35}
EVENT_LIFT = {
    "black_friday": 3.0,
    "cyber_monday": 2.5,
    "prime_day": 2.0,
    "boxing_day": 2.0,
    "soldes": 1.7,
    "click_frenzy": 2.0,
    "hatsuuri": 1.8,
}
# category -> (weekly profile Mon..Sun, yearly amplitude, yearly peak day-of-year, Q4 gift lift)
CATEGORIES = {
    "outdoor": ([0.9, 0.9, 0.9, 1.0, 1.1, 1.2, 1.0], 0.6, 180, 0.0),
    "home": ([1.1, 1.1, 1.0, 1.0, 0.9, 0.9, 1.0], 0.15, 20, 0.3),
    "gifts": ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.1, 100, 1.5),
    "apparel": ([0.8, 0.9, 0.9, 1.0, 1.1, 1.3, 1.0], 0.3, 300, 0.4),
}


def make_history(
    n_skus: int = 8,
    markets: tuple[str, ...] = ("US", "GB", "DE", "FR", "AU"),
    days: int = 500,
    end: dt.date = DEFAULT_END,
    seed: int = 0,
    late_launch_share: float = 0.15,
    phase_out_share: float = 0.1,
    coverage: float = 1.0,
    truth: list | None = None,
) -> pd.DataFrame:
    """A sparse daily demand history ending on `end` (inclusive), `days` long.

    `coverage` is the chance a SKU is sold in a market at all. The first SKU
    always launches late in the first market (day ~60% of the range) so every
    history has at least one late launch. Pass a list as `truth` to receive
    the expected units per day of each series (sku, market, dates, mean) for
    oracle comparisons; units are negative-binomial with shape 2 around it.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(end=pd.Timestamp(end), periods=days, freq="D")
    t = np.arange(days)
    doy = dates.dayofyear.to_numpy()
    dow = dates.dayofweek.to_numpy()
    cats = list(CATEGORIES)
    frames = []
    cal = {
        m: market_calendar(m, dates[0].date(), dates[-1].date()) for m in markets
    }
    for k in range(n_skus):
        sku = f"SKU-{k:04d}"
        cat = cats[k % len(cats)]
        weekly, amp, peak, gift = CATEGORIES[cat]
        base = float(np.exp(rng.normal(np.log(0.8), 1.3)))
        growth = rng.normal(0.0, 0.35)
        price = float(np.round(rng.uniform(5, 120), 2))
        for j, m in enumerate(markets):
            if rng.random() > coverage and not (k == 0 and j == 0):
                continue
            south = market_by_code()[m].southern_hemisphere
            pk = (peak + 182) % 365 if south and cat in ("outdoor", "apparel") else peak
            season = 1 + amp * np.cos(2 * np.pi * (doy - pk) / 365.25)
            q4 = 1 + gift * np.exp(-(((doy - 350) / 18.0) ** 2))
            wk = np.asarray(weekly)[dow]
            c = cal[m]
            lift = np.where(c["is_holiday"].to_numpy(), 0.75, 1.0)
            lift = lift * c["event_name"].map(EVENT_LIFT).fillna(1.0).to_numpy()
            trend = np.exp(growth * t / 365.0)
            lam = base * MARKET_SIZE[m] * season * q4 * wk * lift * trend
            alive = np.ones(days, dtype=bool)
            if (k == 0 and j == 0) or rng.random() < late_launch_share:
                launch = int(days * 0.6) if (k == 0 and j == 0) else int(rng.integers(days // 4, days - 30))
                alive[:launch] = False
                lam = lam * np.clip((t - launch) / 30.0 + 0.3, 0.3, 1.0)  # ramp-up after launch
            elif rng.random() < phase_out_share:
                stop = int(rng.integers(days // 2, days - 100))
                alive[stop:] = False
            if truth is not None:
                truth.append((sku, m, dates, lam * alive))
            gamma = rng.gamma(2.0, 0.5, size=days)  # negative-binomial dispersion
            units = rng.poisson(lam * gamma) * alive
            returned = rng.binomial(units, 0.05)
            keep = (units > 0) | (returned > 0)
            if not keep.any():
                continue
            frames.append(
                pd.DataFrame(
                    {
                        "sku": sku,
                        "market": m,
                        "category": cat,
                        "demand_date": dates[keep],
                        "units_sold": units[keep].astype(np.int64),
                        "units_returned": returned[keep].astype(np.int64),
                        "revenue_eur": units[keep] * price,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def full_scale_history(seed: int = 1, end: dt.date = DEFAULT_END, truth: list | None = None) -> pd.DataFrame:
    """~200 SKUs x 8 markets (about 1,200 series) x 820 days, for timing and tuning."""
    return make_history(
        n_skus=200,
        markets=("US", "CA", "GB", "DE", "FR", "NL", "AU", "JP"),
        days=820,
        end=end,
        seed=seed,
        coverage=0.75,
        truth=truth,
    )
