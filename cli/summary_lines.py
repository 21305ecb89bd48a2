"""The summary's words: `format_summary` turns `cli.summary.collect_summary`'s figures into the lines a planner
reads after a run. A figure the warehouse could not give prints as "n/a"; nothing here reads the warehouse, but
the model folders (a model's age) and crossdock.yaml (its retrain cadence) the settings name.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

from crossdock.plan_labels import AS_PLANNED, NONE_FEASIBLE, is_fallback_version
from crossdock.publish import PublishedPlan, UnpublishedStaging
from crossdock.settings import MARKET_MODELS_FOLDER, Settings, pii_salt_warning
from crossdock.spark import spark_home
from crossdock.wording import counted
from ml.fallback_forecast import KEPT_MODEL
from planning.lead_time import MIN_RECEIPTS
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS, DROPPED_SHARE_WARNING, DROPPED_WINDOW_DAYS

NA = "n/a"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ratio(value, base) -> float | None:
    """value / base, or None when either is unknown or base is 0."""
    return None if _missing(value) or _missing(base) or not base else value / base


def fmt(value, spec: str = ",.0f") -> str:
    """`value` formatted with `spec`, or "n/a" when it is unknown (None or NaN)."""
    return NA if _missing(value) else format(value, spec)


def format_summary(settings: Settings, s: dict) -> str:
    """The summary's text from `collect_summary`'s figures."""
    where = f"on Spark, {spark_home()}" if s.get("engine") == "spark" else settings.warehouse
    lines = ["", "=== crossdock summary ===", f"warehouse: {where}  (schema publish.* is the BI contract)"]
    salt_warning = pii_salt_warning(settings.config)
    if salt_warning:
        lines.append(f"WARNING: {salt_warning}")
    if "ingest" in s:
        files, received, loaded, quarantined, rejected, duplicate = s["ingest"]
        lines.append(
            f"ingest: {files:,} files, {fmt(received)} rows received = {fmt(loaded)} loaded + {fmt(quarantined)} quarantined"
            f" + {fmt(rejected)} rejected + {fmt(duplicate)} duplicates skipped"
        )
        if quarantined and "quarantine_open" in s:  # a fixed row is received twice: quarantined, then loaded
            lines.append(f"  quarantine: {s['quarantine_open']:,} of {fmt(quarantined)} rows still open (the rest loaded "
                         "since, fixed or re-sent); `crossdock quarantine` lists them")
    else:
        lines.append("ingest: nothing ingested yet (no audit.ingest_ledger)")
    lines += _not_stocked_lines(s.get("not_stocked"))
    lines += _plan_lines(s.get("published_plan"), s.get("unpublished"))
    built = {t: n for t, n in s["rows"].items() if n is not None}
    lines.append(f"published tables: {len(built)} of {len(s['rows'])} built")
    for table, rows in s["rows"].items():
        lines.append(f"  publish.{table:<28} {'not built' if rows is None else f'{rows:,} rows'}")
    if not built and s.get("unpublished"):
        lines.append("nothing published yet: the run above stopped before publishing; its console and log say which "
                     "step or check failed and what to change, then `crossdock run` again")
    elif not built:
        lines.append("nothing published yet: run `crossdock run` (or `crossdock demo`)")
    lines += _coverage_lines(s.get("coverage"), sorted(((s.get("not_forecast") or {}).get("held_back") or {})))
    lines += _assumptions_of(s.get("assumptions", {}), s.get("unpublished"))
    lines += _not_forecast_lines(s.get("not_forecast"))
    if s.get("forecast_as_of") is not None:
        lines.append(f"planning date (forecast origin): {s['forecast_as_of']}")
    acc = s.get("accuracy", {})
    model, naive = acc.get("lightgbm"), acc.get("seasonal_naive_7")
    if model and naive:
        others = {"mean_28": "28-day mean", "zero": "zero", "auto_ets": "AutoETS", "croston_optimized": "Croston"}
        versus = "".join(f", {label} {fmt(acc[m]['weekly_wape'], '.3f')}" for m, label in others.items() if m in acc)
        lines.append(
            f"forecast backtest weekly WAPE: LightGBM {fmt(model['weekly_wape'], '.3f')} vs seasonal naive "
            f"{fmt(naive['weekly_wape'], '.3f')}{versus} (ratio to naive {fmt(_ratio(model['weekly_wape'], naive['weekly_wape']), '.2f')}); "
            f"RMSSE {fmt(model['rmsse'], '.3f')} vs {fmt(naive['rmsse'], '.3f')}; daily p50 WAPE {fmt(model['wape'], '.3f')} "
            f"vs {fmt(naive['wape'], '.3f')}; p50 bias {fmt(model['bias'], '+.3f')}; p10-p90 coverage {fmt(model['coverage'], '.3f')}"
        )
    elif "accuracy" in s:
        lines.append("forecast backtest: no overall LightGBM vs seasonal naive rows")
    lines += _bulk_lines(s.get("bulk"))
    verdict, proven_on = s.get("verdict"), s.get("proven_on")
    if model and naive and proven_on is not None:
        if verdict is not None and not verdict.judged:
            # the reason, then each comparison with its ratio and interval: "cannot be told" is not a coin toss
            lines.append(f"forecast not proven by the backtest of {proven_on}: {verdict.summary().removeprefix('not judged: ')}")
        elif verdict is not None and not verdict.passed:
            lines.append(f"forecast did not beat the baselines in the backtest of {proven_on}: {verdict.summary()}")
            if s.get("model_version") and not is_fallback_version(s["model_version"]):  # ml/fallback_forecast.py
                lines.append(f"forecast kept: {KEPT_MODEL}")
        else:
            ago = (s["forecast_as_of"] - proven_on).days if s.get("forecast_as_of") is not None else None
            lines.append(f"forecast last proven {proven_on} ({fmt(ago)} day{'' if ago == 1 else 's'} ago, "
                         f"weekly WAPE {fmt(model['weekly_wape'], '.3f')} "
                         f"vs naive {fmt(naive['weekly_wape'], '.3f')})")
    plots = sorted((settings.exports / "forecast_plots").glob("*.png"))
    if is_fallback_version(s.get("model_version")):  # the model lost the backtest: a baseline's forecast in its place
        why = ("did not beat the baselines" if s.get("accuracy") else
               "no backtest has proven yet (too little history for one window)")
        lines.append(f"FORECAST FROM A BASELINE: {s['model_version']} (ml/fallback_forecast.py), not the model, which "
                     f"{why}; the model's forecast comes back once it beats the baselines; {len(plots)} plots in "
                     f"{settings.exports / 'forecast_plots'}")
    elif s.get("model_version"):
        lines.append(f"forecast model: {_model_folder(settings, s['model_version'])}; {len(plots)} plots in "
                     f"{settings.exports / 'forecast_plots'}")
        lines += _model_age_lines(settings, s["model_version"], s.get("forecast_as_of"))
    elif s.get("model_versions", 0) > 1:  # runs over some of the markets trained their own (market partitions)
        lines.append(f"forecast models: {s['model_versions']}, from runs over some of the markets (their models in "
                     f"{settings.models / MARKET_MODELS_FOLDER}, one over them all in {settings.models})")
    lines += _cycle_lines(s.get("cycle"), s.get("cycle_overrides"), s.get("value_added"))
    if "actions" in s:
        # rows with an order to place, whatever their verdict ('expedite or transfer' rows carry one too)
        purchases = ""
        if s.get("purchases") and s["purchases"][0]:
            rows, value = s["purchases"]
            purchases = f" ({fmt(rows)} still to buy after transfers, EUR {fmt(value)} at unit cost)"
        lines.append(f"inventory: {fmt(s.get('orders_due'))} SKU x node with an order to place{purchases}; "
                     f"actions {s['actions'] or 'none (empty plan)'}")
        lines.append(f"safety stock value: EUR {fmt(s['safety_stock_value_eur'])}")
    if s.get("stockout_fixes"):
        fixes = s["stockout_fixes"]
        cost = sum(c for kind, _, _, c in fixes if kind != NONE_FEASIBLE and not _missing(c))
        lines.append(
            f"stock-outs before a purchase can land: {sum(n for _, n, _, _ in fixes):,} SKU x node, "
            f"{fmt(sum(u for _, _, u, _ in fixes if not _missing(u)))} units short; cheapest fixes "
            + ", ".join(f"{kind} {n:,}" for kind, n, _, _ in fixes)
            + f" (EUR {fmt(cost)} for those that land in time; scenario_impact, scenario '{AS_PLANNED}')"
        )
    for scenario, outcome in s.get("scenarios", []):
        lines.append(f"scenario {scenario}: {outcome}")
    if "exceptions" in s:
        lines.append(f"exceptions: {sum(s['exceptions'].values()):,} open {s['exceptions'] or ''} (`crossdock exceptions` lists them)")
    if "transfers" in s:
        n, units, saving = s["transfers"]
        lines.append(f"transfers before purchases: {n:,} recommended, {fmt(units)} units, saving EUR {fmt(saving)}")
    if "compliance_flags" in s:
        lines.append(
            f"compliance: {fmt(s['compliance_flags'])} flags on {s['compliance_rows_flagged']:,} SKU x market x route rows "
            f"{s['compliance_flags_by_type']}"
        )
    if "border_rules" in s:
        lines.append(s["border_rules"])
    if "tariff_coverage" in s:
        lines.append(s["tariff_coverage"])
    if "order_costs" in s:
        n, duty, vat, fees, landed = s["order_costs"]
        lines.append(
            f"orders landed: {n:,} orders, duty EUR {fmt(duty)}, VAT EUR {fmt(vat)}, fees EUR {fmt(fees)}; "
            f"the shoppers' landed cost (goods, shipping, duty, VAT, fees) EUR {fmt(landed)}"
        )
    return "\n".join(lines)


def _not_stocked_lines(not_stocked: dict | None, shown: int = 5) -> list[str]:
    """Order lines that are no stocked good: kept, never planned, said so with the SKUs among them."""
    if not not_stocked:
        return []
    skus = not_stocked["skus"]
    named = f"; SKUs: {', '.join(skus[:shown])}{' ...' if len(skus) > shown else ''}" if skus else ""
    return [f"  not stocked: {counted(not_stocked['lines'], 'order line')} kept and never planned (gift cards, tips, "
            f"shipping protection: line_type not_stocked, and every line of a SKU sent so), {not_stocked['without_sku']:,} without a SKU{named}"]


def _cycle_lines(cycle: tuple | None, overrides: dict | None, scored: list | None) -> list[str]:
    """The S&OP cycle: overrides weighed, the consensus against the statistical forecast, and the last cycle scored."""
    lines = []
    if cycle:
        name, statistical, consensus = cycle
        lines.append(
            f"S&OP cycle {name}: overrides {_override_counts(overrides)}; consensus {fmt(consensus)} units over the horizon vs "
            f"statistical {fmt(statistical)} ({fmt(_ratio(consensus, statistical), '.3f')}x); the inventory plan uses the consensus"
        )
    if scored:
        name, _, days, horizon, _, _ = scored[0]
        stages = ", ".join(f"{stage} {fmt(wape, '.3f')}" + ("" if _missing(added) else f" (value added {added:+.3f})")
                           for _, stage, _, _, wape, added in scored)
        lines.append(f"forecast value added, cycle {name} ({days} of {horizon} days with actuals), weekly WAPE: {stages}")
    return lines


def _override_counts(statuses: dict | None) -> str:
    """'1 applied, 2 invalid (publish.forecast_overrides says why)': each status by its first words, a reason's
    detail (after its colon) left to the table, which a line cannot hold."""
    if not statuses:
        return "none"
    counts: dict[str, int] = {}
    for status, count in statuses.items():
        kind = str(status).split(":")[0]
        counts[kind] = counts.get(kind, 0) + int(count)
    text = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    return text if set(counts) == {"applied"} else f"{text} (publish.forecast_overrides says why)"


def _bulk_lines(bulk: tuple | None) -> list[str]:
    """What one-off bulk orders did to the backtest (ml/bulk_orders.py), when there were any."""
    if not bulk or _missing(bulk[1]) or not bulk[1]:
        return []
    actual, units, bias, regular = bulk
    return [f"forecast backtest: {fmt(units)} of {fmt(actual)} units sold were bulk orders the forecast leaves out "
            f"({fmt(_ratio(units, actual), '.0%')}; plan them as known orders); mean bias {fmt(bias, '+.3f')} on all that sold, "
            f"{fmt(regular, '+.3f')} on the regular demand"]


def _retrain_every_days(settings: Settings) -> int:
    """crossdock.yaml's forecast.retrain_every_days, or its default when there is no valid file."""
    from crossdock.merchant_config import load_config
    from crossdock.merchant_settings import ForecastSettings

    try:
        return load_config(settings.config).forecast.retrain_every_days if settings.config.is_file() else ForecastSettings().retrain_every_days
    except (OSError, ValueError):
        return ForecastSettings().retrain_every_days


