"""The demo generator's messy profile (demo/messy/): a merchant with every hard trait at once.

Each test checks one trait in the files as written (what a capability will be
tried on): a long tail of 40 countries, a closed weekday, wholesale lines and
write-offs in the orders export, ten years of thin-then-growing history, a
late catalogue missing SKUs, no stock or tracking feed; and that its
crossdock.yaml is the file such a merchant would write. The tidy profile must
not move at all.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crossdock.merchant_config import load_config
from demo.generate import DEFAULT_END, generate
from demo.messy import MESSY_CONFIG, write_messy_config
from feeds.contracts import ORDER_LINE_TYPES, ORDERS
from feeds.file_dates import file_date
from landing_files import file_contents, generated_landing, landed_orders, read_as_text

SCALE, SEED = 0.1, 7
END = DEFAULT_END
CONFIG = load_config(MESSY_CONFIG)
BIG_MARKETS = {m.code for m in CONFIG.markets}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return generated_landing(tmp_path_factory, "messy", scale=SCALE, seed=SEED, end=END, profile="messy")


@pytest.fixture(scope="module")
def orders(landing: tuple[Path, dict]) -> pd.DataFrame:
    frame = landed_orders(landing[0])
    frame["qty"] = frame["quantity"].astype(int)
    frame["price"] = frame["unit_price"].astype(float)
    frame["local_date"] = pd.to_datetime(frame["ordered_at"].str.slice(0, 10))
    return frame


@pytest.fixture(scope="module")
def catalogue(landing: tuple[Path, dict]) -> tuple[Path, pd.DataFrame]:
    [path] = (landing[0] / "suppliers").glob("catalogue_*.csv")
    return path, read_as_text(path)


def _sales(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[(orders["qty"] > 0) & (orders["line_type"] == "")]


def test_same_arguments_give_identical_bytes_and_another_seed_other_data(landing, tmp_path: Path) -> None:
    root, _ = landing
    generate(tmp_path / "again", scale=SCALE, seed=SEED, end=END, quiet=True, profile="messy")
    first, second = file_contents(root), file_contents(tmp_path / "again")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    generate(tmp_path / "other", scale=SCALE, seed=SEED + 1, end=END, quiet=True, profile="messy")
    assert file_contents(tmp_path / "other") != first


def test_only_orders_and_a_late_catalogue_land(landing, catalogue) -> None:
    """No stock snapshots, no tracking, no purchase orders: the merchant sends what it has."""
    root, summary = landing
    assert sorted(p.name for p in root.iterdir()) == ["orders", "suppliers"]
    assert not (root / "inventory").exists() and not (root / "carriers").exists()
    stamp = catalogue[0].name.removeprefix("catalogue_").removesuffix(".csv")
    assert sorted(p.name for p in (root / "suppliers").iterdir()) == [f"catalogue_{stamp}.csv", f"suppliers_{stamp}.csv"]
    assert summary["profile"] == "messy" and summary["params"]["profile"] == "messy"
    assert summary["files_written"] == sum(1 for p in root.rglob("*") if p.is_file())
    assert not list(root.rglob(".*")), "no temporary files left behind"


def test_orders_files_follow_the_contract(landing, orders: pd.DataFrame) -> None:
    contract = [c.name for c in ORDERS.columns]
    for p in sorted((landing[0] / "orders").glob("orders_*.csv"))[:3]:
        columns = list(read_as_text(p).columns)
        assert set(ORDERS.required_columns) <= set(columns) <= set(contract), p.name
    assert orders["channel"].isin({"web", "marketplace", "app"}).all()
    assert orders["ordered_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").all()
    assert (orders["qty"] != 0).all() and (orders["price"] >= 0).all()
    assert orders["unit_price"].str.fullmatch(r"\d+\.\d\d").all()
    assert not orders.duplicated(["order_id", "line_id"]).any()
    # the export flags cancelled lines and those that are no stocked good; returns and write-offs are told
    # apart by price and customer
    assert set(orders["line_type"]) == {"", "cancellation", "not_stocked"} <= {"", *ORDER_LINE_TYPES}
    goods = orders[orders["line_type"] != "not_stocked"]
    assert set(goods["fulfilment_node"]) == {n.code for n in CONFIG.nodes}


def test_gift_cards_and_shipping_protection_are_no_goods_and_some_ship_nowhere(orders: pd.DataFrame) -> None:
    extra = orders[orders["line_type"] == "not_stocked"]
    cards, protection = extra[extra["sku"] == ""], extra[extra["sku"] == "ROUTEINS"]
    assert len(cards) + len(protection) == len(extra) and len(cards) >= 6 and len(protection) >= 20
    assert (cards["ship_to_country"] == "").any() and (cards["ship_to_country"] != "").any()
    assert (cards["fulfilment_node"] == "").all() and cards["order_id"].str.startswith("GC").all()
    # shipping protection is the last line of a retail order that has goods, and some is refunded by an untyped line
    refunds = orders[(orders["sku"] == "ROUTEINS") & (orders["line_type"] == "")]
    assert len(refunds) > 0 and (refunds["qty"] == -1).all() and set(refunds["order_id"]) <= set(protection["order_id"])
    goods = orders[(orders["line_type"] != "not_stocked") & (orders["sku"] != "ROUTEINS")]
    last_good = goods["line_id"].astype(int).groupby(goods["order_id"]).max()
    assert (protection["line_id"].astype(int).to_numpy() == last_good.reindex(protection["order_id"]).to_numpy() + 1).all()


def test_a_long_tail_of_thirty_plus_countries(orders: pd.DataFrame) -> None:
    sales = _sales(orders)
    lines = sales["ship_to_country"].value_counts()
    assert len(lines) >= 30
    tail = lines[~lines.index.isin(BIG_MARKETS)]
    assert len(tail) >= 30 and set(lines.index[:4]) <= BIG_MARKETS
    assert 0.1 < tail.sum() / lines.sum() < 0.45  # the big five carry most of the orders
    # many countries with a handful of orders a month (fewer than 5 lines a month at this scale)
    last_year = sales[sales["local_date"] > pd.Timestamp(END - timedelta(days=365))]
    per_month = last_year["ship_to_country"].value_counts() / 12
    assert (per_month < 5).sum() >= 20
    assert (per_month > 20).sum() >= 3


def test_a_few_currencies_all_quoted_by_the_ecb(orders: pd.DataFrame) -> None:
    from crossdock.fx_history import ecb_rates

    currencies = set(orders["currency"])
    assert {"EUR", "GBP", "USD", "CHF"} <= currencies and 5 <= len(currencies) <= 10
    assert currencies - {"EUR"} <= set(ecb_rates()["currency"])
    ch = orders[orders["ship_to_country"] == "CH"]
    assert set(ch["currency"]) == {"CHF", "EUR"}  # Swiss shoppers may pay in either


def test_the_shop_is_closed_on_sundays_in_every_country(orders: pd.DataFrame) -> None:
    weekday = orders["local_date"].dt.weekday
    assert (weekday != 6).all(), orders[weekday == 6].head()
    big = _sales(orders)[_sales(orders)["ship_to_country"].isin(BIG_MARKETS)]
    days = big.groupby(big["local_date"].dt.weekday)["ship_to_country"].nunique()
    assert list(days.index) == [0, 1, 2, 3, 4, 5] and (days == len(BIG_MARKETS)).all()


def test_wholesale_lines_of_hundreds_to_twenty_thousand_units(orders: pd.DataFrame) -> None:
    wholesale = orders[orders["qty"] >= 500]
    assert len(wholesale) >= 8
    assert wholesale["qty"].max() <= 20_000 and (wholesale["qty"] > 10_000).sum() >= 2
    assert wholesale["customer_id"].str.fullmatch(r"(B2B-\d{4})?").all()
    assert (wholesale["customer_id"] == "").any() and (wholesale["customer_id"] != "").any()
    assert (wholesale["price"] > 0).all() and wholesale["order_id"].str.startswith("WS").all()
    retail = _sales(orders)[~_sales(orders)["order_id"].str.startswith("WS")]
    assert retail["qty"].max() <= 10


def test_a_shorter_history_gets_its_share_of_wholesale_orders_not_all_of_them(tmp_path: Path) -> None:
    """About one a month at scale 1: 150 lines / 1.3 over the 104 months since March 2018, so 2 years at scale 0.5 hold
    ~13 orders; before, every history got all 58 of scale 0.5, and wholesale was 90 % of a two-year history's units."""
    generate(tmp_path, scale=0.5, days=730, profile="messy", quiet=True)
    orders = pd.concat([read_as_text(f) for f in sorted((tmp_path / "orders").glob("*.csv"))])
    wholesale = orders[orders["order_id"].str.startswith("WS")]
    assert 10 <= wholesale["order_id"].nunique() <= 16


