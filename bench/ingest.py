"""Time the contract-checked ingest against DuckDB's plain read_csv: `python bench/ingest.py`.

    .venv/bin/python bench/ingest.py                      # 1,000,000 rows, 3 runs each
    .venv/bin/python bench/ingest.py --rows 200000 --runs 5 --workdir /tmp/crossdock-bench

Generates a seeded orders CSV that meets the orders contract (realistic
values: multi-line orders, market-local timestamps with UTC offsets, ~6%
returns, a few cancellations, prices and currencies per market), then
measures in one run, each `--runs` times (median, min and max printed):

  (a) `feeds.ingest.ingest_file` of the file into a fresh DuckDB warehouse;
  (b) DuckDB's own `create table t as select * from read_csv(<file>)` on the
      same file in a fresh database: the floor a raw load costs;
  (c) ingesting the same file again into the loaded warehouse (a skip:
      the file's SHA-256 is already in the ledger);
  (d) an overlapping export: the same rows under another file name with 10%
      of the quantities changed, into a copy of the loaded warehouse
      (90% duplicates skipped, 10% loaded as new versions).

and prints the environment, rows/s and the ratio crossdock / duckdb (how
many times slower the checked, quarantining, deduplicating ingest is than a
raw read_csv). All files live in a fresh folder under --workdir, removed at
the end. Timing lives here, not in tests: shared machines are too noisy for
time assertions.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/ingest.py

from feeds.audit import ensure_schema  # noqa: E402
from feeds.ingest import ingest_file  # noqa: E402

SALT = "bench-salt"
# market -> (currency, UTC offset written in the timestamp, price multiplier, fulfilment nodes)
MARKETS = {
    "DE": ("EUR", "+01:00", 1.0, ("DE-BER", "NL-AMS")),
    "FR": ("EUR", "+01:00", 1.0, ("FR-LYS", "NL-AMS")),
    "NL": ("EUR", "+01:00", 1.0, ("NL-AMS",)),
    "ES": ("EUR", "+01:00", 1.0, ("ES-MAD", "FR-LYS")),
    "IT": ("EUR", "+01:00", 1.0, ("IT-MXP", "DE-BER")),
    "GB": ("GBP", "+00:00", 0.86, ("GB-EMA",)),
    "SE": ("SEK", "+01:00", 11.4, ("NL-AMS",)),
    "PL": ("PLN", "+01:00", 4.3, ("DE-BER",)),
    "US": ("USD", "-05:00", 1.08, ("US-EWR", "US-ONT")),
    "CA": ("CAD", "-05:00", 1.47, ("US-EWR",)),
    "JP": ("JPY", "+09:00", 160.0, ("JP-NRT",)),
    "AU": ("AUD", "+10:00", 1.65, ("AU-SYD",)),
}
MARKET_WEIGHTS = np.array([22, 14, 8, 7, 6, 12, 3, 3, 15, 4, 3, 3], dtype=float)


def generate_orders(rows: int, seed: int) -> pd.DataFrame:
    """`rows` order lines meeting the orders contract, unique on (order_id, line_id)."""
    rng = np.random.default_rng(seed)
    lines_per_order = rng.choice([1, 2, 3, 4], p=[0.55, 0.25, 0.13, 0.07], size=rows)
    order_of_line = np.repeat(np.arange(rows), lines_per_order)[:rows]
    line_id = np.arange(rows) - np.searchsorted(order_of_line, order_of_line) + 1  # 1.. within each order
    n_orders = int(order_of_line[-1]) + 1

    markets = np.array(list(MARKETS))
    market_of_order = rng.choice(len(markets), p=MARKET_WEIGHTS / MARKET_WEIGHTS.sum(), size=n_orders)
    market = market_of_order[order_of_line]
    country = markets[market]
    currency = np.array([MARKETS[m][0] for m in markets])[market]
    offset = np.array([MARKETS[m][1] for m in markets])[market]
    multiplier = np.array([MARKETS[m][2] for m in markets])[market]
    node_choice = rng.integers(0, 2, size=n_orders)[order_of_line]
    nodes = np.array([[MARKETS[m][3][0], MARKETS[m][3][-1]] for m in markets])
    node = nodes[market, node_choice]

    # local order time within 2025, the same for every line of an order
    seconds = rng.integers(0, 365 * 86400, size=n_orders)[order_of_line]
    local = pd.to_datetime("2025-01-01") + pd.to_timedelta(seconds, unit="s")
    ordered_at = local.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(dtype=object) + offset

    n_customers = max(rows // 8, 1)
    customer = rng.integers(0, n_customers, size=n_orders)[order_of_line]
    sku_rank = np.minimum(rng.zipf(1.3, size=rows), 5000)  # a long tail of SKUs
    quantity = rng.choice([1, 2, 3, 4, 6], p=[0.62, 0.2, 0.1, 0.05, 0.03], size=rows)
    kind = rng.choice(3, p=[0.92, 0.06, 0.02], size=rows)  # sale, return, cancellation
    quantity = np.where(kind == 0, quantity, -np.minimum(quantity, 2))
    line_type = np.array(["sale", "return", "cancellation"])[kind]
    base_price = np.round(rng.lognormal(3.0, 0.7, size=5001), 2)
    unit_price = np.round(base_price[sku_rank] * multiplier, 2)
    channel = np.array(["web", "marketplace", "app"])[rng.choice(3, p=[0.55, 0.3, 0.15], size=n_orders)[order_of_line]]

    return pd.DataFrame(
        {
            "order_id": np.char.add("SO-", np.char.zfill((order_of_line + 10_000_000).astype(str), 9)),
            "line_id": line_id,
            "ordered_at": ordered_at,
            "channel": channel,
            "customer_id": np.char.add("C-", customer.astype(str)),
            "sku": np.char.add("SKU-", np.char.zfill(sku_rank.astype(str), 5)),
            "quantity": quantity,
            "line_type": line_type,
            "unit_price": unit_price,
            "currency": currency,
            "ship_to_country": country,
            "fulfilment_node": node,
        }
    )


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with duckdb.connect() as conn:
        conn.register("frame", frame)
        conn.execute(f"copy (select * from frame) to '{path}' (header, delimiter ',')")


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def summary(times: list[float], unit: str = "s") -> str:
    k = 1000 if unit == "ms" else 1
    return f"{statistics.median(times) * k:7.2f} {unit:<2} (min {min(times) * k:.2f}, max {max(times) * k:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "crossdock-bench")
    args = parser.parse_args(argv)

    created_workdir = not args.workdir.exists()
    args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ingest-", dir=args.workdir))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if created_workdir:
            try:
                args.workdir.rmdir()
            except OSError:
                pass


def run(args: argparse.Namespace, work: Path) -> int:
    with duckdb.connect() as probe:
        threads = probe.execute("select current_setting('threads')").fetchall()[0][0]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"environment: {cores} usable cores ({os.cpu_count()} CPUs), DuckDB {duckdb.__version__} ({threads} threads), "
          f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, {platform.platform()}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    t_gen, frame = timed(lambda: generate_orders(args.rows, args.seed))
    source = work / "landing" / "orders" / "orders_bench_2025.csv"
    source.parent.mkdir(parents=True)
    t_write, _ = timed(lambda: write_csv(frame, source))
    # the overlapping re-export: same rows, 10% of the quantities changed, another name
    rng = np.random.default_rng(args.seed + 1)
    changed = rng.random(len(frame)) < 0.10
    reexport = frame.copy()
    q = reexport["quantity"].to_numpy()
    reexport["quantity"] = np.where(changed, np.where(q + 1 == 0, 2, q + 1), q)
    reexport_path = work / "landing" / "orders" / "orders_bench_2025_reexport.csv"
    write_csv(reexport, reexport_path)
    size_mb = source.stat().st_size / 1e6
    print(f"input: {len(frame):,} order lines, {frame['order_id'].nunique():,} orders, {size_mb:,.1f} MB CSV "
          f"(generated in {t_gen:.1f} s, written in {t_write:.1f} s); re-export with {int(changed.sum()):,} changed quantities")
    del frame, reexport

    # (a) the crossdock ingest into a fresh warehouse
    ingest_times, result = [], None
    base = work / "base.duckdb"
    for i in range(args.runs):
        db = work / f"warehouse_{i}.duckdb"
        with duckdb.connect(str(db)) as conn:
            ensure_schema(conn)
            seconds, result = timed(lambda: ingest_file(conn, source, "orders", SALT))
            ingest_times.append(seconds)
            if result.status != "loaded":
                print(f"ingest did not load the file: {result}")
                return 1
            if i == 0:
                conn.execute("checkpoint")
                # (c) the same file again: a skip
                skip_times = []
                for _ in range(args.runs):
                    s, again = timed(lambda: ingest_file(conn, source, "orders", SALT))
                    skip_times.append(s)
                    assert again.status == "skipped", again
        if i == 0:
            shutil.copy(db, base)
        else:
            db.unlink()
        for extra in db.parent.glob(db.name + ".*"):
            extra.unlink()
    print(f"crossdock ingest result: {result.rows_received:,} received, {result.rows_loaded:,} loaded, "
          f"{result.rows_quarantined:,} quarantined, {result.rows_duplicate:,} duplicate")

    # (b) DuckDB's raw read_csv into a fresh database
    duck_times = []
    for i in range(args.runs):
        db = work / f"plain_{i}.duckdb"
        with duckdb.connect(str(db)) as conn:
            seconds, _ = timed(lambda: conn.execute(f"create table t as select * from read_csv('{source}')"))
            duck_times.append(seconds)
            n = conn.execute("select count(*) from t").fetchall()[0][0]
            assert n == args.rows, n
        db.unlink()

    # (d) the overlapping re-export into a copy of the loaded warehouse
    overlap_times, overlap = [], None
    for i in range(args.runs):
        db = work / f"overlap_{i}.duckdb"
        shutil.copy(base, db)
        with duckdb.connect(str(db)) as conn:
            seconds, overlap = timed(lambda: ingest_file(conn, reexport_path, "orders", SALT))
            overlap_times.append(seconds)
        db.unlink()
    print(f"re-export result: {overlap.rows_received:,} received, {overlap.rows_loaded:,} loaded as new versions, "
          f"{overlap.rows_duplicate:,} duplicates skipped, {overlap.rows_quarantined:,} quarantined")

    rows = args.rows
    m_ingest, m_duck = statistics.median(ingest_times), statistics.median(duck_times)
    print()
    print(f"median of {args.runs} runs, {rows:,} rows, {size_mb:,.1f} MB:")
    print(f"  (a) crossdock ingest_file, fresh warehouse  {summary(ingest_times)}  {rows / m_ingest:>12,.0f} rows/s  {size_mb / m_ingest:6.1f} MB/s")
    print(f"  (b) duckdb create table as read_csv         {summary(duck_times)}  {rows / m_duck:>12,.0f} rows/s  {size_mb / m_duck:6.1f} MB/s")
    print(f"  ratio crossdock / duckdb: {m_ingest / m_duck:.1f}x slower; ingest speed = {m_duck / m_ingest:.2f}x read_csv's")
    print(f"  (c) same file again (skipped)               {summary(skip_times, 'ms')}  (SHA-256 of the file + one ledger lookup)")
    m_overlap = statistics.median(overlap_times)
    print(f"  (d) renamed re-export, 10% changed          {summary(overlap_times)}  {rows / m_overlap:>12,.0f} rows/s  "
          f"({m_overlap / m_ingest:.2f}x a first load)")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
