"""The reference rules in force on a given day: de minimis regime, VAT rate, fees, FX.

Every table here is a dbt seed with effective_from / effective_to, so the same
order before and after a rule change is priced under the rule of its own day.
A day no row covers (a country the seeds do not list, a day before a rule's
first known date or after its last) is unknown: the lookup returns None and the
caller marks what it could not price, rather than falling back to another
period's or another country's rule. Overlapping periods are an error in the
seeds and raise with the table, key and day to fix.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd


@dataclass(frozen=True)
class Regime:
    """One row of the de_minimis seed: the low-value rules of a customs territory for a period.

    Thresholds are in `currency`; None means the threshold does not exist
    (e.g. the US has no import VAT, Switzerland has no duty threshold).
    """

    territory: str
    code: str
    currency: str
    duty_threshold: float | None
    vat_threshold: float | None
    low_value_ceiling: float | None
    flat_duty_per_item: float | None
    vat_collected_at_sale: bool
    excluded_origins: frozenset[str]
    courier_fta_duty_threshold: float | None
    courier_fta_vat_threshold: float | None
    courier_fta_origins: frozenset[str]
    duty_exclusion_hs_prefixes: tuple[str, ...]
    formal_entry_threshold: float | None


@dataclass(frozen=True)
class Fee:
    """A fixed or ad valorem fee at import (import_fees seed), in `currency`."""

    code: str
    kind: str
    applies_when: str
    amount: float
    currency: str
    rate: float
    min_amount: float | None
    max_amount: float | None
    value_from: float | None = None
    value_to: float | None = None

    def covers(self, value: float) -> bool:
        """True when a consignment of `value` (fee currency) falls in the fee's value band."""
        return (self.value_from is None or value > self.value_from) and (self.value_to is None or value <= self.value_to)

    def charge(self, customs_value: float) -> float:
        """The fee on a consignment of `customs_value` (same currency as the fee)."""
        value = self.amount + self.rate * customs_value
        if self.min_amount is not None:
            value = max(value, self.min_amount)
        if self.max_amount is not None:
            value = min(value, self.max_amount)
        return value


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _codes(value: object) -> frozenset[str]:
    return frozenset() if value is None or pd.isna(value) else frozenset(str(value).split())


def _day(value: object) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _periods(frame: pd.DataFrame, key: str) -> dict[str, list[dict]]:
    """Rows as plain dicts by `key`, with effective dates as `date`: lookups run per order, pandas filtering is too slow."""
    out: dict[str, list[dict]] = {}
    for row in frame.to_dict("records"):
        row["effective_from"], row["effective_to"] = _day(row["effective_from"]), _day(row["effective_to"])
        out.setdefault(str(row[key]), []).append(row)
    return out


def _in_force(rows: list[dict], day: date) -> list[dict]:
    return [r for r in rows if r["effective_from"] <= day and (r["effective_to"] is None or r["effective_to"] >= day)]


