"""The short summary printed after a run: what was published and what it says.

It reads whatever the warehouse holds: no warehouse, an empty one, tables
with no rows or only some of the published tables. Sums are taken in SQL with
an explicit type (a text column that holds only nulls is written as varchar,
and `sum(varchar)` fails), and a figure the warehouse cannot give prints as
"n/a".

It says first which run the published plan is from (publish.plan_runs) and
when a later run staged a plan it did not publish (a failed run): then
publish is unchanged and every figure below is the last good plan's.

It reads through the warehouse interface (crossdock/engine.py), so the same
queries give the same summary from the DuckDB file and from the tables on
Spark (CROSSDOCK_WAREHOUSE_ENGINE=spark).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

from cli.tariff import read_coverage
from compliance.documents import flag_counts
from compliance.staleness import PLACES_TABLES, RULE_SEEDS, TARIFF_FILES, read_places_served, stale_rules, summary_line
from compliance.tariffs.coverage import coverage_summary
from crossdock.engine import Warehouse, WarehouseLike, as_warehouse, first_row
from crossdock.plan_labels import AS_PLANNED, NONE_FEASIBLE, is_fallback_version
from crossdock.publish import PublishedPlan, UnpublishedStaging, last_published, plan_tables, unpublished_staging
from crossdock.settings import MARKET_MODELS_FOLDER, Settings, pii_salt_warning
from crossdock.spark import spark_home, warehouse_engine
from crossdock.warehouse import connect
from ml.backtest import MODEL
from ml.backtest_gate import gate_verdict
from ml.fallback_forecast import KEPT_MODEL
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS, DROPPED_SHARE_WARNING, DROPPED_WINDOW_DAYS

NA = "n/a"


def _total(column: str, sql_type: str = "double") -> str:
    """SQL for the sum of `column` as `sql_type`: 0 over no rows, NULL when every value is NULL (unknown)."""
    return f"case when count(*) = 0 then 0 else sum(try_cast({column} as {sql_type})) end"


def _one(warehouse: Warehouse, sql: str) -> tuple:
    return warehouse.rows(sql)[0]


def _coverage(warehouse: Warehouse) -> dict:
    """Countries and units per coverage (market, catch_all, not_covered), and the uncovered countries, biggest first."""
    by = {
        coverage: (countries, units)
        for coverage, countries, units in warehouse.rows(
            f"select coverage, count(*), {_total('units_sold', 'bigint')} from publish.market_coverage group by 1"
        )
    }
    left_out = [c for (c,) in warehouse.rows(
        "select country from publish.market_coverage where coverage = 'not_covered' order by units_sold desc, country"
    )]
    return {"by": by, "not_covered": left_out}


def _assumptions(warehouse: Warehouse) -> dict:
    """What the plan assumed because a feed is missing: SKUs without catalogue terms or lead times, nodes without stock."""
    out: dict = {}
    if {"cost_basis"} <= warehouse.columns("marts.dim_sku"):
        out["skus_cost_assumed"] = _one(warehouse, "select count(*) filter (where cost_basis <> 'catalogue') from marts.dim_sku")[0]
    if {"lead_time_source", "stock_basis"} <= warehouse.columns("publish.inventory_plan"):
        out["skus_lead_time_assumed"] = _one(
            warehouse, "select count(distinct sku) filter (where lead_time_source = 'assumed default') from publish.inventory_plan"
        )[0]
        out["nodes_without_stock"] = [n for (n,) in warehouse.rows(
            "select distinct node from publish.inventory_plan where stock_basis like 'unknown%' order by 1"
        )]
    if warehouse.exists("intermediate.int_stock_position") and warehouse.exists("marts.dim_sku"):
        # the plan leaves these out (planning.inputs.set_aside_skus_without_terms): no cost to plan them with
        out["skus_not_planned"] = [s for (s,) in warehouse.rows(
            "select distinct sku from intermediate.int_stock_position "
            "where sku not in (select sku from marts.dim_sku) order by 1"
        )]
    if warehouse.exists("audit.order_lines_without_fx_rate"):
        out["lines_without_fx_rate"] = _one(warehouse, "select count(*) from audit.order_lines_without_fx_rate")[0]
    if warehouse.exists("config.assumptions"):
        first = warehouse.query("select * from config.assumptions limit 1").astype(object)
        out["values"] = first.where(first.notna(), None).iloc[0].to_dict() if len(first) else {}
    return out


def _not_forecast(warehouse: Warehouse) -> dict | None:
    """Series that sold in the `DROPPED_WINDOW_DAYS` up to the planning date but are not in the published forecast.
    None before a forecast is published; else `dropped` (count, units, all units sold in those days): those
    without a sale in the last DEFAULT_INACTIVE_AFTER_DAYS, no longer forecast (ml/series_selection.py); and
    `held_back` {market: (series, units)}: markets whose series sold lately and are not forecast, which only the
    training-data gate does (it held the market back: expectations/market_days.py; the forecast gate asks for
    every other series that sold lately).

    Read from the tables, not from the forecast's log, so the summary says it on every run.
    """
    if not (warehouse.exists("publish.demand_forecast") and warehouse.exists("marts.fct_daily_demand")):
        return None
    [as_of] = _one(warehouse, "select max(as_of) from publish.demand_forecast")
    if as_of is None:
        return None
    as_of = as_of.date() if isinstance(as_of, dt.datetime) else as_of
    since = as_of - dt.timedelta(days=DROPPED_WINDOW_DAYS)
    lately = as_of - dt.timedelta(days=DEFAULT_INACTIVE_AFTER_DAYS)
    missing = warehouse.query(f"""
        with planned as (
            select distinct sku, market from publish.demand_forecast
        ),
        sold as (
            select sku, market, sum(units_sold) as units,
                max(case when units_sold > 0 then demand_date end) >= date '{lately}' as sold_lately
            from marts.fct_daily_demand
            where demand_date > date '{since}' and demand_date <= date '{as_of}' group by sku, market
        )
        select sold.market, sold.units, sold.sold_lately, planned.sku is not null as planned
        from sold left join planned on sold.sku = planned.sku and sold.market = planned.market
        where sold.units > 0
    """)
    gone = missing[~missing["planned"].astype(bool)]
    dropped, held = gone[~gone["sold_lately"].astype(bool)], gone[gone["sold_lately"].astype(bool)]
    held_back = {str(market): (len(rows), float(rows["units"].sum())) for market, rows in held.groupby("market")}
    return {"dropped": (len(dropped), float(dropped["units"].sum()), float(missing["units"].sum())), "held_back": held_back}


def collect_summary(target: WarehouseLike) -> dict:
    """The summary's figures, read from the DuckDB file or from the tables on Spark (`target`)."""
    warehouse = as_warehouse(target)
    existing = {table for table in plan_tables() if warehouse.exists(f"publish.{table}")}
    summary: dict = {"rows": {t: (_one(warehouse, f"select count(*) from publish.{t}")[0] if t in existing else None) for t in plan_tables()}}
    summary["engine"] = warehouse.engine
    summary["published_plan"] = last_published(warehouse)
    summary["unpublished"] = unpublished_staging(warehouse)
    if "forecast_accuracy" in existing:
        columns = warehouse.columns("publish.forecast_accuracy")
        measured = {"weekly_wape": "weekly_wape", "rmsse": "rmsse", "wape": "wape", "bias": "bias",
                    "coverage": "coverage_p10_p90",
                    # the gate's intervals (ml/backtest_gate.py), in the tables of releases that made them
                    **{c: c for c in ("model_ratio_low", "model_ratio_high") if c in columns}}
        overall = warehouse.query(
            "select model, " + ", ".join(f"try_cast({column} as double) as {name}" for name, column in measured.items())
            + " from publish.forecast_accuracy where scope = 'overall'"
        ).set_index("model")
        overall = overall[~overall.index.duplicated(keep="last")]  # one row a model, the last as a dict of them kept
        summary["accuracy"] = overall.to_dict("index")
        # the check's reading (ml/backtest_gate.py): "proven" only of a forecast it judged and passed; one
        # the weeks its backtest scored cannot tell from a baseline is published unproven
        summary["verdict"] = gate_verdict(overall) if MODEL in overall.index else None
        if {"bulk_units", "mean_bias", "mean_bias_regular"} <= columns:
            summary["bulk"] = first_row(
                warehouse, "select try_cast(actual_units as double), try_cast(bulk_units as double), try_cast(mean_bias as double), "
                "try_cast(mean_bias_regular as double) from publish.forecast_accuracy where scope = 'overall' and model = 'lightgbm'"
            )
        # the backtest runs on a cadence (ml/backtest_cadence.py): its as_of is the day it proved the model on
        summary["proven_on"] = _one(warehouse, "select max(try_cast(as_of as date)) from publish.forecast_accuracy")[0]
    if "demand_forecast" in existing:
        versions = warehouse.rows("select distinct model_version from publish.demand_forecast")
        summary["model_version"] = versions[0][0] if len(versions) == 1 else None
        summary["model_versions"] = len(versions)
        summary["forecast_as_of"] = _one(warehouse, "select max(try_cast(as_of as date)) from publish.demand_forecast")[0]
    if {"demand_plan", "forecast_overrides"} <= existing and "demand_forecast" in existing:
        summary["cycle"] = first_row(
            warehouse, f"select cycle, {_total('statistical_mean')}, {_total('mean')} from publish.demand_plan "
            "where planning_date = (select max(try_cast(as_of as date)) from publish.demand_forecast) group by cycle"
        )
        if summary["cycle"]:
            summary["cycle_overrides"] = dict(warehouse.rows(
                "select cast(status as varchar), count(*) from publish.forecast_overrides where cycle = ? group by 1 order by 2 desc, 1",
                [summary["cycle"][0]],
            ))
    if {"forecast_value_added", "demand_plan", "demand_forecast"} <= existing:
        # the latest cycle with actuals, overall: what each stage added (sop/value_added.py)
        summary["value_added"] = warehouse.rows(
            "select cycle, cast(stage as varchar), try_cast(days_scored as bigint), try_cast(horizon_days as bigint), "
            "try_cast(wape as double), try_cast(value_added as double) from publish.forecast_value_added "
            "where scope = 'all' and cycle = (select max(cycle) from publish.forecast_value_added "
            "where stage = 'consensus' and cycle < coalesce((select max(cycle) from publish.demand_plan where planning_date = "
            "(select max(try_cast(as_of as date)) from publish.demand_forecast)), '9999')) "
            "order by case stage when 'seasonal naive' then 0 when 'statistical' then 1 else 2 end"
        )
    if "inventory_plan" in existing:
        summary["safety_stock_value_eur"] = _one(warehouse, f"select {_total('safety_stock_value_eur')} from publish.inventory_plan")[0]
        summary["orders_due"] = _one(
            warehouse, "select count(*) filter (where try_cast(recommended_order_qty as double) > 0) from publish.inventory_plan"
        )[0] if "recommended_order_qty" in warehouse.columns("publish.inventory_plan") else None
        summary["actions"] = dict(warehouse.rows(
            "select coalesce(cast(action as varchar), 'none'), count(*) from publish.inventory_plan group by 1 order by 2 desc, 1"
        ))
    if "scenario_impact" in existing:
        # the plan's own stock-outs before supply and their cheapest fix (planning/scenario_impact.py)
        summary["stockout_fixes"] = warehouse.rows(
            f"select cast(contingency as varchar), count(*), {_total('shortfall_units')}, {_total('contingency_cost_eur')} "
            "from publish.scenario_impact where scenario = ? group by 1 order by 2 desc, 1",
            [AS_PLANNED],
        )
    if "scenario_summary" in existing:
        # one line per scenario the run stressed, whether it broke anything or not (planning/scenario_summary.py)
        summary["scenarios"] = warehouse.rows(
            "select cast(scenario as varchar), cast(outcome as varchar) from publish.scenario_summary where scenario <> ? "
            "order by sku_nodes_earlier is null, 1",  # a scenario not run has no totals: last
            [AS_PLANNED],
        )
    if "exceptions" in existing:
        summary["exceptions"] = dict(warehouse.rows(
            "select cast(type as varchar), count(*) from publish.exceptions "
            "where coalesce(try_cast(is_open as boolean), false) group by 1 order by 2 desc, 1"
        ))
    if "transfer_recommendations" in existing:
        summary["transfers"] = _one(
            warehouse,
            f"select count(*), {_total('units', 'bigint')}, {_total('saving_eur')} from publish.transfer_recommendations "
            "where coalesce(try_cast(recommended as boolean), false)",
        )
    if "compliance_plan" in existing:
        summary["compliance_flags"], summary["compliance_rows_flagged"] = _one(
            warehouse,
            f"select {_total('flag_count', 'bigint')}, count(*) filter (where try_cast(flag_count as bigint) > 0) "
            "from publish.compliance_plan",
        )
        counts = flag_counts(warehouse.query("select cast(flags as varchar) as flags from publish.compliance_plan"))
        summary["compliance_flags_by_type"] = dict(zip(counts["flag"], counts["rows"].astype(int)))
    plan = summary["published_plan"]
    if plan is not None and plan.as_of is not None and all(warehouse.exists(f"reference.{name}") for name in RULE_SEEDS):
        # what aged among the border rules on the plan's date (compliance/staleness.py; the check in the UI says the same)
        loaded = (TARIFF_FILES,) if warehouse.exists(f"reference.{TARIFF_FILES}") else ()
        seeds = {name: warehouse.query(f"select * from reference.{name}") for name in (*RULE_SEEDS, *loaded)}
        places = read_places_served(warehouse) if all(warehouse.exists(t) for t in PLACES_TABLES) else None
        summary["border_rules"] = summary_line(stale_rules(seeds, plan.as_of, places=places), plan.as_of)
        found = read_coverage(warehouse) if loaded else None
        if found is not None and not found[0].empty:
            summary["tariff_coverage"] = coverage_summary(found[0])
    if "order_landed_cost" in existing:
        summary["order_costs"] = _one(
            warehouse,
            f"select count(*), {_total('duty_eur')}, {_total('vat_eur')}, {_total('fees_eur')}, {_total('landed_cost_eur')} "
            "from publish.order_landed_cost",
        )
    if "market_coverage" in existing:
        summary["coverage"] = _coverage(warehouse)
    summary["assumptions"] = _assumptions(warehouse)
    summary["not_forecast"] = _not_forecast(warehouse)
    if warehouse.exists("audit.ingest_ledger"):
        summary["ingest"] = _one(
            warehouse,
            "select count(*), "
            + ", ".join(_total(c, "bigint") for c in ("rows_received", "rows_loaded", "rows_quarantined", "rows_rejected", "rows_duplicate"))
            + " from audit.ingest_ledger",
        )
    return summary


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
    else:
        lines.append("ingest: nothing ingested yet (no audit.ingest_ledger)")
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
    lines += _coverage_lines(s.get("coverage"))
    lines += _assumption_lines(s.get("assumptions", {}))
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
        lines.append(f"inventory: {fmt(s.get('orders_due'))} SKU x node with an order to place; "
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
            f"orders landed: {n:,} orders, duty EUR {fmt(duty)}, VAT EUR {fmt(vat)}, fees EUR {fmt(fees)}, landed EUR {fmt(landed)}"
        )
    return "\n".join(lines)


