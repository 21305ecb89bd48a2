"""The 40 countries the messy merchant ships to: share of orders, currencies, clock, first order.

Five big markets carry about three quarters of the orders; the other 35 are a
long tail (most with a handful of orders a month) that the merchant's config
leaves to its catch-all market. Shoppers pay in the shop's price lists: EUR at
home, GBP, USD (the rest of the world), CHF (or EUR: Swiss shoppers may pick),
SEK, DKK, NOK, PLN and CZK, all of them currencies the ECB quotes.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    weight: float  # share of retail orders (before normalising)
    timezone: str  # the storefront stamps orders in the shopper's local time
    currencies: tuple[tuple[str, float], ...]  # (currency, share of orders)
    since: str  # first day the shop shipped there (YYYY-MM-DD)


def _c(code: str, weight: float, timezone: str, currency: str = "EUR", since: str = "2016-01-01",
       alt: tuple[tuple[str, float], ...] = ()) -> Country:
    main = 1.0 - sum(share for _, share in alt)
    return Country(code, weight, timezone, ((currency, main), *alt), since)


COUNTRIES: tuple[Country, ...] = (
    # the big five (markets of their own in demo/messy/crossdock.yaml)
    _c("DE", 0.240, "Europe/Berlin"),
    _c("NL", 0.190, "Europe/Amsterdam"),
    _c("GB", 0.110, "Europe/London", "GBP"),
    _c("FR", 0.080, "Europe/Paris"),
    _c("US", 0.070, "America/New_York", "USD", since="2017-05-01"),
    # the long tail (catch-all market ROW)
    _c("BE", 0.035, "Europe/Brussels"),
    _c("AT", 0.030, "Europe/Vienna"),
    _c("CH", 0.025, "Europe/Zurich", "CHF", alt=(("EUR", 0.25),)),
    _c("IT", 0.020, "Europe/Rome", since="2017-03-01"),
    _c("ES", 0.018, "Europe/Madrid", since="2017-03-01"),
    _c("SE", 0.015, "Europe/Stockholm", "SEK", since="2017-09-01"),
    _c("DK", 0.013, "Europe/Copenhagen", "DKK", since="2017-09-01"),
    _c("IE", 0.010, "Europe/Dublin"),
    _c("PL", 0.010, "Europe/Warsaw", "PLN", since="2018-04-01"),
    _c("NO", 0.009, "Europe/Oslo", "NOK", since="2018-04-01"),
    _c("CZ", 0.008, "Europe/Prague", "CZK", since="2018-04-01"),
    _c("FI", 0.008, "Europe/Helsinki", since="2017-09-01"),
    _c("CA", 0.008, "America/Toronto", "USD", since="2018-01-01"),
    _c("PT", 0.007, "Europe/Lisbon", since="2018-01-01"),
    _c("AU", 0.007, "Australia/Sydney", "USD", since="2019-02-01"),
    _c("LU", 0.006, "Europe/Luxembourg"),
    _c("GR", 0.004, "Europe/Athens", since="2018-06-01"),
    _c("HU", 0.004, "Europe/Budapest", since="2018-06-01"),
    _c("SI", 0.003, "Europe/Ljubljana", since="2019-01-01"),
    _c("SK", 0.003, "Europe/Bratislava", since="2019-01-01"),
    _c("HR", 0.003, "Europe/Zagreb", since="2019-01-01"),
    _c("JP", 0.003, "Asia/Tokyo", "USD", since="2019-02-01"),
    _c("EE", 0.002, "Europe/Tallinn", since="2019-06-01"),
    _c("LT", 0.002, "Europe/Vilnius", since="2019-06-01"),
    _c("LV", 0.002, "Europe/Riga", since="2019-06-01"),
    _c("RO", 0.002, "Europe/Bucharest", since="2019-06-01"),
    _c("NZ", 0.002, "Pacific/Auckland", "USD", since="2019-02-01"),
    _c("SG", 0.002, "Asia/Singapore", "USD", since="2020-01-01"),
    _c("IL", 0.002, "Asia/Jerusalem", "USD", since="2020-01-01"),
    _c("AE", 0.002, "Asia/Dubai", "USD", since="2020-01-01"),
    _c("IS", 0.0015, "Atlantic/Reykjavik", since="2018-06-01"),
    _c("MT", 0.0015, "Europe/Malta", since="2018-06-01"),
    _c("CY", 0.0015, "Asia/Nicosia", since="2018-06-01"),
    _c("KR", 0.0012, "Asia/Seoul", "USD", since="2020-06-01"),
    _c("HK", 0.0012, "Asia/Hong_Kong", "USD", since="2020-06-01"),
)
COUNTRY_CODES: tuple[str, ...] = tuple(c.code for c in COUNTRIES)
CURRENCIES: tuple[str, ...] = tuple(sorted({cur for c in COUNTRIES for cur, _ in c.currencies}))

# The shop's fixed price lists: units of currency per EUR of list price (a price
# list is revised once a year, not with the daily rate), and how prices end.
PRICE_LIST_RATE: dict[str, float] = {
    "EUR": 1.0, "GBP": 0.88, "USD": 1.12, "CHF": 1.05, "SEK": 11.0, "DKK": 7.5, "NOK": 11.0,
    "PLN": 4.4, "CZK": 25.0,
}
WHOLE_UNIT_PRICES = frozenset({"SEK", "DKK", "NOK", "PLN", "CZK"})  # 299.00, not 299.99

# B2B (wholesale) buyers: shops and clubs in a few European countries.
WHOLESALE_COUNTRIES: dict[str, float] = {
    "DE": 0.30, "NL": 0.20, "BE": 0.15, "AT": 0.10, "CH": 0.10, "GB": 0.10, "DK": 0.05,
}
