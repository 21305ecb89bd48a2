"""`crossdock` command line: the demo end to end, and its parts.

    crossdock init [--min-share 0.02] [--min-active-days 30] [--merchant NAME] [--force]
                        load the landed orders and propose the merchant's
                        crossdock.yaml from them (markets, catch-all, nodes)
    crossdock demo [--scale 1.0] [--seed 7] [--profile tidy|messy]
                        generate demo feeds (if landing is empty), run the
                        daily_planning job, print the summary
    crossdock generate [--scale 1.0] [--seed 7] [--profile tidy|messy]
                        (re)write the demo feeds into the landing folder, and
                        the profile's network config (crossdock.yaml) if there
                        is none; --profile messy is the hard case (demo/messy/)
    crossdock run [--as-of YYYY-MM-DD] [--force]
                        run the daily_planning job on what has landed; with
                        --as-of, plan as of that past day from the data up to it;
                        nothing new since the published plan: says so and stops
                        (--force runs anyway)
    crossdock summary   print the summary of the published tables
    crossdock exceptions [--type expedite] [--owner NAME] [--status open] [--all]
                        the plan's open exceptions by type, with owner and
                        status; --all adds the closed and the no longer raised
    crossdock quarantine [--dataset orders] [--export fix.csv]
                        quarantined rows per dataset and reason; with --export,
                        write the dataset's open quarantined rows to a CSV to
                        fix and drop back into the landing folder
    crossdock docs      write the data dictionary (dbt docs for every table)
                        to exports/docs/index.html
    crossdock dashboard [--port 8501] [--address 127.0.0.1]
                        serve the S&OP dashboard on the BI snapshot
    crossdock tariff load FILE [FILE ...] --source uk|us|eu [--as-of YYYY-MM-DD] [--engine spark]
                        load an official tariff file into the reference
                        data (docs/tariffs.md); the next run prices duty with it
    crossdock tariff coverage
                        the HS codes sold that each loaded tariff covers,
                        and those it does not
    crossdock spark-build [--plan-schema publish|plan_next]
                        build the same dbt project (seeds, models, tests) on
                        a local Spark session from the warehouse's sources
                        (docs/spark.md)
    crossdock spark-serve [--port 9083]
                        serve the Spark catalogue to every process at once
                        (CROSSDOCK_SPARK_METASTORE_URI; docs/spark.md)

`crossdock <command> --help` shows a command's options.

This module parses the command line and dispatches; the bodies of the longer
commands live in their own modules (cli/run.py for run and demo's job,
cli/init.py, cli/exceptions.py, cli/spark.py, cli/summary.py).
"""
from __future__ import annotations

import argparse
import atexit
import datetime as dt
import gc
import logging
import os
import sys
import time
from pathlib import Path

from crossdock.dbt_cli import generate_docs
from crossdock.planning_date import parse_as_of
from crossdock.settings import Settings, export_to_environment, load_settings
from cli.init import init
from cli.run import make_the_plan, prepare_dagster_home
from cli.summary import print_summary
from dashboard.serve import serve, streamlit_command
from crossdock.plan_labels import EXCEPTION_STATUSES, EXCEPTION_TYPES
from feeds.contracts import CONTRACTS

log = logging.getLogger("crossdock")


def generate(settings: Settings, scale: float, seed: int, profile: str = "tidy") -> None:
    """A demo merchant's feeds (`profile` tidy or messy), and its network config (crossdock.yaml)
    unless one is already there."""
    from demo.generate import generate as generate_feeds
    from demo.network import install_profile_config, profile_config

    print(f"generating {profile} demo feeds (scale {scale}, seed {seed}) into {settings.landing} ...", flush=True)
    summary = generate_feeds(settings.landing, scale=scale, seed=seed, profile=profile)
    rows = ", ".join(f"{feed} {count:,}" for feed, count in summary["rows"].items())
    print(f"  {summary['files_written']} files, rows per feed: {rows}", flush=True)
    if install_profile_config(settings.config, profile):
        print(f"  the {profile} demo merchant's network config written to {settings.config}", flush=True)
    elif settings.config.read_bytes() != profile_config(profile).read_bytes():
        print(f"  kept the network config already at {settings.config}; the {profile} demo merchant's is "
              f"{profile_config(profile)} (copy it there to plan its markets)", flush=True)


