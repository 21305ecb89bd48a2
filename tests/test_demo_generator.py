"""Tests of the demo landing-file generator (demo/): the file contracts other
layers rely on, determinism, and the properties the data must have for the
quality gate, forecast and plans to be exercised (returns, holds, every
market-day sold, consistent POs and stock)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo.network import demo_markets
from demo.generate import generate
from landing_files import file_contents, generated_landing, landed_orders, read_as_text

SCALE, DAYS, END = 0.1, 400, date(2026, 10, 30)
START = END - timedelta(days=DAYS - 1)

ORDER_COLUMNS = ["order_id", "line_id", "ordered_at", "channel", "customer_id", "sku", "quantity",
                 "unit_price", "currency", "ship_to_country", "fulfilment_node"]
SUPPLIER_COLUMNS = ["supplier_id", "supplier_name", "country", "currency"]
CATALOGUE_COLUMNS = ["supplier_id", "sku", "product_name", "category", "unit_cost", "currency", "moq", "pack_size",
                     "quoted_lead_time_days", "origin_country", "hs_code", "weight_kg", "is_primary"]
PO_COLUMNS = ["po_id", "po_line", "supplier_id", "sku", "destination_node", "quantity", "ordered_at",
              "promised_at", "received_at", "status"]
EVENT_KEYS = ["event_id", "shipment_id", "order_id", "carrier", "service", "origin_node", "origin_country",
              "destination_country", "event_type", "event_at"]
INVENTORY_COLUMNS = ["snapshot_date", "node", "sku", "on_hand"]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return generated_landing(tmp_path_factory, "landing", scale=SCALE, seed=7, end=END, days=DAYS)


@pytest.fixture(scope="module")
def orders(landing: tuple[Path, dict]) -> pd.DataFrame:
    frame = landed_orders(landing[0])
    frame["quantity"] = frame["quantity"].astype(int)
    frame["line_id"] = frame["line_id"].astype(int)
    frame["local_date"] = frame["ordered_at"].str.slice(0, 10)
    return frame


@pytest.fixture(scope="module")
def catalogue(landing: tuple[Path, dict]) -> pd.DataFrame:
    return read_as_text(landing[0] / "suppliers" / f"catalogue_{END.year}.csv")


def test_same_arguments_give_identical_bytes(landing: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = landing
    generate(tmp_path, scale=SCALE, seed=7, end=END, days=DAYS, quiet=True)
    first, second = file_contents(root), file_contents(tmp_path)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_another_seed_gives_other_data(landing: tuple[Path, dict], tmp_path: Path) -> None:
    generate(tmp_path, scale=SCALE, seed=8, end=END, days=DAYS, quiet=True)
    name = f"suppliers/purchase_orders_{END.year}.csv"
    assert (tmp_path / name).read_bytes() != (landing[0] / name).read_bytes()


def test_every_file_speaks_for_a_day_of_the_history_not_the_day_it_was_generated(landing: tuple[Path, dict]) -> None:
    """The supplier files' names give the year only, so the ingest dates them by their modification time."""
    from feeds.file_dates import file_date

    dates = {p.relative_to(landing[0]).as_posix(): file_date(p) for p in landing[0].rglob("*") if p.is_file()}
    assert {name: day for name, day in dates.items() if name.startswith("suppliers/")} == {
        f"suppliers/{s}_{END.year}.csv": END for s in ("suppliers", "catalogue", "purchase_orders")}
    assert max(dates.values()) == pd.Period(END, freq="M").end_time.date()  # the last month's orders file: its month's end


def test_layout_and_summary(landing: tuple[Path, dict]) -> None:
    root, summary = landing
    months = pd.period_range(START, END, freq="M").strftime("%Y-%m").tolist()
    assert sorted(p.name for p in (root / "orders").iterdir()) == [f"orders_{m}.csv" for m in months]
    assert sorted(p.name for p in (root / "suppliers").iterdir()) == sorted(
        f"{s}_{END.year}.csv" for s in ("suppliers", "catalogue", "purchase_orders"))
    assert summary["files_written"] == sum(1 for p in root.rglob("*") if p.is_file())
    assert summary["rows"]["orders"] == sum(len(read_as_text(p)) for p in (root / "orders").iterdir())
    assert not list(root.rglob(".*")), "no temporary files left behind"


