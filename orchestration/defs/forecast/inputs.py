"""What both forecast assets read and share: their asset keys, run config and the gated training data.

`forecast_accuracy` (backtest.py) proves the model against its baselines on a
cadence; `demand_forecast` (assets.py) publishes the forecast from the planning
date with what that backtest chose; the gates on both are in checks.py. Both
read the gated training data (marts.fct_daily_demand) and start from the run's
planning date (the last day of intermediate.int_planning_calendar: the last
order day, or the run's `as_of`).
"""

import datetime as dt
import os
from collections.abc import Sequence

import dagster as dg
import pandas as pd

from crossdock.plan_labels import fallback_baseline
from crossdock.publish import PUBLISH_SCHEMA, staged
from orchestration.lib.dbt_models import NO_ORDERS, model_key, planning_date
from orchestration.lib.retries import WarehouseResource

TRAINING_DATA = model_key("marts", "fct_daily_demand")
MARKETS = model_key("reference", "markets")  # each market's holiday subdivision, for the calendar features
ACCURACY = dg.AssetKey(["publish", "forecast_accuracy"])
BACKTEST = dg.AssetKey(["publish", "forecast_backtest"])
FORECAST = dg.AssetKey(["publish", "demand_forecast"])
TOTALS = dg.AssetKey(["publish", "forecast_totals"])
HORIZON_DAYS = 56
SEED = 7

# both forecast assets read the gated training data and write the warehouse
FORECAST_SPEC_SETTINGS = dict(group_name="forecast", kinds={"python", "lightgbm", "duckdb"}, owners=["team:planning"])


class ForecastConfig(dg.Config):
    horizon_days: int = HORIZON_DAYS
    backtest_windows: int | None = None  # None: crossdock.yaml's forecast.backtest_windows (default 4)
    seed: int = SEED
    baseline_jobs: int = min(2, os.cpu_count() or 1)  # processes for the statsforecast baselines
    force_backtest: bool = False  # run the backtest even when the last one still holds (ml/backtest_cadence.py)
    force_retrain: bool = False  # train the forecast's model even when the last saved one still holds (ml/retrain_cadence.py)


def staged_overall_backtest(warehouse: WarehouseResource) -> pd.DataFrame:
    """The run's staged backtest (fresh or reused), its overall rows by model: what the check and the forecast judge."""
    with warehouse.open() as tables:
        return tables.query(f"select * from {staged('forecast_accuracy')} where scope = 'overall'").set_index("model")


def last_fallback(warehouse: WarehouseResource, markets: Sequence[str] | None = None) -> str | None:
    """The baseline the published plan's forecast of `markets` (None: every market) is (ml/fallback_forecast.py),
    None when it is a model's, mixes baselines or none is published: what a lost backtest keeps within a tie
    (`choose_fallback`'s `last`). A run over some markets reads theirs: per-market runs publish at other times."""
    table = f"{PUBLISH_SCHEMA}.demand_forecast"
    where = f" where market in ({', '.join('?' for _ in markets)})" if markets else ""
    with warehouse.open() as tables:
        if not tables.exists(table):
            return None
        versions = [v for (v,) in tables.rows(f"select distinct model_version from {table}{where}", list(markets or ()))]
    baselines = {fallback_baseline(v) for v in versions}
    return baselines.pop() if len(baselines) == 1 else None


def load_training_data(warehouse: WarehouseResource) -> tuple[pd.DataFrame, dt.date, dict[str, str | None]]:
    """The demand history, the planning date (the forecast's origin) and each market's holiday subdivision."""
    with warehouse.open() as tables:
        history = tables.query(f"select * from {'.'.join(TRAINING_DATA.path)} order by sku, market, demand_date")
        as_of = planning_date(tables)
        subdivisions = dict(tables.rows("select market_code, holiday_subdivision from reference.markets"))
    if history.empty or as_of is None:
        raise dg.Failure(description=f"the forecast has no demand history: {NO_ORDERS}")
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    return history, pd.Timestamp(as_of).date(), subdivisions


def md_table(frame: pd.DataFrame) -> dg.MetadataValue:
    """A frame as a Markdown table for the UI, numbers to three decimals."""
    return dg.MetadataValue.md(frame.round(3).to_markdown(index=False))
