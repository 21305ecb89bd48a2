"""The daily job end to end on N million order lines, with time and peak memory per step: `python bench/scale.py`.

    nice -n 15 .venv/bin/python bench/scale.py                      # 10,000,000 order lines
    nice -n 10 .venv/bin/python bench/scale.py --lines 1000000 --keep --workdir /tmp/crossdock-scale

1. Generates the tidy demo merchant (demo/generate.py) into a fresh temp
   folder, in a child process, with `--sku-scale` setting the catalogue
   (1.0 = 200 SKUs, ~1,200 SKU x market series) and the units sold raised
   until the orders hold about `--lines` lines. The series stay as many at
   1M and 10M lines: the forecast's cost follows the series, the ingest's
   and dbt's the lines, and this bench is about lines.
2. Times DuckDB's own `create table as select * from read_csv(...)` of the
   same order files into a fresh database file, in this process: the
   baseline a raw load costs (`ingest ratio` = that time / the ingest steps').
3. Runs the daily_planning Dagster job in this process (ingest, dbt build,
   quality gate, backtest and forecast, plans, compliance, publish) on a
   temp warehouse and an ephemeral Dagster instance, and reads each step's
   start and end from the run's events.
4. Samples memory every 0.2 s (bench/rss.py): this process's exact peak plus
   its children's resident size (dbt). A sample over `--max-rss-gb` stops the
   run loudly (exit 3) naming the step it was in.

Prints one line per step (seconds, peak RSS) and a table at the end. The temp
folder is removed unless `--keep`. Timing lives here, not in tests.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/scale.py

from bench.rss import RssSampler, Sample, children  # noqa: E402
from crossdock.settings import PATH_VARIABLES  # noqa: E402

GB = 1 << 30
LINES_PER_VOLUME = 330_000  # order lines per unit of volume, tidy demo, 820 days, 200 SKUs (measured: 335k at 2.86, 321k at 28.6)


@dataclass
class Row:
    step: str
    seconds: float
    peak_bytes: int
    status: str = "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines to generate (about)")
    parser.add_argument("--sku-scale", type=float, default=1.0, help="catalogue size (demo --scale): 1.0 = 200 SKUs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-rss-gb", type=float, default=24.0, help="stop loudly when a step passes this much memory")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "crossdock-scale")
    parser.add_argument("--keep", action="store_true", help="keep the generated landing folder and warehouse")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="scale-", dir=args.workdir))
    try:
        return run(args, root)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> int:
    from crossdock.settings import Settings

    settings = Settings.under(root)
    limit = int(args.max_rss_gb * GB)
    print(f"environment: {len(os.sched_getaffinity(0))} usable cores, {_memory_gb():.1f} GB RAM, Python {platform.python_version()}; "
          f"load average before {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows: list[Row] = []
    state = {"step": "generate", "rows": rows}

    def over_limit(sample: Sample) -> None:
        step = _current_step(state.get("instance")) or state["step"]
        print(f"\nMEMORY LIMIT PASSED: {sample.total / GB:.2f} GB > --max-rss-gb {args.max_rss_gb} during step "
              f"{step!r}; stopping", file=sys.stderr, flush=True)
        _print_table(rows)
        for child in children(os.getpid()):  # dbt, the generator: they would outlive os._exit
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGTERM)
        if not args.keep:  # os._exit skips the finally that removes it
            shutil.rmtree(root, ignore_errors=True)
        os._exit(3)

    with RssSampler(limit=limit, on_limit=over_limit) as sampler:
        volume = args.lines / LINES_PER_VOLUME
        rows.append(_generate(settings, args, volume, sampler))
        lines = _count_lines(settings.landing / "orders")
        print(f"input: {lines:,} order lines in {len(list((settings.landing / 'orders').glob('*.csv')))} files, "
              f"{_folder_mb(settings.landing / 'orders'):,.0f} MB (sku scale {args.sku_scale}, volume {volume:.2f})", flush=True)

        state["step"] = "baseline read_csv"
        baseline = _read_csv_baseline(settings, root, sampler)
        rows.append(baseline)

        state["step"] = "daily_planning job"
        ok = _run_job(settings, sampler, rows, state)

    _print_table(rows)
    ingest = sum(r.seconds for r in rows if r.step.startswith("ingest_"))
    if ingest:
        print(f"ingest ratio (DuckDB read_csv of the order files / the ingest steps, all feeds): "
              f"{baseline.seconds / ingest:.2f}x")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


def _generate(settings, args: argparse.Namespace, volume: float, sampler: RssSampler) -> Row:
    """The demo feeds, written by a child process (its memory is sampled as a child's and freed after)."""
    from demo.network import install_demo_config

    install_demo_config(settings.config)
    command = [sys.executable, "-m", "demo.generate", "--landing", str(settings.landing), "--scale", str(args.sku_scale),
               "--volume", f"{volume:.4f}", "--seed", str(args.seed), "--quiet"]
    start = time.time()
    child = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    end = time.time()
    peak = max(sampler.peak_between(start, end), usage.ru_maxrss * 1024)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"generating the demo feeds failed (exit {os.waitstatus_to_exitcode(status)}): {' '.join(command)}")
    row = Row("generate (demo feeds, child process)", end - start, peak)
    _print_row(row)
    return row


