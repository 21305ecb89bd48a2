"""`crossdock summary` on any warehouse, built by hand: none, an empty one, every published table with no
rows (with the column types the docs give them, and transfer_recommendations all varchar, as a run that
recommends no transfer writes it), and tiny filled ones where some tables are missing.
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import duckdb
import pytest
import yaml

from cli.summary import collect_summary, print_summary
from cli.summary_lines import format_summary
from crossdock.plan_labels import AS_PLANNED
from crossdock.publish import plan_tables
from crossdock.settings import DBT_PROJECT_DIR, Settings


@functools.cache  # two YAML files of ~120 kB, read for each of the ~20 tables a test creates
def documented_columns() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type)] as the dbt docs give them, for every publish and audit table."""
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    models = DBT_PROJECT_DIR / "models" / "publish"
    for source in yaml.safe_load((models / "_published_by_dagster.yml").read_text())["sources"]:
        for table in source["tables"]:
            tables[(source["schema"], table["name"])] = [(c["name"], c["data_type"]) for c in table["columns"]]
    for model in yaml.safe_load((models / "_publish.yml").read_text())["models"]:
        tables[("publish", model["name"])] = [(c["name"], c["data_type"]) for c in model["columns"]]
    return tables


def create_empty(conn: duckdb.DuckDBPyConnection, schema: str, table: str, all_varchar: bool = False) -> None:
    columns = documented_columns()[(schema, table)]
    conn.execute(f"create schema if not exists {schema}")
    ddl = ", ".join(f'"{name}" {"varchar" if all_varchar else type_}' for name, type_ in columns)
    conn.execute(f"create table {schema}.{table} ({ddl})")


def insert(conn: duckdb.DuckDBPyConnection, schema: str, table: str, rows: list[dict]) -> None:
    """Insert rows that name some columns; the others stay NULL."""
    for row in rows:
        names = ", ".join(f'"{k}"' for k in row)
        conn.execute(f"insert into {schema}.{table} ({names}) values ({', '.join('?' for _ in row)})", list(row.values()))


def summary_text(tmp_path: Path, capsys) -> str:
    print_summary(Settings.under(tmp_path))
    return capsys.readouterr().out


@pytest.fixture
def warehouse(tmp_path):
    path = Settings.under(tmp_path).warehouse
    path.parent.mkdir(parents=True)
    return path


def test_summary_without_a_warehouse_says_so(tmp_path, capsys):
    assert "no warehouse at" in summary_text(tmp_path, capsys)


def test_summary_on_spark_before_any_run_there_says_so_without_a_jvm(tmp_path, capsys, monkeypatch):
    """The tables on Spark are read only when the Spark home has a catalogue (the figures themselves are compared
    with DuckDB's in tests/test_dagster_job_on_spark.py)."""
    monkeypatch.setenv("CROSSDOCK_WAREHOUSE_ENGINE", "spark")
    monkeypatch.setenv("CROSSDOCK_SPARK_HOME", str(tmp_path / "spark"))
    monkeypatch.setattr("crossdock.spark.spark_session", lambda: pytest.fail("a Spark session was started"))
    out = summary_text(tmp_path, capsys)
    assert f"no tables on Spark at {tmp_path / 'spark'} yet" in out and "CROSSDOCK_WAREHOUSE_ENGINE=spark" in out


def test_summary_of_an_empty_warehouse_says_nothing_is_built(tmp_path, warehouse, capsys):
    duckdb.connect(str(warehouse)).close()
    out = summary_text(tmp_path, capsys)
    assert "nothing ingested yet" in out
    assert f"published tables: 0 of {len(plan_tables())} built" in out
    assert all(f"publish.{t:<28} not built" in out for t in plan_tables())
    assert "nothing published yet" in out
    assert "safety stock" not in out and "transfers" not in out