class Rulebook:
    """Date-aware lookups over the reference seeds (de_minimis, vat_rates, import_fees, FX).

    Built once from DataFrames and queried per consignment; the frames are
    indexed by key so a lookup is a dictionary hit and a short date scan.
    """

    def __init__(
        self,
        de_minimis: pd.DataFrame,
        vat_rates: pd.DataFrame,
        fees: pd.DataFrame | None = None,
        fx: pd.DataFrame | None = None,
    ) -> None:
        # the frames as given: what the rules were read from (compliance/order_store.py fingerprints them)
        self.tables: dict[str, pd.DataFrame | None] = {"de_minimis": de_minimis, "vat_rates": vat_rates, "import_fees": fees, "fx": fx}
        self._regimes = _periods(de_minimis, "destination")
        self._vat = _periods(vat_rates, "country_code")
        self._fees = _periods(fees, "destination") if fees is not None else {}
        self._fx: dict[str, pd.Series] = {}
        if fx is not None and len(fx):
            for currency, g in fx.groupby("currency"):
                self._fx[str(currency)] = g.set_index(pd.to_datetime(g["calendar_date"]).dt.date)["units_per_eur"]
        self._regime_cache: dict[tuple[str, date], Regime | None] = {}
        self._vat_cache: dict[tuple[str, date], float | None] = {}
        self._fee_cache: dict[tuple[str, date], list[Fee]] = {}
        self._fx_cache: dict[tuple[str, date], float | None] = {}

    def regime(self, territory: str | None, day: date) -> Regime | None:
        """The low-value regime of `territory` on `day`; None (unknown) when no de_minimis row covers that day."""
        if territory is None:
            return None
        key = (territory, day)
        if key not in self._regime_cache:
            self._regime_cache[key] = self._find_regime(territory, day)
        return self._regime_cache[key]

    def _find_regime(self, territory: str, day: date) -> Regime | None:
        rows = self._regimes.get(territory)
        if rows is None:
            return None
        rows = _in_force(rows, day)
        if len(rows) != 1:
            if len(rows) == 0:
                return None
            raise ValueError(
                f"de_minimis has {len(rows)} regimes for {territory} on {day} "
                f"({', '.join(r['regime'] for r in rows)}): effective periods must not overlap"
            )
        r = rows[0]
        prefixes = r.get("duty_exclusion_hs_prefixes")
        return Regime(
            territory=territory,
            code=str(r["regime"]),
            currency=str(r["threshold_currency"]),
            duty_threshold=_num(r["duty_threshold"]),
            vat_threshold=_num(r["vat_threshold"]),
            low_value_ceiling=_num(r["low_value_ceiling"]),
            flat_duty_per_item=_num(r["flat_duty_per_item"]),
            vat_collected_at_sale=bool(r["vat_collected_at_sale"]),
            excluded_origins=_codes(r["excluded_origins"]),
            courier_fta_duty_threshold=_num(r["courier_fta_duty_threshold"]),
            courier_fta_vat_threshold=_num(r["courier_fta_vat_threshold"]),
            courier_fta_origins=_codes(r["courier_fta_origins"]),
            duty_exclusion_hs_prefixes=tuple(sorted(_codes(prefixes))),
            formal_entry_threshold=_num(r.get("formal_entry_threshold")),
        )

    def vat_rate(self, country: str | None, day: date) -> float | None:
        """The standard VAT/GST rate of `country` on `day` (0 for a country with no VAT, e.g. US).

        None (unknown) when vat_rates has no row for the country on that day:
        a country it does not list, or a day before its first row.
        """
        if country is None:
            return None
        key = (country, day)
        if key not in self._vat_cache:
            self._vat_cache[key] = self._find_vat_rate(country, day)
        return self._vat_cache[key]

    def _find_vat_rate(self, country: str, day: date) -> float | None:
        rows = _in_force(self._vat.get(country, []), day)
        if not rows:
            return None
        if len(rows) != 1:
            raise ValueError(
                f"vat_rates has {len(rows)} rates for {country} on {day}: "
                "each day needs exactly one (check effective_from / effective_to)"
            )
        return float(rows[0]["standard_rate"])

    def fees(self, territory: str, day: date) -> list[Fee]:
        """The import fees of `territory` in force on `day` (default rows; alternatives are reference only)."""
        key = (territory, day)
        if key not in self._fee_cache:
            self._fee_cache[key] = self._find_fees(territory, day)
        return self._fee_cache[key]

    def _find_fees(self, territory: str, day: date) -> list[Fee]:
        rows = self._fees.get(territory)
        if rows is None:
            return []
        return [
            Fee(
                code=str(r["fee_code"]),
                kind=str(r["fee_kind"]),
                applies_when=str(r["applies_when"]),
                amount=_num(r["amount"]) or 0.0,
                currency=str(r["currency"]),
                rate=_num(r["rate"]) or 0.0,
                min_amount=_num(r["min_amount"]),
                max_amount=_num(r["max_amount"]),
                value_from=_num(r.get("value_from")),
                value_to=_num(r.get("value_to")),
            )
            for r in _in_force(rows, day)
            if str(r.get("applies_by_default", True)).lower() in ("true", "1")
        ]

    def units_per_eur(self, currency: str, day: date) -> float:
        """ECB rate of `day` (the daily FX model already carries the last rate over weekends); raises when there is none."""
        rate = self.find_units_per_eur(currency, day)
        if rate is None:
            if currency not in self._fx:
                raise ValueError(f"no FX rates for {currency} in intermediate.int_fx_daily: the ECB did not quote it")
            raise ValueError(f"no {currency} rate on or before {day}")
        return rate

    def find_units_per_eur(self, currency: str | None, day: date) -> float | None:
        """Like units_per_eur, None (unknown) for no currency or a currency and day the ECB has no rate for."""
        if currency is None:
            return None
        if currency == "EUR":
            return 1.0
        key = (currency, day)
        if key not in self._fx_cache:
            self._fx_cache[key] = self._find_rate(currency, day)
        return self._fx_cache[key]

    def _find_rate(self, currency: str, day: date) -> float | None:
        series = self._fx.get(currency)
        if series is None:
            return None
        try:
            return float(series.loc[day])
        except KeyError:
            earlier = series[series.index <= day]
            return None if earlier.empty else float(earlier.iloc[-1])
