"""dbt on DuckDB beside dbt on Spark local mode at N order lines, time and peak memory per step: `python bench/engines.py`.

    nice -n 10 .venv/bin/python bench/engines.py                                   # 1,000,000 order lines
    nice -n 10 .venv/bin/python bench/engines.py --lines 1000000,10000000 --max-rss-gb 18
    nice -n 10 .venv/bin/python bench/engines.py --lines 1000000 --job                  # and the whole job on each

For each size (issue 18, item 5):

1. Generates the tidy demo merchant the way bench/scale.py does (its
   generator call and lines per unit of volume), into a fresh temp folder.
2. Ingests it into a DuckDB warehouse in this process with the project's
   own Dagster assets that run before dbt: every feed, the merchant's config,
   the ECB rates (`cli.spark.run_ingest_steps`).
3. Runs `dbt build --target local` on that warehouse in a subprocess (DuckDB,
   the threads of profiles.yml), with its own --target-path.
4. Runs `crossdock spark-build` in a subprocess, its Spark home in the temp
   folder: a local Spark session (a JVM child of the Python process), the
   sources copied from DuckDB, then `dbt build --target spark` in the same
   process. Its per-step seconds are read from the line it prints
   ("session N s, copy sources N s, dbt build N s").
5. With `--job`, runs the whole Dagster job daily_planning through
   `python -m cli run` (the in-process executor) on each engine, one after
   the other, each from its own copy of the landing folder made before the
   ingest of 2 (an ingest moves the files it rejects), with its own DuckDB
   file, DAGSTER_HOME, model and export folders: first on DuckDB, then with
   CROSSDOCK_WAREHOUSE_ENGINE=spark, its own CROSSDOCK_SPARK_HOME and a Hive
   metastore service the bench starts on a free port for that run and stops
   after it (the job's dbt step runs dbt-spark in a process of its own beside
   the job's session). The service's start-up is a row of its own, and its
   JVM's memory counts in the Spark job's tree. Each step's seconds are read
   from the line the run's console prints as the step ends
   ("✓ dbt build   48.2 s", cli/console.py; read by bench/console_lines.py); its peak memory is the tree's
   over that window.
6. Samples each subprocess tree's resident memory every 0.2 s (bench/measured_run.py, bench/rss.py:
   the Python process and every descendant, the JVM included). A tree over
   `--max-rss-gb` is stopped and its engine marked STOPPED.

Both builds stage the published models in plan_next (`--vars "{plan_schema:
plan_next}"`), as a run of the job does, so both build the nodes a run
builds. Prints a row per step with the 1-minute load average at its end, the
slowest nodes of each engine (from run_results.json), the Spark / DuckDB
ratios of the dbt build, of the whole job, of its dbt step and of its ingest
steps, and where the two dbt builds would cross over: only measured, or
extrapolated from a falling ratio over two sizes. The temp folder is removed unless `--keep`. Timing lives here, not in tests.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere: python bench/engines.py

from bench.console_lines import full_log, job_step, step_seconds  # noqa: E402
from bench.measured_run import Measured, run_measured  # noqa: E402
from bench.rss import RssSampler, tree_resident  # noqa: E402
from bench.scale import GB, LINES_PER_VOLUME, _count_lines, _folder_mb, _generate, _memory_gb  # noqa: E402
from crossdock.settings import PATH_VARIABLES, Settings, settings_variables  # noqa: E402
from crossdock.spark import ENGINE_VARIABLE, SPARK_HOME_VARIABLE  # noqa: E402  (pyspark is imported by a session only)
from crossdock.spark_metastore import METASTORE_URI_VARIABLE, free_port, start_metastore, stop_metastore  # noqa: E402

DBT_VARS = "{plan_schema: plan_next}"
ENGINES = ("duckdb", "spark")  # the job runs on each, in this order
PROCESS = "process, start to exit"
JOB = "job: process, start to exit"  # `crossdock run`, the whole daily_planning job
JOB_STEP = "job: "  # before each step's label in its row
METASTORE_START = "metastore service start-up (for the job)"
# the job's steps before dbt: cli.spark.run_ingest_steps' selection (every feed, the config, the ECB rates)
INGEST_LABELS = ("ingest ", "merchant network", "reference.fx_rates")
_DBT_START = "Running with dbt="  # dbt logs it at the start of every invocation (parse, then build)


@dataclass
class Row:
    size: int  # order lines
    engine: str
    step: str
    seconds: float
    peak_bytes: int | None
    load: float  # 1-minute load average at the end of the step
    status: str = "ok"


def slowest_nodes(run_results: dict, count: int = 5) -> list[tuple[str, float]]:
    """The `count` nodes of a dbt run_results.json that took longest, as (resource_type.name, seconds)."""
    timed = [(_short(result["unique_id"]), float(result.get("execution_time") or 0.0)) for result in run_results["results"]]
    return sorted(timed, key=lambda item: item[1], reverse=True)[:count]


def seconds_by_kind(run_results: dict) -> dict[str, tuple[int, float]]:
    """Nodes and summed execution seconds per resource type (model, test, seed) of a run_results.json."""
    kinds: dict[str, tuple[int, float]] = {}
    for result in run_results["results"]:
        kind = result["unique_id"].split(".")[0]
        nodes, seconds = kinds.get(kind, (0, 0.0))
        kinds[kind] = (nodes + 1, seconds + float(result.get("execution_time") or 0.0))
    return kinds


def crossover(points: list[tuple[int, float]]) -> str:
    """Where Spark's dbt build would match DuckDB's, from (order lines, Spark seconds / DuckDB seconds) per size.

    Said from the measurements only: a size where Spark was faster, or, with
    two sizes or more and a ratio falling with size, the lines where a power
    law through the two largest reaches 1 (an extrapolation, flagged as one).
    """
    points = sorted(points)
    if not points:
        return "no size measured"
    if won := [lines for lines, ratio in points if ratio <= 1]:
        return f"Spark was as fast or faster from {won[0]:,} lines (measured)"
    largest, ratio = points[-1]
    if len(points) < 2:
        return (f"not reached: Spark {ratio:.1f}x slower at {largest:,} lines; one size measured, so no trend to "
                "extrapolate from")
    (small, small_ratio), (large, large_ratio) = points[-2], points[-1]
    if large_ratio >= small_ratio:
        return (f"not reached, and no trend toward it: the ratio went {small_ratio:.1f}x -> {large_ratio:.1f}x from "
                f"{small:,} to {large:,} lines")
    slope = math.log(large_ratio / small_ratio) / math.log(large / small)  # < 0: ratio ~ lines ** slope
    lines = large * large_ratio ** (-1 / slope)
    return (f"not reached: Spark {small_ratio:.1f}x slower at {small:,} lines, {large_ratio:.1f}x at {large:,}; "
            f"extrapolated (a power law through those two points, not measured) the ratio reaches 1 near "
            f"{lines:,.0f} lines")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="1000000", help="order lines to generate (about), comma-separated sizes")
    parser.add_argument("--sku-scale", type=float, default=1.0, help="catalogue size (demo --scale): 1.0 = 200 SKUs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-rss-gb", type=float, default=18.0, help="stop an engine's process tree past this much memory")
    parser.add_argument("--spark-driver-memory", help="the Spark driver JVM's heap instead of the profile's "
                        "spark.driver.memory (2g), e.g. 8g: passed as PYSPARK_SUBMIT_ARGS --driver-memory")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "crossdock-engines")
    parser.add_argument("--keep", action="store_true", help="keep each size's landing folder, warehouse and Spark tables")
    parser.add_argument("--no-spark-build", dest="spark_build", action="store_false",
                        help="skip `crossdock spark-build`: with --job, the job on both engines beside DuckDB's dbt "
                        "build only")
    parser.add_argument("--job", action="store_true",
                        help="also the whole daily_planning job (`crossdock run`) on DuckDB, then on Spark with a "
                        "metastore service, each from its own copy of the landing folder; a row per step")
    args = parser.parse_args(argv)
    sizes = [int(size.replace("_", "")) for size in args.lines.split(",")]

    print(f"environment: {len(os.sched_getaffinity(0))} usable cores, {_memory_gb():.1f} GB RAM, "
          f"{_versions()}; load average before {_load()}", flush=True)
    rows: list[Row] = []
    ratios: list[tuple[int, float]] = []
    ok = True
    args.workdir.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        root = Path(tempfile.mkdtemp(prefix=f"engines-{size}-", dir=args.workdir))
        try:
            ok &= run_size(args, size, root, rows, ratios)
        finally:
            if args.keep:
                print(f"kept {root}", flush=True)
            else:
                shutil.rmtree(root, ignore_errors=True)
    _print_table(rows)
    for size in sizes:
        if said := ratios_line(rows, size, dict(ratios).get(size)):
            print(said)
    print(f"cross-over of the dbt builds: {crossover(ratios)}")
    print(f"load average after: {_load()}", flush=True)
    return 0 if ok else 1


def ratios_line(rows: list[Row], size: int, dbt_build: float | None) -> str | None:
    """Spark / DuckDB at one size, of what both engines measured: the dbt builds, the processes, the job."""
    parts = [(f"dbt build {dbt_build:.1f}x" if dbt_build else None),
             _said(_ratio(rows, size, PROCESS), "whole dbt process (Spark's session and source copy included)"),
             _said(_ratio(rows, size, JOB), "whole job (`crossdock run`)"),
             _said(_ratio(rows, size, f"{JOB_STEP}dbt build"), "the job's dbt step"),
             _said(_ingest_ratio(rows, size), "the job's ingest steps (feeds, config, ECB rates)")]
    said = [part for part in parts if part]
    return f"{size:,} lines: Spark / DuckDB, " + "; ".join(said) if said else None


def _said(ratio: float | None, what: str) -> str | None:
    return f"{what} {ratio:.1f}x" if ratio else None


def run_size(args: argparse.Namespace, size: int, root: Path, rows: list[Row], ratios: list[tuple[int, float]]) -> bool:
    settings = Settings.under(root)
    spark_home = root / "spark"
    limit = int(args.max_rss_gb * GB)
    print(f"\n== {size:,} order lines ({root})", flush=True)

    with RssSampler() as sampler:  # this process and its children: the generator, then the in-process ingest
        generated = _generate(settings, args, size / LINES_PER_VOLUME, sampler)
        rows.append(Row(size, "-", "generate (demo feeds, child process)", generated.seconds, generated.peak_bytes, _load1()))
        lines = _count_lines(settings.landing / "orders")
        print(f"input: {lines:,} order lines in {len(list((settings.landing / 'orders').glob('*.csv')))} files, "
              f"{_folder_mb(settings.landing / 'orders'):,.0f} MB", flush=True)
        if args.job:  # before the ingest below, which moves the files it rejects
            for engine in ENGINES:
                shutil.copytree(settings.landing, job_settings(root, engine, settings.config).landing)
        start = time.time()
        sources = _ingest_sources(settings)
        end = time.time()
    rows.append(Row(size, "duckdb", f"ingest {len(sources)} sources (Dagster assets, this process)", end - start,
                    sampler.peak_between(start, end), _load1()))
    _print_row(rows[-1])

    env = {
        **os.environ, "PYTHONUNBUFFERED": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
        "CROSSDOCK_SPARK_HOME": str(spark_home),
    }
    if args.spark_driver_memory:  # spark-submit's --driver-memory comes after the profile's --conf, so it wins
        env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.spark_driver_memory} pyspark-shell"
    from crossdock.dbt_cli import dbt_executable
    from crossdock.settings import DBT_PROJECT_DIR

    duck_target = root / "duckdb_target"
    duck = run_measured(
        [dbt_executable(), "build", "--target", "local", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(duck_target), "--vars", DBT_VARS], env, limit)
    duck_status = _status(duck)
    duck_results = _run_results(duck_target)
    rows.append(Row(size, "duckdb", PROCESS, duck.seconds, max(duck.peak_between(duck.start, duck.end), duck.max_rss),
                    _load1(), duck_status))
    _print_row(rows[-1])
    if duck_results:
        rows.append(Row(size, "duckdb", "dbt build (run_results elapsed)", duck_results["elapsed_time"], None, _load1(), duck_status))
        _print_row(rows[-1])
    if duck_status != "ok":
        print(duck.output[-3000:], file=sys.stderr, flush=True)

    if not args.spark_build:
        return duck_status == "ok" and (not args.job or run_jobs(size, root, settings.config, env, limit, rows))
    spark = run_measured([sys.executable, "-m", "cli", "spark-build", "--plan-schema", "plan_next"], env, limit)
    spark_status = _status(spark)
    print("".join(line for _, line in spark.lines if line.startswith("  ")), end="", flush=True)  # cli/spark.py's summary
    spark_results = _run_results(spark_home / "dbt_target")
    for row in _spark_rows(size, spark, spark_status, spark_results):
        rows.append(row)
        _print_row(row)
    if spark_status != "ok":
        print(spark.output[-3000:], file=sys.stderr, flush=True)

    for engine, results in (("duckdb", duck_results), ("spark", spark_results)):
        if results:
            kinds = "; ".join(f"{n} {kind}s {s:.0f} s" for kind, (n, s) in sorted(seconds_by_kind(results).items()))
            print(f"{engine} nodes: {kinds}; slowest: "
                  + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest_nodes(results)), flush=True)
    if duck_status == spark_status == "ok" and duck_results and spark_results:
        ratios.append((size, spark_results["elapsed_time"] / duck_results["elapsed_time"]))
    ok = duck_status == spark_status == "ok"
    return ok and (not args.job or run_jobs(size, root, settings.config, env, limit, rows))


def job_settings(root: Path, engine: str, config: Path) -> Settings:
    """The folders of the job's run on `engine` (landing, warehouse file, DAGSTER_HOME, models, exports): its own,
    so neither run nor the dbt-only comparison reuses another's tables, boosters or run history."""
    return dataclasses.replace(Settings.under(root / f"job_{engine}"), config=config)


