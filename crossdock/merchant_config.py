"""The merchant's network: markets, nodes and routes, read from `crossdock.yaml`.

What differs between merchants (which countries they sell to, in which
currency, from which warehouse) is configuration, never code: this module only
knows how to read and check such a file. The demo ships its own
(`demo/crossdock.yaml`); a new merchant gets a proposal from `crossdock init`
(`crossdock.onboarding`) and edits it. The file's path comes from
`CROSSDOCK_CONFIG` (see `crossdock.settings`).

The checks use pydantic (already pulled in by Dagster) so every mistake is
reported with its place in the file, and cross-checks (a market served by a
node that is not declared) name the values to fix.
"""
from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pycountry
import yaml
from pydantic import AfterValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from crossdock.merchant_limits import Plausibility
from crossdock.merchant_settings import (
    CatalogueSettings, ComplianceSettings, ExceptionSettings, ForecastSettings, OrderSettings, StrictSection,
)

CONFIG_FILE_NAME = "crossdock.yaml"
DEFAULT_CATCH_ALL_CODE = "ROW"
ISO_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
ISO_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


class ConfigError(ValueError):
    """The merchant config is missing or wrong; the message says where and what to fix."""


def _country(value: str) -> str:
    code = str(value).strip().upper()
    if code not in ISO_COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _currency(value: str) -> str:
    code = str(value).strip().upper()
    if code not in ISO_CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from error
    return str(value)


CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
TimeZone = Annotated[str, AfterValidator(_timezone)]


class Node(StrictSection):
    """A place stock is held and shipped from: a warehouse, a 3PL, a store room."""

    code: str = Field(min_length=1, description="The node's code, as in the feeds' fulfilment_node / node columns.")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country the node is in (decides customs on its parcels).")
    description: str = ""


class Market(StrictSection):
    """A destination country crossdock forecasts and plans for on its own."""

    code: CountryCode = Field(description="ISO 3166-1 alpha-2 code of the ship-to country.")
    currency: CurrencyCode = Field(description="ISO 4217 code of the prices shoppers there see.")
    timezone: TimeZone = Field(description="IANA time zone the storefront reports this market's orders in.")
    node: str = Field(description="Node that ships to this market.")
    region: str | None = Field(default=None, description="Planning region, free text (e.g. Europe).")
    holiday_subdivision: str | None = Field(
        default=None, description="`holidays` subdivision whose public holidays the market follows (e.g. ON, ENG)."
    )
    southern_hemisphere: bool = Field(default=False, description="Seasons are flipped (weather-driven demand).")


class CatchAllMarket(StrictSection):
    """One market for the long tail: every ship-to country not declared under `markets`.

    Its orders are forecast and stocked together at `node`; the compliance plan
    cannot price one border for many countries and says so (unknown).
    """

    code: str = Field(default=DEFAULT_CATCH_ALL_CODE, min_length=2, description="Market code for the long tail.")
    node: str = Field(description="Node that ships the long tail.")
    currency: CurrencyCode | None = Field(default=None, description="Currency most long-tail prices are in, if one.")
    timezone: TimeZone = Field(default="UTC", description="IANA time zone of the long tail's order days.")
    region: str | None = None

    @field_validator("code")
    @classmethod
    def _not_a_country(cls, value: str) -> str:
        code = value.strip().upper()
        if code in ISO_COUNTRIES:
            raise ValueError(f"{value!r} is a country code; the catch-all market needs a code of its own, e.g. ROW")
        return code


