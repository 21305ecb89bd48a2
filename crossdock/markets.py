"""The destination markets and fulfilment nodes crossdock plans for.

One table in code so that the demo generator, the forecast's calendars and the
`markets` dbt seed (written from it by `scripts/refresh_reference_seeds.py`)
cannot disagree about which market uses which currency, clock or warehouse.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Market:
    code: str  # ISO 3166-1 alpha-2 of the ship-to country
    currency: str  # ISO 4217 of the prices shown to shoppers there
    timezone: str  # IANA zone the merchant's storefront reports in
    node: str  # fulfilment node that ships to this market
    holiday_subdivision: str | None = None  # `holidays` subdivision for national-ish calendars
    southern_hemisphere: bool = False  # flips the seasonal pattern of weather-driven categories


@dataclass(frozen=True)
class Node:
    code: str
    country: str
    description: str


MARKETS: tuple[Market, ...] = (
    Market("US", "USD", "America/New_York", "US-EWR"),
    Market("CA", "CAD", "America/Toronto", "US-EWR", holiday_subdivision="ON"),
    Market("GB", "GBP", "Europe/London", "GB-BHX", holiday_subdivision="ENG"),
    Market("DE", "EUR", "Europe/Berlin", "NL-AMS"),
    Market("FR", "EUR", "Europe/Paris", "NL-AMS"),
    Market("NL", "EUR", "Europe/Amsterdam", "NL-AMS"),
    Market("AU", "AUD", "Australia/Sydney", "AU-SYD", holiday_subdivision="NSW", southern_hemisphere=True),
    Market("JP", "JPY", "Asia/Tokyo", "JP-NRT"),
)

NODES: tuple[Node, ...] = (
    Node("US-EWR", "US", "Newark NJ 3PL, ships to the US and Canada"),
    Node("GB-BHX", "GB", "Birmingham UK warehouse"),
    Node("NL-AMS", "NL", "Amsterdam EU hub, ships to the EU markets"),
    Node("AU-SYD", "AU", "Sydney 3PL"),
    Node("JP-NRT", "JP", "Narita 3PL"),
)

MARKET_BY_CODE: dict[str, Market] = {m.code: m for m in MARKETS}
NODE_BY_CODE: dict[str, Node] = {n.code: n for n in NODES}
