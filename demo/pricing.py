"""Shelf prices per SKU x market x year, and money formatting.

Prices shown to shoppers are the EUR list price converted at a rough fixed
rate, adjusted by the market's price level and rounded the way shops do
(19.99, or 2,980 yen). List prices are revised at some new years, so
revenue-based checks see realistic price steps rather than constant prices.
"""
from __future__ import annotations

import numpy as np

from demo.network import market_by_code
from demo.catalogue import Catalogue
from demo.clock import Timeline
from demo.market_profiles import CURRENCY_DECIMALS, FX_PER_EUR, PRICE_INDEX, market_codes

REVISION_RATE = 0.4  # share of SKUs repriced at each new year
REVISION_MAX = 0.06  # largest yearly increase


def market_currencies() -> list[str]:
    return [market_by_code()[c].currency for c in market_codes()]


def shelf_prices(catalogue: Catalogue, timeline: Timeline, rng: np.random.Generator) -> np.ndarray:
    """[sku, market, year offset] regular price in the market's currency (year 0 = first year)."""
    years = int(timeline.year[-1] - timeline.year[0] + 1)
    S = catalogue.n_skus
    bump = np.where(rng.random((S, years)) < REVISION_RATE, rng.uniform(0.0, REVISION_MAX, (S, years)), 0.0)
    bump[:, 0] = 0.0
    eur = catalogue.skus["list_price_eur"].to_numpy()[:, None] * np.cumprod(1.0 + bump, axis=1)
    out = np.empty((S, len(market_codes()), years))
    for m, (code, cur) in enumerate(zip(market_codes(), market_currencies())):
        raw = eur * FX_PER_EUR[cur] * PRICE_INDEX[code]
        if CURRENCY_DECIMALS.get(cur, 2) == 0:
            out[:, m] = np.maximum(np.ceil(raw / 100.0) * 100.0 - 20.0, 80.0)
        else:
            out[:, m] = np.maximum(np.ceil(raw) - 0.01, 0.99)
    return out


def round_money(amount: np.ndarray, zero_decimals: np.ndarray) -> np.ndarray:
    """Round to the currency's minor unit (2 decimals, or 0 for JPY)."""
    return np.where(zero_decimals, np.round(amount), np.round(amount, 2))


def format_money(amount: np.ndarray, zero_decimals: np.ndarray) -> np.ndarray:
    """Exact text for money: '19.99' or '2980' (no float repr surprises in the CSV)."""
    amount = np.asarray(amount, dtype=float)
    cents = np.round(amount * 100.0).astype(np.int64).tolist()
    zero = np.broadcast_to(np.asarray(zero_decimals, dtype=bool), amount.shape).tolist()
    return np.array([f"{(c + 50) // 100}" if z else f"{c // 100}.{c % 100:02d}" for c, z in zip(cents, zero)],
                    dtype=object)