class Route(StrictSection):
    """A lane stock can be moved on between two nodes (transfers, contingencies)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_node: str = Field(alias="from")
    to_node: str = Field(alias="to")
    mode: str = Field(description="Transport mode, free text (road_ferry, ocean_lcl, air, ...).")
    transit_days: int = Field(gt=0)
    cost_eur_per_kg: float = Field(ge=0)
    fixed_cost_eur: float = Field(default=0.0, ge=0)
    crosses_customs_border: bool | None = Field(
        default=None, description="Leave out to derive it from the nodes' customs territories."
    )


class Assumptions(StrictSection):
    """What crossdock assumes where a feed is missing. Each figure is used only
    for what no feed says, and every table that uses one marks its rows."""

    lead_time_days: int = Field(
        default=30, ge=1, le=365,
        description="Supplier lead time (order to receipt) for SKUs no catalogue or purchase order describes.",
    )
    unit_cost_share_of_price: float = Field(
        default=0.5, gt=0, le=1,
        description="Unit cost as a share of the SKU's median selling price (EUR) when no catalogue gives its cost.",
    )
    moq: int = Field(default=1, ge=1, description="Minimum order quantity when no catalogue line gives one.")
    pack_size: int = Field(default=1, ge=1, description="Units per case when no catalogue line gives one.")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.model_dump()]).astype(ASSUMPTION_COLUMNS)


class MerchantConfig(StrictSection):
    """The whole file. `markets` and `nodes` are required; the rest is optional."""

    merchant: str | None = Field(default=None, description="The merchant's name, shown in the summary.")
    nodes: tuple[Node, ...] = Field(min_length=1)
    markets: tuple[Market, ...] = Field(default=())
    catch_all: CatchAllMarket | None = None
    routes: tuple[Route, ...] = ()
    assumptions: Assumptions = Assumptions()
    orders: OrderSettings = OrderSettings()
    catalogue: CatalogueSettings = CatalogueSettings()
    forecast: ForecastSettings = ForecastSettings()
    exceptions: ExceptionSettings = ExceptionSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    # the training-data gate's thresholds by name (expectations.thresholds.GateThresholds, which checks
    # names and ranges when the merchant_network asset writes config.gates); absent = the defaults
    gates: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> MerchantConfig:
        problems: list[str] = []
        for label, codes in (("node", [n.code for n in self.nodes]), ("market", [m.code for m in self.markets])):
            repeated = sorted({c for c in codes if codes.count(c) > 1})
            if repeated:
                problems.append(f"{label} declared more than once: {', '.join(repeated)}")
        if not self.markets and self.catch_all is None:
            problems.append("no markets: declare at least one market or a catch_all market")
        known = {n.code for n in self.nodes}
        for market in self.markets:
            if market.node not in known:
                problems.append(f"market {market.code} is served by node {market.node!r}, which is not under nodes")
        if self.catch_all is not None and self.catch_all.node not in known:
            problems.append(f"catch_all is served by node {self.catch_all.node!r}, which is not under nodes")
        for route in self.routes:
            for end in (route.from_node, route.to_node):
                if end not in known:
                    problems.append(f"route {route.from_node} -> {route.to_node} names node {end!r}, which is not under nodes")
            if route.from_node == route.to_node:
                problems.append(f"route {route.from_node} -> {route.to_node} goes nowhere")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def plausibility(self) -> Plausibility:
        """What the ingest may accept for this merchant: the orders' and catalogue's limits and the declared nodes."""
        return Plausibility(
            max_abs_quantity=self.orders.max_abs_quantity,
            earliest_order_date=self.orders.earliest_order_date,
            nodes=frozenset(n.code for n in self.nodes),
            max_weight_kg=self.catalogue.max_weight_kg,
        )

    @property
    def market_codes(self) -> list[str]:
        """Every market crossdock plans, the catch-all last."""
        return [m.code for m in self.markets] + ([self.catch_all.code] if self.catch_all else [])

    def market_for_country(self, country: str) -> str | None:
        """The market a ship-to country's orders belong to, or None when the config does not cover it."""
        if any(m.code == country for m in self.markets):
            return country
        return self.catch_all.code if self.catch_all else None

    def markets_frame(self) -> pd.DataFrame:
        """One row per market (catch-all included) in the warehouse's `config.markets` layout."""
        rows = [
            {
                "market_code": m.code,
                "currency": m.currency,
                "timezone": m.timezone,
                "fulfilment_node": m.node,
                "region": m.region,
                "holiday_subdivision": m.holiday_subdivision,
                "southern_hemisphere": m.southern_hemisphere,
                "is_catch_all": False,
            }
            for m in self.markets
        ]
        if self.catch_all:
            c = self.catch_all
            rows.append(
                {
                    "market_code": c.code,
                    "currency": c.currency,
                    "timezone": c.timezone,
                    "fulfilment_node": c.node,
                    "region": c.region,
                    "holiday_subdivision": None,
                    "southern_hemisphere": False,
                    "is_catch_all": True,
                }
            )
        return pd.DataFrame(rows, columns=list(MARKET_COLUMNS)).astype(MARKET_COLUMNS)

    def nodes_frame(self) -> pd.DataFrame:
        rows = [{"node_code": n.code, "country": n.country, "description": n.description} for n in self.nodes]
        return pd.DataFrame(rows, columns=list(NODE_COLUMNS)).astype(NODE_COLUMNS)

    def routes_frame(self) -> pd.DataFrame:
        rows = [
            {
                "from_node": r.from_node,
                "to_node": r.to_node,
                "mode": r.mode,
                "cost_eur_per_kg": r.cost_eur_per_kg,
                "fixed_cost_eur": r.fixed_cost_eur,
                "transit_days": r.transit_days,
                "crosses_customs_border": r.crosses_customs_border,
            }
            for r in self.routes
        ]
        return pd.DataFrame(rows, columns=list(ROUTE_COLUMNS)).astype(ROUTE_COLUMNS)


