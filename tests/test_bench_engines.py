"""bench/engines.py reads Spark's step times from `crossdock spark-build`'s output, the job's from `crossdock run`'s
console (both through bench/console_lines.py), and states the cross-over only from what it measured (issue 18,
item 5). Pure logic; the bench itself is timed by hand, never here."""

import pytest
from bench_modules import load_bench

from cli.console import seconds as console_format


SPARK_BUILD_OUTPUT = """building the dbt project on Spark (tables and catalogue in /tmp/x/spark)
Running with dbt=1.11.2
  sources copied from DuckDB: 13 tables, 331,796 rows
  dbt models: 33 success
  dbt seeds: 8 success
  dbt tests: 124 pass
  session 6 s, copy sources 29 s, dbt build 258 s
"""


# `crossdock run` on DuckDB as the bench captured it (bench/engines.py --lines 20000 --job, job_duckdb/console.txt):
# its lines verbatim, the temp folder's name shortened and two long warnings cut after their first clause
CROSSDOCK_RUN_OUTPUT = """\
running the daily_planning job on 63 landed files dated 2024-08-31..2026-12-05 (warehouse /tmp/engines/engines-20000-x/job_duckdb/warehouse/crossdock.duckdb) ...
full log of the run (every Dagster event, dbt's output): /tmp/engines/engines-20000-x/job_duckdb/exports/logs/run-20261205-105910-190ee3a6.log
✓ ingest carriers                         1.0 s
✓ ingest exceptions                       0.1 s
✓ ingest inventory                        2.1 s
✓ ingest orders                           4.0 s
✓ ingest overrides                        0.3 s
✓ ingest suppliers                        0.5 s
✓ merchant network                        0.2 s
✓ reference.fx_rates                      0.6 s
✓ dbt build                              33.1 s
! compliance tables: compliance plan rows not fully priced: typical_price unknown in 63 (ROW 21, US 12, DE 9, GB 9, FR 6 and 3 more); hs_code unknown in 36 (ROW 9, US 6, DE 5, GB 5, FR 4 and 3 more); duty_rate unknown in 36 (ROW 9, US 6, DE 5, GB 5, FR 4 and 3 more)
! compliance tables: orders not fully priced: duty_rate unknown in 302 (US 120, DE 80, GB 60, FR 42); hs_code unknown in 302 (US 120, DE 80, GB 60, FR 42)
! compliance tables: border rules on 2026-10-30: 4 ended with nothing after them: import_fees AU au_biosecurity_fid_air (ended 2025-06-30)
! check warns: publish.compliance_plan / border_rules_are_current: border rules on 2026-10-30: 4 ended with nothing after them
✓ compliance tables                       3.2 s
✓ check training data quality gate        4.0 s
✓ forecast accuracy                  1 min 29 s
✓ check model beats the 28 day mean       0.2 s
✓ check model beats the baselines         0.2 s
✓ publish.demand_forecast (+1)           17.7 s
✓ check forecast quality gate             0.7 s
✓ consensus demand plan                   1.2 s
✓ inventory planning                      2.0 s
✓ publish.scenario_impact                 3.3 s
! publish.sop_monthly: sop_monthly: 3 rows leave something out (see their unknowns)
✓ publish.sop_monthly                     1.3 s
✓ publish.exceptions                      0.3 s
✓ publish.plan_runs                       1.0 s
✓ exports.bi_publish_copies               1.6 s
run 190ee3a6-3cc7-4635-8ee3-0fc935079128: success
full log: /tmp/engines/engines-20000-x/job_duckdb/exports/logs/run-20261205-105910-190ee3a6.log

=== crossdock summary ===
warehouse: /tmp/engines/engines-20000-x/job_duckdb/warehouse/crossdock.duckdb  (schema publish.* is the BI contract)
ingest: 63 files, 104,590 rows received = 104,590 loaded + 0 quarantined + 0 rejected + 0 duplicates skipped
"""


@pytest.fixture(scope="module")
def engines():
    return load_bench("engines")


@pytest.fixture(scope="module")
def console():
    """bench/console_lines.py: the readers of what the commands print."""
    return load_bench("console_lines")


def test_the_step_line_is_read_into_seconds_per_step(console):
    assert console.step_seconds(SPARK_BUILD_OUTPUT) == {"session": 6.0, "copy sources": 29.0, "dbt build": 258.0}


def test_no_step_line_reads_as_no_steps(console):
    failed = SPARK_BUILD_OUTPUT.replace("  session 6 s, copy sources 29 s, dbt build 258 s\n", "")
    assert console.step_seconds(failed) == {}
    assert console.step_seconds("  dbt models: 3 success\n") == {}


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