def test_write_offs_are_negative_lines_at_price_zero_without_customer(orders: pd.DataFrame) -> None:
    free = orders[orders["price"] == 0]
    assert len(free) >= 24
    assert (free["qty"] < 0).all() and (free["customer_id"] == "").all() and (free["line_type"] == "").all()
    assert free["order_id"].str.startswith("ADJ").all()
    assert (free["qty"] <= -50).any() and (free["qty"] >= -12).any()  # thrown-away batches and damaged units
    assert set(free["ship_to_country"]) <= {n.country for n in CONFIG.nodes}


def test_returns_have_a_price_and_cancellations_keep_their_order(orders: pd.DataFrame) -> None:
    returns = orders[(orders["qty"] < 0) & (orders["price"] > 0) & (orders["sku"] != "ROUTEINS")]  # goods' (protection: below)
    assert len(returns) > 0.03 * len(_sales(orders))
    assert (returns["customer_id"] != "").mean() > 0.85  # guests return too
    sold = _sales(orders).set_index(["order_id", "sku"])["unit_price"]
    keys = list(zip(returns["order_id"], returns["sku"]))
    assert all(k in sold.index for k in keys)
    assert (sold.loc[keys].to_numpy() == returns["unit_price"].to_numpy()).all()
    cancelled = orders[orders["line_type"] == "cancellation"]
    assert 0.01 < len(cancelled) / len(orders) < 0.05 and (cancelled["qty"] > 0).all()
    assert not set(cancelled["order_id"]) & set(returns["order_id"])
    assert (orders["customer_id"] == "").any()  # guest checkouts


