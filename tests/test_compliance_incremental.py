"""compliance.order_store: a run prices only new or changed orders, and the table is the one pricing all would give.

Two warehouses get the same sale lines and the same changes: one is priced
incrementally run after run, the other re-prices every order each time; after
every change their staged publish.order_landed_cost must be equal row for row,
value for value and in the same physical order, and equal to what staging the
plain full pricing (compliance.run.price_order_lines + stage_table) gives.
Each changed input of the rules (a rate, FX, a node, the catalogue, the
policy) must re-price every order and say why.
"""
from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import compliance.order_store as order_store
from compliance.facts import ComplianceSources, read_sale_lines
from compliance.order_store import INPUT_NAMES, OrderPricing, last_pricing, price_orders, summarize_orders
from compliance.policy import CompliancePolicy
from compliance.rulebook import Rulebook
from compliance.run import price_order_lines
from crossdock import progress
from compliance_frames import SEEDS, fact, seed_rulebook
from crossdock.publish import stage_table, staged

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 2, 28)
CURRENCY = {"GB": "GBP", "US": "USD", "DE": "EUR"}
LINE_COLUMNS = ["order_id", "line_id", "order_date", "market", "ship_to_country", "ship_from_node", "carrier", "sku",
                "quantity", "unit_price", "currency", "units_per_eur"]


def fx_rates(last_day: date, gbp_shift: float = 0.0) -> pd.DataFrame:
    """A rate per currency per day from 2025-12-01 to `last_day`, drifting day by day."""
    days = [date(2025, 12, 1) + timedelta(days=i) for i in range((last_day - date(2025, 12, 1)).days + 1)]
    rows = [(d, c, base + 0.0005 * i + (gbp_shift if c == "GBP" else 0.0))
            for i, d in enumerate(days) for c, base in (("GBP", 0.84), ("USD", 1.08))]
    return pd.DataFrame(rows, columns=["calendar_date", "currency", "units_per_eur"]).assign(
        calendar_date=lambda f: pd.to_datetime(f["calendar_date"]))


def base_sources(fx: pd.DataFrame) -> ComplianceSources:
    facts = [
        fact(sku, market, territory, CURRENCY[market], **kw)
        for sku, kw in (("TEE", {}), ("MUG", {"hs_code": "691200", "origin_country": "CN", "mfn_rate": 0.06}),
                        ("LAMP", {"hs_code": None, "unit_cost_eur": None, "weight_kg": None}))
        for market, territory in (("GB", "GB"), ("US", "US"), ("DE", "EU"))
    ]
    empty = pd.DataFrame()
    return ComplianceSources(
        as_of=LAST_DAY,
        rules=seed_rulebook(fx),
        facts=pd.DataFrame(facts),
        duty_rates=pd.DataFrame([("TEE", "CA", 0.18, None, None, None)],
                                columns=["sku", "customs_territory", "mfn_rate", "preferential_agreement", "preferential_rate",
                                         "preferential_parties"]),
        countries=pd.DataFrame({"alpha_2": ["GB", "NL", "DE", "FR", "US", "CA"],
                                "customs_territory": ["GB", "EU", "EU", "EU", "US", "CA"]}),
        nodes=pd.DataFrame([("GB-BHX", "GB", "GB"), ("NL-AMS", "NL", "EU"), ("US-EWR", "US", "US")],
                           columns=["node_code", "country", "customs_territory"]),
        routes=empty, baskets=empty, customs_risk=empty, lines=None,
    )


def rates(fx: pd.DataFrame) -> dict[tuple[str, date], float]:
    """(currency, day) -> units per EUR, EUR included."""
    table = {(c, d.date()): float(r) for d, c, r in fx[["calendar_date", "currency", "units_per_eur"]].itertuples(index=False)}
    return table | {("EUR", d.date()): 1.0 for d in fx["calendar_date"]}


def order_lines(n_orders: int, fx: pd.DataFrame, days: tuple[date, date], prefix: str = "O", seed: int = 7) -> pd.DataFrame:
    """Sale lines of `n_orders` orders: 1-3 lines, three markets, declared nodes and an undeclared one, several carriers."""
    rnd = random.Random(seed)
    rows, line_id, rate = [], 0, rates(fx)
    span = (days[1] - days[0]).days
    for i in range(n_orders):
        market = rnd.choice(["GB", "US", "DE"])
        ship_to = {"GB": "GB", "US": rnd.choice(["US", "US", "CA"]), "DE": rnd.choice(["DE", "FR"])}[market]
        node = rnd.choice(["GB-BHX", "NL-AMS", "US-EWR", "GB-BHX", "NL-AMS", "XX-001"])  # never null (dbt tests it)
        carrier = rnd.choice(["DPD", "Royal Mail", "USPS", None])
        day = days[0] + timedelta(days=rnd.randint(0, span))
        currency = CURRENCY[market]
        for _ in range(rnd.randint(1, 3)):
            line_id += 1
            rows.append((f"{prefix}{i:05d}", line_id, day, market, ship_to, node, carrier, rnd.choice(["TEE", "MUG", "LAMP"]),
                         rnd.randint(1, 4), round(rnd.uniform(5, 400), 2), currency, rate[(currency, day)]))
    return pd.DataFrame(rows, columns=LINE_COLUMNS).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))


