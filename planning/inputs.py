"""Column contracts and checks for the inventory plan's input frames.

The plan joins six frames; a missing column, a duplicated key or a SKU with no
cost would otherwise surface as silently dropped rows or NaN quantities. Each
check raises ValueError that names the frame and the offending keys.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.frames import require_columns  # planning's modules import it from here, beside the column lists

FORECAST_COLUMNS: tuple[str, ...] = ("sku", "market", "forecast_date", "p10", "p50", "p90", "mean")
"""Daily forecast per sku × market: p10/p50/p90 quantiles and `mean`, the
expected units/day. `mean` is what the plan sums (d̄); p10/p90 give σ."""
ON_HAND_COLUMNS: tuple[str, ...] = ("sku", "node", "on_hand")
OPEN_ORDERS_COLUMNS: tuple[str, ...] = ("sku", "node", "on_order")
LEAD_TIME_COLUMNS: tuple[str, ...] = (
    "sku",
    "n_receipts",
    "lead_time_mean_days",
    "lead_time_std_days",
    "quoted_lead_time_days",
)
SKU_COLUMNS: tuple[str, ...] = ("sku", "category", "unit_cost_eur", "moq", "pack_size")
MARKET_NODE_COLUMNS: tuple[str, ...] = ("market", "node")

# Customs delay on node-to-node moves (planning.transfers.customs_days).
NODE_COLUMNS: tuple[str, ...] = ("node_code", "country")
"""reference.nodes: each node's country."""
TERRITORY_COLUMNS: tuple[str, ...] = ("alpha_2", "customs_territory")
"""reference.countries: the customs territory of each country (EU members share 'EU')."""
NODE_PAIR_COLUMNS: tuple[str, ...] = ("from_node", "to_node", "from_country", "to_country", "crosses_customs_border")
SKU_HS_COLUMNS: tuple[str, ...] = ("sku", "hs_code")
CUSTOMS_RISK_COLUMNS: tuple[str, ...] = (
    "origin_node",
    "origin_country",
    "destination_country",
    "hs_chapter",
    "conservative_added_days",
    "lane_conservative_added_days",
)
"""publish.customs_risk: per customs lane x HS chapter, the days (float) to plan for."""
CUSTOMS_DAYS_COLUMNS: tuple[str, ...] = ("sku", "from_node", "to_node", "customs_days", "customs_basis")
"""Per SKU x node pair: customs days (float, >= 0) a move adds, and which figure they came from."""

# Attributes the maths cannot do without (category is descriptive only).
REQUIRED_SKU_ATTRIBUTES: tuple[str, ...] = ("unit_cost_eur", "moq", "pack_size")

_MAX_NAMED = 20  # keep error messages readable when a whole feed is wrong


def _names(values: Iterable[object]) -> str:
    vals = sorted({str(v) for v in values})
    shown = ", ".join(vals[:_MAX_NAMED])
    more = f" (+{len(vals) - _MAX_NAMED} more)" if len(vals) > _MAX_NAMED else ""
    return f"[{shown}]{more}"


def require_unique(df: pd.DataFrame, key: Sequence[str], frame: str) -> None:
    """Raise if `key` is not unique in `df`, naming the duplicated keys."""
    dup = df.duplicated(list(key), keep=False)
    if dup.any():
        keys = df.loc[dup, list(key)].astype(str).agg("/".join, axis=1)
        raise ValueError(f"`{frame}` has duplicate rows for key {list(key)}: {_names(keys)}")


def require_non_null(df: pd.DataFrame, columns: Sequence[str], frame: str, key: str = "sku") -> None:
    """Raise if any of `columns` is null, naming the rows' `key` values."""
    for col in columns:
        bad = df[col].isna()
        if bad.any():
            raise ValueError(f"`{frame}`.{col} is null for {key}s {_names(df.loc[bad, key])}")