def test_summary_of_empty_tables_counts_zeros_even_in_an_all_varchar_table(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        for table in plan_tables():
            create_empty(conn, "publish", table, all_varchar=table == "transfer_recommendations")
        create_empty(conn, "audit", "ingest_ledger")
        assert conn.execute(
            "select distinct data_type from information_schema.columns where table_name = 'transfer_recommendations'"
        ).fetchall() == [("VARCHAR",)]
    out = summary_text(tmp_path, capsys)
    assert "ingest: 0 files, 0 rows received = 0 loaded + 0 quarantined + 0 rejected + 0 duplicates skipped" in out
    assert f"published tables: {len(plan_tables())} of {len(plan_tables())} built" in out
    assert all(f"publish.{t:<28} 0 rows" in out for t in plan_tables())
    assert "inventory: 0 SKU x node with an order to place; actions none (empty plan)" in out
    assert "safety stock value: EUR 0" in out
    assert "transfers before purchases: 0 recommended, 0 units, saving EUR 0" in out
    assert "compliance: 0 flags on 0 SKU x market x route rows {}" in out
    assert "orders landed: 0 orders, duty EUR 0, VAT EUR 0, fees EUR 0; the shoppers' landed cost (goods, shipping, duty, VAT, fees) EUR 0" in out
    assert "planning date" not in out and "forecast backtest WAPE" not in out


def test_summary_of_a_small_warehouse_with_some_tables_reports_their_figures(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        for table in ("forecast_accuracy", "demand_forecast", "inventory_plan", "transfer_recommendations", "order_landed_cost",
                      "scenario_impact", "scenario_summary"):
            create_empty(conn, "publish", table)
        create_empty(conn, "audit", "ingest_ledger")
        insert(conn, "audit", "ingest_ledger", [
            {"file_id": "a", "rows_received": 1200, "rows_loaded": 1100, "rows_quarantined": 60, "rows_rejected": 0, "rows_duplicate": 40,
             "status": "loaded"},
            {"file_id": "b", "rows_received": 10, "rows_loaded": 0, "rows_quarantined": 0, "rows_rejected": 10, "rows_duplicate": 0,
             "status": "rejected"},
            # a's bytes rejected before, landed where no mapping read them: one file whose rows loaded, not two
            {"file_id": "a", "rows_received": 1200, "rows_loaded": 0, "rows_quarantined": 0, "rows_rejected": 1200,
             "rows_duplicate": 0, "status": "rejected"},
        ])
        insert(conn, "publish", "forecast_accuracy", [
            {"scope": "overall", "model": "lightgbm", "weekly_wape": 0.5, "rmsse": 0.9, "wape": 0.6, "bias": -0.05,
             "coverage_p10_p90": 0.81, "as_of": "2026-09-27"},
            {"scope": "overall", "model": "seasonal_naive_7", "weekly_wape": 0.8, "rmsse": 1.2, "wape": 0.8, "as_of": "2026-09-27"},
            {"scope": "overall", "model": "zero", "weekly_wape": 1.0, "rmsse": 1.1, "wape": 1.0, "as_of": "2026-09-27"},
            {"scope": "overall", "model": "mean_28", "weekly_wape": 0.75, "wape": 0.75, "as_of": "2026-09-27"},
            {"scope": "overall", "model": "auto_ets", "weekly_wape": 0.7, "wape": 0.7, "as_of": "2026-09-27"},
            {"scope": "market", "model": "lightgbm", "wape": 9.9, "as_of": "2026-09-27"},
        ])
        insert(conn, "publish", "demand_forecast", [
            {"sku": "A", "market": "US", "model_version": "v1", "as_of": "2026-09-30"},
            {"sku": "B", "market": "US", "model_version": "v1", "as_of": "2026-09-30"},
        ])
        insert(conn, "publish", "inventory_plan", [
            {"sku": "A", "node": "US-EWR", "action": "reorder now", "safety_stock_value_eur": 1234.4, "recommended_order_qty": 48,
             "purchase_after_transfers": 8, "purchase_value_eur": 80.0},  # 40 transferred in
            {"sku": "B", "node": "US-EWR", "action": "ok", "safety_stock_value_eur": None},  # no unit cost
            {"sku": "C", "node": "NL-AMS", "action": "expedite or transfer", "safety_stock_value_eur": 1000.0,
             "recommended_order_qty": 12, "purchase_after_transfers": 12, "purchase_value_eur": 420.5},  # an order too
        ])
        insert(conn, "publish", "transfer_recommendations", [
            {"sku": "A", "units": 40, "saving_eur": 120.5, "recommended": True},
            {"sku": "C", "units": 10, "saving_eur": -3.0, "recommended": False},
        ])
        insert(conn, "publish", "scenario_impact", [
            {"scenario": AS_PLANNED, "sku": "A", "node": "US-EWR", "shortfall_units": 30.0, "contingency": "reroute",
             "contingency_cost_eur": 4.5},
            {"scenario": AS_PLANNED, "sku": "C", "node": "NL-AMS", "shortfall_units": 10.0, "contingency": "none feasible",
             "contingency_cost_eur": 50.0},  # the least bad lands too late: not counted as a fix
            {"scenario": "demand +30% in US", "sku": "B", "node": "US-EWR", "shortfall_units": 99.0, "contingency": "expedite",
             "contingency_cost_eur": 700.0},  # a what-if, not the plan's own need
        ])
        insert(conn, "publish", "scenario_summary", [
            {"scenario": "NL-AMS inbound +7 days", "sku_nodes_earlier": None,  # first by name, last as not run
             "outcome": "not run: no open purchase order line"},
            {"scenario": AS_PLANNED, "sku_nodes_earlier": 2,
             "outcome": "2 SKU x node run out before a purchase placed today could land"},
            {"scenario": "demand +30% in US", "sku_nodes_earlier": 1,
             "outcome": "1 SKU x node stock out earlier than in the plan (0 of them newly); each has a feasible fix"},
            {"scenario": "S1 out 4 weeks", "sku_nodes_earlier": 0, "outcome": "no SKU x node stocks out earlier than in the plan"},
        ])
        insert(conn, "publish", "order_landed_cost", [
            {"order_id": "O1", "duty_eur": 2.0, "vat_eur": 10.0, "fees_eur": None, "landed_cost_eur": 62.0},
            {"order_id": "O2", "duty_eur": None, "vat_eur": 5.0, "fees_eur": None, "landed_cost_eur": 40.0},
        ])
    out = summary_text(tmp_path, capsys)
    assert "ingest: 2 files, 1,210 rows received = 1,100 loaded + 60 quarantined + 10 rejected + 40 duplicates skipped" in out
    assert f"published tables: 7 of {len(plan_tables())} built" in out
    assert "publish.demand_forecast              2 rows" in out
    assert "publish.supply_chain_view            not built" in out
    assert "planning date (forecast origin): 2026-09-30" in out
    assert ("forecast backtest weekly WAPE: LightGBM 0.500 vs seasonal naive 0.800, 28-day mean 0.750, zero 1.000, AutoETS 0.700 "
            "(ratio to naive 0.62); "
            "RMSSE 0.900 vs 1.200; daily p50 WAPE 0.600 vs 0.800; p50 bias -0.050; p10-p90 coverage 0.810") in out
    assert "forecast last proven 2026-09-27 (3 days ago, weekly WAPE 0.500 vs naive 0.800)" in out  # a reused backtest
    assert "forecast model: " in out and str(Settings.under(tmp_path).models / "v1") in out
    assert ("inventory: 2 SKU x node with an order to place (2 still to buy after transfers, EUR 500 at unit cost); "
            "actions {'expedite or transfer': 1, 'ok': 1, 'reorder now': 1}") in out
    assert "safety stock value: EUR 2,234" in out  # the known values; the SKU without a cost adds nothing
    assert "transfers before purchases: 1 recommended, 40 units, saving EUR 120" in out
    assert ("stock-outs before a purchase can land: 2 SKU x node, 40 units short; cheapest fixes none feasible 1, reroute 1 "
            "(EUR 4 for those that land in time;") in out
    assert "orders landed: 2 orders, duty EUR 2, VAT EUR 15, fees EUR n/a; the shoppers' landed cost (goods, shipping, duty, VAT, fees) EUR 102" in out
    # every scenario the run stressed, the plan's own line above, those not run last
    assert ("scenario S1 out 4 weeks: no SKU x node stocks out earlier than in the plan\n"
            "scenario demand +30% in US: 1 SKU x node stock out earlier than in the plan (0 of them newly); "
            "each has a feasible fix\n"
            "scenario NL-AMS inbound +7 days: not run: no open purchase order line\n") in out
    assert f"scenario {AS_PLANNED}" not in out
    assert "compliance:" not in out  # compliance_plan not built


def test_summary_says_n_a_for_what_the_warehouse_cannot_tell(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "inventory_plan")
        insert(conn, "publish", "inventory_plan", [{"sku": "A", "node": "US-EWR", "action": "ok"}])
        create_empty(conn, "publish", "forecast_accuracy")
        insert(conn, "publish", "forecast_accuracy", [
            {"scope": "overall", "model": "lightgbm", "weekly_wape": 0.5, "wape": 0.5},
            {"scope": "overall", "model": "seasonal_naive_7", "weekly_wape": 0.0, "wape": 0.0},
        ])
        summary = collect_summary(conn)
    out = format_summary(Settings.under(tmp_path), summary)
    assert "safety stock value: EUR n/a" in out
    assert ("LightGBM 0.500 vs seasonal naive 0.000 (ratio to naive n/a); RMSSE n/a vs n/a; daily p50 WAPE 0.500 vs 0.000; "
            "p50 bias n/a; p10-p90 coverage n/a") in out
    assert "forecast last proven" not in out  # no as_of: the date is unknown


@pytest.mark.parametrize(("naive_interval", "zero_interval", "model_wape", "said"), [
    ((0.9, 2.0), (0.85, 1.5), 1.29, "forecast not proven by the backtest of 2018-01-31: the weeks the backtest scored "
     "cannot tell the forecast from seasonal_naive_7 or mean_28 or zero (the interval of their ratio holds 1); it is published "
     "unproven; weekly_wape 1.290 cannot be told from seasonal_naive_7 0.800 (ratio 1.613, 90% interval 0.900-2.000)"),
    ((0.5, 0.9), (0.4, 0.6), 0.5, "forecast last proven 2018-01-31"),
    ((1.2, 2.0), (1.1, 1.5), 1.29, "forecast did not beat the baselines in the backtest of 2018-01-31: weekly_wape 1.290 "
     "does not beat seasonal_naive_7 0.800"),
])
def test_the_summary_calls_a_forecast_proven_only_when_the_check_judged_and_passed_it(
    tmp_path, warehouse, capsys, naive_interval, zero_interval, model_wape, said
):
    """A sparse merchant's forecast is published unproven (its series cannot tell it from a baseline): it is not
    "proven"."""
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "forecast_accuracy")
        insert(conn, "publish", "forecast_accuracy", [
            {"scope": "overall", "model": model, "weekly_wape": wape, "wape": wape, "model_ratio_low": low,
             "model_ratio_high": high, "as_of": "2018-01-31"}
            for model, wape, (low, high) in (("lightgbm", model_wape, (1.0, 1.0)), ("seasonal_naive_7", 0.8, naive_interval),
                                              ("mean_28", 0.8, naive_interval), ("zero", 1.0, zero_interval))
        ])
    out = summary_text(tmp_path, capsys)
    assert said in out
    assert ("forecast last proven" in out) == (said.startswith("forecast last proven"))


def test_the_summary_says_why_a_model_that_failed_its_check_is_still_the_forecast(tmp_path, warehouse, capsys):
    """It lost to forecasting nothing alone: no baseline that plans stock scored better (ml/fallback_forecast.py)."""
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "forecast_accuracy")
        insert(conn, "publish", "forecast_accuracy", [
            {"scope": "overall", "model": model, "weekly_wape": wape, "wape": wape, "as_of": "2018-01-31"}
            for model, wape in (("lightgbm", 1.2), ("seasonal_naive_7", 1.5), ("mean_28", 1.4), ("zero", 1.0))
        ])
        create_empty(conn, "publish", "demand_forecast")
        insert(conn, "publish", "demand_forecast", [{"sku": "A", "market": "US", "model_version": "lgbm-quantile-20180131-ab",
                                                      "as_of": "2018-01-31", "mean": 1.0}])
    out = summary_text(tmp_path, capsys)
    assert "forecast did not beat the baselines in the backtest of 2018-01-31" in out
    assert "forecast kept: the model's forecast is published unproven: no baseline that plans stock scored better" in out


