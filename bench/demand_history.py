"""A demand history as marts.fct_daily_demand would hold it, for the benches: from a landing folder, a demo
merchant generated on the fly, or a warehouse.

The history is built from the landing files the way the pipeline builds
`marts.fct_daily_demand`, without the warehouse or dbt: the demo's order
files are already in the orders contract's layout (no `feeds` mapping
applies), so the steps are the dbt models', redone in pandas with the
project's own pieces: the order day is the local day written in
`ordered_at` (the contract's derived `order_date`); a blank `line_type` is
inferred as `stg_orders` does (negative at price 0 with no customer: write
off; other negatives: return; else sale, wholesale included); each ship-to
country is planned in its market by the merchant's crossdock.yaml
(`MerchantConfig.market_for_country`: its own market, else the catch-all,
else the line is left out as `int_order_lines_eur` does, and so is a line
that is no good to stock, as `stg_orders.stocked` says: a `not_stocked`
line, such as a gift card, and every line of a SKU sent so); revenue is
converted at the ECB rate in force on the order day
(`crossdock.fx_history.ecb_rates`); the category is the catalogue's, or
`unknown`. Not redone: the ingest's contract checks, quarantine and
de-duplication of re-sent lines (the demo files have none to catch).
`--landing` without `--config` plans each ship-to country as its own market.
"""
from __future__ import annotations

import glob
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from crossdock.merchant_config import MerchantConfig, load_config
from feeds.contracts import NOT_STOCKED


def demo_config(profile: str) -> MerchantConfig:
    """The demo merchant's crossdock.yaml: which countries are markets, which go to the catch-all."""
    from crossdock.settings import PROJECT_ROOT
    from demo.messy import MESSY_CONFIG

    return load_config(MESSY_CONFIG if profile == "messy" else PROJECT_ROOT / "demo" / "crossdock.yaml")


def read_orders(landing: Path) -> pd.DataFrame:
    """Every line of landing/orders/orders_*.csv as text; `line_type` blank when the export has no such column."""
    files = sorted(glob.glob(str(Path(landing) / "orders" / "orders_*.csv")))
    if not files:
        raise FileNotFoundError(f"no orders_*.csv under {landing}/orders")
    wanted = {"sku", "quantity", "ordered_at", "ship_to_country", "unit_price", "currency", "customer_id", "line_type"}
    orders = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False, usecols=lambda c: c in wanted) for f in files],
                       ignore_index=True)
    for column in ("customer_id", "line_type"):
        if column not in orders:
            orders[column] = ""
    return orders


def line_types(quantity: pd.Series, unit_price: pd.Series, customer_id: pd.Series, stated: pd.Series) -> pd.Series:
    """The line type `stg_orders` gives: the export's own when it says one, else inferred from sign, price and shopper.

    A negative line at price 0 with no customer is stock written off, not a
    return; any other negative line is a return; a positive one is a sale
    (wholesale lines too: the export does not tell them apart).
    """
    stated = stated.str.strip().str.lower()
    inferred = np.select(
        [(quantity < 0) & (unit_price == 0) & (customer_id.str.strip() == ""), quantity < 0],
        ["write_off", "return"], default="sale",
    )
    return stated.where(stated != "", pd.Series(inferred, index=stated.index))


def units_per_eur(currency: pd.Series, day: pd.Series) -> pd.Series:
    """The ECB rate in force on each line's day (the last publication on or before it), as `int_fx_daily` gives it."""
    from crossdock.fx_history import ecb_rates

    rates = ecb_rates()[["rate_date", "currency", "units_per_eur"]].sort_values("rate_date")
    lines = pd.DataFrame({"currency": currency.to_numpy(), "day": day.to_numpy(), "row": np.arange(len(day))})
    foreign = lines[lines["currency"] != "EUR"].sort_values("day")
    found = pd.merge_asof(foreign, rates, left_on="day", right_on="rate_date", by="currency", direction="backward")
    rate = np.ones(len(lines))
    rate[found["row"].to_numpy()] = found["units_per_eur"].to_numpy()
    return pd.Series(rate, index=currency.index)