def _read_csv_baseline(settings, root: Path, sampler: RssSampler) -> Row:
    import duckdb

    db = root / "baseline.duckdb"
    files = str(settings.landing / "orders" / "*.csv")
    start = time.time()
    with duckdb.connect(str(db)) as conn:
        conn.execute(f"create table t as select * from read_csv('{files}')")
        [(count,)] = conn.execute("select count(*) from t").fetchall()
    end = time.time()
    for path in root.glob("baseline.duckdb*"):
        path.unlink()
    row = Row(f"baseline: duckdb read_csv of the order files ({count:,} rows)", end - start, sampler.peak_between(start, end))
    _print_row(row)
    return row


def _run_job(settings, sampler: RssSampler, rows: list[Row], state: dict) -> bool:
    """daily_planning in this process; one Row per step from the run's STEP_START/STEP_SUCCESS events."""
    for variable in PATH_VARIABLES:
        os.environ.pop(variable, None)
    import dagster as dg

    from orchestration.defs.automation.jobs import planning_run_tags
    from orchestration.definitions import build_definitions
    from orchestration.lib.run_inputs import all_landing_files

    instance = dg.DagsterInstance.ephemeral()
    state["instance"] = instance
    job = build_definitions(settings).resolve_job_def("daily_planning")
    start = time.time()
    started: dict[str, float] = {}
    done = threading.Event()

    def report_steps() -> None:
        """Print each step as it ends (a run stopped half-way still shows how far it got); rows go to `rows`."""
        seen = 0
        while True:
            finished = done.wait(5)
            runs = instance.get_runs(limit=1)
            records = instance.all_logs(runs[0].run_id) if runs else []
            for record in records[seen:]:
                event = record.dagster_event
                if event is None or event.step_key is None:
                    continue
                if event.event_type_value == "STEP_START":
                    started[event.step_key] = record.timestamp
                elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
                    begin = started.pop(event.step_key)
                    row = Row(event.step_key, record.timestamp - begin, sampler.peak_between(begin, record.timestamp),
                              "ok" if event.event_type_value == "STEP_SUCCESS" else "FAILED")
                    rows.append(row)
                    _print_row(row)
            seen = len(records)
            if finished:
                return

    reporter = threading.Thread(target=report_steps, name="step-reporter", daemon=True)
    reporter.start()
    try:
        tags = planning_run_tags(instance, all_landing_files(settings.landing), settings.config)
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    finally:
        total = time.time() - start
        time.sleep(0.5)  # the sampler's reading after the last step
        done.set()
        reporter.join()
    for step in started:  # started but never ended
        rows.append(Row(step, time.time() - started[step], sampler.peak_between(started[step], time.time()), "NOT FINISHED"))
    failed = [e for e in result.all_events if e.is_step_failure]
    for event in failed:
        print(f"STEP FAILED: {event.step_key}: {event.event_specific_data.error.message.strip()[:500]}", file=sys.stderr)
    rows.append(Row("daily_planning job, whole run", total, sampler.peak_between(start, start + total),
                    "ok" if result.success else "FAILED"))
    return result.success


def _current_step(instance) -> str | None:
    """The step a running job is in (the last started and not ended), from the instance's event log."""
    if instance is None:
        return None
    running: dict[str, float] = {}
    for run in instance.get_runs(limit=1):
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is not None and event.step_key is not None:
                if event.event_type_value == "STEP_START":
                    running[event.step_key] = record.timestamp
                elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                    running.pop(event.step_key, None)
    return max(running, key=running.get, default=None)


def _print_row(row: Row) -> None:
    print(f"step: {row.step:<58} {row.seconds:9.1f} s  peak {row.peak_bytes / GB:6.2f} GB  {row.status}", flush=True)


def _print_table(rows: list[Row]) -> None:
    print(f"\n{'step':<60} {'seconds':>9}  {'peak RSS GB':>11}  status")
    for row in rows:
        print(f"{row.step:<60} {row.seconds:9.1f}  {row.peak_bytes / GB:11.2f}  {row.status}")
    print(flush=True)


def _count_lines(folder: Path) -> int:
    lines = 0
    for path in folder.glob("*.csv"):
        with path.open("rb") as handle:
            lines += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1
    return lines


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("*")) / 1e6


def _memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB


if __name__ == "__main__":
    raise SystemExit(main())