def quarantine(settings: Settings, dataset: str | None, export: Path | None) -> int:
    from crossdock.warehouse import connect
    from feeds.quarantine import export_quarantine, fix_file_name, quarantine_summary

    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse} yet", file=sys.stderr)
        return 1
    with connect(str(settings.warehouse), read_only=True, log=log) as conn:
        if export is None:
            summary = quarantine_summary(conn)
            if dataset is not None:
                summary = summary[summary["dataset"] == dataset]
            print(summary.to_string(index=False) if len(summary) else f"no quarantined {dataset or ''} rows".replace("  ", " "))
            return 0
        rows = export_quarantine(conn, dataset, export)
    feed = next(c.feed for c in CONTRACTS if c.dataset == dataset)
    target = settings.landing / feed / fix_file_name(dataset, dt.date.today(), settings.landing / feed)
    print(
        f"wrote {rows} open quarantined {dataset} rows to {export}, in the {dataset} contract's layout (each line keeps "
        f"its order and line ids); fix the values, keep the _quarantine_id column (it names the row each line fixes), "
        f"and save the file as {target} (the feed's own folder, not a mapped source folder): the next run loads it"
    )
    return 0


def _as_of(text: str) -> str:
    """argparse type of --as-of: the day as YYYY-MM-DD, or a usage error saying why not."""
    try:
        return parse_as_of(text).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class _OneLineCommands(argparse.HelpFormatter):
    """`crossdock --help` with each command and its summary on one line."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=18)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):  # argparse measures the commands without their indent
            self._action_max_length = max(self._action_max_length, self._current_indent + 4 + max(map(len, action.choices)) + 2)


def _demo_data_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--scale", type=float, default=1.0, help="demo data size: 1.0 = 200 SKUs x 8 markets (tidy), 250 SKUs x 40 countries (messy) (default 1.0)")
    command.add_argument("--seed", type=int, default=7, help="random seed of the generator (default 7)")
    command.add_argument(
        "--profile", choices=("tidy", "messy"), default="tidy",
        help="tidy: 8 markets, every feed, 820 days; messy: 40 countries (5 markets + ROW), ten years, wholesale "
        "lines, write-offs, a late partial catalogue, no stock feed (demo/messy/) (default tidy)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crossdock",
        formatter_class=_OneLineCommands,
        description="crossdock: an S&OP data platform on Dagster, dbt and DuckDB. "
        "Paths come from CROSSDOCK_CONFIG, CROSSDOCK_WAREHOUSE, CROSSDOCK_LANDING, CROSSDOCK_EXPORTS, CROSSDOCK_MODELS "
        "and DAGSTER_HOME.",
        epilog="`crossdock <command> --help` shows a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>", title="commands")

    def command(name: str, summary: str, description: str = "") -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=description or summary[0].upper() + summary[1:] + ".")
        sub.set_defaults(usage_error=sub.error)  # for checks that span options, with this command's usage
        return sub

    init_command = command(
        "init", "propose crossdock.yaml from the orders that have landed",
        "Load the orders in the landing folder (the job's own ingest; loading twice changes nothing) and write a "
        "proposed crossdock.yaml to CROSSDOCK_CONFIG: each country with a fair share of the units becomes a market "
        "(its currency, usual time zone and busiest node), the long tail one catch-all market, the nodes those the "
        "orders name. What the orders cannot tell is marked 'guess' in the file.",
    )
    init_command.add_argument("--min-share", type=float, default=0.02, metavar="SHARE",
                              help="share of units sold a country needs to be a market of its own (default 0.02)")
    init_command.add_argument("--min-active-days", type=int, default=30, metavar="DAYS",
                              help="days with orders a country needs to be a market of its own (default 30)")
    init_command.add_argument("--merchant", help="the merchant's name, shown in the file")
    init_command.add_argument("--output", type=Path, metavar="YAML", help="write here instead of CROSSDOCK_CONFIG")
    init_command.add_argument("--force", action="store_true", help="replace an existing file")
    demo = command(
        "demo", "generate demo feeds if none, run the job, print the summary",
        "Generate the demo merchant's feeds (and network config) unless the landing folder already has orders, "
        "run the daily_planning job (ingest, dbt build, quality gate, forecast, plans, publish) and print the summary.",
    )
    _demo_data_options(demo)
    demo.add_argument(
        "--last-cycle", action="store_true",
        help="first plan the S&OP cycle before (as of the last day of the month before the demo's last order day), "
        "so the planners' overrides of both cycles apply and forecast value added has a cycle to score (two more runs)",
    )
    generate_command = command(
        "generate", "(re)write the demo feeds into the landing folder",
        "(Re)write the demo merchant's feed files into the landing folder, and its network config "
        "(CROSSDOCK_CONFIG, crossdock.yaml) when there is none.",
    )
    _demo_data_options(generate_command)
    run = command(
        "run", "run the planning job on what has landed, print the summary",
        "Run the daily_planning job on the files in the landing folder and print the summary. The plan is made "
        "as of the last order day unless --as-of names an earlier one. With CROSSDOCK_WAREHOUSE_ENGINE=spark the "
        "same job runs on a local Spark session, its catalogue served for the run (or by the service "
        "CROSSDOCK_SPARK_METASTORE_URI names: `crossdock spark-serve`; docs/spark.md).",
    )
    run.add_argument(
        "--force", action="store_true",
        help="run even when the published plan was made from the same files, config, planning date and code",
    )
    run.add_argument(
        "--as-of", type=_as_of, metavar="YYYY-MM-DD",
        help="plan as of this past day (first to last order day): demand history, stock snapshot, open POs and "
        "supplier receipts stop there and the forecast starts the day after",
    )
    command("summary", "print the summary of the published tables",
            "Print what the published tables hold (row counts, forecast accuracy, plan, transfers, compliance, "
            "landed cost), on whatever the warehouse has.")
    exceptions_command = command(
        "exceptions", "the plan's open exceptions with owner and status",
        "List the published plan's exceptions (publish.exceptions): the counts per type, then each open one with its "
        "owner, status, what is wrong and the priced fix. Owners update them with a CSV in landing/exceptions/ or the "
        "dashboard's Exceptions page; an update shows after the next run.",
    )
    exceptions_command.add_argument("--type", dest="exception_type", choices=EXCEPTION_TYPES, help="only this type")
    exceptions_command.add_argument("--owner", help="only this owner (a role or a name, any case)")
    exceptions_command.add_argument("--status", choices=EXCEPTION_STATUSES, help="only this status")
    exceptions_command.add_argument("--all", dest="everything", action="store_true",
                                    help="every exception ever raised: resolved, dismissed and no longer raised too")
    quarantine_command = command(
        "quarantine", "quarantined rows per dataset and reason; --export to fix them",
        "List quarantined rows per dataset and reason code; with --export, write one dataset's open quarantined "
        "rows (not resolved by a later load) to a CSV in the format they were sent, to fix and drop back into "
        "the landing folder.",
    )
    quarantine_command.add_argument("--dataset", choices=[c.dataset for c in CONTRACTS], help="only this dataset")
    quarantine_command.add_argument("--export", type=Path, metavar="CSV", help="write the dataset's open rows to this CSV (needs --dataset)")
    command(
        "docs", "write the data dictionary to exports/docs/index.html",
        "Write the data dictionary (dbt docs for every table and column, one static page) to "
        "CROSSDOCK_EXPORTS/docs/index.html. Run it after a run: it reads column types from the warehouse.",
    )
    dashboard = command(
        "dashboard", "serve the S&OP dashboard on the BI snapshot",
        "Serve the S&OP dashboard (Streamlit) on the BI snapshot exports/bi/crossdock_publish.duckdb until Ctrl-C.",
    )
    dashboard.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    dashboard.add_argument("--address", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 shares it, with no login)")
    spark = command(
        "spark-build", "build the dbt project on Spark from the warehouse's sources",
        "Copy the tables the dbt models read (raw.*, config.*, reference.fx_rates) from the DuckDB warehouse into a "
        "local Spark session, its tables and catalogue under CROSSDOCK_SPARK_HOME (default warehouse/spark), and run "
        "`dbt build --target spark` there: the same seeds, models and tests as on DuckDB, the published models in "
        "schema publish. Needs pyspark and dbt-spark (pip install -e '.[spark]') and Java 17 (docs/spark.md).",
    )
    spark.add_argument("--plan-schema", default="publish", choices=("publish", "plan_next"),
                       help="where the published models go: publish (default), or plan_next, as a run of the job "
                       "stages them (to compare with a DuckDB build of the same; docs/spark.md)")
    tariff = command(
        "tariff", "load an official tariff file; list the HS codes it covers",
        "Load a tariff file downloaded from its official source into the reference data "
        "(reference.tariff_file_rates): `tariff load FILE --source uk|us|eu` reads the UK Trade Tariff's "
        "measures-on-declarable-commodities CSV, the USITC HTS export (CSV or JSON) or the EU TARIC 'Duties Import' "
        "workbook, keeps the duties in force on the file's date and replaces that border's earlier file; the next run "
        "prices duty with it before the duty_rates seed. `tariff coverage` lists, per loaded border, the HS codes "
        "the merchant sells that the file covers and those it does not (docs/tariffs.md).",
    )
    tariff_actions = tariff.add_subparsers(dest="tariff_action", required=True, metavar="<action>")
    tariff_load = tariff_actions.add_parser("load", help="load one tariff file",
                                            description="Load one official tariff file (docs/tariffs.md).")
    tariff_load.add_argument("files", type=Path, nargs="+", metavar="FILE",
                             help="the downloaded file, or the files of one export (its chapters)")
    tariff_load.add_argument("--source", required=True, choices=("uk", "us", "eu"),
                             help="uk: UK Trade Tariff CSV; us: USITC HTS export (CSV or JSON); eu: TARIC Duties "
                             "Import (.xlsx or CSV)")
    tariff_load.add_argument("--as-of", type=_as_of, metavar="YYYY-MM-DD",
                             help="the file's date (default: a date in the file name, else the day it was saved)")
    tariff_load.add_argument("--engine", default="duckdb", choices=("duckdb", "spark"),
                             help="duckdb (default): the warehouse file; spark: the local Spark session of "
                             "CROSSDOCK_SPARK_HOME, for `crossdock run` on Spark (spark-build copies a DuckDB load)")
    tariff_actions.add_parser("coverage", help="the HS codes sold that each loaded file covers, and those it does not",
                              description="List, per loaded tariff, the merchant's HS codes it covers and those it "
                              "does not (their duty comes from the duty_rates seed, or is unknown).")
    metastore = command(
        "spark-serve", "serve the Spark catalogue to many processes (Hive metastore)",
        "Run Hive's metastore service (from pyspark's jars) over the Spark catalogue of CROSSDOCK_SPARK_HOME until "
        "stopped, so that processes with CROSSDOCK_SPARK_METASTORE_URI=thrift://<host>:<port> (dbt, the Python "
        "steps) work on it at the same time; without it one process at a time opens it (docs/spark.md).",
    )
    metastore.add_argument("--port", type=int, default=9083, help="port to serve on, every interface (default 9083)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.command == "quarantine" and args.export is not None and args.dataset is None:
        args.usage_error(
            "--export needs --dataset: say which dataset's rows to write (one of "
            + ", ".join(c.dataset for c in CONTRACTS) + ")"
        )
    return args


# crossdock's own packages (pyproject's packages.find): their INFO is news for the person at the console
OWN_PACKAGES = ("crossdock", "feeds", "demo", "ml", "expectations", "planning", "compliance", "orchestration", "dashboard")


def _configure_logging() -> None:
    """Our packages' INFO on the console, other libraries' only from WARNING.

    At INFO, Great Expectations (~230 "Skipping registering function" lines on
    import) and alembic (the instance's SQLite migrations) would print ~240
    lines before the job starts; during a run every library's INFO goes to
    the run's log file instead (cli/console.py).
    """
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    for package in OWN_PACKAGES:
        logging.getLogger(package).setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    try:
        return _command(argv)
    except BrokenPipeError:
        # the reader went away (`crossdock exceptions | head`): stop quietly, as Unix tools do, rather than print a
        # traceback; stdout now points at nothing, so the interpreter's last flush cannot raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a pipe closed early


def _command(argv: list[str] | None) -> int:
    # At exit the interpreter walks every object left for the garbage collector: 2.0 s after a run of the job
    # (its libraries and their objects), 0.13 s with them frozen first. Nothing is left to run by then; once per
    # process however often main is called (the tests call it in one).
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    args = parse_args(argv)
    _configure_logging()

    settings = load_settings()
    export_to_environment(settings)
    prepare_dagster_home(settings)
    started = time.perf_counter()
    if args.command == "init":
        return init(settings, args)
    if args.command == "quarantine":
        return quarantine(settings, args.dataset, args.export)
    if args.command == "exceptions":
        from cli.exceptions import print_exceptions

        return print_exceptions(settings, args.exception_type, args.owner, args.status, args.everything)
    if args.command == "docs":
        print(f"data dictionary written to {generate_docs(settings)}", flush=True)
        return 0
    if args.command == "tariff":
        from cli.tariff import coverage_command, load_command

        if args.tariff_action == "load":
            as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
            return load_command(settings, args.files, args.source, as_of, args.engine)
        return coverage_command(settings)
    if args.command == "spark-build":
        from cli.spark import spark_build

        return spark_build(settings, args.plan_schema)
    if args.command == "spark-serve":
        from cli.spark import INSTALL_HINT
        from crossdock.spark_metastore import serve_metastore

        try:
            serve_metastore(args.port)  # this process becomes the service: returns only when it cannot start
        except ImportError as missing:
            print(f"crossdock spark-serve: {missing}; {INSTALL_HINT}", file=sys.stderr)
        except RuntimeError as error:
            print(f"crossdock spark-serve: {error}", file=sys.stderr)
        return 2
    if args.command == "dashboard":
        print(f"S&OP dashboard on http://{args.address}:{args.port} (Ctrl-C stops it)", flush=True)
        return serve(streamlit_command(args.port, args.address))

    if args.command in ("demo", "generate"):
        has_orders = (settings.landing / "orders").is_dir() and any((settings.landing / "orders").iterdir())
        if args.command == "generate" or not has_orders:
            generate(settings, args.scale, args.seed, args.profile)
        else:
            print(f"landing folder {settings.landing} already has feeds; not regenerating", flush=True)
            from demo.network import install_profile_config

            if args.command == "demo" and install_profile_config(settings.config, args.profile):
                print(f"  the {args.profile} demo merchant's network config written to {settings.config}", flush=True)
    ok = True
    if args.command in ("demo", "run"):
        from crossdock.spark import warehouse_engine

        plan = (settings, getattr(args, "as_of", None), getattr(args, "force", False), getattr(args, "last_cycle", False))
        if warehouse_engine() == "spark":  # CROSSDOCK_WAREHOUSE_ENGINE: the same job on Spark (docs/spark.md)
            from cli.spark import run_job_on_spark

            return run_job_on_spark(*plan)
        ok = make_the_plan(*plan)
    if args.command in ("demo", "run", "summary"):
        print_summary(settings)
    print(f"done in {time.perf_counter() - started:.0f} s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