def test_the_summary_says_when_the_forecast_is_a_baselines(tmp_path, warehouse, capsys):
    """A model that lost its backtest is replaced by the best baseline (ml/fallback_forecast.py): said loudly, with no
    model folder to point at."""
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "demand_forecast")
        insert(conn, "publish", "demand_forecast", [
            {"sku": "A", "market": "US", "model_version": "baseline-mean_28-20180126", "as_of": "2018-01-26", "mean": 1.0},
        ])
    out = summary_text(tmp_path, capsys)
    assert "FORECAST FROM A BASELINE: baseline-mean_28-20180126" in out and "forecast model:" not in out
    assert "forecast kept" not in out


def test_the_summary_says_what_the_plan_leaves_out_and_what_it_assumes(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "market_coverage")
        insert(conn, "publish", "market_coverage", [
            {"country": "DE", "coverage": "market", "market": "DE", "units_sold": 900},
            {"country": "AT", "coverage": "catch_all", "market": "ROW", "units_sold": 40},
            {"country": "BR", "coverage": "not_covered", "units_sold": 25},
            {"country": "MX", "coverage": "not_covered", "units_sold": 60},
        ])
        create_empty(conn, "publish", "inventory_plan")
        insert(conn, "publish", "inventory_plan", [
            # the plan's assumed 30 days, where crossdock.yaml now says 45: a later run rewrote config.assumptions
            {"sku": "A", "node": "DE-LEJ", "lead_time_source": "assumed default", "lead_time_days": 30.0,
             "stock_basis": "unknown: no inventory feed for this node", "action": "no stock data: targets only"},
            {"sku": "B", "node": "DE-LEJ", "lead_time_source": "quoted",
             "stock_basis": "unknown: no inventory feed for this node", "action": "no stock data: targets only"},
        ])
        conn.execute("create schema marts")
        conn.execute("create table marts.dim_sku as select * from (values "
                     "('A', 'assumed: share of median selling price', null, 4.0), ('B', 'catalogue', 'SUP-1', 3.0), "
                     "('C', 'assumed: share of median selling price (catalogue cost 0.0 EUR is no cost to plan with)', "
                     "'SUP-1', 5.0), "  # in a catalogue, sold: its cost assumed, its MOQ and pack the catalogue's
                     "('D', 'assumed: share of median selling price (catalogue cost 0.0 EUR is no cost to plan with)', "
                     "'SUP-1', null)"  # never sold: no cost at all (NOT PLANNED if held), not an assumed one
                     ") as t(sku, cost_basis, primary_supplier_id, unit_cost_eur)")
        conn.execute("create schema config")
        conn.execute("create table config.assumptions as select 45 as lead_time_days, 0.4 as unit_cost_share_of_price, "
                     "1 as moq, 6 as pack_size")
        conn.execute("create schema intermediate")
        conn.execute("create table intermediate.int_shipments (shipment_id varchar)")  # no carrier event loaded
    text = summary_text(tmp_path, capsys)
    assert "markets: 1 countries planned as their own market; 1 in the catch-all market (40 units sold)" in text
    assert "NOT PLANNED: 85 units sold to 2 countries crossdock.yaml does not cover (MX, BR)" in text
    assert "assumed: 1 SKUs are in no supplier catalogue: unit cost = 40% of the median selling price, MOQ 1, pack size 6" in text
    assert ("assumed: 1 SKUs have a catalogue cost that cannot be planned with (0, or in a currency without an ECB rate): "
            "unit cost = 40% of the median selling price, their other terms the catalogue's") in text
    assert "assumed: 1 SKUs have no supplier lead time: 30 days" in text
    assert "unknown: stock at DE-LEJ (no inventory feed): targets only" in text
    assert ("unknown: delivery times and customs holds (no carrier tracking event loaded up to the planning date): "
            "publish.lane_performance") in text