def _cycle_lines(cycle: tuple | None, overrides: dict | None, scored: list | None) -> list[str]:
    """The S&OP cycle: overrides weighed, the consensus against the statistical forecast, and the last cycle scored."""
    lines = []
    if cycle:
        name, statistical, consensus = cycle
        lines.append(
            f"S&OP cycle {name}: overrides {overrides or 'none'}; consensus {fmt(consensus)} units over the horizon vs "
            f"statistical {fmt(statistical)} ({fmt(_ratio(consensus, statistical), '.3f')}x); the inventory plan uses the consensus"
        )
    if scored:
        name, _, days, horizon, _, _ = scored[0]
        stages = ", ".join(f"{stage} {fmt(wape, '.3f')}" + ("" if _missing(added) else f" (value added {added:+.3f})")
                           for _, stage, _, _, wape, added in scored)
        lines.append(f"forecast value added, cycle {name} ({days} of {horizon} days with actuals), weekly WAPE: {stages}")
    return lines


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
    from crossdock.merchant_config import ForecastSettings, load_config

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


def _coverage_lines(coverage: dict | None) -> list[str]:
    if not coverage:
        return []
    by = coverage["by"]
    parts = [f"{by['market'][0]} countries planned as their own market"] if "market" in by else []
    if "catch_all" in by:
        parts.append(f"{by['catch_all'][0]} in the catch-all market ({fmt(by['catch_all'][1])} units sold)")
    lines = ["markets: " + ("; ".join(parts) or "no country of the orders is planned")]
    if "not_covered" in by:
        countries, units = by["not_covered"]
        shown = ", ".join(coverage["not_covered"][:10]) + (" ..." if countries > 10 else "")
        lines.append(
            f"NOT PLANNED: {fmt(units)} units sold to {countries} countries crossdock.yaml does not cover ({shown}); "
            "declare them as markets or add a catch_all market (publish.market_coverage)"
        )
    return lines


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
    if a.get("skus_lead_time_assumed"):
        lines.append(
            f"assumed: {a['skus_lead_time_assumed']:,} SKUs have no supplier lead time: {values.get('lead_time_days', NA)} days "
            "(inventory_plan.lead_time_source = 'assumed default')"
        )
    if a.get("skus_not_planned"):
        shown = a["skus_not_planned"]
        lines.append(
            f"NOT PLANNED: {len(shown):,} SKUs held in stock or on order are in no catalogue and were never sold, so "
            f"there is no cost to plan them with: {', '.join(shown[:10])}{' ...' if len(shown) > 10 else ''} "
            "(send their catalogue lines)"
        )
    if a.get("lines_without_fx_rate"):
        lines.append(
            f"unknown: the value of {a['lines_without_fx_rate']:,} order lines (no ECB rate for their currency that day): "
            "their units count as demand, their money nowhere (audit.order_lines_without_fx_rate)"
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
    lines = [f"HELD BACK {market}: {series:,} series that sold {fmt(units)} units in the last {DROPPED_WINDOW_DAYS} days "
             f"are not in the published forecast, and no stock is planned for them: the training-data gate held "
             f"{market} back (its own history failed: `crossdock run` printed why, and what to do)"
             for market, (series, units) in not_forecast["held_back"].items()]
    count, units, total = not_forecast["dropped"]
    if count:
        share = units / total if total else 0.0
        label = "NOT FORECAST" if share >= DROPPED_SHARE_WARNING else "not forecast"
        lines.append(f"{label}: {count:,} series that sold {fmt(units)} units ({share:.0%} of the last {DROPPED_WINDOW_DAYS} "
                     f"days') have not sold in the last {DEFAULT_INACTIVE_AFTER_DAYS} days, so they are not forecast and "
                     "nothing is planned for them; the forecast's warning names the biggest (ml/series_selection.py)")
    return lines


def print_summary(settings: Settings) -> None:
    """The summary of the warehouse CROSSDOCK_WAREHOUSE_ENGINE names: the DuckDB file, or the tables on Spark.

    On Spark it reads through this process's session: the one a run on Spark
    has just used (its catalogue still served), or one started here on the
    Spark home's own catalogue, which needs no service when nothing else holds it.
    """
    if warehouse_engine() == "spark":
        _print_spark_summary(settings)
        return
    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse} yet: run `crossdock demo` first")
        return
    with connect(str(settings.warehouse), read_only=True) as conn:  # waits out a run writing the warehouse
        s = collect_summary(conn)
    print(format_summary(settings, s))


def _print_spark_summary(settings: Settings) -> None:
    from cli.spark import catalogue_held_elsewhere, without_spark
    from crossdock.spark_metastore import derby_database

    catalogue = derby_database()
    if catalogue is not None and not catalogue.exists():  # nothing ever ran there, and no JVM for that
        print(f"no tables on Spark at {spark_home()} yet: run `crossdock run` with CROSSDOCK_WAREHOUSE_ENGINE=spark first")
        return
    if without_spark("summary", with_dbt=False):
        return
    from crossdock.spark import spark_session
    from crossdock.spark_warehouse import SparkWarehouse

    if catalogue_held_elsewhere("summary"):
        return
    print(format_summary(settings, collect_summary(SparkWarehouse(spark_session()))))
