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

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pycountry
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crossdock.merchant_limits import Plausibility
from crossdock.plan_labels import EXCEPTION_TYPES

CONFIG_FILE_NAME = "crossdock.yaml"
DEFAULT_CATCH_ALL_CODE = "ROW"
ISO_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
ISO_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
SPINE_START = dt.date(1970, 1, 1)  # the first day of the planning calendar (int_planning_calendar)


class ConfigError(ValueError):
    """The merchant config is missing or wrong; the message says where and what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Node(_Strict):
    """A place stock is held and shipped from: a warehouse, a 3PL, a store room."""

    code: str = Field(min_length=1, description="The node's code, as in the feeds' fulfilment_node / node columns.")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country the node is in (decides customs on its parcels).")
    description: str = ""


class Market(_Strict):
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


class CatchAllMarket(_Strict):
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


class Route(_Strict):
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


class Assumptions(_Strict):
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
    moq: int = Field(default=1, ge=1, description="Minimum order quantity when no catalogue gives one.")
    pack_size: int = Field(default=1, ge=1, description="Units per case when no catalogue gives one.")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.model_dump()]).astype(ASSUMPTION_COLUMNS)


class OrderSettings(_Strict):
    """How the orders feed is read for this merchant."""

    max_abs_quantity: int | None = Field(
        default=None, ge=1,
        description="Largest plausible |quantity| of an order line; left out, it is learned from the merchant's "
        "own lines (feeds/plausibility.py: 100,000 x their 99th percentile, at least 10,000).",
    )
    earliest_order_date: dt.date | None = Field(
        default=None, ge=SPINE_START,
        description="Order lines dated before this day are quarantined as implausible_date; left out, the limit is "
        "learned (feeds/plausibility.py): 1990-01-01, or the first order day after a gap of more than two years in "
        "the merchant's order days. Set it to load older history, or to hold back a stray old line the gap rule lets in.",
    )


class CatalogueSettings(_Strict):
    """What a supplier catalogue line may plausibly say for this merchant."""

    max_weight_kg: float | None = Field(
        default=None, gt=0, allow_inf_nan=False,
        description="Heaviest plausible weight_kg of one unit; left out, it is learned from the merchant's own "
        "catalogue lines (feeds/plausibility.py: 1,000 x their median, at least 1,000 kg).",
    )


class ForecastSettings(_Strict):
    """How often the forecast's backtest (its proof against seasonal naive) is run again, and its model trained again.

    The backtest costs minutes and a day of new data rarely changes what it
    proved, so a run reuses the last one until it is `backtest_every_days`
    planning days old, or sooner when the model, the markets or the number
    of active series (by more than `backtest_series_change_share`) change
    (ml/backtest_cadence.py; docs/configuration.md). The daily forecast
    predicts with its last trained model until that is `retrain_every_days`
    planning days old, or sooner when its settings or the markets and
    categories it knows change (ml/retrain_cadence.py).
    """

    backtest_every_days: int = Field(
        default=7, ge=1, le=366,
        description="Planning days a backtest holds before it is run again; 1 runs it on every new day.",
    )
    backtest_windows: int = Field(
        default=4, ge=1, le=12,
        description="Rolling-origin windows of the planning horizon the backtest scores; fewer is cheaper and "
        "proves less (1 is enough for a first look or a test).",
    )
    backtest_series_change_share: float = Field(
        default=0.2, gt=0, le=10,
        description="Run the backtest again when the active series count moves by more than this share "
        "(0.2 = 20%) from the one it was proven on.",
    )
    retrain_every_days: int = Field(
        default=7, ge=1, le=366,
        description="Planning days the forecast's trained model is reused (predicting from each new day's "
        "features) before it is trained again; 1 trains it on every new day (ml/retrain_cadence.py).",
    )


DEFAULT_EXCEPTION_OWNERS: dict[str, str] = {
    "market_held_back": "demand planner",
    "expedite": "supply planner",
    "below_safety_stock": "supply planner",
    "excess": "supply planner",
    "forecast_bias": "demand planner",
    "stopped_selling": "demand planner",
    "unlike_last_year": "demand planner",
    "negative_fva": "demand planner",
    "landed_cost_jump": "compliance",
}


class ExceptionSettings(_Strict):
    """Who owns each type of the plan's exceptions until someone takes one, and where the rules draw the line.

    An owner is a role, not a person: the exception lands on that desk and
    whoever picks it up writes their name in an update (landing/exceptions/).
    """

    owners: dict[str, str] = Field(
        default_factory=dict,
        description="Default owner per exception type; a type left out keeps its default (DEFAULT_EXCEPTION_OWNERS).",
    )
    forecast_bias_share: float = Field(
        default=0.3, gt=0, le=10,
        description="|forecast - sold| / sold over the backtest's latest window above which a SKU x market is biased.",
    )
    forecast_bias_min_units: float = Field(
        default=20, ge=0,
        description="Units a SKU x market must have sold in that window to be judged: a 1-unit series is noise.",
    )
    last_year_factor: float = Field(
        default=2.0, gt=1, le=100,
        description="A SKU x market whose plan for the horizon is under 1/factor, or over factor times, what the same "
        "weeks sold last year (grown by its market's like-for-like growth) raises unlike_last_year.",
    )
    last_year_min_units: float = Field(
        default=28, ge=0,
        description="Units the plan, or last year's weeks grown by the market, must reach for a SKU x market to be "
        "judged against last year.",
    )
    fva_min_days: int = Field(
        default=7, ge=1,
        description="Days of a cycle's horizon with actuals before its forecast value added can raise negative_fva: "
        "value added is measured on weekly WAPE, and one day of sales is noise.",
    )
    fva_min_units: float = Field(
        default=20, ge=0,
        description="Units a scope (author, reason code, market, category) must have sold on those days to be judged.",
    )
    landed_cost_rise_share: float = Field(
        default=0.1, gt=0, le=10,
        description="Rise of the landed cost per unit over the previous published plan (0.1 = 10%) that, with a "
        "duty, VAT or de minimis change, raises a landed_cost_jump.",
    )

    @field_validator("owners")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(EXCEPTION_TYPES))
        if unknown:
            raise ValueError(f"unknown exception type(s) {unknown}: the types are {', '.join(EXCEPTION_TYPES)}")
        blank = sorted(k for k, v in value.items() if not str(v).strip())
        if blank:
            raise ValueError(f"empty owner for {blank}: name a role or a person, or leave the type out")
        return {k: str(v).strip() for k, v in value.items()}

    def owner(self, exception_type: str) -> str:
        """The default owner of `exception_type`: the file's, else the built-in role."""
        return self.owners.get(exception_type) or DEFAULT_EXCEPTION_OWNERS[exception_type]