def job_spark_home(root: Path, engine: str) -> Path:
    """The Spark home (tables, catalogue, the service's logs) of the job's run on `engine`."""
    return root / f"job_{engine}" / "spark"


def job_environment(env: dict[str, str], root: Path, engine: str, config: Path) -> dict[str, str]:
    """`env` pointed at one job run's folders, with the engine switch set for Spark and unset (DuckDB) otherwise."""
    settings = job_settings(root, engine, config)
    variables = {**env, **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
                 SPARK_HOME_VARIABLE: str(job_spark_home(root, engine))}
    variables.pop(METASTORE_URI_VARIABLE, None)  # the bench names its own service, for the Spark run only
    variables.pop(ENGINE_VARIABLE, None)
    if engine == "spark":
        variables[ENGINE_VARIABLE] = "spark"
    return variables


def job_rows(size: int, engine: str, run: Measured, status: str) -> list[Row]:
    """The whole `crossdock run`, then a row per step its console reported, with the tree's peak over the step.

    A step's window ends when its line arrived and starts its seconds before:
    the in-process executor runs one step at a time.
    """
    rows = [Row(size, engine, JOB, run.seconds, max(run.peak_between(run.start, run.end), run.max_rss),
                run.load_at(run.end) or _load1(), status)]
    for at, line in run.lines:
        if step := job_step(line):
            rows.append(Row(size, engine, f"{JOB_STEP}{step.label}", step.seconds,
                            run.peak_between(at - step.seconds, at), run.load_at(at) or _load1(),
                            "ok" if step.ok else "FAILED"))
    return rows