def test_ten_years_of_history_thin_at_first(orders: pd.DataFrame, landing) -> None:
    first, last = orders["local_date"].min(), orders["local_date"].max()
    assert (last - first).days / 365.25 >= 9.5
    assert first.strftime("%Y-%m") == landing[1]["params"]["start"][:7] == "2016-12"
    by_year = _sales(orders).groupby(orders["local_date"].dt.year).size()
    assert by_year[2017] * 5 < by_year[2025]
    assert (by_year.loc[2017:2025].diff().dropna() > -0.15 * by_year.loc[2018:2025]).all()  # growth, no collapse
    months = sorted(p.name for p in (landing[0] / "orders").iterdir())
    assert len(months) == 119 and months[0] == "orders_2016-12.csv" and months[-1] == f"orders_{END:%Y-%m}.csv"


def test_the_catalogue_arrives_late_and_misses_sold_skus(orders: pd.DataFrame, catalogue, landing) -> None:
    path, rows = catalogue
    dated = file_date(path)
    assert END - timedelta(days=92) <= dated < END
    sold = set(orders.loc[orders["line_type"] != "not_stocked", "sku"])
    listed = set(rows["sku"])
    assert listed < sold  # part of the SKUs sold, nothing never sold
    missing = sold - listed
    assert len(missing) >= 0.1 * len(sold)
    first_sold = orders.groupby("sku")["local_date"].min()
    new = set(first_sold[first_sold > pd.Timestamp(dated)].index)
    assert new and new <= missing  # new SKUs sell that no catalogue has
    suppliers = read_as_text(next((landing[0] / "suppliers").glob("suppliers_*.csv")))
    assert set(rows["supplier_id"]) == set(suppliers["supplier_id"])
    assert 15 <= len(sold) <= 40  # tens of SKUs at test scale
    # some suppliers leave a line's MOQ or pack size blank; every other value is a whole number
    for column in ("moq", "pack_size"):
        blank = rows[column].isna() | (rows[column] == "")
        assert 0 < blank.sum() < len(rows) and rows.loc[~blank, column].str.fullmatch(r"[1-9][0-9]*").all()


def test_the_messy_config_covers_every_country_and_node(orders: pd.DataFrame) -> None:
    assert BIG_MARKETS == {"DE", "NL", "GB", "FR", "US"}
    assert CONFIG.catch_all is not None and CONFIG.catch_all.code == "ROW"
    assert all(CONFIG.market_for_country(c) is not None for c in set(orders["ship_to_country"]))
    main_currency = _sales(orders).groupby("ship_to_country")["currency"].agg(lambda s: s.mode()[0])
    assert {m.code: m.currency for m in CONFIG.markets} == main_currency[sorted(BIG_MARKETS)].to_dict()
    assert CONFIG.catch_all.currency == "EUR"


