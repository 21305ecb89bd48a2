"""`crossdock` command line: the demo end to end, and its parts.

    crossdock demo [--scale 1.0]   generate demo feeds (if landing is empty), run the
                                   daily_planning job, print the summary
    crossdock generate             write demo feeds into the landing folder
    crossdock run                  run the daily_planning job on what has landed
    crossdock summary              print the summary of the published tables
    crossdock quarantine           quarantined rows per dataset and reason
    crossdock quarantine --dataset orders --export fix.csv
                                   write the open quarantined rows to a CSV to fix
                                   and drop back into the landing folder
    crossdock docs                 write the data dictionary (dbt docs for every
                                   table) to exports/docs/index.html
    crossdock dashboard [--port 8501] [--address 127.0.0.1]
                                   serve the S&OP dashboard on the BI snapshot
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from crossdock.dbt_cli import generate_docs
from crossdock.settings import Settings, export_to_environment, load_settings
from crossdock.summary import print_summary
from dashboard.serve import streamlit_command

log = logging.getLogger("crossdock")


def _prepare_dagster_home(settings: Settings) -> None:
    """Use the project's instance config (telemetry off, one warehouse writer) in any DAGSTER_HOME."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    template = Path(__file__).resolve().parents[1] / ".dagster_home" / "dagster.yaml"
    if not config.exists() and template.exists() and template != config:
        config.write_text(template.read_text())
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def generate(settings: Settings, scale: float, seed: int) -> None:
    from demo.generate import generate as generate_feeds

    print(f"generating demo feeds (scale {scale}, seed {seed}) into {settings.landing} ...", flush=True)
    summary = generate_feeds(settings.landing, scale=scale, seed=seed)
    print(f"  {summary}", flush=True)


def run_planning_job(settings: Settings) -> bool:
    """Run daily_planning in this process on the persistent instance, so the UI shows the run."""
    import dagster as dg

    from orchestration.automation import all_landing_files, run_tags_for
    from orchestration.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("daily_planning")
    tags = run_tags_for(all_landing_files(settings.landing))
    print(
        f"running the daily_planning job over files dated {tags['dagster/asset_partition_range_start']}"
        f"..{tags['dagster/asset_partition_range_end']} (warehouse {settings.warehouse}) ...",
        flush=True,
    )
    result = job.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False, tags=tags)
    failed_checks = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    for evaluation in failed_checks:
        print(f"\nQUALITY GATE FAILED: {evaluation.asset_key.to_user_string()} / {evaluation.check_name}", file=sys.stderr)
        print(f"  {evaluation.description}", file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            print(f"\nSTEP FAILED: {event.step_key}: {event.event_specific_data.error.message.strip()}", file=sys.stderr)
    print(f"run {result.run_id}: {'success' if result.success and not failed_checks else 'FAILED'}", flush=True)
    return result.success and not failed_checks


def quarantine(settings: Settings, dataset: str | None, export: Path | None) -> int:
    import duckdb

    from feeds.quarantine import export_quarantine, quarantine_summary

    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse} yet", file=sys.stderr)
        return 1
    from feeds.contracts import CONTRACTS

    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        if export is None:
            summary = quarantine_summary(conn)
            print(summary.to_string(index=False) if len(summary) else "no quarantined rows")
            return 0
        if dataset is None:
            print("--export needs --dataset", file=sys.stderr)
            return 2
        rows = export_quarantine(conn, dataset, export)
    feed = next(c.feed for c in CONTRACTS if c.dataset == dataset)
    print(f"wrote {rows} open quarantined {dataset} rows to {export}; fix them and drop the file into {settings.landing / feed}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crossdock", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["demo", "generate", "run", "summary", "quarantine", "docs", "dashboard"])
    parser.add_argument("--scale", type=float, default=1.0, help="demo data size: 1.0 = 200 SKUs x 8 markets")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dataset", help="quarantine: the dataset (orders, suppliers, ...)")
    parser.add_argument("--export", type=Path, help="quarantine: CSV file to write the open rows to")
    parser.add_argument("--port", type=int, default=8501, help="dashboard: port to serve on")
    parser.add_argument("--address", default="127.0.0.1", help="dashboard: address to bind (0.0.0.0 shares it, with no login)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    settings = load_settings()
    export_to_environment(settings)
    _prepare_dagster_home(settings)
    started = time.perf_counter()
    if args.command == "quarantine":
        return quarantine(settings, args.dataset, args.export)
    if args.command == "docs":
        print(f"data dictionary written to {generate_docs(settings)}", flush=True)
        return 0
    if args.command == "dashboard":
        print(f"S&OP dashboard on http://{args.address}:{args.port} (Ctrl-C stops it)", flush=True)
        return subprocess.call(streamlit_command(args.port, args.address))

    if args.command in ("demo", "generate"):
        has_orders = (settings.landing / "orders").is_dir() and any((settings.landing / "orders").iterdir())
        if args.command == "generate" or not has_orders:
            generate(settings, args.scale, args.seed)
        else:
            print(f"landing folder {settings.landing} already has feeds; not regenerating", flush=True)
    ok = True
    if args.command in ("demo", "run"):
        ok = run_planning_job(settings)
    if args.command in ("demo", "run", "summary"):
        print_summary(settings)
    print(f"done in {time.perf_counter() - started:.0f} s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