def _model_folder(settings: Settings, version: str) -> Path:
    """The folder of a saved model: under the models folder, or under by_market/ when a run over some markets
    trained it."""
    folder = settings.models / version
    if folder.is_dir():
        return folder
    return next(iter(sorted((settings.models / MARKET_MODELS_FOLDER).glob(f"*/{version}"))), folder)


def _model_age_lines(settings: Settings, version: str, as_of) -> list[str]:
    """When the published forecast's model was trained (its manifest's as_of) and when it is trained again.

    The forecast reuses its model between retrains (ml/retrain_cadence.py): a model trained before the
    planning date is a reused one. Read from the manifest as JSON, so the summary does not load LightGBM.
    """
    try:
        trained = dt.date.fromisoformat(json.loads((_model_folder(settings, version) / "manifest.json").read_text())["as_of"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
    every = _retrain_every_days(settings)
    retrains = f"retrains when {every} day{'s' if every != 1 else ''} old"
    if as_of is None:
        return [f"forecast model trained {trained}; {retrains}"]
    age = (as_of - trained).days
    used = "for this planning date" if age == 0 else f"reused for {age} day{'s' if age != 1 else ''}"
    return [f"forecast model trained {trained}, {used}; {retrains}"]


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _plan_lines(plan: PublishedPlan | None, unpublished: UnpublishedStaging | None) -> list[str]:
    """Which run the published plan is from, and whether a later run failed to publish its own."""
    last_good = (f"last good plan from run {plan.run_id} (planning date {plan.as_of}) published at {_when(plan.published_at)}"
                 if plan else "no plan published by a finished run yet")
    lines = [f"published plan: run {plan.run_id}, planning date {plan.as_of}, published {_when(plan.published_at)} "
             "(publish.plan_runs)" if plan else "published plan: none recorded (publish.plan_runs is empty or missing)"]
    if unpublished:
        lines.append(
            f"NOT PUBLISHED: run {unpublished.run_id} staged a new plan in plan_next (last write {_when(unpublished.staged_at)}) "
            f"and did not publish it (failed, or still running); publish unchanged: {last_good}"
        )
    return lines


def _coverage_lines(coverage: dict | None, not_forecast: list[str]) -> list[str]:
    """What crossdock.yaml's markets cover of the countries sold to; `not_forecast`: own markets this plan has no
    forecast for (named, the NOT FORECAST line says why)."""
    if not coverage:
        return []
    by = coverage["by"]
    parts = [f"{by['market'][0]} countries planned as their own market"] if "market" in by else []
    if "catch_all" in by:
        parts.append(f"{by['catch_all'][0]} in the catch-all market ({fmt(by['catch_all'][1])} units sold)")
    if not_forecast:
        parts.append(f"{', '.join(not_forecast)} not forecast in this plan (see NOT FORECAST)")
    lines = ["markets: " + ("; ".join(parts) or "no country of the orders is planned")]
    if "not_covered" in by:
        countries, units = by["not_covered"]
        shown = ", ".join(coverage["not_covered"][:10]) + (" ..." if countries > 10 else "")
        lines.append(
            f"NOT PLANNED: {fmt(units)} units sold to {countries} countries crossdock.yaml does not cover ({shown}); "
            "declare them as markets or add a catch_all market (publish.market_coverage)"
        )
    return lines


# What the summary reads from the published plan; every other assumption is counted on the tables dbt rebuilt for
# the latest run (marts, intermediate, dbt's stored test failures), which a failed run does not publish
PLAN_ASSUMPTIONS = frozenset({"skus_lead_time_assumed", "lead_time_assumed_days", "nodes_without_stock"})


def _assumptions_of(a: dict, unpublished: UnpublishedStaging | None) -> list[str]:
    """The assumption lines; after a run that did not publish, those counted on its rebuilt tables under a line
    saying so: they describe its data, and the published plan (the last good one) may rest on other figures."""
    if not unpublished:
        return _assumption_lines(a)
    data = _assumption_lines({k: v for k, v in a.items() if k not in PLAN_ASSUMPTIONS})
    plan = _assumption_lines({k: v for k, v in a.items() if k in PLAN_ASSUMPTIONS or k == "values"})
    if not data:
        return plan
    return plan + [f"the latest data, of run {unpublished.run_id}, which has not published (failed, or still running; the "
                   "published plan may rest on other figures):", *(f"  {line}" for line in data)]


def _days(low_high: list | None, otherwise: object) -> str:
    """The plan's days as one figure, or a range where its rows differ; `otherwise` when it holds none."""
    low, high = low_high if low_high else (None, None)
    if _missing(low) or _missing(high):
        return str(otherwise)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _assumption_lines(a: dict) -> list[str]:
    """One line per assumption the plan rests on, with the figure assumed; nothing when the feeds said it all."""
    values = a.get("values", {})
    lines = []
    if a.get("skus_cost_assumed"):
        lines.append(
            f"assumed: {a['skus_cost_assumed']:,} SKUs are in no supplier catalogue: unit cost = "
            f"{fmt(values.get('unit_cost_share_of_price'), '.0%')} of the median selling price, MOQ {values.get('moq', NA)}, "
            f"pack size {values.get('pack_size', NA)} (marts.dim_sku.cost_basis)"
        )
    if a.get("skus_catalogue_cost_unusable"):
        lines.append(
            f"assumed: {a['skus_catalogue_cost_unusable']:,} SKUs have a catalogue cost that cannot be planned with (0, or "
            f"in a currency without an ECB rate): unit cost = {fmt(values.get('unit_cost_share_of_price'), '.0%')} of the "
            "median selling price, their other terms the catalogue's (marts.dim_sku.cost_basis)"
        )
    if a.get("skus_terms_assumed"):
        lines.append(
            f"assumed: MOQ {values.get('moq', NA)} or pack size {values.get('pack_size', NA)} for "
            f"{counted(a['skus_terms_assumed'], 'SKU')} whose supplier line names none (marts.dim_sku.order_terms_assumed)"
        )
    if a.get("skus_lead_time_assumed"):
        lines.append(
            f"assumed: {a['skus_lead_time_assumed']:,} SKUs have no supplier lead time: "
            f"{_days(a.get('lead_time_assumed_days'), values.get('lead_time_days', NA))} days "
            f"(no catalogue quote and fewer than {MIN_RECEIPTS} received purchase-order lines; "
            "inventory_plan.lead_time_source = 'assumed default')"
        )
    if a.get("transfer_skus_without_weight"):
        lines.append(
            f"assumed: {a['transfer_skus_without_weight']:,} SKUs in publish.transfer_recommendations have no weight "
            "(marts.dim_sku.weight_kg): their transfers are priced at the lane's fixed cost only, no freight per kg, "
            "so their saving is overstated (send weights in the supplier catalogue)"
        )
    if a.get("skus_not_planned"):
        shown = a["skus_not_planned"]
        lines.append(
            f"NOT PLANNED: {len(shown):,} SKUs held in stock or on order have no catalogue cost (none, 0 or in a "
            f"currency without an ECB rate) and were never sold, so there is no cost to plan them with: "
            f"{', '.join(shown[:10])}{' ...' if len(shown) > 10 else ''} (send their catalogue lines with a cost)"
        )
    if a.get("lines_without_fx_rate"):
        lines.append(
            f"unknown: the value of {a['lines_without_fx_rate']:,} order lines (no ECB rate for their currency that day): "
            "their units count as demand, their money nowhere (audit.order_lines_without_fx_rate)"
        )
    if a.get("no_carrier_events"):
        lines.append(
            "unknown: delivery times and customs holds (no carrier tracking event loaded up to the planning date): "
            "publish.lane_performance, delivery_promise, "
            "delivery_promise_by_chapter and customs_risk are empty, and moves between nodes add no customs days "
            "(land carrier tracking events in landing/carriers/, docs/feeds.md)"
        )
    unmatched, shipments = a.get("shipments_without_order") or (0, 0)
    if unmatched:
        lines.append(
            f"unknown: the order of {unmatched:,} of {counted(shipments, 'shipment')} with carrier events (no line of it "
            "loaded: never sent, or quarantined): their lanes count, but their customs holds have no HS chapter "
            "(customs_risk 'unknown') and what they carry is not in transit (supply_chain_view); check the carrier "
            "feed's order_id against the orders', and `crossdock quarantine --dataset orders`"
        )
    if a.get("nodes_without_stock"):
        lines.append(
            f"unknown: stock at {', '.join(a['nodes_without_stock'])} (no inventory feed): targets only, no reorder "
            "verdict or stock-out date there (inventory_plan.stock_basis)"
        )
    return lines


def _not_forecast_lines(not_forecast: dict | None) -> list[str]:
    """The markets the training-data gate held back, and the series the forecast left out, loud when they carried a
    large share of the units (DROPPED_SHARE_WARNING)."""
    if not not_forecast:
        return []
    raised = set(not_forecast.get("held_back_raised", ()))
    lines = [f"NOT FORECAST {market}: {series:,} series that sold in the last {DEFAULT_INACTIVE_AFTER_DAYS} days "
             f"({fmt(units)} units in the last {DROPPED_WINDOW_DAYS}) are not in the published forecast: the "
             f"training-data gate held {market} back, its own history having failed (`crossdock run` printed why and "
             "what to do" + (f"; exception market_held_back:{market})" if market in raised
                             else "), or no run has forecast this market yet")
             for market, (series, units) in not_forecast["held_back"].items()]
    count, units, total = not_forecast["dropped"]
    if count:
        share = units / total if total else 0.0
        label = "NOT FORECAST" if share >= DROPPED_SHARE_WARNING else "not forecast"
        lines.append(f"{label}: {count:,} series that sold {fmt(units)} units ({share:.0%} of the last {DROPPED_WINDOW_DAYS} "
                     f"days') have not sold in the last {DEFAULT_INACTIVE_AFTER_DAYS} days, so they are not forecast and "
                     "nothing is planned for them; the forecast's warning names the biggest (ml/series_selection.py)")
    return lines
