"""The warehouse interface (crossdock/engine.py) means the same on DuckDB and on Spark (issue 18, item 2).

Every test runs against both implementations: DuckDB on a temporary file, and
Spark on a local session under a temporary CROSSDOCK_SPARK_HOME (one session
for the module: Spark allows one per process). The Spark cases are marked
`spark` and skip without Java, except under CI (CROSSDOCK_REQUIRE_SPARK=1).
The staging of a plan (crossdock/publish.py), which every Python step uses,
is run through both as the steps run it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from crossdock.engine import DuckDBWarehouse, Warehouse, as_warehouse, scalar
from crossdock.publish import DuplicateKey, last_published, publish_plan, stage_rows, stage_table, staged, unpublished_staging

try:
    from spark_support import java_or_skip
except ImportError:  # tests/ imported as a package
    from tests.spark_support import java_or_skip


@pytest.fixture(scope="module")
def spark_session(tmp_path_factory):
    java_or_skip()
    pytest.importorskip("pyspark")
    from crossdock.spark import spark_session as make_session

    home = tmp_path_factory.mktemp("spark_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CROSSDOCK_SPARK_HOME", str(home))
        session = make_session()
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])
def warehouse(request, tmp_path) -> Warehouse:
    if request.param == "spark":
        from crossdock.spark_warehouse import SparkWarehouse

        session = request.getfixturevalue("spark_session")
        for (schema,) in session.sql("show databases").collect():
            if schema != "default":
                session.sql(f"drop database `{schema}` cascade")
        yield SparkWarehouse(session, staging=tmp_path / "frames")
        return
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield DuckDBWarehouse(conn)
    conn.close()


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "sku": ["A", "B", "C"],
        "window": [1, 2, 2],  # a name both dialects reserve
        "units": [1.5, None, 3.0],
        "day": [dt.date(2026, 1, 1), dt.date(2026, 1, 2), None],
        "at": pd.to_datetime(["2026-01-01 10:00:00", "2026-01-02 00:00:00", None]),
        "note": [None, None, None],  # pandas' all-null text column
    })


def test_a_frame_written_reads_back_with_the_same_values_and_dtypes(warehouse):
    assert warehouse.write_frame("plan_next.t", _frame(), 'sku, "window", units, day, "at", cast(note as varchar) as note') == 3
    back = warehouse.query('select * from plan_next.t order by sku')
    assert list(back.columns) == ["sku", "window", "units", "day", "at", "note"]
    assert back["sku"].tolist() == ["A", "B", "C"]
    assert back["window"].tolist() == [1, 2, 2]
    assert back["units"].isna().tolist() == [False, True, False] and back["units"].sum() == 4.5
    assert back["at"].dtype.kind == "M" and back["at"].iloc[0] == pd.Timestamp("2026-01-01 10:00:00")
    assert back["note"].isna().all()
    assert warehouse.columns("plan_next.t") == {"sku", "window", "units", "day", "at", "note"}


def test_a_table_is_replaced_not_appended_and_missing_ones_say_so(warehouse):
    warehouse.write_frame("plan_next.t", _frame())
    warehouse.write_frame("plan_next.t", _frame().head(1))
    assert scalar(warehouse, "select count(*) from plan_next.t") == 1
    warehouse.create_table_as("other.copy", 'select sku, "window" from plan_next.t where "window" = 1')
    assert warehouse.rows("select sku, \"window\" from other.copy") == [("A", 1)]
    assert warehouse.exists("other.copy") and not warehouse.exists("other.nothing")
    assert warehouse.columns("other.nothing") == set()


def test_duckdb_dialect_reads_the_same_on_both(warehouse):
    warehouse.write_frame("plan_next.t", _frame())
    assert warehouse.rows(
        "select sku, max(day)::date, count(*) from plan_next.t where units > ? group by all order by all", [1.0]
    ) == [("A", dt.date(2026, 1, 1), 1), ("C", None, 1)]
    assert warehouse.rows('select min("window") from plan_next.t where sku <> ?', ["A"]) == [(2,)]
    warehouse.execute("create table if not exists plan_next.log (run_id varchar not null, logged timestamp not null)")
    warehouse.execute("insert into plan_next.log values (?, ?)", ["r1", dt.datetime(2026, 1, 1, 5)])
    assert warehouse.rows("select run_id, logged from plan_next.log") == [("r1", dt.datetime(2026, 1, 1, 5))]


def test_replacing_some_rows_keeps_the_others_and_a_rerun_changes_nothing(warehouse):
    warehouse.execute("create schema if not exists audit")
    warehouse.execute("create table if not exists audit.cycles (cycle varchar, sku varchar, units double)")
    first = pd.DataFrame({"cycle": ["2026-10", "2026-10"], "sku": ["A", "B"], "units": [1.0, 2.0]})
    second = pd.DataFrame({"cycle": ["2026-11"], "sku": ["A"], "units": [5.0]})
    warehouse.replace_rows("audit.cycles", "cycle = ?", ["2026-10"], first)
    warehouse.replace_rows("audit.cycles", "cycle = ?", ["2026-11"], second)
    warehouse.replace_rows("audit.cycles", "cycle = ?", ["2026-11"], second.assign(units=6.0))
    assert warehouse.rows("select cycle, sku, units from audit.cycles order by all") == [
        ("2026-10", "A", 1.0), ("2026-10", "B", 2.0), ("2026-11", "A", 6.0)]


def _forecast(skus: list[str]) -> pd.DataFrame:
    days = pd.date_range("2026-02-01", periods=2)
    rows = [(sku, "DE", "c", day, h + 1, 1.0, 2.0, 3.0, 2.1) for sku in skus for h, day in enumerate(days)]
    frame = pd.DataFrame(rows, columns=["sku", "market", "category", "forecast_date", "horizon", "p10", "p50", "p90", "mean"])
    return frame.assign(as_of=pd.Timestamp("2026-01-31"), model_version="m1", stopped=False)


def test_a_plan_is_staged_typed_checked_and_published_through_either_engine(warehouse):
    assert stage_table(warehouse, "demand_forecast", _forecast(["A", "B"]), "run-1") == 4
    types = warehouse.query(f"select * from {staged('demand_forecast')}").dtypes
    assert types["forecast_date"].kind == "M" and types["horizon"].kind == "i"
    with pytest.raises(DuplicateKey):
        stage_table(warehouse, "demand_forecast", pd.concat([_forecast(["A"]), _forecast(["A"])]), "run-1")
    stage_table(warehouse, "demand_forecast", _forecast(["A", "B", "C"]), "run-1")
    pending = unpublished_staging(warehouse)
    assert pending is not None and pending.run_id == "run-1" and "demand_forecast" in pending.staged

    plan = publish_plan(warehouse, "run-1", dt.date(2026, 1, 31), tables=("demand_forecast",), inputs="fp")
    assert plan.rows_by_table == {"demand_forecast": 6}
    assert scalar(warehouse, "select count(distinct sku) from publish.demand_forecast") == 3
    published = last_published(warehouse)
    assert (published.run_id, published.as_of, published.inputs) == ("run-1", dt.date(2026, 1, 31), "fp")
    assert unpublished_staging(warehouse) is None


def test_a_run_over_one_market_stages_its_rows_and_keeps_the_others_on_either_engine(warehouse):
    germany = _forecast(["A", "B"])
    stage_rows(warehouse, "demand_forecast", germany, "run-de", "market", ("DE",))  # nothing staged yet: the table
    france = _forecast(["A", "C"]).assign(market="FR", model_version="m2")
    assert stage_rows(warehouse, "demand_forecast", france, "run-fr", "market", ("FR",)) == 4
    again = _forecast(["B"]).assign(model_version="m3")  # DE again, one SKU fewer
    stage_rows(warehouse, "demand_forecast", again, "run-de2", "market", ("DE",))
    assert warehouse.rows(f"select market, sku, model_version, count(*) from {staged('demand_forecast')} group by all "
                          "order by all") == [("DE", "B", "m3", 2), ("FR", "A", "m2", 2), ("FR", "C", "m2", 2)]
    types = warehouse.query(f"select * from {staged('demand_forecast')}").dtypes
    assert types["forecast_date"].kind == "M" and types["horizon"].kind == "i"  # typed as declared, as stage_table
    stage_rows(warehouse, "demand_forecast", again, "run-de3", "market", ("DE",), known=("DE", "US"))  # FR left the config
    assert warehouse.rows(f"select distinct market from {staged('demand_forecast')}") == [("DE",)]
    with pytest.raises(ValueError, match="rows of market \\['FR'\\] staged by a run over \\['DE'\\]"):
        stage_rows(warehouse, "demand_forecast", france, "run-x", "market", ("DE",))
    with pytest.raises(DuplicateKey):
        stage_rows(warehouse, "demand_forecast", pd.concat([again, again]), "run-x", "market", ("DE",))


def test_runs_over_different_markets_stage_side_by_side_without_losing_a_row(warehouse):
    """Four market runs, twice each, at once on Spark (threads on one session, as runs on a cluster share the
    catalogue); on DuckDB one after another, as its single writer makes them. Every market ends with exactly its
    last run's rows: none is lost to a neighbour's write, none is doubled."""
    from concurrent.futures import ThreadPoolExecutor

    markets = ("DE", "FR", "GB", "US")
    stage_table(warehouse, "demand_forecast", _forecast(["OLD"]).assign(market="FR"), "run-0")  # staged whole first

    def run(market: str, round_: int) -> int:
        frame = _forecast([f"{market}-{round_}-{n}" for n in range(3)]).assign(market=market)
        return stage_rows(warehouse, "demand_forecast", frame, f"run-{market}-{round_}", "market", (market,),
                          known=markets)

    for round_ in (1, 2):
        if warehouse.engine == "spark":
            with ThreadPoolExecutor(len(markets)) as pool:
                assert list(pool.map(run, markets, [round_] * len(markets))) == [6] * len(markets)
        else:
            assert [run(market, round_) for market in markets] == [6] * len(markets)
    assert warehouse.rows(f"select market, count(*), count(distinct sku), min(sku) from {staged('demand_forecast')} "
                          "group by all order by all") == [(m, 6, 3, f"{m}-2-0") for m in markets]


def test_a_staged_table_of_an_older_layout_is_rebuilt_in_the_declared_one_keeping_the_other_markets(warehouse):
    older = _forecast(["A"]).assign(market="FR").drop(columns=["category"])  # staged before `category` was declared
    warehouse.write_frame(staged("demand_forecast"), older)
    stage_rows(warehouse, "demand_forecast", _forecast(["B"]), "run-de", "market", ("DE",))
    assert warehouse.columns(staged("demand_forecast")) == {*_forecast(["B"]).columns}
    assert warehouse.rows(f"select market, sku, category from {staged('demand_forecast')} order by all") == [
        ("DE", "B", "c"), ("DE", "B", "c"), ("FR", "A", None), ("FR", "A", None)]


def test_a_failed_run_is_recorded_once_however_often_on_either_engine(warehouse):
    from crossdock.run_failures import RUN_LEVEL, StepFailure, record_run_failure

    failed_at = dt.datetime(2026, 12, 4, 6, 30, tzinfo=dt.timezone.utc)
    assert record_run_failure(warehouse, "run-1", "daily_planning", failed_at, [], "lost its worker") == 1
    steps = [StepFailure("publish__demand_forecast", ("publish/demand_forecast", "publish/forecast_totals"),
                         "ValueError", "no history"), StepFailure("dbt_build", (), None, None)]
    record_run_failure(warehouse, "run-2", "daily_planning", failed_at, steps)
    record_run_failure(warehouse, "run-2", "daily_planning", failed_at, steps)  # a re-evaluated sensor
    assert warehouse.rows("select run_id, step_key, asset_keys, error_type, failed_at from audit.run_failures "
                          "order by run_id, step_key") == [
        ("run-1", RUN_LEVEL, None, None, dt.datetime(2026, 12, 4, 6, 30)),
        ("run-2", "dbt_build", None, None, dt.datetime(2026, 12, 4, 6, 30)),
        ("run-2", "publish__demand_forecast", "publish/demand_forecast, publish/forecast_totals", "ValueError",
         dt.datetime(2026, 12, 4, 6, 30)),
    ]


def test_a_tariff_file_is_loaded_and_replaced_the_same_on_either_engine(warehouse, tmp_path):
    from pathlib import Path

    from compliance.tariffs.load import load_tariff
    from compliance.tariffs.store import TABLE

    fixtures = Path(__file__).parent / "fixtures" / "tariffs"
    uk = load_tariff(warehouse, fixtures / "uk_measures-on-declarable-commodities_2026-11-30.csv", "uk")
    load_tariff(warehouse, fixtures / "taric_duties_import_2026-11-01.csv", "eu")
    again = load_tariff(warehouse, fixtures / "uk_measures-on-declarable-commodities_2026-11-30.csv", "uk")
    assert uk.rows_stored == again.rows_stored == 7
    assert warehouse.rows(f"select destination, count(*), min(as_of) from {TABLE} group by all order by 1") == [
        ("EU", 7, dt.date(2026, 11, 1)), ("GB", 7, dt.date(2026, 11, 30))]
    assert warehouse.rows(f"select mfn_rate, rate_min, national_lines, effective_from from {TABLE} "
                          "where destination = 'GB' and hs6 = '640399'") == [(0.08, 0.04, 2, dt.date(2021, 1, 1))]


def test_a_duckdb_connection_is_taken_as_a_warehouse(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert as_warehouse(conn).engine == "duckdb"
    wrapped = DuckDBWarehouse(conn)
    assert as_warehouse(wrapped) is wrapped


def test_the_resource_hands_steps_the_interface_and_keeps_duckdb_only_steps_off_spark(tmp_path):
    import dagster as dg

    from orchestration.lib.retries import WarehouseResource

    with WarehouseResource(database=str(tmp_path / "w.duckdb")).open() as tables:
        assert isinstance(tables, DuckDBWarehouse)
        tables.write_frame("plan_next.t", _frame().head(1))
    on_spark = WarehouseResource(database=str(tmp_path / "w.duckdb"), engine="spark")
    with pytest.raises(dg.Failure, match="DuckDB file only, and the warehouse engine is spark"):
        with on_spark.get_connection():
            pass


def test_the_exception_log_replaces_its_day_and_keeps_its_types_on_either_engine(warehouse):
    from sop.exception_log import read_log, write_log
    from sop.exception_status import LOG_COLUMNS

    def day(ids: list[str], value: float) -> pd.DataFrame:
        rows = pd.DataFrame({column: [None] * len(ids) for column in LOG_COLUMNS})
        return rows.assign(exception_id=ids, type="excess", value_eur=value)

    write_log(warehouse, day(["x1", "x2"], 10.0), dt.date(2026, 3, 1), "run-1")
    write_log(warehouse, day(["x1"], 20.0), dt.date(2026, 3, 2), "run-2")
    write_log(warehouse, day(["x1"], 30.0), dt.date(2026, 3, 2), "run-3")  # the same day again: replaced
    log = read_log(warehouse)
    assert log[["exception_id", "value_eur"]].values.tolist() == [["x1", 10.0], ["x2", 10.0], ["x1", 30.0]]
    assert sorted(set(log["as_of"].astype(str))) == ["2026-03-01", "2026-03-02"]
    assert warehouse.rows("select distinct run_id from audit.exception_log where as_of = date '2026-03-02'") == [("run-3",)]


def test_orders_are_priced_incrementally_and_as_pricing_them_all_would_on_either_engine(warehouse, monkeypatch):
    """compliance.order_store through the interface: the digests (DuckDB's `hash`, Spark's `xxhash64`), the anti
    joins, the batches and the rows replaced in the store give the same staged table as pricing every order at once."""
    import compliance.order_store
    from compliance.facts import read_sale_lines
    from compliance.order_store import last_pricing, price_orders, summarize_orders
    from compliance.run import price_order_lines
    from test_compliance_incremental import FIRST_DAY, LAST_DAY, first_world, fx_rates, order_lines

    monkeypatch.setattr(compliance.order_store, "ORDERS_PER_BATCH", 25)  # the first pricing in 3 batches

    sources, policy = first_world()
    lines = "intermediate.int_sale_lines_shipped_from"
    days = {"order_date": lambda f: f["order_date"].dt.date}  # a date, as dbt's model has it
    warehouse.write_frame(lines, order_lines(60, fx_rates(LAST_DAY), (FIRST_DAY, LAST_DAY)).assign(**days))
    first = price_orders(warehouse, sources, policy, "run-1")
    assert (first.priced, first.orders, first.repriced_all) == (60, 60, True)
    assert price_orders(warehouse, sources, policy, "run-2").priced == 0

    kept = warehouse.query(f"select * from {lines} where order_id not in ('O00003', 'O00020')")
    changed = warehouse.query(f"select * from {lines} where order_id = 'O00003'").assign(quantity=lambda f: f["quantity"] + 5)
    warehouse.write_frame(lines, pd.concat([kept, changed]).assign(**days))
    again = price_orders(warehouse, sources, policy, "run-3")
    assert (again.priced, again.removed, again.orders, again.repriced_all) == (1, 1, 59, False)
    assert last_pricing(warehouse)["priced"] == 1 and summarize_orders(warehouse).rows == 59

    staged_orders = warehouse.query(f"select * from {staged('order_landed_cost')} order by order_id")
    plain = price_order_lines(sources, policy, read_sale_lines(warehouse)).sort_values("order_id", ignore_index=True)
    assert staged_orders["order_id"].tolist() == plain["order_id"].tolist()
    for column in ("units", "landed_cost_eur", "duty_eur", "vat_eur", "regime", "unknowns"):
        pd.testing.assert_series_equal(staged_orders[column], plain[column], check_dtype=False, check_exact=False)


def _ingest_all(conn: duckdb.DuckDBPyConnection, landing, kept=None) -> list:
    from feeds.contracts import FEEDS
    from feeds.ingest import ingest_feed

    return [r for feed in FEEDS for r in ingest_feed(conn, landing, feed, "salt", kept=kept)]


def _raw_rows(read, table: str) -> list[tuple]:
    """Every row of a raw table but its load time, sorted: what the ingest kept."""
    frame = read(f"select * from {table}").drop(columns="_ingested_at")
    return sorted(map(tuple, frame.astype(str).to_numpy().tolist()))


def _a_later_export(landing) -> None:
    """A later orders file overlapping the first: 10 lines as they were (duplicates), 5 with another quantity
    (new versions), one line whose quantity is no number (quarantined)."""
    [month] = sorted((landing / "orders").glob("orders_*.csv"))
    header, *lines = month.read_text().splitlines()[:17]
    changed = [",".join(f if i != 6 else str(int(f) + 1) for i, f in enumerate(line.split(","))) for line in lines[10:15]]
    bad = ",".join(f if i != 6 else "two" for i, f in enumerate(lines[15].split(",")))
    next_month = pd.Period(month.stem.split("_")[1], "M") + 1
    later = month.with_name(f"orders_{next_month.strftime('%Y-%m')}-01.csv")
    later.write_text("\n".join([header, *lines[:10], *changed, bad]) + "\n")


def test_files_read_by_their_own_duckdb_are_kept_on_the_warehouse_as_if_loaded_there(warehouse, tmp_path):
    """feeds/kept_rows.py: a messy merchant ingested by an in-memory DuckDB into the warehouse keeps the same raw
    rows, quarantine and ledger as the ingest straight into a DuckDB file; a re-run finds nothing new, and a run
    that died before writing its ledger rows loads its files again without storing a row or a quarantined line twice."""
    from demo.generate import generate
    from feeds.contracts import CONTRACTS
    from feeds.kept_rows import KeptRows

    landing = tmp_path / "landing"
    generate(landing, scale=0.02, days=30, seed=3, quiet=True)
    _a_later_export(landing)
    shutil.copytree(landing, tmp_path / "landing_copy")  # rejected files move: each ingest gets its own folder
    direct = duckdb.connect(str(tmp_path / "direct.duckdb"))
    expected = _ingest_all(direct, tmp_path / "landing_copy")

    files = duckdb.connect()
    kept = KeptRows(warehouse, files)
    results = _ingest_all(files, landing, kept)
    assert [(r.file_name, r.status, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) for r in results] == [
        (r.file_name, r.status, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) for r in expected]
    assert sum(r.rows_loaded for r in results) > 1000
    assert [(r.rows_loaded, r.rows_duplicate, r.rows_quarantined) for r in results if r.file_name.endswith("-01.csv")] == [
        (5, 10, 1)]
    tables = [c.table for c in CONTRACTS]
    for table in tables:
        assert _raw_rows(warehouse.query, table) == _raw_rows(lambda sql: direct.execute(sql).df(), table), table
    counts = "select (select count(*) from audit.quarantine), (select count(*) from audit.ingest_ledger)"
    assert warehouse.rows(counts) == direct.execute(counts).fetchall()

    files = duckdb.connect()
    assert {r.status for r in _ingest_all(files, landing, KeptRows(warehouse, files))} == {"skipped"}

    # a run killed after the rows went to the warehouse but before its ledger rows: the files load again
    orders_file = next(r.file_id for r in results if r.dataset == "orders" and r.rows_quarantined)
    warehouse.replace_where("audit.ingest_ledger", "file_id = ?", [orders_file], "select * from audit.ingest_ledger where false")
    files = duckdb.connect()
    rerun = [r for r in _ingest_all(files, landing, KeptRows(warehouse, files)) if r.status != "skipped"]
    assert [(r.file_id, r.rows_loaded) for r in rerun] == [(orders_file, 0)] and rerun[0].rows_duplicate > 0
    assert _raw_rows(warehouse.query, "raw.orders") == _raw_rows(lambda sql: direct.execute(sql).df(), "raw.orders")
    assert warehouse.rows(counts) == direct.execute(counts).fetchall()


def test_the_bi_copies_have_the_same_rows_and_types_from_either_engine(warehouse, tmp_path):
    """crossdock/bi_export.py: a published table copied for BI from Spark (read as Arrow) is the table copied
    from the DuckDB file, column types included (a decimal stays a decimal)."""
    from crossdock.bi_export import SNAPSHOT_NAME, export_published

    frame = _forecast(["A", "B"]).assign(units=1.5)
    for day in ("forecast_date", "as_of"):  # dates, as published: no nanosecond timestamps for BI
        frame[day] = frame[day].dt.date
    select = "*, cast(units as decimal(18, 4)) as unit_cost, cast(horizon as bigint) as days"
    warehouse.write_frame("publish.demand_forecast", frame, select)
    expected = duckdb.connect()
    DuckDBWarehouse(expected).write_frame("publish.demand_forecast", frame, select)

    for source, folder in ((warehouse, tmp_path / "bi"), (expected, tmp_path / "bi_duckdb")):
        assert export_published(source, folder, ("demand_forecast",)) == {"demand_forecast": 4}
    copies = [duckdb.connect(str(tmp_path / name / SNAPSHOT_NAME), read_only=True) for name in ("bi", "bi_duckdb")]
    described = [c.execute("describe publish.demand_forecast").fetchall() for c in copies]
    parquet = [duckdb.sql(f"describe select * from '{tmp_path / name}/parquet/demand_forecast.parquet'").fetchall()
               for name in ("bi", "bi_duckdb")]
    types = {name: kind for name, kind, *_ in described[1]}
    assert types["unit_cost"] == "DECIMAL(18,4)" and types["days"] == "BIGINT" and types["forecast_date"] == "DATE"
    assert described[0] == described[1] and parquet[0] == parquet[1]
    rows = "select * from publish.demand_forecast order by sku, horizon"
    assert copies[0].execute(rows).fetchall() == copies[1].execute(rows).fetchall()


def test_a_backtest_store_of_an_older_release_takes_the_new_record_on_either_engine(warehouse):
    """audit.backtest_runs as releases before the gate's verdict wrote it: the columns added since are added, null
    in its rows, so saving the next backtest never fails on a column it lacks (ml/backtest_store.py)."""
    from crossdock.published import published_table
    from ml.backtest_cadence import BacktestRecord, DataShape
    from ml.backtest_store import RUNS, last_backtest, save_backtest

    warehouse.execute("create schema if not exists audit")
    warehouse.execute(f"""create table {RUNS} (run_id varchar not null, as_of date not null, fingerprint varchar not null,
        markets varchar[] not null, n_series integer not null, seconds double not null, wape_model double,
        wape_naive double, reason varchar, ran_at timestamp not null)""")
    warehouse.execute(f"insert into {RUNS} values ('r0', date '2026-10-01', 'f0', ['DE'], 1, 1.0, 0.5, 1.0, 'old', "
                      "timestamp '2026-10-01 06:00:00')")
    value = {"varchar": "A", "double": 1.0, "bigint": 1, "boolean": False, "date": pd.Timestamp("2026-10-30")}
    for table in ("forecast_accuracy", "forecast_backtest"):  # one row of the declared types, as a backtest stages
        row = {name: value[type_] for name, type_ in published_table(table).schema}
        stage_table(warehouse, table, pd.DataFrame([row]), "r1")
    record = BacktestRecord(dt.date(2026, 10, 30), "f1", DataShape(("DE",), 1), seconds=2.0, wape_model=0.6, wape_naive=1.0,
                            run_id="r1", ran_at=dt.datetime(2026, 10, 30, 6), gate_passed=True, mean_weight=0.5, zero_stopped=True)
    save_backtest(warehouse, record, "fresh")
    got = last_backtest(warehouse)
    assert (got.run_id, got.mean_weight, got.zero_stopped, got.gate_passed) == ("r1", 0.5, True, True)
    assert warehouse.rows(f"select run_id, zero_stopped, mean_weight from {RUNS} order by run_id") == [
        ("r0", None, None), ("r1", True, 0.5)]


def test_a_raw_table_of_an_older_release_gains_the_column_its_contract_added_on_either_engine(warehouse, tmp_path):
    """An upgrade whose contract reads one more column: the next ingest adds it to the raw table made before (null on
    the rows loaded then) and loads, where it failed with "table orders does not have a column" (feeds/audit.py)."""
    from demo.generate import generate
    from feeds.audit import add_contract_columns, ensure_schema, raw_table_columns, raw_table_ddl
    from feeds.contracts import CONTRACTS
    from feeds.kept_rows import KeptRows

    [orders] = [c for c in CONTRACTS if c.table == "raw.orders"]
    newest = next(c for c in reversed(orders.columns) if not c.required)  # as if this release had added it
    older = dataclasses.replace(orders, columns=tuple(c for c in orders.columns if c is not newest))
    warehouse.execute("create schema if not exists raw")
    warehouse.execute(raw_table_ddl(older))
    loaded_before = {"order_id": "'O-OLD'", "_file_id": "'f0'", "_file_date": "'2026-01-01'", "_row_number": "1",
                     "_ingested_at": "'2026-01-01 00:00:00'"}
    warehouse.execute("insert into raw.orders select " + ", ".join(
        f"cast({loaded_before.get(name, 'null')} as {type_})" for name, type_, _ in raw_table_columns(older)))
    assert newest.target_name not in warehouse.columns("raw.orders")

    ensure_schema(warehouse)
    assert newest.target_name in warehouse.columns("raw.orders")
    assert add_contract_columns(warehouse) == []  # a second run adds nothing
    landing = tmp_path / "landing"
    generate(landing, scale=0.02, days=28, seed=3, quiet=True)
    files = duckdb.connect()
    results = _ingest_all(files, landing, KeptRows(warehouse, files))
    assert {r.status for r in results if r.dataset == "orders"} == {"loaded"}
    kept = warehouse.query(f"select order_id, {newest.target_name} as added from raw.orders")
    assert len(kept) == 1 + sum(r.rows_loaded for r in results if r.dataset == "orders")
    assert kept.loc[kept["order_id"] == "O-OLD", "added"].isna().all()  # the row loaded before: unknown, not invented
    assert kept.loc[kept["order_id"] != "O-OLD", "added"].notna().any()  # the files' own values of it are kept