def test_carrier_events_naming_an_order_no_export_holds_are_said(tmp_path, warehouse, capsys):
    """A steward's review: a tracking event for an order the orders feed never sent loaded without a word, and its
    customs hold counted under chapter 'unknown'."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema intermediate")
        conn.execute("create table intermediate.int_shipments as select * from (values ('S1', 'O1'), ('S2', 'O-GONE'), "
                     "('S3', null)) as t(shipment_id, order_id)")  # S3: a transfer between nodes names no order
        conn.execute("create schema raw")
        conn.execute("create table raw.orders as select 'O1' as order_id")
    text = summary_text(tmp_path, capsys)
    assert "unknown: the order of 1 of 2 shipments with carrier events (no line of it loaded: never sent, or quarantined)" in text


def test_a_merchant_whose_feeds_say_it_all_gets_no_assumption_lines(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "inventory_plan")
        insert(conn, "publish", "inventory_plan", [{"sku": "A", "node": "N1", "lead_time_source": "receipts",
                                                     "stock_basis": "inventory snapshot", "action": "ok"}])
        conn.execute("create schema intermediate")
        conn.execute("create table intermediate.int_shipments as select 'S1' as shipment_id, 'O1' as order_id")
        conn.execute("create schema raw")
        conn.execute("create table raw.orders as select 'O1' as order_id")
    text = summary_text(tmp_path, capsys)
    assert "assumed:" not in text and "unknown:" not in text and "NOT PLANNED" not in text


def test_summary_says_when_the_forecast_model_was_trained_and_when_it_retrains(tmp_path, warehouse, capsys):
    settings = Settings.under(tmp_path)
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "demand_forecast")
        insert(conn, "publish", "demand_forecast", [{"sku": "A", "market": "US", "model_version": "v1", "as_of": "2026-11-01"}])
    (settings.models / "v1").mkdir(parents=True)
    (settings.models / "v1" / "manifest.json").write_text('{"model_version": "v1", "as_of": "2026-10-30"}')
    assert "forecast model trained 2026-10-30, reused for 2 days; retrains when 7 days old" in summary_text(tmp_path, capsys)

    settings.config.write_text(
        "nodes: [{code: WH1, country: DE}]\n"
        "markets: [{code: DE, currency: EUR, timezone: Europe/Berlin, node: WH1}]\n"
        "forecast: {retrain_every_days: 3}\n"
    )
    (settings.models / "v1" / "manifest.json").write_text('{"model_version": "v1", "as_of": "2026-11-01"}')
    assert "forecast model trained 2026-11-01, for this planning date; retrains when 3 days old" in summary_text(tmp_path, capsys)


def test_the_summary_says_how_much_of_what_sold_were_bulk_orders(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "forecast_accuracy")
        insert(conn, "publish", "forecast_accuracy", [
            {"scope": "overall", "model": "lightgbm", "weekly_wape": 0.8, "actual_units": 131_328.0, "bulk_units": 69_252.0,
             "mean_bias": -0.51, "mean_bias_regular": 0.03, "as_of": "2026-09-27"},
            {"scope": "overall", "model": "seasonal_naive_7", "weekly_wape": 0.9, "as_of": "2026-09-27"},
        ])
    out = summary_text(tmp_path, capsys)
    assert ("forecast backtest: 69,252 of 131,328 units sold were bulk orders the forecast leaves out (53%; plan them as "
            "known orders); mean bias -0.510 on all that sold, +0.030 on the regular demand") in out
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("update publish.forecast_accuracy set bulk_units = 0")
    assert "bulk orders" not in summary_text(tmp_path, capsys)


def test_the_summary_gives_the_s_and_op_cycle_the_last_cycle_scored_and_the_open_exceptions(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        for table in ("demand_forecast", "demand_plan", "forecast_overrides", "forecast_value_added", "exceptions"):
            create_empty(conn, "publish", table)
        insert(conn, "publish", "exceptions", [
            {"exception_id": "expedite:A:X", "type": "expedite", "is_open": True},
            {"exception_id": "expedite:B:X", "type": "expedite", "is_open": False},
            {"exception_id": "excess:C:X", "type": "excess", "is_open": True},
        ])
        insert(conn, "publish", "demand_forecast", [{"sku": "A", "market": "DE", "as_of": "2026-10-30"}])
        insert(conn, "publish", "demand_plan", [
            {"cycle": "2026-09", "planning_date": "2026-09-30", "statistical_mean": 5.0, "mean": 9.0},
            {"cycle": "2026-10", "planning_date": "2026-10-30", "statistical_mean": 100.0, "mean": 80.0},
            {"cycle": "2026-10", "planning_date": "2026-10-30", "statistical_mean": 100.0, "mean": 100.0},
        ])
        insert(conn, "publish", "forecast_overrides", [
            {"cycle": "2026-10", "override_id": "a", "status": "applied"},
            {"cycle": "2026-10", "override_id": "b", "status": "expired"},
            {"cycle": "2026-09", "override_id": "c", "status": "applied"},
        ])
        insert(conn, "publish", "forecast_value_added", [
            {"cycle": "2026-09", "scope": "all", "scope_value": "all", "stage": stage, "days_scored": 30,
             "horizon_days": 56, "wape": wape, "value_added": added}
            for stage, wape, added in (("seasonal naive", 0.5, None), ("statistical", 0.4, 0.1), ("consensus", 0.45, -0.05))
        ])
    out = summary_text(tmp_path, capsys)
    assert ("S&OP cycle 2026-10: overrides 1 applied, 1 expired (publish.forecast_overrides says why); consensus 180 units over the horizon vs "
            "statistical 200 (0.900x); the inventory plan uses the consensus") in out
    assert ("forecast value added, cycle 2026-09 (30 of 56 days with actuals), weekly WAPE: seasonal naive 0.500, "
            "statistical 0.400 (value added +0.100), consensus 0.450 (value added -0.050)") in out
    assert "exceptions: 2 open {'excess': 1, 'expedite': 1} (`crossdock exceptions` lists them)" in out


def forecast_and_history(warehouse, forecast: tuple[str, str, str], history: list[tuple[str, str, str, float]]) -> None:
    """A published forecast of one series (sku, market, as_of) on its first day, and the demand history's rows."""
    sku, market, as_of = forecast
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "demand_forecast")
        insert(conn, "publish", "demand_forecast", [{"sku": sku, "market": market, "as_of": as_of, "horizon": 1,
                                                    "forecast_date": str(dt.date.fromisoformat(as_of) + dt.timedelta(days=1))}])
        conn.execute("create schema marts")
        conn.execute("create table marts.fct_daily_demand (sku varchar, market varchar, demand_date date, units_sold double)")
        conn.executemany("insert into marts.fct_daily_demand values (?, ?, ?::date, ?)", history)