INCOTERMS = ("DDP", "DAP")
REGISTRATION_SCHEMES = ("IOSS", "GB_VAT", "VOEC", "AU_GST", "CH_VAT")  # compliance/documents.py REGISTRATION_ACTION


class ComplianceSettings(_Strict):
    """How the merchant ships and what it holds at the borders: what the compliance plan prices parcels under.

    Without it every merchant was priced DDP with no IOSS and no origin proof on file, and only a Dagster run
    config could say otherwise (a trade analyst's test)."""

    default_incoterm: str = Field(default="DDP", description="DDP (the seller pays duty and tax) or DAP (the shopper "
                                  "pays at the door), for every market not under incoterms.")
    incoterms: dict[str, str] = Field(default_factory=dict, description="Incoterm per market code, e.g. {CA: DAP}.")
    registrations: tuple[str, ...] = Field(default=(), description="Schemes held beyond those a node's country "
                                           "gives: " + ", ".join(REGISTRATION_SCHEMES) + ".")
    claimed_agreements: tuple[str, ...] = Field(default=(), description="Trade agreements whose origin proof is on "
                                                "file, named as publish.compliance_plan.preferential_agreement names them.")

    @field_validator("default_incoterm")
    @classmethod
    def _default_term(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in INCOTERMS:
            raise ValueError(f"{value!r} is not an incoterm crossdock prices: use {' or '.join(INCOTERMS)}")
        return value

    @field_validator("incoterms")
    @classmethod
    def _terms(cls, value: dict[str, str]) -> dict[str, str]:
        terms = {str(market).strip().upper(): str(term).strip().upper() for market, term in value.items()}
        wrong = sorted(f"{market}: {term}" for market, term in terms.items() if term not in INCOTERMS)
        if wrong:
            raise ValueError(f"incoterms must be {' or '.join(INCOTERMS)}; not {', '.join(wrong)}")
        return terms

    @field_validator("registrations")
    @classmethod
    def _schemes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        schemes = tuple(str(v).strip().upper() for v in value)
        unknown = sorted(set(schemes) - set(REGISTRATION_SCHEMES))
        if unknown:
            raise ValueError(f"unknown registration {', '.join(unknown)}: crossdock knows {', '.join(REGISTRATION_SCHEMES)}")
        return schemes


class MerchantConfig(_Strict):
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
