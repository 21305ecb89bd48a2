"""How big each market is and how its shoppers behave, for the demo merchant.

The markets themselves (currency, clock, node) come from demo/crossdock.yaml (demo.network);
this module only adds the commercial shape the simulation needs: sales volume,
price level, channel mix and weekly rhythm. Kept in one place so the demand,
order and pricing steps agree on them.
"""
from __future__ import annotations

from functools import cache

import numpy as np

from demo.network import demo_markets


@cache
def market_codes() -> tuple[str, ...]:
    """The demo merchant's market codes in config order: the market axis of the simulation's arrays."""
    return tuple(m.code for m in demo_markets())


# Mean units sold per day over the history at scale 1.0 (US largest, NL/JP smallest).
# The smallest markets stay above ~20/day so that no market-day is empty.
UNITS_PER_DAY: dict[str, float] = {
    "US": 150.0, "GB": 65.0, "DE": 60.0, "FR": 40.0,
    "CA": 35.0, "AU": 30.0, "NL": 28.0, "JP": 28.0,
}
# At tiny scales keep enough volume per market for a sale every day.
MIN_UNITS_PER_DAY = 8.0

# Share of the catalogue listed in each market (about 75% of SKU x market pairs overall).
LISTING_RATE: dict[str, float] = {
    "US": 0.92, "CA": 0.80, "GB": 0.85, "DE": 0.82,
    "FR": 0.75, "NL": 0.62, "AU": 0.65, "JP": 0.55,
}

# Yearly volume growth of the merchant in each market (newer markets grow faster).
GROWTH_PER_YEAR: dict[str, float] = {
    "US": 0.06, "CA": 0.10, "GB": 0.05, "DE": 0.10,
    "FR": 0.12, "NL": 0.15, "AU": 0.20, "JP": 0.22,
}

# Rough fixed conversion rates (units of currency per EUR) used to set shelf prices.
FX_PER_EUR: dict[str, float] = {
    "EUR": 1.0, "USD": 1.08, "CAD": 1.48, "GBP": 0.85, "AUD": 1.65, "JPY": 162.0,
}
# Decimal places shoppers see in each currency.
CURRENCY_DECIMALS: dict[str, int] = {"JPY": 0}

# Local price level relative to the EUR list price converted at FX_PER_EUR.
PRICE_INDEX: dict[str, float] = {
    "US": 1.00, "CA": 1.03, "GB": 0.98, "DE": 1.00,
    "FR": 1.02, "NL": 1.00, "AU": 1.08, "JP": 1.05,
}

CHANNELS: tuple[str, ...] = ("web", "marketplace", "app")
# Channel shares (web, marketplace, app) per market on a weekday.
CHANNEL_MIX: dict[str, tuple[float, float, float]] = {
    "US": (0.45, 0.40, 0.15), "CA": (0.50, 0.38, 0.12), "GB": (0.48, 0.35, 0.17),
    "DE": (0.40, 0.48, 0.12), "FR": (0.50, 0.35, 0.15), "NL": (0.55, 0.30, 0.15),
    "AU": (0.55, 0.30, 0.15), "JP": (0.30, 0.55, 0.15),
}
# Apps get relatively more of the weekend.
APP_WEEKEND_LIFT = 1.35

# Weekly demand pattern Mon..Sun; Sunday/Monday evenings are the busiest online.
_WEEK_BASE = np.array([1.07, 1.00, 0.97, 0.95, 0.90, 0.92, 1.14])
_WEEK_ADJUST: dict[str, tuple[float, ...]] = {
    "DE": (1.0, 1.0, 1.0, 1.0, 1.0, 0.97, 1.08),  # shops shut on Sunday
    "JP": (0.97, 1.0, 1.0, 1.0, 1.0, 1.10, 1.02),
    "US": (1.0, 1.0, 1.0, 1.0, 1.0, 1.02, 0.98),
}


def weekly_pattern(market: str) -> np.ndarray:
    """Mon..Sun multipliers for `market`, normalised to mean 1."""
    w = _WEEK_BASE * np.array(_WEEK_ADJUST.get(market, (1.0,) * 7))
    return w / w.mean()


# Shopping intensity per local hour 0..23 (evening peak, quiet nights).
HOURLY_BASE = np.array([
    0.35, 0.20, 0.12, 0.08, 0.07, 0.10, 0.25, 0.50, 0.75, 0.90, 1.00, 1.05,
    1.15, 1.10, 1.00, 0.95, 0.95, 1.00, 1.15, 1.35, 1.50, 1.45, 1.10, 0.70,
])
