"""Words of the published plan that more than one package reads.

The planning writes them (`planning.actions`, `planning.scenario_impact`,
`planning.scenario_contingencies`) and the dashboard and `crossdock summary`
filter on them; the domains may not import each other, and the command line
should not load the planning (scipy, ~1.2 s) to print a summary, so the
words live here, once.
"""
from __future__ import annotations

FALLBACK_VERSION_PREFIX = "baseline-"
"""How publish.demand_forecast.model_version starts when the forecast is a baseline's, published in the model's
place because the model lost its backtest or none could run (ml/fallback_forecast.py): baseline-<name>-<as_of>."""


def is_fallback_version(model_version: object) -> bool:
    """Is `model_version` a baseline's forecast published in the model's place (`FALLBACK_VERSION_PREFIX`)?"""
    return isinstance(model_version, str) and model_version.startswith(FALLBACK_VERSION_PREFIX)


def fallback_baseline(model_version: object) -> str | None:
    """The baseline a fallback `model_version` names (its publish.forecast_backtest column), None for a model's."""
    if not is_fallback_version(model_version):
        return None
    return str(model_version).removeprefix(FALLBACK_VERSION_PREFIX).rsplit("-", 1)[0]


DEMAND_FROM_FORECAST = "forecast"
"""publish.inventory_plan.demand_basis of a row whose demand the forecast knows whole (planning/inventory_plan.py
names the others: a market the training-data gate held back sells the SKU there); a rule that judges a row by its
demand (sop/stock_exceptions.py) judges only these."""

MAX_COVER_DAYS = 3650
"""The most days of cover the plan publishes (publish.inventory_plan.days_of_cover): ten years says "beyond any
planning horizon". A slow mover's on hand over a forecast mean of 4e-7 units a day read 84 million days, a figure
no buyer can use and a BI chart's axis cannot hold."""

EXPEDITE = "expedite or transfer"
"""The verdict of a plan row whose projected stock runs out before a purchase placed today could land."""

EXCESS = "excess"
"""The verdict of a plan row with more on hand than the policy's order-up-to level (and cover beyond its limit)."""

AS_PLANNED = "as planned: stock-out before a purchase can land"
"""The `scenario` of publish.scenario_impact's rows that price the fix of the plan's own EXPEDITE rows."""

NONE_FEASIBLE = "none feasible"
"""The contingency of a publish.scenario_impact row when no option lands in time with the whole shortfall."""

EXCEPTION_TYPES: tuple[str, ...] = (
    "market_held_back", "expedite", "below_safety_stock", "excess", "forecast_bias", "stopped_selling",
    "unlike_last_year", "negative_fva", "landed_cost_jump", "moq_outlasts_demand", "overdue_purchase_order",
)
"""The types of publish.exceptions (sop/exceptions.py), in the order they are listed; `crossdock exceptions`
offers them without loading the merchant config."""

EXCEPTION_STATUSES: tuple[str, ...] = ("open", "acknowledged", "in_progress", "resolved", "dismissed")
"""The statuses an owner gives an exception (the exceptions feed, feeds.contracts.EXCEPTION_UPDATES); the
dashboard's form offers them, and resolved or dismissed takes an exception off the open list."""

CLOSED_STATUSES: tuple[str, ...] = ("resolved", "dismissed")
"""The statuses that take an exception off the open list (sop/exception_status.py; the dashboard's filters)."""

MONTHLY_VERSIONS: tuple[str, ...] = ("plan", "last plan", "actual")
"""The versions of publish.sop_monthly (sop/monthly_view.py), in the order a month's rows read."""