class Warehouse:
    """A DuckDB warehouse holding intermediate.int_sale_lines_shipped_from, priced one way (incremental or all)."""

    def __init__(self, path: str, lines: pd.DataFrame, reprice_all: bool) -> None:
        self.conn = duckdb.connect(path)
        self.reprice_all = reprice_all
        self.conn.execute("create schema intermediate")
        self.conn.register("_lines", lines)
        self.conn.execute("create table intermediate.int_sale_lines_shipped_from as "
                          "select * replace (cast(order_date as date) as order_date) from _lines")
        self.conn.unregister("_lines")
        self.runs = 0

    @classmethod
    def copied(cls, template: Path, path: Path, reprice_all: bool, runs: int) -> "Warehouse":
        """A copy of a closed warehouse file, priced `runs` times already."""
        shutil.copyfile(template, path)
        warehouse = cls.__new__(cls)
        warehouse.conn, warehouse.reprice_all, warehouse.runs = duckdb.connect(str(path)), reprice_all, runs
        return warehouse

    def sql(self, *statements: str) -> None:
        for statement in statements:
            self.conn.execute(statement)

    def add(self, lines: pd.DataFrame) -> None:
        self.conn.register("_lines", lines)
        self.conn.execute("insert into intermediate.int_sale_lines_shipped_from "
                          "select * replace (cast(order_date as date) as order_date) from _lines")
        self.conn.unregister("_lines")

    def price(self, sources: ComplianceSources, policy: CompliancePolicy) -> OrderPricing:
        self.runs += 1
        return price_orders(self.conn, sources, policy, f"run-{self.runs}", reprice_all=self.reprice_all)

    def staged(self) -> pd.DataFrame:
        """plan_next.order_landed_cost in its physical row order (no order by: the order is compared too)."""
        return self.conn.execute(f"select * from {staged('order_landed_cost')}").df()


def first_world() -> tuple[ComplianceSources, CompliancePolicy]:
    """The sources and policy every test starts from (built afresh for each: a test may change them)."""
    return base_sources(fx_rates(LAST_DAY)), CompliancePolicy()


@pytest.fixture(scope="module")
def priced_once(tmp_path_factory) -> dict[str, Path]:
    """The two warehouses, filled and priced once for the module, closed: each test prices copies of them."""
    folder = tmp_path_factory.mktemp("priced_once")
    sources, policy = first_world()
    lines = order_lines(240, fx_rates(LAST_DAY), (FIRST_DAY, LAST_DAY))
    incremental = Warehouse(str(folder / "incremental.duckdb"), lines, reprice_all=False)
    full = Warehouse(str(folder / "full.duckdb"), lines, reprice_all=True)
    first = incremental.price(sources, policy)
    full.price(sources, policy)
    assert first.repriced_all and first.reason == "no earlier pricing stored" and first.priced == first.orders == 240
    incremental.conn.close()
    full.conn.close()
    return {"incremental": folder / "incremental.duckdb", "full": folder / "full.duckdb"}


@pytest.fixture
def world(tmp_path, priced_once):
    """(incremental warehouse, always-full warehouse, sources, policy), both priced once: copies of the module's
    two priced warehouses (filling and pricing them took ~1 s a test, copying them takes milliseconds)."""
    incremental = Warehouse.copied(priced_once["incremental"], tmp_path / "incremental.duckdb", reprice_all=False, runs=1)
    full = Warehouse.copied(priced_once["full"], tmp_path / "full.duckdb", reprice_all=True, runs=1)
    sources, policy = first_world()
    yield incremental, full, sources, policy
    incremental.conn.close()
    full.conn.close()


def both(world, *statements: str) -> None:
    for warehouse in world[:2]:
        warehouse.sql(*statements)


