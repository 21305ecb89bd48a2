"""A run's inventory plan from the warehouse tables: the planning steps in the order they depend on each other.

The classes set the service levels, the plan's safety stock draws the
projection's line and prices the trade-off, and idle stock moves between nodes
before the plan buys. That order is planning knowledge, so it lives here and
not in the Dagster asset, which only reads `PlanSources`, calls `build_plan`,
writes `PlanOutputs` and reports; the composition is tested without Dagster.
The scenarios start from the same sources through `scenario_inputs`, so what
is planned (which SKUs, which nodes' stock is known) is decided once.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from crossdock.bulk_days import RegularSales
from planning.demand import SAMPLE_DAYS
from planning.inputs import PlanSources, set_aside_skus_without_terms
from planning.inventory_plan import build_inventory_plan, held_back_rows, without_held_back_demand
from planning.plan_outputs import PlanOutputs, plan_projection, plan_tradeoff
from planning.policy import PlanningPolicy
from planning.scenarios import PlanInputs
from planning.service_classes import WINDOW_DAYS as CLASS_WINDOW_DAYS
from planning.service_classes import ServiceLevelConfig, check_history, classify_series, node_targets
from planning.purchase_terms import with_purchase_terms
from planning.transfers import apply_transfers, customs_days, horizon_demand, node_pairs, recommend_transfers


def plannable(sources: PlanSources) -> tuple[PlanSources, tuple[str, ...]]:
    """The sources without the stock and open orders of SKUs there are no terms for, and those SKUs.

    Stock of a SKU with no cost to plan it with is set aside and named, not
    fatal to every other SKU's plan (`set_aside_skus_without_terms`).
    """
    position, not_planned = set_aside_skus_without_terms(sources.position, sources.skus, sources.lead_times)
    arrivals = sources.arrivals[~sources.arrivals["sku"].isin(not_planned)].reset_index(drop=True)
    return dataclasses.replace(sources, position=position, arrivals=arrivals), tuple(not_planned)


def stock_unknown_nodes(sources: PlanSources) -> frozenset[str]:
    """Nodes no inventory snapshot speaks for (no inventory feed yet): their stock is unknown, not zero."""
    nodes = set(sources.market_nodes["node"]) | set(sources.position["node"])
    return frozenset(nodes - set(sources.snapshot_nodes["node"]))


def move_customs_days(sources: PlanSources) -> pd.DataFrame:
    """Customs days per SKU x node pair (`planning.transfers.customs_days`) over every pair of nodes."""
    pairs = node_pairs(sources.nodes, sources.territories, sources.lanes)
    return customs_days(pairs, sources.sku_hs, sources.customs_risk)


def plan_regular_sales(sources: PlanSources) -> RegularSales:
    """The sales history's regular demand over the longest window a plan reads, capped once: the classes read
    its year, the simulated safety stock (of the plan, its trade-off and each scenario) its last 364 days."""
    check_history(sources.history)  # a bad row named as the classes name it, before capping meets it
    return RegularSales.of(sources.history, pd.Timestamp(sources.as_of), max(CLASS_WINDOW_DAYS, SAMPLE_DAYS))


def build_plan(
    sources: PlanSources, policy: PlanningPolicy, service_levels: ServiceLevelConfig, seed: int = 7,
    held_back_series: pd.DataFrame | None = None,
) -> PlanOutputs:
    """The run's five plan tables: classes, the plan with transfers applied, its projection and trade-off.

    Rows at nodes whose stock is unknown get targets but no projection: a
    projection from unknown stock would draw stock-outs nobody knows of. The
    SKU x node rows of `held_back_series` (sku, market: the series of markets
    the training-data gate held back, which the forecast left out) get no
    projection either, no idle stock to move and no idle verdict: part of
    their demand is unknown, not zero.
    """
    sources, not_planned = plannable(sources)
    as_of = sources.as_of
    forecast = sources.forecast.drop(columns=["as_of"])
    unknown_stock = stock_unknown_nodes(sources)
    regular = plan_regular_sales(sources)
    classes = classify_series(sources.history, as_of, service_levels, regular=regular)
    plan = build_inventory_plan(
        forecast=forecast,
        on_hand=sources.position[["sku", "node", "on_hand"]],
        open_orders=sources.position[["sku", "node", "on_order"]],
        lead_times=sources.lead_times,
        skus=sources.skus,
        market_nodes=sources.market_nodes,
        as_of=as_of,
        policy=policy,
        classes=node_targets(classes, sources.market_nodes),
        demand_history=regular,
        arrivals=sources.arrivals,
        seed=seed,
        stock_unknown_nodes=unknown_stock,
    )
    held_back = held_back_pairs(held_back_series, sources.market_nodes)
    if held_back:  # a held-back market's own rows, left by an earlier run of its partition, know nothing of today
        forecast_known = forecast[~forecast["market"].isin(set(held_back_series["market"]))]
        plan = without_held_back_demand(plan, held_back, forecast_pairs=sku_node_pairs(forecast_known, sources.market_nodes))
    transfers = recommend_transfers(
        plan, sources.lanes, sources.skus[["sku", "weight_kg"]], as_of, policy.order_cost_eur,
        policy.annual_carrying_rate, customs=move_customs_days(sources),
        horizon_demand=horizon_demand(forecast, sources.market_nodes, plan["node"], as_of,
                                      held_back=[] if held_back_series is None else held_back_series["market"]),
    )
    plan = with_purchase_terms(apply_transfers(plan, transfers, sources.skus), sources.skus)
    known = plan[~plan["node"].isin(unknown_stock) & ~held_back_rows(plan, held_back)]
    projection = plan_projection(known, forecast, sources.market_nodes, sources.arrivals, as_of)
    tradeoff = plan_tradeoff(
        plan, regular, sources.market_nodes, as_of, policy.review_period_days, policy.annual_carrying_rate, seed
    )
    return PlanOutputs(
        as_of=as_of,
        plan=plan,
        projection=projection.assign(as_of=pd.Timestamp(as_of)),
        tradeoff=tradeoff.assign(as_of=pd.Timestamp(as_of)),
        classes=classes.assign(as_of=pd.Timestamp(as_of)),
        transfers=transfers.assign(as_of=pd.Timestamp(as_of)),
        not_planned=not_planned,
        stock_unknown_nodes=unknown_stock,
        held_back_pairs=held_back,
    )


def held_back_pairs(series: pd.DataFrame | None, market_nodes: pd.DataFrame) -> frozenset[tuple[str, str]]:
    """The SKU x node rows whose demand a held-back series (sku, market) belongs to: at its market's node."""
    if series is None or series.empty:
        return frozenset()
    return sku_node_pairs(series, market_nodes)