@pytest.mark.parametrize(("gone_units", "said"), [
    (900, "NOT FORECAST: 1 series that sold 900 units (90% of the last 364 days') have not sold in the last 91 days"),
    (5, "not forecast: 1 series that sold 5 units (5% of the last 364 days')"),  # under a tenth: said quietly
])
def test_the_summary_says_how_much_of_the_years_units_left_the_forecast(tmp_path, warehouse, capsys, gone_units, said):
    """The DataCo export's biggest sellers stopped months before its end: 93 % of the year's units in series no
    longer forecast, said once in the run's log; the summary says it on every run, from the tables."""
    forecast_and_history(warehouse, ("KEPT", "DE", "2018-01-31"), [
        ("KEPT", "DE", "2018-01-30", 100), ("GONE", "DE", "2017-09-01", gone_units),
        ("OLD", "DE", "2016-01-01", 5000), ("LATER", "DE", "2018-02-03", 7000)])  # OLD: over a year ago; LATER: after
    out = summary_text(tmp_path, capsys)
    assert said in out and "so they are not forecast and nothing is planned for them" in out


def test_transfers_of_skus_without_a_weight_are_said_to_be_priced_without_freight_per_kg(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "transfer_recommendations")
        insert(conn, "publish", "transfer_recommendations", [
            {"sku": sku, "from_node": "A", "to_node": "B", "units": 3} for sku in ("LIGHT", "UNKNOWN", "UNKNOWN")])
        conn.execute("create schema marts")
        conn.execute("create table marts.dim_sku as select * from (values ('LIGHT', 0.5), ('UNKNOWN', null)) "
                     "as t(sku, weight_kg)")
    assert ("assumed: 1 SKUs in publish.transfer_recommendations have no weight (marts.dim_sku.weight_kg): their "
            "transfers are priced at the lane's fixed cost only") in summary_text(tmp_path, capsys)


