"""bench/engines.py reads Spark's step times from `crossdock spark-build`'s output and states the cross-over only
from what it measured (issue 18, item 5). Pure logic; the bench itself is timed by hand, never here."""

import pytest
from bench_modules import load_bench


SPARK_BUILD_OUTPUT = """building the dbt project on Spark (tables and catalogue in /tmp/x/spark)
Running with dbt=1.11.2
  sources copied from DuckDB: 13 tables, 331,796 rows
  dbt models: 33 success
  dbt seeds: 8 success
  dbt tests: 124 pass
  session 6 s, copy sources 29 s, dbt build 258 s
"""


@pytest.fixture(scope="module")
def engines():
    return load_bench("engines")


def test_the_step_line_is_read_into_seconds_per_step(engines):
    assert engines.step_seconds(SPARK_BUILD_OUTPUT) == {"session": 6.0, "copy sources": 29.0, "dbt build": 258.0}


def test_no_step_line_reads_as_no_steps(engines):
    failed = SPARK_BUILD_OUTPUT.replace("  session 6 s, copy sources 29 s, dbt build 258 s\n", "")
    assert engines.step_seconds(failed) == {}
    assert engines.step_seconds("  dbt models: 3 success\n") == {}


def test_run_results_give_the_slowest_nodes_and_seconds_per_kind(engines):
    results = {"results": [
        {"unique_id": "model.crossdock.supply_chain_view", "execution_time": 25.2},
        {"unique_id": "test.crossdock.not_null_dim_sku_sku.abc123", "execution_time": 1.5},
        {"unique_id": "seed.crossdock.hs_codes", "execution_time": 3.0},
        {"unique_id": "model.crossdock.dim_sku", "execution_time": 8.6},
    ]}
    assert engines.slowest_nodes(results, 2) == [("model supply_chain_view", 25.2), ("model dim_sku", 8.6)]
    assert engines.seconds_by_kind(results) == {"model": (2, pytest.approx(33.8)), "test": (1, 1.5), "seed": (1, 3.0)}


def test_the_cross_over_is_only_claimed_from_measurements(engines):
    assert "no size measured" in engines.crossover([])
    one = engines.crossover([(1_000_000, 8.0)])
    assert one.startswith("not reached") and "no trend" in one
    rising = engines.crossover([(1_000_000, 8.0), (10_000_000, 9.0)])
    assert rising.startswith("not reached, and no trend")
    assert engines.crossover([(1_000_000, 3.0), (10_000_000, 0.8)]).startswith("Spark was as fast or faster from 10,000,000")


def test_a_falling_ratio_is_extrapolated_through_the_two_largest_sizes_and_says_so(engines):
    # 8x at 1M, 4x at 10M: the ratio halves per tenfold, so it reaches 1 two halvings later... at 10M * 100
    text = engines.crossover([(100_000, 50.0), (1_000_000, 8.0), (10_000_000, 4.0)])
    assert "extrapolated" in text and "not measured" in text
    assert "1,000,000,000 lines" in text


def test_the_stages_spark_run_timed_become_rows_and_the_ingest_ratio_is_read_from_them(engines):
    outcome = {"ingest": {"success": True, "seconds": 90.0}, "dbt": {"ok": True, "seconds": 120.0},
               "plan": {"success": True, "seconds": 150.0}}
    rows = engines.spark_run_rows(1_000_000, outcome)
    assert [(row.engine, row.seconds) for row in rows] == [("spark", 90.0), ("spark", 120.0), ("spark", 150.0)]
    duck = engines.Row(1_000_000, "duckdb", "ingest 13 sources (Dagster assets, this process)", 30.0, None, 1.0)
    assert engines._ingest_ratio([duck, *rows], 1_000_000) == 3.0
    assert engines._ingest_ratio(rows, 1_000_000) is None  # no DuckDB ingest measured: no ratio
    assert engines.spark_run_rows(1_000_000, {"ingest": {"success": False, "seconds": 4.0}})[0].seconds == 4.0
