"""The markets the training-data gate holds back, for every step that must go on without them.

When what fails the gate is some markets' own history (a feed that stopped, a
day of orders come in as returns) and the others sold most of the last year's
units, the gate fails as a warning and holds those markets back
(expectations/market_days.py). The forecast, its gate and the inventory plan
then work the same markets out from the same data, so none needs a word from
the check, and a step materialized alone in the UI leaves out what a whole run
would. The thresholds are the merchant's (config.gates), as the gate reads them.
"""
import datetime as dt

import pandas as pd

from crossdock.engine import WarehouseLike, as_warehouse
from expectations.market_days import dense_market_days, held_back_in_market_days
from expectations.market_days import held_back_markets as markets_held_back
from expectations.thresholds import GateThresholds
from ml.series_selection import active_series

GATES_TABLE = "config.gates"


def gate_thresholds(target: WarehouseLike) -> GateThresholds:
    """The training-data gate's thresholds: `config.gates` (one row, a column per
    GateThresholds field, null = default) when the merchant config wrote it, else the defaults.

    Raises ValueError on an unknown column, more than one row or an out-of-range value.
    """
    warehouse = as_warehouse(target)
    if not warehouse.exists(GATES_TABLE):
        return GateThresholds()
    rows = warehouse.query(f"select * from {GATES_TABLE}").to_dict("records")
    return GateThresholds.from_rows(rows, source=GATES_TABLE)


def _markets(tables) -> list[str]:
    """The merchant's markets (none before dbt has built reference.markets: nothing to hold back then)."""
    if not tables.exists("reference.markets"):
        return []
    return [str(m).strip().upper() for (m,) in tables.rows("select market_code from reference.markets order by 1")]


def held_back_markets(target: WarehouseLike, history: pd.DataFrame) -> list[str]:
    """The markets the training-data gate holds back from `history` (expectations/market_days.py): their own
    feed stopped or broke while the others' did not, so the forecast and its gate go on without them. Worked
    out from the data as the gate does (cheap: a market-day frame), so the forecast needs no word from the check."""
    tables = as_warehouse(target)
    markets = _markets(tables)
    return markets_held_back(history, markets, gate_thresholds(tables)) if markets and not history.empty else []


def held_back_markets_in(target: WarehouseLike, demand_table: str) -> list[str]:
    """`held_back_markets` of the whole `demand_table`, its market-days summed where the data lives: the
    backtest's decision reads it on every run, most of which reuse the last proof and never load the history."""
    tables = as_warehouse(target)
    markets = _markets(tables)
    if not markets:
        return []
    daily = tables.query(
        f"""
        with demand_rows as (
            select market, demand_date, coalesce(units_sold, 0) as units_sold, coalesce(units_returned, 0) as units_returned
            from {demand_table} where demand_date is not null
        ),
        market_days as (
            select market, demand_date, sum(units_sold) as units_sold, sum(units_returned) as units_returned,
                count(*) as active_skus, sum(case when units_returned > units_sold then 1 else 0 end) as returning_skus
            from demand_rows group by market, demand_date
        )
        select * from market_days
        """
    )
    if daily.empty:
        return []
    end = pd.to_datetime(daily["demand_date"]).max()  # every market's days run to the data's last, as the gate's do
    return held_back_in_market_days(dense_market_days(daily, markets, end), markets, gate_thresholds(tables))


def without_held_back(target: WarehouseLike, history: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """`history` without the markets the gate holds back, and those markets: what the forecast and its gate read."""
    held = held_back_markets(target, history)
    return (history[~history["market"].isin(held)].reset_index(drop=True) if held else history), held


def held_back_series(target: WarehouseLike, history: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The series (sku, market) the forecast left out because the gate held their market back: those markets'
    active series (`ml.series_selection`), whose stock the plan must not call idle (planning/run.py). Active as of
    each market's own last sale, not `as_of`: since its feed stopped the data is blind to it, so a slow mover
    last sold there 100 days ago, before a 54-day stop, is not taken for one that stopped selling."""
    return _active_at_last_sale(history, held_back_markets(target, history), as_of)


def held_back_series_in(target: WarehouseLike, demand_table: str, as_of: dt.date) -> pd.DataFrame:
    """`held_back_series` of the whole `demand_table`, loading only the held-back markets' rows (most runs: none),
    for a step that does not read the whole history itself (the consensus: sop/consensus.py)."""
    tables = as_warehouse(target)
    markets = held_back_markets_in(tables, demand_table)
    if not markets:
        return _active_at_last_sale(pd.DataFrame(), [], as_of)
    listed = ", ".join("?" for _ in markets)
    history = tables.query(f"select sku, market, category, demand_date, units_sold from {demand_table} "
                           f"where market in ({listed}) order by all", list(markets))
    return _active_at_last_sale(history, markets, as_of)


def _active_at_last_sale(history: pd.DataFrame, markets: list[str], as_of: dt.date) -> pd.DataFrame:
    """The active series (sku, market) of each of `markets` in `history`, as of that market's last sale."""
    series = [pd.DataFrame({"sku": pd.Series(dtype=object), "market": pd.Series(dtype=object)})]
    for market in markets:
        rows = history[history["market"] == market]
        last_sale = rows.loc[rows["units_sold"] > 0, "demand_date"].max()
        if pd.notna(last_sale):
            series.append(active_series(rows, min(pd.Timestamp(last_sale).date(), as_of))[["sku", "market"]])
    return pd.concat(series, ignore_index=True)