# pandas dtypes of the three config tables (nullable where the file may leave a value out)
MARKET_COLUMNS: dict[str, str] = {
    "market_code": "string",
    "currency": "string",
    "timezone": "string",
    "fulfilment_node": "string",
    "region": "string",
    "holiday_subdivision": "string",
    "southern_hemisphere": "boolean",
    "is_catch_all": "boolean",
}
ASSUMPTION_COLUMNS: dict[str, str] = {
    "lead_time_days": "int64",
    "unit_cost_share_of_price": "float64",
    "moq": "int64",
    "pack_size": "int64",
}
NODE_COLUMNS: dict[str, str] = {"node_code": "string", "country": "string", "description": "string"}
ROUTE_COLUMNS: dict[str, str] = {
    "from_node": "string",
    "to_node": "string",
    "mode": "string",
    "cost_eur_per_kg": "float64",
    "fixed_cost_eur": "float64",
    "transit_days": "int64",
    "crosses_customs_border": "boolean",
}


def _where(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def parse_config(data: Any, source: str = CONFIG_FILE_NAME) -> MerchantConfig:
    """Check a loaded YAML document; ConfigError lists every problem with its place in the file."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with nodes and markets, got {type(data).__name__}")
    try:
        return MerchantConfig.model_validate(data)
    except ValidationError as error:
        lines = [f"  {_where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}{_yaml_boolean_hint(e)}"
                 for e in error.errors()]
        raise ConfigError(f"{source} has {len(lines)} problem(s):\n" + "\n".join(lines)) from None


def _yaml_boolean_hint(error: dict) -> str:
    """Norway's code NO, or Ontario's ON, left unquoted is a boolean to YAML: say so where text was expected."""
    if error.get("type") == "string_type" and isinstance(error.get("input"), bool):
        return (f" (YAML reads an unquoted yes, no, on or off, in any case, as {str(error['input']).lower()}: "
                'put the value in quotes, e.g. "NO" for Norway, "ON" for Ontario)')
    return ""


def load_config(path: Path) -> MerchantConfig:
    """Read and check the merchant config at `path`."""
    if not path.is_file():
        raise ConfigError(
            f"no merchant config at {path}: run `crossdock init` to propose one from the orders you have landed "
            f"(or set CROSSDOCK_CONFIG to your file; the demo's is demo/{CONFIG_FILE_NAME})"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    return parse_config(data, str(path))