def run_jobs(size: int, root: Path, config: Path, env: dict[str, str], limit: int, rows: list[Row]) -> bool:
    """`crossdock run` on DuckDB, then on Spark, one after the other; both run whatever the first's outcome."""
    ok = True
    for engine in ENGINES:
        ok &= _run_job(size, engine, root, job_environment(env, root, engine, config), limit, rows)
    return ok


def _run_job(size: int, engine: str, root: Path, variables: dict[str, str], limit: int, rows: list[Row]) -> bool:
    """One engine's `crossdock run` measured; on Spark beside a metastore service started for it and stopped after."""
    console = root / f"job_{engine}" / "console.txt"
    if engine != "spark":
        return _measure_job(size, engine, variables, limit, rows, console)
    started = time.time()
    port = free_port()
    try:
        service = start_metastore(port, home=Path(variables[SPARK_HOME_VARIABLE]))
    except (ImportError, RuntimeError) as error:  # no pyspark, no java, or the service did not listen
        rows.append(Row(size, engine, METASTORE_START, time.time() - started, None, _load1(), "FAILED"))
        _print_row(rows[-1])
        print(f"the metastore service did not start: {error}", file=sys.stderr, flush=True)
        return False
    try:
        rows.append(Row(size, engine, METASTORE_START, time.time() - started, tree_resident(service.pid), _load1()))
        _print_row(rows[-1])
        variables[METASTORE_URI_VARIABLE] = f"thrift://127.0.0.1:{port}"
        return _measure_job(size, engine, variables, limit, rows, console, beside=(service.pid,))
    finally:
        stop_metastore(service)


