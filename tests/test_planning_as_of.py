"""Planning as of a past day (`crossdock run --as-of`, the dbt asset's `as_of` config).

A small generated merchant is planned as of 30 days before its last order:
the forecast must start the day after, the plans must be dated that day, and
nothing after it may reach the training data, the published history, the
stock position or the open purchase orders.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

import cli.main as cli
from crossdock.dbt_cli import dbt_executable
from crossdock.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from demo.generate import generate
from demo.network import install_demo_config
from job_runs import run_daily_planning
from light_forecast import use_light_forecast

pytestmark = pytest.mark.e2e

END = dt.date(2026, 10, 30)  # the generator's last order day
AS_OF = END - dt.timedelta(days=30)
HORIZON_DAYS = 56


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    root = tmp_path_factory.mktemp("as_of")
    settings = Settings.under(root)
    generate(settings.landing, scale=0.05, seed=5, end=END, quiet=True)
    install_demo_config(settings.config)
    use_light_forecast(settings.config)
    from orchestration.defs.dbt.assets import as_of_run_config

    result = run_daily_planning(settings, run_config=as_of_run_config(AS_OF.isoformat()))
    yield settings, result


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")  # the days of UTC instants, as dbt's profile reads them
        return conn.execute(sql).fetchall()


def day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def test_the_job_succeeds_as_of_a_past_day(planned):
    settings, result = planned
    failures = [e.event_specific_data.error.message for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    assert query(settings, "select max(order_date) from staging.stg_orders") == [(END,)]  # later orders were loaded


def test_the_forecast_starts_the_day_after_as_of(planned):
    settings, _ = planned
    [(as_of, first, last, versions)] = query(
        settings, "select max(as_of), min(forecast_date), max(forecast_date), count(distinct as_of) from publish.demand_forecast"
    )
    assert versions == 1 and day(as_of) == AS_OF
    assert (day(first), day(last)) == (AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=HORIZON_DAYS))
    assert [day(d) for (d,) in query(settings, "select distinct as_of from publish.forecast_accuracy")] == [AS_OF]


def test_the_plans_are_dated_as_of(planned):
    settings, _ = planned
    for table in ("inventory_plan", "service_classes", "compliance_plan"):
        assert [day(d) for (d,) in query(settings, f"select distinct as_of from publish.{table}")] == [AS_OF], table
    [(first_day,)] = query(settings, "select min(date) from publish.inventory_projection")
    assert day(first_day) > AS_OF


def test_nothing_after_as_of_reaches_the_history(planned):
    settings, _ = planned
    assert query(settings, "select max(demand_date) from marts.fct_daily_demand") == [(AS_OF,)]
    assert query(settings, "select max(calendar_date), max(as_of) from intermediate.int_planning_calendar") == [(AS_OF, AS_OF)]
    assert query(settings, "select max(calendar_date) from publish.supply_chain_view") == [(AS_OF,)]
    assert query(settings, "select max(last_sale_date) <= ? from marts.dim_sku_market".replace("?", f"date '{AS_OF}'")) == [(True,)]
    [(last_priced,)] = query(settings, "select max(order_date) from publish.order_landed_cost")
    assert day(last_priced) <= AS_OF


def test_stock_and_purchase_orders_are_those_of_the_as_of_day(planned):
    settings, _ = planned
    [(snapshot, expected_snapshot)] = query(settings, f"""
        select (select max(snapshot_date) from intermediate.int_stock_position),
               (select max(snapshot_date) from staging.stg_inventory_snapshots where snapshot_date <= date '{AS_OF}')
    """)
    assert snapshot == expected_snapshot
    assert query(settings, "select max(snapshot_date) from staging.stg_inventory_snapshots")[0][0] > AS_OF  # later ones exist
    open_then = f"""
        select po_id, po_line from staging.stg_purchase_orders
        where ordered_date <= date '{AS_OF}' and status <> 'cancelled'
          and (status = 'open' or received_date > date '{AS_OF}')
    """
    arrivals = query(settings, "select po_id, po_line from intermediate.int_open_po_arrivals")
    assert sorted(arrivals) == sorted(query(settings, open_then))
    received_later = query(settings, f"""
        select count(*) from intermediate.int_open_po_arrivals
        join staging.stg_purchase_orders using (po_id, po_line) where status = 'received'
    """)[0][0]
    assert received_later > 0  # a line received after as_of was still on order that day
    [(on_order, open_units)] = query(settings, f"""
        select (select sum(on_order) from intermediate.int_stock_position),
               (select sum(quantity) from intermediate.int_open_po_arrivals)
    """)
    assert on_order == open_units
    [(receipts, received_by_then)] = query(settings, f"""
        select (select sum(n_receipts) from intermediate.int_sku_lead_times),
               (select count(*) from staging.stg_purchase_orders po
                join staging.stg_supplier_catalogue c on c.sku = po.sku and c.supplier_id = po.supplier_id and c.is_primary
                where po.status = 'received' and po.received_date <= date '{AS_OF}')
    """)
    assert receipts == received_by_then


def test_carrier_and_supplier_statistics_are_those_of_the_as_of_day(planned):
    """Lanes, promises, customs risk and supplier risk learn from the events and receipts up to as_of only."""
    settings, _ = planned
    [(events_later, last_event, last_pickup, shipments, shipped_by_then)] = query(settings, f"""
        select (select count(*) from staging.stg_carrier_events where cast(event_at_utc as date) > date '{AS_OF}'),
               (select max(coalesce(delivered_at_utc, picked_up_at_utc)) from intermediate.int_shipments),
               (select max(last_pickup_date) from publish.lane_performance),
               (select sum(shipments) from publish.lane_performance),
               (select count(distinct shipment_id) from staging.stg_carrier_events
                where cast(event_at_utc as date) <= date '{AS_OF}')
    """)
    assert events_later > 0  # later events exist and were left out
    assert day(last_event) <= AS_OF and day(last_pickup) <= AS_OF
    assert shipments <= shipped_by_then
    # a parcel picked up by then and delivered later was in transit that day: no delivery, counted as not delivered
    [(in_transit, delivered_later)] = query(settings, f"""
        with later as (
            select shipment_id from staging.stg_carrier_events group by shipment_id
            having min(case when event_type = 'picked_up' then cast(event_at_utc as date) end) <= date '{AS_OF}'
               and max(case when event_type = 'delivered' then cast(event_at_utc as date) end) > date '{AS_OF}'
        )
        select count(*) filter (where s.delivered_at_utc is null), count(*)
        from later join intermediate.int_shipments as s using (shipment_id)
    """)
    assert delivered_later > 0 and in_transit == delivered_later
    [(receipts, received_by_then, open_units, open_then)] = query(settings, f"""
        select (select sum(receipts) from (select supplier_id, max(receipts) as receipts
                                           from publish.supplier_risk group by supplier_id)),
               (select count(*) from staging.stg_purchase_orders
                where status = 'received' and received_date <= date '{AS_OF}'
                  and supplier_id in (select supplier_id from publish.supplier_risk)),
               (select sum(open_po_units) from publish.supplier_risk),
               (select sum(quantity) from intermediate.int_open_po_arrivals
                where (supplier_id, sku) in (select (supplier_id, sku) from publish.supplier_risk))
    """)
    assert receipts == received_by_then and open_units == open_then
    assert received_by_then < query(settings, "select count(*) from staging.stg_purchase_orders where status = 'received' "
                                              "and supplier_id in (select supplier_id from publish.supplier_risk)")[0][0]


def cli_environment(settings: Settings) -> dict[str, str]:
    """The variables that point the command line (and dbt) at the test's own install."""
    paths = {
        "CROSSDOCK_WAREHOUSE": settings.warehouse, "CROSSDOCK_LANDING": settings.landing,
        "CROSSDOCK_EXPORTS": settings.exports, "CROSSDOCK_MODELS": settings.models,
        "CROSSDOCK_CONFIG": settings.config, "DAGSTER_HOME": settings.dagster_home,
    }
    return {**{k: str(v) for k, v in paths.items()}, "CROSSDOCK_REPORTING_CURRENCY": settings.reporting_currency}