def price_both(world, sources: ComplianceSources | None = None, policy: CompliancePolicy | None = None) -> OrderPricing:
    """Price both warehouses; assert their staged tables are identical and equal to staging the plain full pricing."""
    incremental, full = world[:2]
    sources, policy = sources or world[2], policy or world[3]
    done = incremental.price(sources, policy)
    full.price(sources, policy)
    pd.testing.assert_frame_equal(incremental.staged(), full.staged(), check_exact=True)
    plain = price_order_lines(sources, policy, read_sale_lines(full.conn))
    with duckdb.connect() as conn:
        stage_table(conn, "order_landed_cost", plain, "plain")
        pd.testing.assert_frame_equal(incremental.staged(), conn.execute(f"select * from {staged('order_landed_cost')}").df(),
                                      check_exact=True)
    return done


def test_the_first_run_prices_every_order_like_the_full_pricing_did(world):
    incremental = world[0]
    staged_orders = incremental.staged()
    assert len(staged_orders) == 240 and staged_orders["order_id"].is_monotonic_increasing
    # every kind of order is in the sample: bulk from a node inside the border, parcels, an undeclared node
    assert {"bulk_import_via_node", "cross_border_parcel"} <= set(staged_orders["import_flow"].dropna())
    assert staged_orders["unknowns"].str.contains("ship_from_node").any()
    assert price_both(world).priced == 0


class Shown:
    """A progress sink that keeps each loop's description, total and items advanced."""

    def __init__(self) -> None:
        self.loops: list[tuple[str, int | None, int]] = []

    def start(self, description: str, total: int | None) -> int:
        self.loops.append((description, total, 0))
        return len(self.loops) - 1

    def advance(self, handle: int, steps: int = 1) -> None:
        description, total, done = self.loops[handle]
        self.loops[handle] = (description, total, done + steps)

    def stop(self, handle: int) -> None:
        pass


def test_orders_priced_in_batches_stage_the_table_pricing_them_at_once_does(world, monkeypatch, caplog):
    """Every order again in batches of 23 (240 orders: 11 batches, the last one short), then one new day's 25 orders
    in 2: the same staged table, row for row and in the same order, and no work table left behind."""
    incremental, full, sources, policy = world
    monkeypatch.setattr(order_store, "ORDERS_PER_BATCH", 23)
    shown = Shown()
    previous = progress.set_sink(shown)  # what `crossdock run`'s console shows as a bar
    try:
        with caplog.at_level("INFO", logger="compliance.order_store"):
            done = price_orders(incremental.conn, sources, policy, "in-batches", reprice_all=True)
    finally:
        progress.set_sink(previous)
    assert (done.priced, done.repriced_all) == (240, True)
    assert "priced batch 11 of 11: 10 orders" in caplog.text
    assert shown.loops == [("orders priced, 23 a batch", 11, 11)]
    pd.testing.assert_frame_equal(incremental.staged(), full.staged(), check_exact=True)
    next_day = LAST_DAY + timedelta(days=1)
    fx = fx_rates(next_day)
    for warehouse in world[:2]:
        warehouse.add(order_lines(25, fx, (next_day, next_day), prefix="N", seed=11))
    caplog.clear()
    with caplog.at_level("INFO", logger="compliance.order_store"):
        assert price_both(world, dataclasses.replace(sources, rules=seed_rulebook(fx), as_of=next_day), policy).priced == 25
    assert "priced batch 2 of 2: 2 orders" in caplog.text
    left = incremental.conn.execute("select table_name from information_schema.tables where table_name like '\\_%' escape '\\'").fetchall()
    assert not left, left


def test_after_one_new_day_only_its_orders_are_priced(world):
    incremental, _, sources, policy = world
    next_day = LAST_DAY + timedelta(days=1)
    fx = fx_rates(next_day)  # the new day brings its own rates: no change to the days already priced
    for warehouse in world[:2]:
        warehouse.add(order_lines(25, fx, (next_day, next_day), prefix="N", seed=11))
    done = price_both(world, dataclasses.replace(sources, rules=seed_rulebook(fx), as_of=next_day), policy)
    assert (done.priced, done.orders, done.removed, done.repriced_all) == (25, 265, 0, False)
    assert done.summary() == f"priced 25 new/changed orders of 265; {order_store.UNCHANGED}"
    record = last_pricing(incremental.conn)
    assert record["fx_through"] == next_day and record["priced"] == 25 and not record["repriced_all"]