def _measure_job(size: int, engine: str, env: dict[str, str], limit: int, rows: list[Row], console: Path,
                 beside: tuple[int, ...] = ()) -> bool:
    """`crossdock run` measured; what it printed is kept in `console` (with --keep, the steps' lines as they came)."""
    run = run_measured([sys.executable, "-m", "cli", "run"], env, limit, beside=beside)
    console.write_text(run.output)
    status = _status(run)
    for row in job_rows(size, engine, run, status):
        rows.append(row)
        _print_row(row)
    if status != "ok":
        print(run.output[-3000:], file=sys.stderr, flush=True)
        log = full_log(run.output)
        if log is not None and log.exists():  # the temp folder goes unless --keep: quote the log's end now
            print(f"--- the end of {log}:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr, flush=True)
    return status == "ok"


def _spark_rows(size: int, spark: Measured, status: str, results: dict | None) -> list[Row]:
    """The whole process, then session / copy sources / dbt build with the memory of each step's window.

    The windows come from the output's arrival times: cli/spark.py prints
    "building the dbt project on Spark" before the session starts, dbt logs
    "Running with dbt=" when the parse (timed with the copy) and the build
    start, and the summary follows the build.
    """
    rows = [Row(size, "spark", PROCESS, spark.seconds,
                max(spark.peak_between(spark.start, spark.end), spark.max_rss), _load1(), status)]
    seconds = step_seconds(spark.output)
    marks = [spark.first_line_at("building the dbt project on Spark"), spark.first_line_at(_DBT_START, 1),
             spark.first_line_at(_DBT_START, 2), spark.first_line_at("sources copied from DuckDB")]
    windows = list(zip(marks, marks[1:], strict=False))
    for (step, step_s), (begin, end) in zip(seconds.items(), windows, strict=False):
        peak = spark.peak_between(begin, end) if begin is not None and end is not None else None
        rows.append(Row(size, "spark", step, step_s, peak, _load1(), status))
    if results:
        rows.append(Row(size, "spark", "dbt build (run_results elapsed)", results["elapsed_time"], None, _load1(), status))
    return rows


def _ingest_sources(settings) -> list[str]:
    """Materialize the steps before dbt on DuckDB (`cli.spark.run_ingest_steps`: the job's own assets);
    the models' sources they wrote."""
    for variable in PATH_VARIABLES:
        os.environ.pop(variable, None)
    from cli.spark import run_ingest_steps
    from crossdock.spark_build import model_sources
    from orchestration.lib.resources import dbt_project

    if not run_ingest_steps(settings, "duckdb")["success"]:
        raise SystemExit("ingesting the dbt sources failed")
    return model_sources(json.loads(dbt_project().manifest_path.read_text()))


def _run_results(target: Path) -> dict | None:
    path = target / "run_results.json"
    return json.loads(path.read_text()) if path.exists() else None


def _status(measured: Measured) -> str:
    return "STOPPED (memory)" if measured.stopped else ("ok" if measured.returncode == 0 else f"FAILED (exit {measured.returncode})")


def _ratio(rows: list[Row], size: int, step: str) -> float | None:
    found = {row.engine: row.seconds for row in rows if row.size == size and row.step == step and row.status == "ok"}
    return found["spark"] / found["duckdb"] if {"spark", "duckdb"} <= found.keys() else None


def _ingest_ratio(rows: list[Row], size: int) -> float | None:
    """Spark / DuckDB of the job's steps before dbt, summed; None unless both ran the same ones, all ok."""
    steps: dict[str, dict[str, float]] = {engine: {} for engine in ENGINES}
    failed = False
    for row in rows:
        label = row.step.removeprefix(JOB_STEP)
        if row.size == size and row.engine in steps and row.step.startswith(JOB_STEP) and label.startswith(INGEST_LABELS):
            steps[row.engine][label] = row.seconds
            failed |= row.status != "ok"
    spark, duck = steps["spark"], steps["duckdb"]
    if failed or spark.keys() != duck.keys() or sum(duck.values()) <= 0:
        return None
    return sum(spark.values()) / sum(duck.values())


def _short(unique_id: str) -> str:
    kind, _project, *rest = unique_id.split(".")
    return f"{kind} {rest[-1] if kind != 'test' else '.'.join(rest)}"


def _versions() -> str:
    import duckdb

    versions = [f"DuckDB {duckdb.__version__}"]
    with contextlib.suppress(ImportError):
        import pyspark

        versions.append(f"pyspark {pyspark.__version__}")
    java = shutil.which("java")
    if java:
        banner = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
        versions.append(banner[0] if banner else "java")
    return ", ".join(versions)


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _load1() -> float:
    return os.getloadavg()[0]


def _gb(value: int | None) -> str:
    return "-" if value is None else f"{value / GB:.2f}"


def _print_row(row: Row) -> None:
    print(f"step: {row.engine:<6} {row.step:<52} {row.seconds:9.1f} s  peak {_gb(row.peak_bytes):>6} GB  "
          f"load {row.load:4.1f}  {row.status}", flush=True)


def _print_table(rows: list[Row]) -> None:
    print(f"\n{'lines':>11}  {'engine':<6}  {'step':<52} {'seconds':>9}  {'peak GB':>7}  {'load':>4}  status")
    for row in rows:
        print(f"{row.size:>11,}  {row.engine:<6}  {row.step:<52} {row.seconds:9.1f}  {_gb(row.peak_bytes):>7}  "
              f"{row.load:4.1f}  {row.status}")
    print(flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