def test_the_console_of_crossdock_run_is_read_into_its_steps_in_order(console):
    steps = console.job_steps(CROSSDOCK_RUN_OUTPUT)
    assert [step.label for step in steps[:3]] == ["ingest carriers", "ingest exceptions", "ingest inventory"]
    assert len(steps) == 23 and all(step.ok for step in steps)  # the warnings, summary and paths are no steps
    by_label = {step.label: step.seconds for step in steps}
    assert by_label["dbt build"] == 33.1
    assert by_label["forecast accuracy"] == 89.0  # "1 min 29 s"
    assert by_label["publish.demand_forecast (+1)"] == 17.7  # the label keeps its parenthesis
    assert by_label["exports.bi_publish_copies"] == 1.6


def test_a_failed_step_is_a_step_and_a_step_that_did_not_run_is_none(console):
    failed = console.job_step("✗ dbt build                          2 min 03 s  FAILED: dbt: Database Error in model x\n")
    assert failed == console.JobStep("dbt build", 123.0, ok=False)
    assert console.job_step("x ingest orders   4.0 s  FAILED: no such file") == console.JobStep("ingest orders", 4.0, False)
    assert console.job_step("+ ingest orders                           4.0 s") == console.JobStep("ingest orders", 4.0, True)
    assert console.job_step("- publish.plan_runs                       skipped") is None
    assert console.job_step("- consensus demand plan                   not run: a step it needs failed") is None
    assert console.job_step("  publish.sop_monthly                224 rows") is None
    assert console.job_steps(SPARK_BUILD_OUTPUT) == []


@pytest.mark.parametrize("elapsed", [0.04, 9.96, 48.2, 59.9, 60.0, 185.4, 3725.0])
def test_the_consoles_own_seconds_read_back(console, elapsed):
    """Bound to cli/console.py's formatter, so a change of its format fails here and not in an hour-long bench."""
    assert console.console_seconds(console_format(elapsed)) == pytest.approx(elapsed, abs=0.5 if elapsed >= 60 else 0.05)
    assert console.job_step(f"✓ {'dbt build':<44}  {console_format(elapsed):>10}").label == "dbt build"


def test_the_full_log_is_the_path_the_run_names(console):
    assert str(console.full_log(CROSSDOCK_RUN_OUTPUT)) == (
        "/tmp/engines/engines-20000-x/job_duckdb/exports/logs/run-20261205-105910-190ee3a6.log")
    head = CROSSDOCK_RUN_OUTPUT.split("✓ ingest carriers")[0]  # a run killed before its end named it once
    assert console.full_log(head).name == "run-20261205-105910-190ee3a6.log"
    assert console.full_log(SPARK_BUILD_OUTPUT) is None


def _measured(engines, lines, samples):
    """A finished `crossdock run` of 100 s from t=1000: (seconds after start, line) and (seconds, resident bytes)."""
    return engines.Measured(returncode=0, start=1000.0, end=1100.0,
                            lines=[(1000.0 + at, line) for at, line in lines],
                            samples=[(1000.0 + at, total) for at, total in samples],
                            loads=[(1000.0 + at, float(at)) for at, _ in samples])


def test_each_step_row_has_the_trees_peak_over_its_own_window(engines):
    run = _measured(engines, [(1, "running the daily_planning job ...\n"), (10, "✓ ingest orders    4.0 s\n"),
                              (50, "✓ dbt build       40.0 s\n"), (52, "! dbt build: a warning\n")],
                    [(5, 300), (8, 9_000), (11, 600), (30, 2_000), (49, 2_500), (51, 700), (99, 800)])
    rows = engines.job_rows(1_000, "spark", run, "ok")
    assert [(row.step, row.seconds, row.peak_bytes, row.load) for row in rows] == [
        ("job: process, start to exit", 100.0, 9_000, 99.0),
        ("job: ingest orders", 4.0, 9_000, 8.0),  # 6-10 s
        ("job: dbt build", 40.0, 2_500, 49.0),  # 10-50 s: not the ingest's 9,000 before it
    ]
    assert all(row.engine == "spark" and row.status == "ok" for row in rows)
    quiet = _measured(engines, [(10, "✓ ingest orders    4.0 s\n"), (50, "✓ dbt build       39.0 s\n")],
                      [(5, 300), (8, 500), (10.5, 600), (30, 2_000), (49, 2_500), (51, 700)])
    assert [row.peak_bytes for row in engines.job_rows(1_000, "duckdb", quiet, "ok")[1:]] == [600, 2_500]


def test_a_failed_step_keeps_its_row_marked_failed(engines):
    run = _measured(engines, [(10, "✗ dbt build      10.0 s  FAILED: dbt: boom\n")], [(5, 1)])
    run.returncode = 1
    [process, step] = engines.job_rows(1_000, "duckdb", run, engines._status(run))
    assert process.status == "FAILED (exit 1)" and (step.step, step.status) == ("job: dbt build", "FAILED")