def test_a_changed_order_is_priced_again_and_a_deleted_one_removed(world):
    both(world,
         "update intermediate.int_sale_lines_shipped_from set quantity = quantity + 5 where order_id = 'O00003'",
         # a late carrier event: the order left from another node
         "update intermediate.int_sale_lines_shipped_from set ship_from_node = 'US-EWR' where order_id = 'O00010'",
         "delete from intermediate.int_sale_lines_shipped_from where order_id = 'O00020'")
    before = world[0].staged().set_index("order_id")
    done = price_both(world)
    assert (done.priced, done.removed, done.orders, done.repriced_all) == (2, 1, 239, False)
    assert done.summary().startswith("priced 2 new/changed orders of 239, removed 1 no longer sold; ")
    after = world[0].staged().set_index("order_id")
    assert "O00020" not in after.index
    assert after.loc["O00003", "units"] == before.loc["O00003", "units"] + 5 * before.loc["O00003", "lines"]
    assert after.loc["O00010", "ship_from_node"] == "US-EWR"


def test_one_line_of_an_order_changing_or_going_reprices_that_order(world):
    both(world, """
        delete from intermediate.int_sale_lines_shipped_from where line_id = (
            select max(line_id) from intermediate.int_sale_lines_shipped_from
            where order_id in (select order_id from intermediate.int_sale_lines_shipped_from group by 1 having count(*) > 1))
    """)
    done = price_both(world)
    assert (done.priced, done.removed) == (1, 0)


def changed_sources(sources: ComplianceSources, what: str) -> ComplianceSources:
    fx = sources.rules.tables["fx"]
    if what == "vat_rates":
        vat = pd.read_csv(SEEDS / "vat_rates.csv")
        vat.loc[vat["country_code"] == "DE", "standard_rate"] += 0.01
        rules = Rulebook(pd.read_csv(SEEDS / "de_minimis.csv"), vat, pd.read_csv(SEEDS / "import_fees.csv"), fx)
        return dataclasses.replace(sources, rules=rules)
    if what == "fx":  # an old day's rate corrected
        return dataclasses.replace(sources, rules=seed_rulebook(fx_rates(LAST_DAY, gbp_shift=0.01)))
    if what == "duty_rates":
        return dataclasses.replace(sources, facts=sources.facts.assign(mfn_rate=sources.facts["mfn_rate"] * 1.5))
    if what == "catalogue":
        facts = sources.facts.copy()
        facts.loc[facts["sku"] == "LAMP", "hs_code"] = "940540"
        return dataclasses.replace(sources, facts=facts)
    if what == "nodes":  # crossdock.yaml declares the node it did not know
        return dataclasses.replace(sources, nodes=pd.concat(
            [sources.nodes, pd.DataFrame([("XX-001", "US", "US")], columns=list(sources.nodes.columns))], ignore_index=True))
    raise ValueError(what)


@pytest.mark.parametrize("what", ["vat_rates", "fx", "duty_rates", "catalogue", "nodes"])
def test_a_changed_rule_rate_node_or_catalogue_reprices_every_order_and_says_so(world, what):
    done = price_both(world, changed_sources(world[2], what))
    assert done.repriced_all and done.priced == done.orders == 240
    assert done.reason == INPUT_NAMES[what]
    assert done.summary() == f"re-priced all 240 orders: {INPUT_NAMES[what]}"
    assert not price_both(world, changed_sources(world[2], what)).repriced_all  # and the next run builds on it


def test_a_changed_policy_or_code_reprices_every_order(world, monkeypatch):
    done = price_both(world, policy=CompliancePolicy(parcel_eur_per_kg=3.5))
    assert done.repriced_all and done.reason == INPUT_NAMES["policy"]
    monkeypatch.setattr(order_store, "code_digest", lambda: "edited")
    done = price_both(world, policy=CompliancePolicy(parcel_eur_per_kg=3.5))
    assert done.repriced_all and done.reason == INPUT_NAMES["code"]


def test_what_order_pricing_does_not_read_changes_nothing(world):
    """The restricted-goods columns of the catalogue, the new day's FX, the plan's routes: no re-pricing."""
    sources = world[2]
    facts = sources.facts.assign(restricted_categories="batteries", product_name="renamed")
    done = price_both(world, dataclasses.replace(sources, facts=facts, routes=pd.DataFrame({"x": [1]})))
    assert not done.repriced_all and done.priced == 0


def test_rerunning_prices_nothing_and_changes_nothing(world):
    incremental = world[0]
    before = incremental.staged()
    for _ in range(2):
        done = price_both(world)
        assert (done.priced, done.removed, done.repriced_all) == (0, 0, False)
    pd.testing.assert_frame_equal(incremental.staged(), before, check_exact=True)
    assert incremental.conn.execute(f"select count(*) from {order_store.RUNS}").fetchall() == [(3,)]