def read_categories(landing: Path) -> pd.DataFrame:
    """sku -> category from the landing's catalogue files (none for a merchant without a catalogue)."""
    files = glob.glob(str(Path(landing) / "suppliers" / "catalogue_*.csv"))
    if not files:
        return pd.DataFrame({"sku": pd.Series(dtype=str), "category": pd.Series(dtype=str)})
    catalogue = pd.concat([pd.read_csv(f, dtype=str, usecols=["sku", "category"]) for f in files])
    return catalogue.drop_duplicates("sku")


def history_from_landing(landing: Path, config: MerchantConfig | None = None) -> pd.DataFrame:
    """Daily demand per sku x market from a landing folder's orders and catalogue CSVs, like marts.fct_daily_demand.

    `config` maps ship-to countries to markets (its own market, else the
    catch-all; lines to an uncovered country are left out); without one,
    each country is a market. Columns: sku, market, category, demand_date,
    units_sold, units_returned, units_cancelled, units_written_off,
    order_lines, revenue_eur (sales at the ECB rate of the order day).
    """
    orders = read_orders(landing)
    qty = orders["quantity"].astype(np.int64)
    price = orders["unit_price"].astype(float)
    kind = line_types(qty, price, orders["customer_id"], orders["line_type"])
    day = pd.to_datetime(orders["ordered_at"].str.strip().str[:10])  # the local day as written
    country = orders["ship_to_country"].str.strip()
    if config is None:
        market = country
    else:
        market = country.map({c: config.market_for_country(c) for c in country.unique()})
    frame = pd.DataFrame({
        "sku": orders["sku"], "market": market, "demand_date": day,
        "units_sold": np.where(kind == "sale", qty, 0),
        "units_returned": np.where(kind == "return", qty.abs(), 0),
        "units_cancelled": np.where(kind == "cancellation", qty.abs(), 0),
        "units_written_off": np.where(kind == "write_off", qty.abs(), 0),
        "order_lines": 1,
        "revenue_eur": np.where(kind == "sale", qty * price / units_per_eur(orders["currency"], day), 0.0),
    })
    not_stocked_skus = set(orders["sku"][kind == NOT_STOCKED]) - {""}
    goods = (kind != NOT_STOCKED) & ~orders["sku"].isin(not_stocked_skus)  # stg_orders.stocked
    frame = frame[frame["market"].notna() & goods.to_numpy()]
    sums = ["units_sold", "units_returned", "units_cancelled", "units_written_off", "order_lines", "revenue_eur"]
    daily = frame.groupby(["sku", "market", "demand_date"], as_index=False)[sums].sum()
    daily = daily.merge(read_categories(landing), on="sku", how="left")
    daily["category"] = daily["category"].fillna("unknown")
    return daily[["sku", "market", "category", "demand_date", *sums]]


def holiday_subdivisions(config: MerchantConfig | None) -> dict[str, str | None] | None:
    """Each market's holiday subdivision, as the forecast asset reads them from reference.markets."""
    if config is None:
        return None
    frame = config.markets_frame()
    return {m: (s if isinstance(s, str) else None) for m, s in zip(frame["market_code"], frame["holiday_subdivision"])}


def demo_history(profile: str, scale: float, days: int, seed: int) -> pd.DataFrame:
    """The demo merchant's history: its landing files generated in a temporary folder, then built like the mart."""
    from demo.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), scale=scale, seed=seed, days=days, profile=profile, quiet=True)
        return history_from_landing(Path(tmp), demo_config(profile))


def warehouse_history(path: Path) -> tuple[pd.DataFrame, dict[str, str | None] | None]:
    """A warehouse's marts.fct_daily_demand and, when it has them, its markets' holiday subdivisions."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as conn:
        history = conn.execute("select * from marts.fct_daily_demand").df()
        try:
            subdivisions = dict(conn.execute("select market_code, holiday_subdivision from reference.markets").fetchall())
        except duckdb.CatalogException:
            subdivisions = None
    return history, subdivisions
