"""The plan_exceptions asset on a hand-made warehouse: it reads the run's staged plan, stages publish.exceptions
with its declared types, and logs each planning day once however often the day is run."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pandas as pd
import yaml
from orchestration.lib.retries import WarehouseResource

from crossdock.plan_labels import AS_PLANNED, EXPEDITE
from crossdock.published import PUBLISH_MODELS_DIR, published_table
from orchestration.defs.sop.exceptions import plan_exceptions
from orchestration.lib.resources import MerchantConfigFile
from sop.exception_log import LOG_DDL, LOG_TABLE

AS_OF = dt.date(2026, 10, 30)


def _warehouse(path, as_of: dt.date = AS_OF, previous_landed: float | None = None) -> None:
    plan = pd.DataFrame([
        {"sku": "A", "node": "DE-FRA", "action": EXPEDITE, "on_hand": 3, "safety_stock": 20.0, "unit_cost_eur": 2.0,
         "lead_time_days": 30.0, "projected_stockout_date": pd.Timestamp("2026-11-04"), "recommended_order_qty": 40,
         "order_by_date": pd.Timestamp(as_of), "transfer_in_units": 0, "transfer_out_units": 0, "days_of_cover": 3.0,
         "excess_units": 0.0, "excess_value_eur": 0.0, "mean_daily_demand": 0.7, "moq": 1, "pack_size": 1,
         "supplier_id": "SUP-1", "as_of": pd.Timestamp(as_of)},
    ])
    impact = pd.DataFrame([{
        "scenario": AS_PLANNED, "sku": "A", "node": "DE-FRA", "shortfall_units": 12.0, "contingency": "expedite",
        "contingency_detail": "by air from SUP-1", "contingency_cost_eur": 48.0, "contingency_units": 12,
        "contingency_arrival_date": pd.Timestamp("2026-11-03"), "as_of": pd.Timestamp(as_of)}])
    backtest = pd.DataFrame({"window": 1, "sku": "A", "market": "DE", "forecast_date": pd.date_range("2026-09-01", periods=4),
                             "mean": 20.0, "actual_regular": 10.0})
    compliance = pd.DataFrame([{"sku": "A", "market": "US", "fulfilment_node": "US-EWR", "is_primary_route": True,
                                "landed_cost_eur_per_unit": 12.5, "duty_rate": 0.1, "vat_rate": 0.0,
                                "de_minimis_regime": "us_de_minimis_suspended"}])
    # the consensus made ben's overrides worse in the last cycle scored
    value_added = pd.DataFrame({"cycle": "2026-09", "scope": ["all", "author"], "scope_value": ["all", "ben"],
                                "stage": "consensus", "value_added": [0.01, -0.2], "days_scored": 30, "horizon_days": 56,
                                "actual_units": [400.0, 120.0]})
    with duckdb.connect(str(path)) as conn:
        for schema in ("plan_next", "publish", "staging"):
            conn.execute(f"create schema if not exists {schema}")
        for name, frame in (("inventory_plan", plan), ("scenario_impact", impact), ("forecast_backtest", backtest),
                            ("compliance_plan", compliance), ("forecast_value_added", value_added)):
            conn.register("frame", frame)
            conn.execute(f"create or replace table plan_next.{name} as select * from frame")
            conn.unregister("frame")
        conn.execute("create schema if not exists marts")
        conn.execute("create schema if not exists intermediate")
        # one line 10 days past its expected arrival (raised), one expected 3 days ago (not yet)
        conn.execute(f"""create or replace table intermediate.int_open_po_arrivals as select * from (values
            ('PO-1', 1, 'SUP-1', 'A', 'DE-FRA', 25, date '2026-09-01', date '{as_of}' - 12, date '{as_of}' - 10),
            ('PO-2', 1, 'SUP-1', 'A', 'DE-FRA', 40, date '2026-09-01', date '{as_of}' - 5, date '{as_of}' - 3)
        ) as t(po_id, po_line, supplier_id, sku, node, quantity, ordered_date, promised_date, expected_arrival_date)""")
        conn.execute(f"""create or replace table plan_next.demand_forecast as select * from (values
            ('A', 'DE', date '{as_of}', date '{as_of}' + 1, false), ('B', 'US', date '{as_of}', date '{as_of}' + 1, true),
            ('B', 'US', date '{as_of}', date '{as_of}' + 2, true)) as t(sku, market, as_of, forecast_date, stopped)""")
        conn.execute("""create or replace table marts.fct_daily_demand as select * from (values
            ('B', 'US', date '2026-09-18', 5.0::double), ('B', 'US', date '2026-09-19', 1.0), ('B', 'US', date '2026-09-20', 3.0),
            ('B', 'US', date '2026-09-25', 0.0), ('A', 'DE', date '2026-10-01', 2.0)
        ) as t(sku, market, demand_date, units_sold)""")
        # C sells 2 a day, and 20 a day in the 56 days that are the same weeks last year as the plan's horizon;
        # the consensus plans 2 a day: under half of last year's shape at DE's growth (about 1)
        conn.execute(f"""insert into marts.fct_daily_demand
            select 'C', 'DE', day::date, case when day between date '{as_of}' - 363 and date '{as_of}' - 308 then 20.0 else 2.0 end
            from range(date '2025-01-01', date '{as_of}' + 1, interval 1 day) as t(day)""")
        # every stored cycle is staged (sop/cycle_store.py): a later one, as a back-dated run finds, is not this run's
        conn.execute(f"""create or replace table plan_next.demand_plan as
            select date '{as_of}' + cycle_offset::integer as planning_date, 'C' as sku, 'DE' as market,
                (date '{as_of}' + cycle_offset::integer + h::integer)::date as demand_date, 2.0 as mean
            from range(1, 57) as t(h), (values (0), (364)) as cycles(cycle_offset)""")
        if previous_landed is not None:
            conn.execute("create or replace table publish.compliance_plan as select * from plan_next.compliance_plan")
            conn.execute(f"update publish.compliance_plan set landed_cost_eur_per_unit = {previous_landed}, "
                         "de_minimis_regime = 'us_de_minimis', duty_rate = 0.0")
        conn.execute("""
            create or replace table staging.stg_exception_updates as select * from (values
                ('expedite:A:DE-FRA', timestamp '2026-10-30 09:00:00', 'ben', 'acknowledged', 'ben', 'asked the forwarder')
            ) as t(exception_id, updated_at_utc, updated_by, status, owner, note)
        """)


def _materialize(path, tmp_path) -> dict:
    result = dg.materialize([plan_exceptions], resources={
        "warehouse": WarehouseResource(database=str(path)),
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),  # no file: the defaults
    })
    assert result.success
    [event] = result.asset_materializations_for_node("publish__exceptions")
    return {k: v.value for k, v in event.metadata.items()}


def test_the_asset_stages_the_exceptions_and_logs_a_day_once(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path, previous_landed=10.0)
    first = _materialize(path, tmp_path)
    assert (first["dagster/row_count"], first["open"]) == (7, 7)
    assert "| expedite " in first["by_type"] and "| landed_cost_jump " in first["by_type"]
    assert "| negative_fva " in first["by_type"]
    with duckdb.connect(str(path)) as conn:
        rows = conn.execute("select exception_id, status, owner, fix_cost_eur from plan_next.exceptions order by 1").fetchall()
        types = conn.execute("select column_name, lower(data_type) from information_schema.columns "
                             "where table_schema = 'plan_next' and table_name = 'exceptions' order by ordinal_position").fetchall()
    assert rows == [("expedite:A:DE-FRA", "acknowledged", "ben", 48.0), ("forecast_bias:A:DE", "open", "demand planner", None),
                    ("landed_cost_jump:A:US", "open", "compliance", None), ("negative_fva:author:ben", "open", "demand planner", None),
                    ("overdue_purchase_order:PO-1:2026-10-18", "open", "supply planner", None),
                    ("stopped_selling:B:US", "open", "demand planner", None),
                    ("unlike_last_year:C:DE", "open", "demand planner", None)]
    assert types == list(published_table("exceptions").schema)
    with duckdb.connect(str(path)) as conn:
        [(problem, units)] = conn.execute(
            "select problem, units_affected from plan_next.exceptions where type = 'stopped_selling'").fetchall()
    assert problem.startswith("no sale since 2026-09-20 (")  # its last day with units sold, not its last row
    assert units == 4.0 and problem.endswith("it sold 4 units in the 2 days before")  # the forecast's 2 days: 09-19, 09-20
    with duckdb.connect(str(path)) as conn:
        [(problem, units, value)] = conn.execute(
            "select problem, units_affected, value_eur from plan_next.exceptions where type = 'overdue_purchase_order'").fetchall()
    assert (units, value) == (25.0, 50.0) and "expected by 2026-10-20" in problem and "10 days ago" in problem

    # the same day again, after the previous plan was published: the jump is no longer seen, but stays raised
    with duckdb.connect(str(path)) as conn:
        conn.execute("create or replace table publish.compliance_plan as select * from plan_next.compliance_plan")
    second = _materialize(path, tmp_path)
    assert second["open"] == 7
    with duckdb.connect(str(path)) as conn:
        logged = conn.execute(f"select as_of, count(*) from {LOG_TABLE} group by all").fetchall()
    assert logged == [(AS_OF, 7)]


def test_the_logs_ddl_is_the_documented_table():
    document = yaml.safe_load((PUBLISH_MODELS_DIR / "_published_by_dagster.yml").read_text())
    [audit] = [s for s in document["sources"] if s["name"] == "audit"]
    [log] = [t for t in audit["tables"] if t["name"] == "exception_log"]
    with duckdb.connect() as conn:
        conn.execute("create schema audit")
        conn.execute(LOG_DDL)
        actual = conn.execute("select column_name, lower(data_type) from information_schema.columns "
                              "where table_name = 'exception_log' order by ordinal_position").fetchall()
    assert actual == [(c["name"], c["data_type"]) for c in log["columns"]]


def test_forecast_bias_judges_the_forecast_the_plan_runs_on(tmp_path):
    """A baseline's forecast published in the model's place (ml/fallback_forecast.py) is the one judged, not the model's
    backtest mean the plan never used."""
    from crossdock.engine import as_warehouse
    from orchestration.defs.sop.exceptions import published_mean

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema plan_next")
        conn.execute("create table plan_next.forecast_backtest as select 1.0 as mean, 2.0 as mean_28, 3.0 as actual_regular")
        conn.execute("create table plan_next.demand_forecast as select 'lgbm-quantile-20261030-ab' as model_version")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert published_mean(as_warehouse(conn)) == "mean"
        conn.execute("update plan_next.demand_forecast set model_version = 'baseline-mean_28-20261030'")
        assert published_mean(as_warehouse(conn)) == '"mean_28"'
        conn.execute("update plan_next.demand_forecast set model_version = 'baseline-auto_ets-20261030'")
        assert published_mean(as_warehouse(conn)) == "mean"  # a backtest that did not store that baseline: the model's, as before
