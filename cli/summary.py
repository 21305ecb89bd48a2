"""The short summary printed after a run: what was published and what it says.

It reads whatever the warehouse holds: no warehouse, an empty one, tables
with no rows or only some of the published tables. Sums are taken in SQL with
an explicit type (a text column that holds only nulls is written as varchar,
and `sum(varchar)` fails), and a figure the warehouse cannot give prints as
"n/a".

It says first which run the published plan is from (publish.plan_runs) and
when a later run staged a plan it did not publish (a failed run): then
publish is unchanged and every figure below is the last good plan's, but for
the assumptions counted on the tables dbt rebuilt for that run (marts,
intermediate): those are printed as the latest data's, under a line saying so.

It reads through the warehouse interface (crossdock/engine.py), so the same
queries give the same summary from the DuckDB file and from the tables on
Spark (CROSSDOCK_WAREHOUSE_ENGINE=spark). This module reads (`collect_summary`)
and prints; the words are cli/summary_lines.py's (`format_summary`).
"""
from __future__ import annotations

import datetime as dt

from cli.summary_lines import format_summary
from cli.tariff import read_coverage
from compliance.documents import flag_counts
from compliance.staleness import PLACES_TABLES, RULE_SEEDS, TARIFF_FILES, read_places_served, stale_rules, summary_line
from compliance.tariffs.coverage import coverage_summary
from crossdock.engine import Warehouse, WarehouseLike, as_warehouse, first_row
from crossdock.plan_labels import AS_PLANNED
from crossdock.publish import last_published, plan_tables, unpublished_staging
from crossdock.settings import Settings
from crossdock.spark import spark_home, warehouse_engine
from crossdock.warehouse import connect
from ml.backtest_scores import MODEL
from ml.backtest_gate import gate_verdict
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS, DROPPED_WINDOW_DAYS


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
    sku_columns = warehouse.columns("marts.dim_sku")
    if {"cost_basis", "primary_supplier_id", "unit_cost_eur"} <= sku_columns:
        # a SKU in no catalogue, one whose catalogue cost is no cost to plan with (0, no EUR rate) but sold, and one
        # whose catalogue line names no MOQ or pack size (a release before that column counts none): one pass
        terms = ("count(*) filter (where order_terms_assumed and primary_supplier_id is not null)"
                 if "order_terms_assumed" in sku_columns else "null")
        cost_assumed, cost_unusable, terms_assumed = _one(
            warehouse, "select count(*) filter (where primary_supplier_id is null), "
            "count(*) filter (where cost_basis <> 'catalogue' and primary_supplier_id is not null "
            f"and unit_cost_eur is not null), {terms} from marts.dim_sku")
        out["skus_cost_assumed"], out["skus_catalogue_cost_unusable"] = cost_assumed, cost_unusable
        if terms_assumed is not None:
            out["skus_terms_assumed"] = terms_assumed
    if {"lead_time_source", "stock_basis"} <= warehouse.columns("publish.inventory_plan"):
        # the days the plan assumed, from the plan itself: config.assumptions is rewritten by every run, a failed one too
        out["skus_lead_time_assumed"], *out["lead_time_assumed_days"] = _one(
            warehouse, "select count(distinct sku) filter (where lead_time_source = 'assumed default'), "
            "min(lead_time_days) filter (where lead_time_source = 'assumed default'), "
            "max(lead_time_days) filter (where lead_time_source = 'assumed default') from publish.inventory_plan"
        )
        out["nodes_without_stock"] = [n for (n,) in warehouse.rows(
            "select distinct node from publish.inventory_plan where stock_basis like 'unknown%' order by 1"
        )]
    if warehouse.exists("intermediate.int_stock_position") and warehouse.exists("marts.dim_sku"):
        # the plan leaves these out (planning.inputs.set_aside_skus_without_terms): no cost to plan them with
        out["skus_not_planned"] = [s for (s,) in warehouse.rows(
            "select distinct sku from intermediate.int_stock_position "
            "where sku not in (select sku from marts.dim_sku where unit_cost_eur > 0) order by 1"
        )]
    if warehouse.exists("publish.transfer_recommendations") and "weight_kg" in warehouse.columns("marts.dim_sku"):
        # recommend_transfers charges a missing weight no freight per kg: the lane's fixed cost only
        out["transfer_skus_without_weight"] = _one(warehouse, """
            select count(distinct transfers.sku) from publish.transfer_recommendations as transfers
            left join marts.dim_sku as skus on skus.sku = transfers.sku where skus.weight_kg is null
        """)[0]
    if warehouse.exists("intermediate.int_shipments"):
        # no shipment to learn from (no feed, every line quarantined, or none up to the planning date): the lane,
        # promise and customs tables are empty and nothing said why
        out["no_carrier_events"] = _one(warehouse, "select count(*) = 0 from intermediate.int_shipments")[0]
        if warehouse.exists("raw.orders") and "order_id" in warehouse.columns("intermediate.int_shipments"):
            # a tracking event naming an order with no line loaded (never sent, or quarantined) loads as it is: its
            # lane counts, but its customs hold has no chapter (customs_risk 'unknown') and nothing it carries is in
            # transit (supply_chain_view)
            out["shipments_without_order"] = _one(warehouse, """
                select count(*) filter (where order_id not in (select order_id from raw.orders where order_id is not null)),
                    count(*)
                from intermediate.int_shipments where order_id is not null
            """)
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
    `held_back` {market: (series, units)}: markets whose series sold lately and are not forecast: the
    training-data gate held the market back (expectations/market_days.py; the forecast gate asks for every other
    series that sold lately), or, on a merchant planned by market, no run has forecast it yet; `held_back_raised`:
    those the plan's exceptions say the gate held back (market_held_back raised), which is then no guess.

    Read from the tables, not from the forecast's log, so the summary says it on every run.
    """
    if not (warehouse.exists("publish.demand_forecast") and warehouse.exists("marts.fct_daily_demand")):
        return None
    confirmed = ({str(m) for (m,) in warehouse.rows(
        "select market from publish.exceptions where type = 'market_held_back' and raised")}
        if "raised" in warehouse.columns("publish.exceptions") else set())
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
    return {"dropped": (len(dropped), float(dropped["units"].sum()), float(missing["units"].sum())), "held_back": held_back,
            "held_back_raised": sorted(confirmed & set(held_back))}


def _not_stocked(warehouse: Warehouse) -> dict | None:
    """Order lines kept but never planned because they are no stocked good (`stg_orders.stocked` false: a line of
    type not_stocked, such as a gift card, a tip or shipping protection, and every line of a SKU sent so): how
    many, how many without a SKU, and the SKUs among them, most lines first, so that a good marked so by mistake
    (a Shopify product set up as not physical) is seen. None when there are none."""
    if "stocked" not in warehouse.columns("staging.stg_orders"):  # none yet, or built by a release before it
        return None
    # one pass over the view (it recomputes every line's latest version): lines per SKU, the SKU-less ones as null
    per_sku = warehouse.rows(
        "select sku, count(*) from staging.stg_orders where not stocked group by sku order by count(*) desc, sku")
    if not per_sku:
        return None
    return {"lines": sum(int(n) for _, n in per_sku),
            "without_sku": sum(int(n) for sku, n in per_sku if sku is None),
            "skus": [sku for sku, _ in per_sku if sku is not None]}


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
        if "purchase_value_eur" in warehouse.columns("publish.inventory_plan"):  # a plan of an older release has none
            summary["purchases"] = _one(
                warehouse, "select count(*) filter (where try_cast(purchase_after_transfers as double) > 0), "
                f"{_total('purchase_value_eur')} from publish.inventory_plan"
            )
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
    summary["not_stocked"] = _not_stocked(warehouse)
    summary["not_forecast"] = _not_forecast(warehouse)
    if warehouse.exists("audit.ingest_ledger"):
        summary["ingest"] = _one(
            warehouse,
            "select count(*), "
            + ", ".join(_total(c, "bigint") for c in ("rows_received", "rows_loaded", "rows_quarantined", "rows_rejected", "rows_duplicate"))
            # a file rejected, then loaded from another folder (an export landed before its mapping was set up)
            # is one file whose rows loaded, not twice its rows, half of them rejected
            + " from audit.ingest_ledger as l where not (coalesce(l.status, '') = 'rejected' and exists "
            "(select 1 from audit.ingest_ledger as k where k.file_id = l.file_id and k.status = 'loaded'))",
        )
        if warehouse.engine == "duckdb" and warehouse.exists("audit.quarantine"):
            from feeds.quarantine import quarantine_summary  # the open count the export and `crossdock quarantine` give

            summary["quarantine_open"] = int(quarantine_summary(warehouse.conn)["open"].sum())
    return summary


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
