"""The settings sections of `crossdock.yaml`: how a merchant's orders, catalogue, forecast, exceptions and
border paperwork are read, each with defaults a merchant without the section gets.

Kept apart from the network (`crossdock.merchant_config`: markets, nodes, routes and the loader that
checks them against each other): a section is checked on its own, and the planning code that reads one
(the forecast's cadence, the exceptions' thresholds, the compliance policy) needs nothing else of the file.
"""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crossdock.plan_labels import EXCEPTION_TYPES

SPINE_START = dt.date(1970, 1, 1)  # the first day of the planning calendar (int_planning_calendar)


class StrictSection(BaseModel):
    """A part of crossdock.yaml: an unknown key is an error (a typo must not fall back to a default), and it is
    read-only once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderSettings(StrictSection):
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


class CatalogueSettings(StrictSection):
    """What a supplier catalogue line may plausibly say for this merchant."""

    max_weight_kg: float | None = Field(
        default=None, gt=0, allow_inf_nan=False,
        description="Heaviest plausible weight_kg of one unit; left out, it is learned from the merchant's own "
        "catalogue lines (feeds/plausibility.py: 1,000 x their median, at least 1,000 kg).",
    )


class ForecastSettings(StrictSection):
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
    season_lift_max: float = Field(
        default=3.0, ge=1.0, le=10.0,
        description="The most a category's forecast is lifted towards last year's season where no backtest window "
        "held one like it (and 1 / it, the most it is lowered); 1 turns the lift off (ml/season_lift.py).",
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
    "moq_outlasts_demand": "supply planner",
    "overdue_purchase_order": "supply planner",
}


class ExceptionSettings(StrictSection):
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

    moq_cover_days: float = Field(
        default=365, gt=0,
        description="Days of a node's demand the smallest order its supplier accepts (the MOQ, or one pack) may cover; "
        "beyond them an order the plan places raises moq_outlasts_demand.",
    )
    po_overdue_days: int = Field(
        default=7, ge=1,
        description="Days past its expected arrival (the supplier's promise plus its usual lateness) at which an "
        "open purchase-order line raises overdue_purchase_order: until it is received or cancelled the plan counts "
        "it on order, arriving on the projection's first day.",
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


class ComplianceSettings(StrictSection):
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