def require_whole_non_negative(df: pd.DataFrame, column: str, frame: str) -> None:
    """Raise if a unit count column holds negative or fractional values."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~(values >= 0) | (np.floor(values) != values)
    if bad.any():
        raise ValueError(
            f"`{frame}`.{column} must be whole, non-negative units; bad for skus {_names(df.loc[bad, 'sku'])}"
        )


MISSING_MEAN_MESSAGE = (
    "`forecast` has no `mean` column: the forecast must carry `mean` (expected units per day, "
    "the Tweedie model in ml.forecast; a forecast made elsewhere must provide it too). The plan sums "
    "`mean` for lead-time demand, days of cover and order quantities; p50 is the median, which for "
    "intermittent, skewed demand sits well below the mean (summed p50 is 40-45% below actual "
    "demand in the demo's backtests), so it cannot stand in."
)


def validate_forecast(forecast: pd.DataFrame) -> None:
    """Forecast contract: FORECAST_COLUMNS, unique sku × market × date, quantities present and >= 0.

    A missing `mean` gets its own message (see MISSING_MEAN_MESSAGE) rather
    than a fallback to p50: planning on the median would silently under-order.
    `mean` must be finite and >= 0; p50 must be >= 0.
    """
    if "mean" not in forecast.columns:
        raise ValueError(MISSING_MEAN_MESSAGE)
    require_columns(forecast, FORECAST_COLUMNS, "forecast")
    require_unique(forecast, ["sku", "market", "forecast_date"], "forecast")
    require_non_null(forecast, FORECAST_COLUMNS, "forecast")
    if (pd.to_numeric(forecast["p50"]) < 0).any():
        raise ValueError(f"`forecast`.p50 is negative for skus {_names(forecast.loc[forecast['p50'] < 0, 'sku'])}")
    mean = pd.to_numeric(forecast["mean"]).to_numpy(dtype=float)
    bad = ~(np.isfinite(mean) & (mean >= 0))
    if bad.any():
        raise ValueError(
            f"`forecast`.mean (expected units/day) must be finite and >= 0; bad for skus {_names(forecast.loc[bad, 'sku'])}"
        )


def validate_inputs(
    forecast: pd.DataFrame,
    on_hand: pd.DataFrame,
    open_orders: pd.DataFrame,
    lead_times: pd.DataFrame,
    skus: pd.DataFrame,
    market_nodes: pd.DataFrame,
) -> None:
    """Structural checks on all inputs: columns, unique keys, no null quantities."""
    validate_forecast(forecast)
    require_columns(on_hand, ON_HAND_COLUMNS, "on_hand")
    require_columns(open_orders, OPEN_ORDERS_COLUMNS, "open_orders")
    require_columns(lead_times, LEAD_TIME_COLUMNS, "lead_times")
    require_columns(skus, SKU_COLUMNS, "skus")
    require_columns(market_nodes, MARKET_NODE_COLUMNS, "market_nodes")

    require_unique(on_hand, ["sku", "node"], "on_hand")
    require_unique(lead_times, ["sku"], "lead_times")
    require_unique(skus, ["sku"], "skus")

    require_non_null(on_hand, ["sku", "node"], "on_hand")
    require_non_null(open_orders, ["sku", "node"], "open_orders")
    require_whole_non_negative(on_hand, "on_hand", "on_hand")
    require_whole_non_negative(open_orders, "on_order", "open_orders")


def set_aside_skus_without_terms(
    position: pd.DataFrame, skus: pd.DataFrame, lead_times: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """The stock rows of SKUs the plan has terms for, and the SKUs left out.

    A SKU held in stock or on order that no catalogue describes and nobody
    has bought has no cost to assume (marts.dim_sku assumes one from a selling
    price), so it cannot be planned; nor can one whose catalogue cost is 0 or
    has no EUR rate, if it never sold. One such stock-count line must not stop
    every other SKU's plan: its rows are set aside and the SKUs named, for the
    run's log, metadata and summary to say. A SKU with demand but no terms
    still fails `validate_sku_coverage`, since dim_sku covers every SKU sold.
    """
    costed = skus.loc[pd.to_numeric(skus["unit_cost_eur"]).gt(0), "sku"]
    known = set(costed) & set(lead_times["sku"])
    held = position["sku"].isin(known)
    return position.loc[held].reset_index(drop=True), sorted(str(s) for s in position.loc[~held, "sku"].unique())


def validate_sku_coverage(needed: Iterable[object], skus: pd.DataFrame, lead_times: pd.DataFrame) -> None:
    """Every SKU in the plan must have its attributes and a lead-time row.

    Raises ValueError naming the SKUs missing from `skus`, the SKUs with null
    or impossible attributes, and the SKUs missing from `lead_times`, so a gap
    in the catalogue stops the plan instead of dropping those lines.
    """
    needed = set(needed)
    missing = needed - set(skus["sku"])
    if missing:
        raise ValueError(f"SKUs missing from `skus` (no unit cost, MOQ or pack size): {_names(missing)}")
    attrs = skus[skus["sku"].isin(needed)]
    require_non_null(attrs, REQUIRED_SKU_ATTRIBUTES, "skus")
    checks = {
        "unit_cost_eur must be > 0": ~(pd.to_numeric(attrs["unit_cost_eur"]) > 0),
        "moq must be >= 0": ~(pd.to_numeric(attrs["moq"]) >= 0),
        "pack_size must be >= 1": ~(pd.to_numeric(attrs["pack_size"]) >= 1),
    }
    for rule, bad in checks.items():
        if bad.any():
            raise ValueError(f"`skus`: {rule}; violated by {_names(attrs.loc[bad, 'sku'])}")
    missing_lt = needed - set(lead_times["sku"])
    if missing_lt:
        raise ValueError(f"SKUs missing from `lead_times` (no lead time to plan with): {_names(missing_lt)}")


@dataclass(frozen=True)
class PlanSources:
    """The warehouse tables a run's plan and its scenarios start from, one frame per table, as read.

    Kept as read (no SKU set aside, no column dropped) so that the one place
    that decides what is planned is `planning.run`, for the plan and for its
    scenarios alike, and a test can build one from small frames.

    Attributes:
        forecast: FORECAST_COLUMNS plus `as_of` (the forecast origin, the plan date).
        position: sku, node, on_hand, on_order (intermediate.int_stock_position).
        lead_times: LEAD_TIME_COLUMNS plus lead_time_basis.
        snapshot_nodes: node: the nodes an inventory snapshot speaks for.
        skus: SKU_COLUMNS plus cost_basis, weight_kg, primary_supplier_id (marts.dim_sku).
        market_nodes: MARKET_NODE_COLUMNS.
        history: sku, market, category, demand_date, units_sold, units_returned, revenue_eur.
        arrivals: open PO lines: sku, node, supplier_id, expected_arrival_date, quantity.
        lanes: reference.node_transfer_lanes.
        nodes: NODE_COLUMNS.
        territories: TERRITORY_COLUMNS.
        sku_hs: SKU_HS_COLUMNS.
        customs_risk: CUSTOMS_RISK_COLUMNS.
    """

    forecast: pd.DataFrame
    position: pd.DataFrame
    lead_times: pd.DataFrame
    snapshot_nodes: pd.DataFrame
    skus: pd.DataFrame
    market_nodes: pd.DataFrame
    history: pd.DataFrame
    arrivals: pd.DataFrame
    lanes: pd.DataFrame
    nodes: pd.DataFrame
    territories: pd.DataFrame
    sku_hs: pd.DataFrame
    customs_risk: pd.DataFrame

    @property
    def as_of(self) -> dt.date:
        """The plan date: the forecast's origin."""
        origin = pd.Timestamp(self.forecast["as_of"].max())
        if pd.isna(origin):  # read before this run's consensus was staged: the plan has nothing to start from
            raise ValueError(
                "no consensus demand plan for the latest forecast: plan_next.demand_plan has no rows of the date "
                "plan_next.demand_forecast was made for. Materialize publish.demand_plan after the forecast, then "
                "the plans (a refresh that started the plans before the demand plan finished meets this; the next "
                "one plans)"
            )
        return origin.date()
