"""The dashboard's figures on a hand-made snapshot, without Streamlit."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard import data


def _snapshot(path: Path, *statements: str) -> duckdb.DuckDBPyConnection:
    """A snapshot database holding schema publish made by `statements`, opened as the dashboard opens it."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema publish")
        for statement in statements:
            conn.execute(statement)
    return data.connect(path)


@pytest.fixture
def snapshot(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return _snapshot(
        tmp_path / "crossdock_publish.duckdb",
        """
        create table publish.inventory_plan as select * from (values
            ('A', 'US-EWR', 'toys', date '2026-11-01', 5, 5, 2.0, 10, 20.0, 'ok', date '2026-11-05', 65.0, 0, null::date),
            ('B', 'US-EWR', 'toys', date '2026-11-01', 50, 50, 5.0, 30, 10.0, 'reorder now', date '2026-11-20', 21.0, 40, date '2026-11-02'),
            ('C', 'NL-AMS', 'toys', date '2026-11-01', 500, 500, 1.0, 10, 500.0, 'excess', null, 30.0, 0, null),
            ('D', 'NL-AMS', 'toys', date '2026-11-01', 80, 80, 3.0, 20, 40.0, 'reorder soon', date '2026-12-15', 30.0, 12, date '2026-11-10')
        ) as t(sku, node, category, as_of, on_hand, inventory_position, unit_cost_eur, safety_stock, days_of_cover,
               action, projected_stockout_date, lead_time_days, recommended_order_qty, order_by_date)
        """,
        "alter table publish.inventory_plan add column reorder_point double default 15",
        # B is partly covered by a transfer in: 24 of its 40 are still bought; A's 0 stays 0
        "alter table publish.inventory_plan add column purchase_after_transfers bigint default 0",
        "update publish.inventory_plan set purchase_after_transfers = case sku when 'B' then 24 else recommended_order_qty end",
        "alter table publish.inventory_plan add column purchase_value_eur double",
        "update publish.inventory_plan set purchase_value_eur = purchase_after_transfers * unit_cost_eur",
        "alter table publish.inventory_plan add column supplier_id varchar default 'S1'",
        "alter table publish.inventory_plan add column moq bigint default 12",
        "alter table publish.inventory_plan add column pack_size bigint default 6",
        "alter table publish.inventory_plan add column order_terms_assumed boolean default false",
        "update publish.inventory_plan set order_terms_assumed = sku = 'D'",
        """
        create table publish.compliance_plan as select * from (values
            ('GB', true, 'restricted: cosmetics; customs_hold_risk', 2),
            ('GB', false, 'customs_hold_risk', 1),
            ('US', true, null, 0),
            ('US', true, 'missing_hs_code; restricted: lithium_battery, flammable', 2)
        ) as t(market, is_primary_route, flags, flag_count)
        """,
    )


def test_stock_out_risk_keeps_the_next_28_days_and_marks_what_an_order_cannot_save(snapshot):
    risk = data.stockout_risk(snapshot)
    assert risk["sku"].tolist() == ["A", "B"]  # D runs out in 44 days, C never
    assert risk["days_to_stockout"].tolist() == [4, 19]
    assert risk["before_lead_time"].tolist() == [True, True]
    by_node = data.stockout_risk_by_node(snapshot).set_index("node")
    assert by_node.loc["US-EWR"].tolist() == [2, 2, 2] and by_node.loc["NL-AMS"].tolist() == [2, 0, 0]


def test_reorder_list_is_what_the_plan_says_to_buy_most_urgent_first(snapshot):
    """What is still to buy after the recommended transfers in, from whom: a buyer's test found the list buying
    all 462 units of a SKU to which 167 were being transferred."""
    reorder = data.reorder_list(snapshot)
    assert reorder["sku"].tolist() == ["B", "D"]
    assert reorder["purchase_after_transfers"].tolist() == [24, 12]
    assert reorder["order_value_eur"].tolist() == [120.0, 36.0]
    assert reorder["recommended_order_qty"].tolist() == [40, 12]  # before transfers, beside it
    assert reorder[["supplier_id", "moq", "pack_size"]].drop_duplicates().values.tolist() == [["S1", 12, 6]]
    assert reorder["order_terms_assumed"].tolist() == [False, True]  # D's MOQ and pack are crossdock.yaml's


def test_flags_are_counted_by_type_and_agree_with_flag_count(snapshot):
    flags = data.compliance_flags_by_market(snapshot)
    counted = {(m, t): n for m, t, n in flags.itertuples(index=False)}
    assert counted == {("GB", "customs_hold_risk"): 2, ("GB", "restricted"): 1,
                       ("US", "missing_hs_code"): 1, ("US", "restricted"): 1}
    assert flags["flags"].sum() == snapshot.execute("select sum(flag_count) from publish.compliance_plan").fetchall()[0][0]


def test_what_if_lists_the_plan_first_then_the_scenarios_run_then_those_not_run(tmp_path):
    from crossdock.plan_labels import AS_PLANNED

    conn = _snapshot(tmp_path / "crossdock_publish.duckdb", f"""
        create table publish.scenario_summary as select * from (values
            ('NL-AMS inbound +7 days', 'nothing: not run', null, null, null, null, null, 'not run: no open purchase order line'),
            ('demand +30% in US', 'demand in US +30%', 4, 1, 37.5, 120.0, 0, '4 SKU x node stock out earlier'),
            ('{AS_PLANNED}', 'nothing: the plan as it stands', 2, 0, 10.0, 30.0, 1, '2 SKU x node run out'),
            ('S1 out 4 weeks', 'supplier S1 out 4 weeks', 0, 0, 0.0, 0.0, 0, 'no SKU x node stocks out earlier')
        ) as t(scenario, changes, sku_nodes_earlier, new_stockouts, shortfall_units, contingency_cost_eur,
               without_feasible_fix, outcome)
    """)
    outcomes = data.scenario_outcomes(conn)
    assert outcomes["scenario"].tolist() == [AS_PLANNED, "S1 out 4 weeks", "demand +30% in US",
                                             "NL-AMS inbound +7 days"]  # first by name, last as not run
    assert list(outcomes.columns) == data.SCENARIO_COLUMNS and outcomes["sku_nodes_earlier"].isna().tolist()[-1]


def test_what_if_is_empty_on_a_snapshot_older_than_the_scenario_summary(snapshot):
    outcomes = data.scenario_outcomes(snapshot)
    assert outcomes.empty and list(outcomes.columns) == data.SCENARIO_COLUMNS


def test_a_missing_snapshot_says_how_to_make_one(tmp_path):
    with pytest.raises(data.SnapshotMissing, match="make demo"):
        data.connect(tmp_path / "nothing.duckdb")


def test_the_overview_names_the_run_the_plan_is_from(snapshot, tmp_path):
    assert data.plan_source(snapshot) == "a run not recorded (no publish.plan_runs)"
    path = tmp_path / "with_runs.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema publish")
        conn.execute("""
            create table publish.plan_runs as select * from (values
                ('run-1', timestamp '2026-11-01 06:10:00'), ('run-2', timestamp '2026-11-02 06:12:30')
            ) as t(run_id, published_at)
        """)
    assert data.plan_source(data.connect(path)) == "run run-2, published 2026-11-02 06:12 UTC"