def test_a_dropped_store_prices_every_order_again(world):
    both(world, f"drop table {order_store.STORE}")
    done = price_both(world)
    assert done.repriced_all and done.reason == "no earlier pricing stored"


def store_state(conn: duckdb.DuckDBPyConnection) -> tuple:
    return tuple(
        conn.execute(f"select count(*), sum(hash(t)) from {table} as t").fetchall()[0]
        for table in (order_store.STORE, order_store.RUNS, staged("order_landed_cost"))
    )


def test_a_run_that_fails_after_writing_leaves_store_record_and_staged_table_as_they_were(world, monkeypatch):
    incremental, _, sources, policy = world
    incremental.sql("update intermediate.int_sale_lines_shipped_from set quantity = 9 where order_id = 'O00001'",
                    "delete from intermediate.int_sale_lines_shipped_from where order_id = 'O00002'")
    before = store_state(incremental.conn)
    write = order_store._write_store

    def write_then_fail(*args, **kwargs):
        write(*args, **kwargs)
        raise RuntimeError("killed (injected by the test)")

    monkeypatch.setattr(order_store, "_write_store", write_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        incremental.price(sources, policy)
    assert store_state(incremental.conn) == before
    monkeypatch.undo()
    done = incremental.price(sources, policy)
    assert (done.priced, done.removed) == (1, 1)


KILLED_RUN = textwrap.dedent("""
    import sys, time, duckdb, pickle
    import compliance.order_store as order_store
    sources, policy = pickle.load(open(sys.argv[2], "rb"))
    write = order_store._write_store
    def write_then_hang(*args, **kwargs):
        write(*args, **kwargs)
        print("written", flush=True)
        time.sleep(60)
    order_store._write_store = write_then_hang
    order_store.price_orders(duckdb.connect(sys.argv[1]), sources, policy, "killed-run")
""")


def test_a_run_killed_mid_write_leaves_the_previous_pricing_whole(world, tmp_path):
    """kill -9 after the store's rows were deleted and re-inserted, before the commit: on reopening the warehouse
    the store, its record and the staged table are the previous run's, and the next run prices what changed."""
    import pickle

    incremental, _, sources, policy = world
    incremental.sql("update intermediate.int_sale_lines_shipped_from set quantity = 9 where order_id = 'O00001'")
    before = store_state(incremental.conn)
    path = incremental.conn.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    incremental.conn.close()
    (tmp_path / "inputs.pickle").write_bytes(pickle.dumps((sources, policy)))
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, path, str(tmp_path / "inputs.pickle")], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "tests")})
    try:
        assert child.stdout.readline().strip() == "written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    incremental.conn = duckdb.connect(path)
    assert store_state(incremental.conn) == before
    done = incremental.price(sources, policy)
    assert (done.priced, done.repriced_all) == (1, False)


def test_the_summary_counts_orders_amounts_and_unknowns_in_sql(world):
    incremental = world[0]
    frame = incremental.staged()
    summary = summarize_orders(incremental.conn)
    assert summary.rows == len(frame) and summary.orders_with_unknowns == frame["unknowns"].notna().sum()
    expected = frame["unknowns"].dropna().str.split(",").explode().value_counts()
    assert dict(zip(summary.unknowns["unknown"], summary.unknowns["rows"])) == expected.to_dict()
    # each unknown says the markets it is in, most rows first: which market lacks its reference rows
    per_market = frame.assign(unknown=frame["unknowns"].str.split(",")).explode("unknown").dropna(subset=["unknown"])
    for row in summary.unknowns.itertuples():
        counts = per_market[per_market["unknown"] == row.unknown]["market"].fillna("-").value_counts()
        top = counts.sort_index().sort_values(ascending=False, kind="stable")
        assert row.markets.startswith(f"{top.index[0]} {top.iloc[0]:,}"), (row.unknown, row.markets)
    by_regime = summary.by_market_and_regime
    assert by_regime["orders"].sum() == len(frame)
    assert by_regime["landed_eur"].sum() == pytest.approx(frame["landed_cost_eur"].sum())


def test_the_code_digest_covers_every_module_order_pricing_imports():
    """A compliance module that order pricing imports (directly or not) and the code digest leaves out would let
    an edit to it keep the old prices."""
    import ast

    seen, todo = set(), ["compliance.orders", "compliance.order_store"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((ROOT / (name.replace(".", "/") + ".py")).read_text())
        todo += [node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("compliance.")]
    pricing = seen - {"compliance.plan", "compliance.documents"}  # run.py imports the plan for build_plan
    assert pricing <= set(order_store.CODE_MODULES), sorted(pricing - set(order_store.CODE_MODULES))