def test_nothing_is_said_of_series_leaving_the_forecast_when_none_did(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "demand_forecast")
        insert(conn, "publish", "demand_forecast", [{"sku": "KEPT", "market": "DE", "as_of": "2018-01-31"}])
        conn.execute("create schema marts")
        conn.execute("create table marts.fct_daily_demand as select 'KEPT' as sku, 'DE' as market, "
                     "date '2018-01-30' as demand_date, 3.0 as units_sold")
    assert "not forecast" not in summary_text(tmp_path, capsys).lower()


def test_the_summary_says_which_market_the_training_data_gate_held_back(tmp_path, warehouse, capsys):
    """A market whose series sold lately but are not in the published forecast was held back by the gate (the
    forecast gate asks for every other series that sold lately): said by market, apart from the stopped series."""
    forecast_and_history(warehouse, ("A", "US", "2026-10-30"), [
        ("A", "US", "2026-10-30", 100), ("A", "AU", "2026-10-10", 30), ("B", "AU", "2026-10-01", 12),
        ("C", "US", "2026-03-01", 4)])  # C: stopped selling in March, no longer forecast
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "market_coverage")
        insert(conn, "publish", "market_coverage", [{"country": c, "coverage": "market", "market": c, "units_sold": 1}
                                                    for c in ("AU", "US")])
    out = summary_text(tmp_path, capsys)
    assert "markets: 2 countries planned as their own market; AU not forecast in this plan (see NOT FORECAST)" in out
    assert "or no run has forecast this market yet" in out  # no exception says so: it may be a per-market run's gap
    with duckdb.connect(str(warehouse)) as conn:
        create_empty(conn, "publish", "exceptions")
        insert(conn, "publish", "exceptions", [{"exception_id": "market_held_back:AU", "type": "market_held_back",
                                                "market": "AU", "raised": True}])
    out = summary_text(tmp_path, capsys)
    assert ("the training-data gate held AU back, its own history having failed (`crossdock run` printed why and what "
            "to do; exception market_held_back:AU)") in out and "or no run has forecast this market yet" not in out
    assert ("NOT FORECAST AU: 2 series that sold in the last 91 days (42 units in the last 364) are not in the published "
            "forecast: the training-data gate held AU back, its own history having failed") in out
    assert "not forecast: 1 series that sold 4 units (3% of the last 364 days') have not sold in the last 91 days" in out