def test_write_messy_config_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "root" / "crossdock.yaml"
    assert write_messy_config(target) is True
    assert target.read_bytes() == MESSY_CONFIG.read_bytes()
    load_config(target)
    target.write_text("# the merchant's own\n")
    assert write_messy_config(target) is False and target.read_text() == "# the merchant's own\n"


def test_two_months_ingest_without_quarantine(landing, orders: pd.DataFrame, tmp_path: Path) -> None:
    """The month with the biggest wholesale line and one with a write-off load whole: a 12,000-unit
    line and a price-0 line without customer are real lines, not errors."""
    from feeds.ingest import ingest_feed

    biggest = orders.loc[orders["qty"].idxmax(), "ordered_at"][:7]
    write_off = orders.loc[orders["price"] == 0, "ordered_at"].iloc[-1][:7]
    folder = tmp_path / "landing" / "orders"
    folder.mkdir(parents=True)
    for month in {biggest, write_off}:
        shutil.copy(landing[0] / "orders" / f"orders_{month}.csv", folder)
    conn = duckdb.connect()
    results = ingest_feed(conn, tmp_path / "landing", "orders", "test-salt")
    assert [(r.status, r.rows_quarantined) for r in results] == [("loaded", 0)] * len({biggest, write_off}), [
        r.message for r in results]
    assert conn.execute("select max(quantity) from raw.orders").fetchone()[0] > 10_000
    conn.close()


def test_cli_writes_the_messy_profile_and_its_config(tmp_path: Path, capsys) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "demo.generate", "--landing", str(tmp_path / "landing"), "--profile", "messy",
         "--scale", "0.05", "--days", "60", "--end", "2026-03-31", "--seed", "3", "--quiet"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    summary = json.loads(out.stdout)
    assert summary["params"]["profile"] == "messy" and summary["params"]["start"] == "2026-01-31"
    assert summary["facts"]["countries"] >= 5 and not (tmp_path / "landing" / "inventory").exists()

    import cli.main as cli
    from crossdock.settings import Settings

    assert cli.parse_args(["generate", "--profile", "messy"]).profile == "messy"
    assert cli.parse_args(["demo", "--profile", "messy", "--scale", "0.1"]).profile == "messy"
    assert cli.parse_args(["demo"]).profile == "tidy"
    settings = Settings.under(tmp_path / "root")
    cli.generate(settings, 0.02, 3, "messy")
    assert settings.config.read_bytes() == MESSY_CONFIG.read_bytes()
    printed = capsys.readouterr().out  # a line per step, not the generator's dict of every file written
    assert re.search(r"^  \d+ files, rows per feed: orders [\d,]+, ", printed, re.M) and "{" not in printed
    assert not (settings.landing / "inventory").exists()


# sha256 over (path, bytes) of the tidy files for scale 0.05, seed 3, 60 days to 2026-03-31, as
# generated before the messy profile existed: the tidy merchant must not move.
TIDY_DIGEST = "ea308f6b5845ff49d9d6f1f3d764d92cd0c3bdcf84d64856b6cbb5ec28274c81"


def test_the_tidy_profile_is_unchanged(tmp_path: Path) -> None:
    summary = generate(tmp_path / "tidy", scale=0.05, seed=3, end=date(2026, 3, 31), days=60, quiet=True,
                       profile="tidy")
    default = generate(tmp_path / "default", scale=0.05, seed=3, end=date(2026, 3, 31), days=60, quiet=True)
    tidy = file_contents(tmp_path / "tidy")
    assert tidy == file_contents(tmp_path / "default")
    assert summary["params"] == default["params"] == {
        "scale": 0.05, "seed": 3, "end": "2026-03-31", "days": 60, "start": "2026-01-31"}
    digest = hashlib.sha256()
    for name, payload in tidy.items():
        if not name.startswith("overrides/"):  # the planners' overrides came later, drawn from the same demand
            digest.update(name.encode() + b"\0" + payload)
    assert digest.hexdigest() == TIDY_DIGEST
    with pytest.raises(ValueError, match="profile"):
        generate(tmp_path / "x", profile="chaotic")