def test_contract_columns(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    for p in (root / "orders").glob("*.csv"):
        assert list(read_as_text(p).columns) == ORDER_COLUMNS, p.name
    assert list(read_as_text(root / "suppliers" / f"suppliers_{END.year}.csv").columns) == SUPPLIER_COLUMNS
    assert list(read_as_text(root / "suppliers" / f"catalogue_{END.year}.csv").columns) == CATALOGUE_COLUMNS
    assert list(read_as_text(root / "suppliers" / f"purchase_orders_{END.year}.csv").columns) == PO_COLUMNS
    for p in (root / "inventory").glob("*.csv"):
        assert list(read_as_text(p).columns) == INVENTORY_COLUMNS, p.name
    for p in (root / "carriers").glob("*.jsonl"):
        with p.open(encoding="utf-8") as fh:
            for line in fh:
                assert list(json.loads(line)) == EVENT_KEYS


def test_order_values(orders: pd.DataFrame) -> None:
    assert orders["channel"].isin({"web", "marketplace", "app"}).all()
    assert orders["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert orders["sku"].str.fullmatch(r"[A-Z]{3}-\d{5}").all()
    assert orders["ordered_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").all()
    assert (orders["quantity"] != 0).all()
    assert not orders.duplicated(["order_id", "line_id"]).any()
    node = {m.code: m.node for m in demo_markets()}
    currency = {m.code: m.currency for m in demo_markets()}
    assert (orders["fulfilment_node"] == orders["ship_to_country"].map(node)).all()
    assert (orders["currency"] == orders["ship_to_country"].map(currency)).all()
    jpy = orders["currency"] == "JPY"
    assert orders.loc[jpy, "unit_price"].str.fullmatch(r"\d+").all()
    assert orders.loc[~jpy, "unit_price"].str.fullmatch(r"\d+\.\d\d").all()
    # Offsets follow daylight saving: New York is -05:00 in January, -04:00 in July.
    us = orders[orders["ship_to_country"] == "US"]
    assert us.loc[us["local_date"].str.slice(5, 7) == "01", "ordered_at"].str.endswith("-05:00").all()
    assert us.loc[us["local_date"].str.slice(5, 7) == "07", "ordered_at"].str.endswith("-04:00").all()


def test_baskets_have_one_to_three_distinct_skus(orders: pd.DataFrame) -> None:
    sales = orders[orders["quantity"] > 0]
    per_order = sales.groupby("order_id").agg(lines=("sku", "size"), skus=("sku", "nunique"),
                                              markets=("ship_to_country", "nunique"), days=("local_date", "nunique"))
    assert per_order["lines"].between(1, 3).all()
    assert (per_order["lines"] == per_order["skus"]).all()
    assert (per_order["markets"] == 1).all() and (per_order["days"] == 1).all()
    assert (per_order["lines"] > 1).any()
    assert sales["customer_id"].duplicated().any(), "repeat customers"


def test_markets_and_currencies(orders: pd.DataFrame) -> None:
    assert orders["ship_to_country"].nunique() >= 8
    assert orders["currency"].nunique() >= 4


def test_every_market_sells_every_day(orders: pd.DataFrame) -> None:
    sales = orders[orders["quantity"] > 0]
    daily = sales.groupby(["ship_to_country", "local_date"])["quantity"].sum()
    days = [(START + timedelta(days=i)).isoformat() for i in range(DAYS)]
    full = pd.MultiIndex.from_product([[m.code for m in demo_markets()], days])
    assert daily.reindex(full).fillna(0).min() > 0


def test_returns_are_negative_lines_of_the_original_order(orders: pd.DataFrame) -> None:
    returns = orders[orders["quantity"] < 0]
    sales = orders[orders["quantity"] > 0]
    assert len(returns) > 0
    assert 0.01 < -returns["quantity"].sum() / sales["quantity"].sum() < 0.2
    joined = returns.merge(sales, on=["order_id", "sku"], suffixes=("_r", "_s"))
    assert len(joined) == len(returns)
    assert (joined["unit_price_r"] == joined["unit_price_s"]).all()
    assert (joined["customer_id_r"] == joined["customer_id_s"]).all()
    assert (-joined["quantity_r"] <= joined["quantity_s"]).all()
    assert (joined["line_id_r"] > joined["line_id_s"]).all()
    lag = pd.to_datetime(joined["local_date_r"]) - pd.to_datetime(joined["local_date_s"])
    assert lag.dt.days.between(5, 30).all()
    assert (returns["local_date"] <= END.isoformat()).all()


def test_catalogue(catalogue: pd.DataFrame) -> None:
    primary = catalogue[catalogue["is_primary"] == "true"]
    assert set(catalogue["is_primary"]) == {"true", "false"}
    assert primary["sku"].is_unique and len(primary) == round(200 * SCALE)
    assert set(catalogue["sku"]) == set(primary["sku"])
    assert not catalogue.duplicated(["supplier_id", "sku"]).any()
    assert primary["category"].nunique() >= 6
    assert catalogue["hs_code"].str.fullmatch(r"(\d{6})?").all()
    assert (primary["hs_code"] == "").any() and (primary["hs_code"] != "").mean() > 0.9
    assert catalogue["moq"].astype(int).between(50, 500).all()
    assert catalogue["pack_size"].astype(int).isin({1, 6, 12, 24}).all()
    assert catalogue["quoted_lead_time_days"].astype(int).between(20, 70).all()


def test_suppliers(landing: tuple[Path, dict], catalogue: pd.DataFrame) -> None:
    suppliers = read_as_text(landing[0] / "suppliers" / f"suppliers_{END.year}.csv")
    assert suppliers["supplier_id"].is_unique and 12 <= len(suppliers) <= 20
    assert suppliers["country"].nunique() >= 6
    assert set(catalogue["supplier_id"]) <= set(suppliers["supplier_id"])
    origin = catalogue.merge(suppliers, on="supplier_id", suffixes=("", "_sup"))
    assert (origin["origin_country"] == origin["country"]).all()
    assert (origin["currency"] == origin["currency_sup"]).all()


def test_purchase_orders_are_consistent(landing: tuple[Path, dict], catalogue: pd.DataFrame) -> None:
    po = read_as_text(landing[0] / "suppliers" / f"purchase_orders_{END.year}.csv")
    assert len(po) > 0 and not po.duplicated(["po_id", "po_line"]).any()
    assert po["status"].isin({"open", "received", "cancelled"}).all()
    received = po["status"] == "received"
    assert (po.loc[received, "received_at"] != "").all()
    assert (po.loc[~received, "received_at"] == "").all()
    assert (po.loc[received, "received_at"] >= po.loc[received, "ordered_at"]).all()
    assert (po.loc[received, "received_at"] <= END.isoformat()).all()
    assert (po["promised_at"] > po["ordered_at"]).all()
    assert (po["status"] == "open").any()
    primary = catalogue[catalogue["is_primary"] == "true"].set_index("sku")
    assert (po["supplier_id"] == po["sku"].map(primary["supplier_id"])).all()
    qty = po["quantity"].astype(int)
    assert (qty >= po["sku"].map(primary["moq"]).astype(int)).all()
    assert (qty % po["sku"].map(primary["pack_size"]).astype(int) == 0).all()


def test_inventory_snapshots(landing: tuple[Path, dict]) -> None:
    files = sorted((landing[0] / "inventory").glob("inventory_*.csv"))
    assert len(files) == 26
    for p in files:
        frame = read_as_text(p)
        stamp = p.stem.removeprefix("inventory_")
        assert date.fromisoformat(stamp).weekday() == 0 and (frame["snapshot_date"] == stamp).all()
        assert (frame["on_hand"].astype(int) >= 0).all()
        assert not frame.duplicated(["node", "sku"]).any()
    assert date.fromisoformat(files[-1].stem.removeprefix("inventory_")) > END - timedelta(days=7)


def test_carriers_cover_only_the_last_six_months(landing: tuple[Path, dict], orders: pd.DataFrame) -> None:
    root = landing[0]
    expected = pd.period_range(END - pd.DateOffset(months=5), END, freq="M").strftime("%Y-%m").tolist()
    files = sorted((root / "carriers").glob("*.jsonl"))
    assert [p.stem.removeprefix("tracking_") for p in files] == expected
    events = pd.concat([pd.read_json(p, lines=True, dtype=False) for p in files], ignore_index=True)
    at = pd.to_datetime(events["event_at"], utc=True)
    assert at.min() >= pd.Timestamp(expected[0] + "-01", tz="UTC")
    assert at.max() < pd.Timestamp(END + timedelta(days=1), tz="UTC")
    sales_orders = set(orders.loc[orders["quantity"] > 0, "order_id"])
    assert set(events["order_id"]) <= sales_orders
    assert events.groupby("shipment_id")["order_id"].nunique().max() == 1
    assert events.groupby("order_id")["shipment_id"].nunique().max() == 1
    allowed = {"picked_up", "in_transit", "customs_hold", "customs_cleared", "delivered", "exception", "returned"}
    assert set(events["event_type"]) <= allowed
    assert events["service"].isin({"express", "standard", "economy"}).all()


def test_customs_holds_only_on_cross_border_lanes(landing: tuple[Path, dict]) -> None:
    events = pd.concat([pd.read_json(p, lines=True, dtype=False)
                        for p in sorted((landing[0] / "carriers").glob("*.jsonl"))], ignore_index=True)
    held = events[events["event_type"] == "customs_hold"]
    assert len(held) > 0
    assert (held["origin_country"] != held["destination_country"]).all()
    eu = {"NL", "DE", "FR"}
    assert not (held["origin_country"].isin(eu) & held["destination_country"].isin(eu)).any()
    # Events of a shipment are in time order, pickup first.
    events["t"] = pd.to_datetime(events["event_at"], utc=True)
    first = events.sort_values(["t", "event_id"]).groupby("shipment_id")["event_type"].first()
    assert (first == "picked_up").all()


def test_a_parcel_takes_the_customs_risk_of_its_riskiest_chapter() -> None:
    from demo.carriers import _hold_odds, order_customs_risk

    skus = pd.DataFrame({"sku": ["SERUM", "TEE", "CABLE", "NOCODE"], "hs_code": ["330499", "610910", "854442", ""]})
    lines = pd.DataFrame({
        "order_id": ["O1", "O1", "O2", "O2", "O3", "O4"],
        "sku": ["TEE", "SERUM", "TEE", "CABLE", "NOCODE", "SERUM"],
        "_return": [False, False, False, False, False, True],  # O4 only has a return: no sold line
    })
    risk = order_customs_risk(lines, skus).set_index("order_id")
    assert risk.to_dict("index") == {
        "O1": {"hold_factor": 2.0, "days_factor": 1.3},  # cosmetics beat the t-shirt
        "O2": {"hold_factor": 1.8, "days_factor": 1.2},  # the cable (ch. 85)
        "O3": {"hold_factor": 1.0, "days_factor": 1.0},  # no HS code: an ordinary parcel
    }
    # the lane keeps its rate: 0.09 on average whatever the mix, twice as likely for a factor 2 parcel
    odds = _hold_odds(np.array([1.0, 1.0, 2.0, 1.8]), 0.09)
    assert odds.mean() == pytest.approx(0.09) and odds[2] == pytest.approx(2 * odds[0])


def test_cli(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "demo.generate", "--landing", str(tmp_path), "--scale", "0.05", "--days", "60",
         "--end", "2026-03-31", "--seed", "3"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    summary = json.loads(out.stdout)
    assert summary["params"] == {"scale": 0.05, "seed": 3, "end": "2026-03-31", "days": 60, "start": "2026-01-31"}
    assert summary["rows"]["orders"] > 0
    assert re.search(r"demo \[.*\] wrote \d+ files", out.stderr)
    assert sorted(p.name for p in (tmp_path / "orders").iterdir()) == [
        "orders_2026-01.csv", "orders_2026-02.csv", "orders_2026-03.csv"]