@pytest.fixture
def sku_snapshot(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Two SKUs in US: A served from US-EWR until it moved to US-ONT, B from US-EWR; B is the one to expedite."""
    return _snapshot(
        tmp_path / "sku.duckdb",
        """
        create table publish.supply_chain_view as select * from (values
            (date '2026-10-29', 'A', 'US', 'US-EWR', 3), (date '2026-10-30', 'A', 'US', 'US-ONT', 4),
            (date '2026-10-30', 'B', 'US', 'US-EWR', 1), (date '2026-01-01', 'B', 'US', 'US-EWR', 9),
            (date '2025-11-02', 'B', 'US', 'US-EWR', 7), (date '2025-10-31', 'B', 'US', 'US-EWR', 2)
        ) as t(calendar_date, sku, market, fulfilment_node, units_sold)
        """,
        """
        create table publish.demand_forecast as select * from (values
            ('A', 'US', date '2026-10-31', 0.0, 1.0, 3.0, 1.5), ('B', 'US', date '2026-10-31', 0.0, 0.0, 1.0, 0.4),
            ('B', 'US', date '2026-11-01', 0.0, 0.0, 1.0, 0.6)
        ) as t(sku, market, forecast_date, p10, p50, p90, mean)
        """,
        """
        create table publish.inventory_plan as select * from (values
            ('A', 'US-ONT', date '2026-10-30', 'ok', 40, 0, 1.5, 20.0, 5.0, 12.0, 0, null::date, null::date, 26.0),
            ('B', 'US-EWR', date '2026-10-30', 'expedite or transfer', 1, 50, 0.5, 30.0, 2.0, 5.0, 0, null,
             date '2026-11-01', 2.0)
        ) as t(sku, node, as_of, action, on_hand, on_order, mean_daily_demand, lead_time_days, safety_stock,
               reorder_point, recommended_order_qty, order_by_date, projected_stockout_date, days_of_cover)
        """,
        "alter table publish.inventory_plan add column purchase_after_transfers bigint default 0",
        f"""
        create table publish.scenario_impact as select * from (values
            ('{data.AS_PLANNED}', 'B', 'US-EWR', 'reroute', 'from US-ONT (14)', 4.2),
            ('demand +30% in US', 'B', 'US-EWR', 'expedite', 'by air from S1', 90.0)
        ) as t(scenario, sku, node, contingency, contingency_detail, contingency_cost_eur)
        """,
    )


def test_the_sku_page_opens_on_the_pair_to_expedite_and_reads_its_node_plan_and_fix(sku_snapshot):
    pairs = data.sku_markets(sku_snapshot)
    assert pairs[["sku", "market", "node", "action"]].values.tolist() == [
        ["B", "US", "US-EWR", "expedite or transfer"], ["A", "US", "US-ONT", "ok"]]  # A's latest node
    demand = data.sku_demand(sku_snapshot, "B", "US")
    assert demand["actual_units"].tolist()[:1] == [1] and demand["mean"].dropna().tolist() == [0.4, 0.6]
    assert len(demand) == 3  # the sale of January is outside the half-year before the plan date
    # beside each day, the same weekday 52 weeks before: 2025-11-02 is 2026-11-01's, 2025-10-31 2026-10-30's
    assert demand["last_year_units"].fillna(-1).tolist() == [2, -1, 7]
    [plan] = data.sku_plan(sku_snapshot, "B", "US-EWR").to_dict("records")
    assert (plan["action"], plan["contingency"], plan["contingency_cost_eur"]) == ("expedite or transfer", "reroute", 4.2)
    assert data.sku_plan(sku_snapshot, "A", "US-EWR").empty  # A is not planned at its old node


def test_a_forecast_from_a_baseline_is_named_and_the_models_is_not(tmp_path):
    model = _snapshot(tmp_path / "model.duckdb", "create table publish.demand_forecast as select 'lgbm-quantile-20261101-ab' as model_version")
    assert data.forecast_source(model) is None
    assert data.forecast_source(_snapshot(tmp_path / "none.duckdb")) is None
    fallback = "create table publish.demand_forecast as select 'baseline-seasonal_naive_7-20261101' as model_version"
    source = data.forecast_source(_snapshot(tmp_path / "fallback.duckdb", fallback))
    assert source.startswith("the forecast is the seasonal_naive_7 baseline's, not the model's") and "WAPE" not in source
    scored = _snapshot(tmp_path / "scored.duckdb", fallback, "create table publish.forecast_accuracy as select * from "
                       "(values ('overall', 'lightgbm', 1.2), ('overall', 'seasonal_naive_7', 0.9), "
                       "('market', 'seasonal_naive_7', 0.1)) as t(scope, model, weekly_wape)")
    assert data.forecast_source(scored).endswith("; backtest weekly WAPE seasonal_naive_7 0.900, the model 1.200")
