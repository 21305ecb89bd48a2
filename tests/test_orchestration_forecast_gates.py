"""The forecast's two blocking gates, run against a small warehouse, and where they sit in the graph."""
import datetime as dt

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.defs.forecast.assets import ACCURACY, FORECAST, model_beats_seasonal_naive
from orchestration.defs.forecast.checks import forecast_quality_gate
from orchestration.definitions import defs

AS_OF = pd.Timestamp("2026-10-30")
H = 7


def _warehouse(tmp_path, **tables: pd.DataFrame) -> DuckDBResource:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        for name, frame in tables.items():
            schema, table = name.split("__")
            conn.execute(f"create schema if not exists {schema}")
            conn.register("f", frame)
            conn.execute(f"create table {schema}.{table} as select * from f")
            conn.unregister("f")
    return DuckDBResource(database=str(path))


def _accuracy(model_wape: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scope": "overall",
            "scope_value": "all",
            "model": ["lightgbm", "seasonal_naive_7", "auto_ets", "croston_optimized"],
            "wape": [model_wape, 1.0, 0.95, 0.97],
            "as_of": AS_OF,  # the planning date the backtest proved the model on
        }
    )


@pytest.mark.parametrize("model_wape, passed", [(0.72, True), (1.0, True), (1.05, False)])
def test_model_must_not_lose_to_seasonal_naive(tmp_path, model_wape, passed):
    result = model_beats_seasonal_naive(warehouse=_warehouse(tmp_path, plan_next__forecast_accuracy=_accuracy(model_wape)))
    assert result.passed is passed
    assert ("worse than" in result.description) is not passed
    assert result.description.startswith("backtest of 2026-10-30: ") and result.metadata["proven_on"].value == "2026-10-30"
    assert result.metadata["ratio_to_auto_ets"].value == pytest.approx(model_wape / 0.95)


def _forecast(series: list[tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for sku, market in series:
        for h in range(1, H + 1):
            rows.append((sku, market, "home", AS_OF + pd.Timedelta(days=h), h, 0.0, 1.0, 3.0, 1.2, "v1", AS_OF))
    return pd.DataFrame(rows, columns=["sku", "market", "category", "forecast_date", "horizon", "p10", "p50", "p90", "mean", "model_version", "as_of"])


def _history(series: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(sku, market, "home", AS_OF - pd.Timedelta(days=3), 2.0) for sku, market in series],
        columns=["sku", "market", "category", "demand_date", "units_sold"],
    )


def test_forecast_gate_passes_a_complete_forecast_and_names_a_missing_series(tmp_path):
    series = [("A", "US"), ("B", "US"), ("A", "DE")]
    ok = forecast_quality_gate(
        warehouse=_warehouse(tmp_path, plan_next__demand_forecast=_forecast(series), marts__fct_daily_demand=_history(series))
    )
    assert ok.passed, ok.description
    (tmp_path / "w.duckdb").unlink()
    bad = forecast_quality_gate(
        warehouse=_warehouse(tmp_path, plan_next__demand_forecast=_forecast(series[:2]), marts__fct_daily_demand=_history(series))
    )
    assert not bad.passed and "A DE" in bad.description


def test_gates_are_blocking_and_stand_between_the_model_and_the_plans():
    graph = defs.resolve_asset_graph()
    assert ACCURACY in graph.get(FORECAST).parent_keys
    assert FORECAST in graph.get(dg.AssetKey(["publish", "inventory_plan"])).parent_keys
    from orchestration.defs.forecast.checks import training_data_quality_gate

    for check in (model_beats_seasonal_naive, forecast_quality_gate, training_data_quality_gate):
        [spec] = list(check.check_specs)
        assert spec.blocking, spec.name
    assert {k.name for k in graph.asset_check_keys} >= {"model_beats_seasonal_naive", "forecast_quality_gate"}