def sku_node_pairs(series: pd.DataFrame, market_nodes: pd.DataFrame) -> frozenset[tuple[str, str]]:
    """The SKU x node rows that rows of series (sku, market) belong to: at each market's node."""
    rows = series[["sku", "market"]].drop_duplicates().merge(market_nodes, on="market").dropna(subset=["node"])
    return frozenset(zip(rows["sku"].astype(str), rows["node"].astype(str)))


def scenario_inputs(
    sources: PlanSources, alternatives: pd.DataFrame, classes: pd.DataFrame, policy: PlanningPolicy = PlanningPolicy(),
    held_back_series: pd.DataFrame | None = None, transfers: pd.DataFrame | None = None,
) -> PlanInputs:
    """The plan's inputs for the scenarios (`planning.scenarios`), from the same sources as the plan.

    `classes` are the SKU x market classes the plan was built with (its
    published service_classes), not a re-classification, so a scenario differs
    from the plan only by its disruption; `alternatives` are every catalogue
    offer per SKU (publish.supplier_risk). `transfers`, the plan's recommended
    transfers (sku, from_node, to_node, units, arrival_date), are made first
    (`with_transfers`): a buyer found the contingencies rerouting 186 units
    from a node whose 167 spare units the plan had already transferred.
    """
    sources, _ = plannable(sources)
    skus = sources.skus
    on_hand, open_orders, arrivals = with_transfers(
        sources.position[["sku", "node", "on_hand"]], sources.position[["sku", "node", "on_order"]], sources.arrivals,
        transfers,
    )
    return PlanInputs(
        forecast=sources.forecast.drop(columns=["as_of"]),
        on_hand=on_hand,
        open_orders=open_orders,
        lead_times=sources.lead_times,
        skus=skus.drop(columns="primary_supplier_id").drop(columns="order_terms_assumed", errors="ignore"),
        market_nodes=sources.market_nodes,
        as_of=sources.as_of,
        arrivals=arrivals,
        primary_supplier=skus[["sku", "primary_supplier_id"]].rename(columns={"primary_supplier_id": "supplier_id"}),
        alternatives=alternatives,
        policy=policy,
        classes=node_targets(classes, sources.market_nodes),
        demand_history=plan_regular_sales(sources),
        customs_days=move_customs_days(sources),
        stock_unknown_nodes=stock_unknown_nodes(sources),
        held_back_pairs=held_back_pairs(held_back_series, sources.market_nodes),
    )


def with_transfers(on_hand: pd.DataFrame, open_orders: pd.DataFrame, arrivals: pd.DataFrame,
                   transfers: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stock, open orders and arrivals once `transfers` (sku, from_node, to_node, units, arrival_date) are made: the
    units leave their source's on hand and are on order at their destination, arriving on their day (an arrival
    no supplier's outage touches). Neither side then counts them twice: not spare at the source, not short at the
    destination."""
    if transfers is None or transfers.empty:
        return on_hand, open_orders, arrivals
    moved = transfers[["sku", "from_node", "to_node", "units", "arrival_date"]]

    def shifted(frame: pd.DataFrame, column: str, by: pd.DataFrame) -> pd.DataFrame:
        delta = by.groupby(["sku", "node"])["units"].sum()
        out = frame.merge(delta.rename("_delta").reset_index(), on=["sku", "node"], how="outer")
        out[column] = pd.to_numeric(out[column]).fillna(0) + out["_delta"].fillna(0)
        return out.drop(columns="_delta").astype({column: "int64"})

    on_hand = shifted(on_hand, "on_hand", moved.rename(columns={"from_node": "node"}).assign(units=-moved["units"]))
    open_orders = shifted(open_orders, "on_order", moved.rename(columns={"to_node": "node"}))
    inbound = pd.DataFrame({"sku": moved["sku"], "node": moved["to_node"], "supplier_id": None,
                            "expected_arrival_date": pd.to_datetime(moved["arrival_date"]), "quantity": moved["units"]})
    inbound = inbound.reindex(columns=arrivals.columns).astype(arrivals.dtypes.to_dict(), errors="ignore")
    arrivals = pd.concat([arrivals, inbound], ignore_index=True) if len(arrivals) else inbound
    return on_hand, open_orders, arrivals
