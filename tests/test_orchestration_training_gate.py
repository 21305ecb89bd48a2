"""The training-data gate as a Dagster check: markets from reference.markets, thresholds from config.gates."""
from __future__ import annotations

import gc

import dagster as dg
import duckdb
import pandas as pd
import pytest
from orchestration.lib.retries import WarehouseResource

from expectations.thresholds import GateThresholds
from orchestration.defs.forecast.checks import training_data_quality_gate
from orchestration.lib.held_back import gate_thresholds

END = pd.Timestamp("2026-10-31")


@pytest.fixture(autouse=True)
def _collect_invocation_contexts():
    # A directly invoked check leaves Dagster's DirectOpExecutionContext in a
    # reference cycle; its __del__ tears the resources down whenever the garbage
    # collector next runs. If that happens inside an ast.parse (pytest rewriting
    # the next imported module), CPython 3.11.7 raises "SystemError: AST
    # constructor recursion depth mismatch". Collect here, at a harmless moment.
    yield
    gc.collect()


def _demand(markets: dict[str, int]) -> pd.DataFrame:
    """Two SKUs selling every day in each market, the last `markets[m]` days quiet."""
    rows = []
    for market, quiet in markets.items():
        for day in pd.date_range("2026-08-01", END - pd.Timedelta(days=quiet), freq="D"):
            for sku in ("A", "B"):
                rows.append((sku, market, "home", day, 4, 0, 0, 1, 40.0, 0.0))
    return pd.DataFrame(
        rows,
        columns=[
            "sku", "market", "category", "demand_date", "units_sold", "units_returned",
            "units_cancelled", "order_lines", "revenue_eur", "refunds_eur",
        ],
    )


def _warehouse(tmp_path, demand: pd.DataFrame, markets: list[str], gates: pd.DataFrame | None = None):
    path = tmp_path / "w.duckdb"
    reference = pd.DataFrame({"market_code": markets, "is_catch_all": [m == "ROW" for m in markets]})
    tables = {"marts.fct_daily_demand": demand, "reference.markets": reference, "config.gates": gates}
    with duckdb.connect(str(path)) as conn:
        for name, frame in tables.items():
            if frame is None:
                continue
            conn.execute(f"create schema if not exists {name.split('.')[0]}")
            conn.register("f", frame)
            conn.execute(f"create table {name} as select * from f")
            conn.unregister("f")
    return WarehouseResource(database=str(path))


def test_declared_market_without_orders_passes_with_default_thresholds(tmp_path):
    warehouse = _warehouse(tmp_path, _demand({"US": 0, "DE": 0}), ["US", "DE", "ROW"])
    result = training_data_quality_gate(warehouse=warehouse)
    assert result.passed, result.description
    assert "ROW (declared, no orders: nothing to forecast)" in result.description
    assert result.metadata["thresholds"].value == GateThresholds().as_dict()
    assert result.metadata["thresholds_overridden"].value == {}
    assert [m["market"] for m in result.metadata["markets"].value] == ["DE", "ROW", "US"]


def test_stopped_feed_fails_and_config_gates_overrides_thresholds(tmp_path):
    demand = _demand({"US": 0, "DE": 10})
    gates = pd.DataFrame({"max_held_back_share": [0.0]})  # any failing market stops the forecast
    failed = training_data_quality_gate(warehouse=_warehouse(tmp_path, demand, ["US", "DE"], gates))
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR  # blocks what reads the data
    assert "market DE sold nothing on 2026-10-22..2026-10-31 (10 days)" in failed.description
    assert "held_back" not in failed.metadata

    (tmp_path / "w.duckdb").unlink()
    gates = pd.DataFrame(
        {name: [None] for name in GateThresholds.field_names()}
    ).astype({"stop_probability": "float64", "min_history_days": "Int64"})
    gates.loc[0, "min_history_days"] = 200  # DE has 82 selling days: not judged on gaps
    passed = training_data_quality_gate(warehouse=_warehouse(tmp_path, demand, ["US", "DE"], gates))
    assert passed.passed, passed.description
    assert "DE (82 selling days, fewer than 200)" in passed.description
    assert passed.metadata["thresholds_overridden"].value == {"min_history_days": 200}


def test_a_market_whose_feed_stopped_is_held_back_as_a_warning_while_the_others_sold_most(tmp_path):
    # US sold 92 days, DE 82 before it stopped: DE sold under half the year's units, so the plan goes on without it
    held = training_data_quality_gate(warehouse=_warehouse(tmp_path, _demand({"US": 0, "DE": 10}), ["US", "DE"]))
    assert not held.passed and held.severity == dg.AssetCheckSeverity.WARN  # stops nothing downstream
    assert held.description.startswith("HELD BACK DE: the forecast and the plan go on without it (planning US)")
    assert held.metadata["held_back"].value == ["DE"]
    assert held.metadata["what_to_do"].value.startswith("The plan was made without DE: not forecast, and its SKUs'")
    from orchestration.defs.forecast.checks import held_back_what_to_do

    assert "without BR, MX: not forecast, and their SKUs' stock" in held_back_what_to_do(["BR", "MX"])
    assert "take them out of crossdock.yaml's markets (their countries" in held_back_what_to_do(["BR", "MX"])
    assert [f["by_market"] for f in held.metadata["failures"].value] == [{"DE": {"count": 10, "first": "2026-10-22",
                                                                              "last": "2026-10-31"}}]


def test_config_gates_with_an_unknown_column_is_an_error(tmp_path):
    resource = _warehouse(tmp_path, _demand({"US": 0}), ["US"], pd.DataFrame({"stop_probabilty": [1e-6]}))
    with resource.get_connection() as conn, pytest.raises(ValueError, match="config.gates: .*stop_probabilty"):
        gate_thresholds(conn)


def test_no_config_gates_table_means_defaults(tmp_path):
    with _warehouse(tmp_path, _demand({"US": 0}), ["US"]).get_connection() as conn:
        assert gate_thresholds(conn) == GateThresholds()