def test_the_cycle_line_counts_override_statuses_by_their_first_words_not_as_a_dict():
    from cli.summary_lines import _override_counts

    statuses = {"applied": 11, "invalid: market XX is not planned (the markets: DE, FR; ...)": 2,
                "invalid: SKU AA is in neither the forecast nor the catalogue": 1, "withdrawn": 1}
    assert _override_counts(statuses) == "11 applied, 3 invalid, 1 withdrawn (publish.forecast_overrides says why)"
    assert _override_counts({"applied": 2}) == "2 applied" and _override_counts({}) == "none"


def test_the_ingest_line_says_how_many_quarantined_rows_are_still_open(tmp_path, warehouse, capsys):
    """An onboarding merchant's test: after 738 rows were fixed and sent back, the summary still read '742
    quarantined', and 'received' counted those rows twice; which were still open it did not say."""
    from feeds.ingest import ingest_feed

    try:
        from feed_files import ORDERS_HEADER, write
    except ImportError:  # tests/ imported as a package
        from tests.feed_files import ORDERS_HEADER, write

    landing = tmp_path / "landing"
    write(landing / "orders/orders_2025-01-03.csv", ORDERS_HEADER + "A1,1,2025-01-03T10:00:00Z,web,C,S,1,1,EUR,DE,N\n"
          "A2,1,2025-01-03T10:00:00Z,web,C,S,2,1,EUR,Germany,N\nA3,1,2025-01-03T10:00:00Z,web,C,S,2,1,EUR,Atlantis,N\n")
    with duckdb.connect(str(warehouse)) as conn:
        ingest_feed(conn, landing, "orders", "salt")
        write(landing / "orders/orders_2025-01-04_fixed.csv", ORDERS_HEADER + "A2,1,2025-01-03T10:00:00Z,web,C,S,2,1,EUR,DE,N\n")
        ingest_feed(conn, landing, "orders", "salt")
    out = summary_text(tmp_path, capsys)
    assert "4 rows received = 2 loaded + 2 quarantined" in out
    assert "quarantine: 1 of 2 rows still open (the rest loaded since, fixed or re-sent)" in out