def _job(engines, engine, steps, status="ok", size=1_000_000):
    rows = [engines.Row(size, engine, engines.JOB, sum(seconds for _, seconds in steps) + 20, None, 1.0, status)]
    return rows + [engines.Row(size, engine, f"job: {label}", seconds, None, 1.0) for label, seconds in steps]


def test_the_ingest_ratio_sums_the_jobs_steps_before_dbt_on_each_engine(engines):
    duck = _job(engines, "duckdb", [("ingest orders", 4.0), ("merchant network", 1.0), ("reference.fx_rates", 1.0),
                                    ("dbt build", 30.0), ("forecast accuracy", 90.0)])
    spark = _job(engines, "spark", [("ingest orders", 15.0), ("merchant network", 1.0), ("reference.fx_rates", 2.0),
                                    ("dbt build", 300.0), ("forecast accuracy", 120.0)])
    assert engines._ingest_ratio(duck + spark, 1_000_000) == 3.0  # 18 s / 6 s: dbt and the forecast left out
    assert engines._ingest_ratio(duck + spark, 10_000_000) is None  # another size
    assert engines._ingest_ratio(spark, 1_000_000) is None  # no DuckDB job: no ratio
    cut = [row for row in spark if row.step != "job: merchant network"]  # a run that stopped before a step
    assert engines._ingest_ratio(duck + cut, 1_000_000) is None
    failed = [engines.dataclasses.replace(row, status="FAILED") if row.step == "job: ingest orders" else row
              for row in spark]
    assert engines._ingest_ratio(duck + failed, 1_000_000) is None
    # the bench's own ingest of the dbt-only comparison is no job step
    bench = engines.Row(1_000_000, "duckdb", "ingest 13 sources (Dagster assets, this process)", 1.0, None, 1.0)
    assert engines._ingest_ratio([bench, *duck, *spark], 1_000_000) == 3.0


def test_the_ratios_line_says_only_what_both_engines_measured(engines):
    duck = _job(engines, "duckdb", [("ingest orders", 5.0), ("dbt build", 30.0)])  # 55 s in all
    spark = _job(engines, "spark", [("ingest orders", 10.0), ("dbt build", 300.0)])  # 330 s
    line = engines.ratios_line(duck + spark, 1_000_000, dbt_build=9.5)
    assert line == ("1,000,000 lines: Spark / DuckDB, dbt build 9.5x; whole job (`crossdock run`) 6.0x; "
                    "the job's dbt step 10.0x; the job's ingest steps (feeds, config, ECB rates) 2.0x")
    # a Spark job stopped (memory) after its ingest: no whole-job ratio, but its ingest was measured whole
    stopped = _job(engines, "spark", [("ingest orders", 10.0)], status="STOPPED (memory)")
    assert engines.ratios_line(duck + stopped, 1_000_000, None) == (
        "1,000,000 lines: Spark / DuckDB, the job's ingest steps (feeds, config, ECB rates) 2.0x")
    assert engines.ratios_line(duck, 1_000_000, None) is None


def test_each_job_run_has_its_own_folders_and_only_spark_the_engine_switch(engines, tmp_path):
    env = {"PATH": "/usr/bin", "CROSSDOCK_WAREHOUSE": str(tmp_path / "warehouse" / "crossdock.duckdb"),
           "CROSSDOCK_WAREHOUSE_ENGINE": "spark", "CROSSDOCK_SPARK_METASTORE_URI": "thrift://127.0.0.1:9083",
           "DAGSTER_HOME": str(tmp_path / "dagster_home"), "CROSSDOCK_SPARK_HOME": str(tmp_path / "spark")}
    config = tmp_path / "crossdock.yaml"
    duck = engines.job_environment(env, tmp_path, "duckdb", config)
    spark = engines.job_environment(env, tmp_path, "spark", config)
    assert "CROSSDOCK_WAREHOUSE_ENGINE" not in duck and spark["CROSSDOCK_WAREHOUSE_ENGINE"] == "spark"
    assert "CROSSDOCK_SPARK_METASTORE_URI" not in duck and "CROSSDOCK_SPARK_METASTORE_URI" not in spark  # the bench's own
    for variable in ("CROSSDOCK_WAREHOUSE", "CROSSDOCK_LANDING", "CROSSDOCK_MODELS", "CROSSDOCK_EXPORTS", "DAGSTER_HOME",
                     "CROSSDOCK_SPARK_HOME"):
        assert len({env.get(variable), duck[variable], spark[variable]}) == 3, variable  # nothing shared
    assert duck["CROSSDOCK_CONFIG"] == spark["CROSSDOCK_CONFIG"] == str(config)  # the same merchant
    assert duck["CROSSDOCK_LANDING"] == str(engines.job_settings(tmp_path, "duckdb", config).landing)
    assert env["CROSSDOCK_WAREHOUSE_ENGINE"] == "spark"  # the bench's environment is left as it was