def crossdock(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """`crossdock <args>` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
        env={**os.environ, **cli_environment(settings)}, cwd=PROJECT_ROOT, timeout=900,
    )


def test_the_summary_names_the_planning_date(planned):
    settings, _ = planned
    done = crossdock(settings, "summary")
    assert done.returncode == 0, done.stderr
    assert f"planning date (forecast origin): {AS_OF}" in done.stdout


def test_the_calendar_refuses_a_day_before_the_orders(planned, tmp_path):
    """dbt alone; a day after the orders goes through the whole command below."""
    settings, _ = planned
    done = subprocess.run(
        [dbt_executable(), "run", "--select", "int_planning_calendar", "--vars", json.dumps({"as_of": "2020-01-01"}),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path)],
        capture_output=True, text=True, cwd=DBT_PROJECT_DIR, env={**os.environ, **cli_environment(settings)},
    )
    assert done.returncode == 1
    [(first_day,)] = query(settings, "select min(order_date) from staging.stg_orders")
    assert f"as_of 2020-01-01 is before the first order day {first_day}" in done.stdout
    assert query(settings, "select max(as_of) from intermediate.int_planning_calendar") == [(AS_OF,)]  # left as it was


def test_crossdock_run_as_of_a_day_after_the_orders_fails_and_says_why(planned, monkeypatch, capsys):
    """`crossdock run --as-of` through the command line's own code. The dbt step refuses the day before
    dbt starts (the loaded orders end earlier), so the user hears why in seconds, and nothing dbt would
    have rebuilt is touched. The run's instance is an in-memory one, so the test writes nothing under
    DAGSTER_HOME and each of its events costs no SQLite write."""
    settings, _ = planned
    for name, value in cli_environment(settings).items():
        monkeypatch.setenv(name, value)  # the command exports them again; monkeypatch restores them
    monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(dg.DagsterInstance.ephemeral))
    after = END + dt.timedelta(days=2)
    assert cli.main(["run", "--as-of", after.isoformat()]) == 1
    out, err = capsys.readouterr()
    assert f"planning as of {after}" in out and "FAILED" in out
    # the step's own Failure, not dbt's ("... Invalid Input Error: as_of ..." from int_planning_calendar)
    assert f"STEP FAILED: crossdock_dbt_models: as_of {after} is after the last order day {END}" in err
    assert "Invalid Input Error" not in err
    assert [day(d) for (d,) in query(settings, "select distinct as_of from publish.demand_forecast")] == [AS_OF]  # untouched


def test_the_dbt_step_checks_the_planning_date_against_the_loaded_orders_first(tmp_path):
    """The early check says what int_planning_calendar says, on either side of the orders, and leaves
    a day within them (or a warehouse with no orders loaded) to dbt."""
    from orchestration.defs.dbt.assets import as_of_outside_the_orders

    first, last = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert as_of_outside_the_orders(conn, first.isoformat()) is None  # no raw.orders: dbt says why
        conn.execute("create schema raw; create table raw.orders (order_date date)")
        assert as_of_outside_the_orders(conn, first.isoformat()) is None  # no order loaded
        future = dt.date.today() + dt.timedelta(days=30)  # quarantined by the ingest, not counted by the calendar
        conn.execute("insert into raw.orders values (?), (?), (?)", [first, last, future])
        for inside in (first, last, first + dt.timedelta(days=3)):
            assert as_of_outside_the_orders(conn, inside.isoformat()) is None, inside
        after, before = last + dt.timedelta(days=1), first - dt.timedelta(days=1)
        assert as_of_outside_the_orders(conn, after.isoformat()).startswith(
            f"as_of {after} is after the last order day {last}: ")
        assert as_of_outside_the_orders(conn, before.isoformat()) == f"as_of {before} is before the first order day {first}"
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            as_of_outside_the_orders(conn, "30/10/2026")
        # once dbt has built stg_orders, its lines of goods are the order days: a day of gift cards alone is none
        gift_cards_only = last + dt.timedelta(days=1)
        conn.execute("insert into raw.orders values (?)", [gift_cards_only])
        conn.execute("create schema staging; create view staging.stg_orders as "
                     f"select order_date, order_date <> date '{gift_cards_only}' as stocked from raw.orders")
        assert as_of_outside_the_orders(conn, gift_cards_only.isoformat()).startswith(
            f"as_of {gift_cards_only} is after the last order day {last}: ")