def test_the_summary_counts_the_lines_that_are_no_stocked_good_and_names_their_skus(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema staging")
        conn.execute("create table staging.stg_orders (order_id varchar, sku varchar, stocked boolean)")
        conn.execute("insert into staging.stg_orders values ('1', 'MUG', true), ('1', 'ROUTEINS', false), "
                     "('2', 'ROUTEINS', false), ('2', null, false), ('3', 'EBOOK-7', false)")
    out = summary_text(tmp_path, capsys)
    assert ("  not stocked: 4 order lines kept and never planned (gift cards, tips, shipping protection: line_type "
            "not_stocked, and every line of a SKU sent so), 1 without a SKU; SKUs: ROUTEINS, EBOOK-7") in out
    with duckdb.connect(str(warehouse)) as conn:  # a warehouse an older release built has no stocked column
        conn.execute("alter table staging.stg_orders drop column stocked")
    assert "not stocked" not in summary_text(tmp_path, capsys)


def test_the_summary_says_which_catalogue_skus_are_ordered_by_the_assumed_moq_or_pack_size(tmp_path, warehouse, capsys):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.dim_sku (sku varchar, primary_supplier_id varchar, unit_cost_eur double, "
                     "cost_basis varchar, order_terms_assumed boolean)")
        conn.execute("insert into marts.dim_sku values ('A', 'SUP-1', 2.0, 'catalogue', true), "
                     "('B', 'SUP-1', 2.0, 'catalogue', false), ('C', null, 1.0, 'assumed: share of median selling price', true)")
        conn.execute("create schema config")
        conn.execute("create table config.assumptions as select 30 as lead_time_days, 0.5 as unit_cost_share_of_price, "
                     "12 as moq, 6 as pack_size")
    out = summary_text(tmp_path, capsys)
    assert "assumed: MOQ 12 or pack size 6 for 1 SKU whose supplier line names none (marts.dim_sku.order_terms_assumed)" in out
    assert "assumed: 1 SKUs are in no supplier catalogue" in out  # C: said once, as uncatalogued
