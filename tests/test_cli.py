"""The `crossdock` command line: one subcommand per job, each with its own options and help."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import cli.main as cli
import cli.run as cli_run
from crossdock.settings import PROJECT_ROOT

COMMANDS = ["demo", "generate", "run", "summary", "exceptions", "quarantine", "docs", "dashboard"]


def test_help_lists_every_command_on_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, check=True,
        cwd=PROJECT_ROOT, env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
    ).stdout
    lines = out.splitlines()
    [commands] = [a.choices for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(COMMANDS) <= set(commands)
    for command in commands:
        [line] = [l for l in lines if l.split()[:1] == [command]]
        assert len(line.split()) > 2, f"{command} has no summary on its line: {line!r}"
    assert "--scale" not in out and "--port" not in out  # options belong to their commands


@pytest.mark.parametrize(
    "command, shown, not_shown",
    [
        ("run", ["--as-of"], ["--scale", "--port", "--dataset"]),
        ("demo", ["--scale", "--seed", "--last-cycle"], ["--as-of", "--port"]),
        ("generate", ["--scale", "--seed"], ["--as-of", "--export"]),
        ("quarantine", ["--dataset", "--export"], ["--scale", "--port"]),
        ("dashboard", ["--port", "--address"], ["--scale", "--dataset"]),
        ("summary", [], ["--scale", "--port", "--as-of"]),
        ("docs", [], ["--scale", "--port", "--as-of"]),
        ("exceptions", ["--type", "--owner", "--status", "--all"], ["--scale", "--port", "--dataset"]),
    ],
)
def test_each_command_shows_only_its_own_options(command, shown, not_shown, capsys):
    with pytest.raises(SystemExit) as done:
        cli.parse_args([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: crossdock {command}")
    assert all(option in out for option in shown)
    assert not any(option in out for option in not_shown)


def test_every_documented_invocation_parses():
    """The invocations the Makefile, README and docs use."""
    cases = {
        ("demo",): {"last_cycle": False},
        ("demo", "--last-cycle"): {"last_cycle": True},
        ("generate", "--scale", "0.5"): {"scale": 0.5, "seed": 7},
        ("run",): {"as_of": None},
        ("run", "--as-of", "2026-09-30"): {"as_of": "2026-09-30"},
        ("summary",): {},
        ("quarantine",): {"dataset": None, "export": None},
        ("quarantine", "--dataset", "orders", "--export", "fix.csv"): {"dataset": "orders", "export": Path("fix.csv")},
        ("docs",): {},
        ("dashboard",): {"port": 8501, "address": "127.0.0.1"},
        ("dashboard", "--address", "0.0.0.0", "--port", "8501"): {"port": 8501, "address": "0.0.0.0"},
    }
    for argv, expected in cases.items():
        args = cli.parse_args(list(argv))
        assert args.command == argv[0]
        assert {k: getattr(args, k) for k in expected} == expected, argv


def test_the_commands_the_docs_name_exist():
    """Every `crossdock <command>` written in the Makefile, README and docs/ is a command of the parser."""
    [commands] = [a.choices for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(COMMANDS) <= set(commands)
    texts = [PROJECT_ROOT / "Makefile", PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    pattern = r"bin/crossdock (\w[\w-]*)|`crossdock (\w[\w-]*)"
    used = {name for path in texts for match in re.findall(pattern, path.read_text()) for name in match if name}
    assert used and used <= set(commands), used - set(commands)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["quarantine", "--export", "fix.csv"], "--export needs --dataset"),
        (["quarantine", "--dataset", "invoices"], "invalid choice: 'invoices'"),
        (["run", "--as-of", "30/09/2026"], "is not a date written YYYY-MM-DD"),
        (["run", "--as-of", "2026-02-30"], "is not a day of the calendar"),
        (["generate", "--as-of", "2026-09-30"], "unrecognized arguments: --as-of"),
        ([], "the following arguments are required: <command>"),
    ],
)
def test_usage_errors_say_what_is_wrong(argv, message, capsys):
    with pytest.raises(SystemExit) as done:
        cli.parse_args(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    if argv[:1] == ["quarantine"]:
        assert err.startswith("usage: crossdock quarantine")


def test_an_old_instance_config_is_kept_and_its_missing_recovery_settings_are_named(tmp_path, monkeypatch, caplog):
    from crossdock.settings import Settings

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # restored after the test; the CLI points it at the home
    fresh, old = Settings.under(tmp_path / "fresh"), Settings.under(tmp_path / "old")
    old.dagster_home.mkdir(parents=True)
    (old.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    cli_run.prepare_dagster_home(fresh)
    assert (fresh.dagster_home / "dagster.yaml").read_text() == (PROJECT_ROOT / ".dagster_home" / "dagster.yaml").read_text()
    assert "run_monitoring" not in caplog.text
    cli_run.prepare_dagster_home(old)
    assert (old.dagster_home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    assert "concurrency.runs (one planning run at a time" in caplog.text and "run_monitoring (the recovery" in caplog.text
    caplog.clear()  # an instance config of the release before the planning-run limit: only that section is named
    template = yaml.safe_load((PROJECT_ROOT / ".dagster_home" / "dagster.yaml").read_text())
    del template["concurrency"]["runs"]
    (old.dagster_home / "dagster.yaml").write_text(yaml.safe_dump(template))
    cli_run.prepare_dagster_home(old)
    assert "in concurrency.runs (one planning run at a time" in caplog.text
    assert "concurrency.pools" not in caplog.text and "run_monitoring" not in caplog.text


def test_a_run_prints_one_line_per_step_and_where_its_full_log_is(tmp_path, monkeypatch, capsys):
    """`crossdock run`'s own code on a two-step stand-in for daily_planning: the console has the header, a line
    per step, the failure in plain words and the log's path; every Dagster event is in the log, not on screen."""
    import types

    import dagster as dg

    from crossdock.settings import Settings

    @dg.asset
    def raw_orders() -> None:
        pass

    @dg.asset(deps=[raw_orders])
    def demand() -> None:
        raise ValueError("no order has a day")

    def build_definitions(settings):
        return dg.Definitions(assets=[raw_orders, demand], jobs=[dg.define_asset_job("daily_planning")])

    monkeypatch.setitem(sys.modules, "orchestration.definitions", types.SimpleNamespace(build_definitions=build_definitions))
    monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(dg.DagsterInstance.ephemeral))
    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)

    assert cli_run.run_planning_job(settings) is False
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("running the daily_planning job on 0 landed files")
    [log_path] = (settings.exports / "logs").glob("run-*.log")
    assert lines[1].endswith(f": {log_path}") and lines[-1] == f"full log: {log_path}"
    assert re.fullmatch(r"✓ raw_orders +\d+\.\d s", lines[2]), lines
    assert re.fullmatch(r"✗ demand +\d+\.\d s  FAILED: ValueError: no order has a day", lines[3]), lines
    assert len(lines) == 7, lines  # + the audit row of the failed run and the run's outcome
    assert "DEBUG" not in out and "STEP_START" in log_path.read_text()
    assert "STEP FAILED: demand" in err and "no order has a day" in err


def test_a_run_with_nothing_new_since_the_published_plan_stops_in_seconds_and_force_runs_it(tmp_path, monkeypatch, capsys):
    """The second `crossdock run` over the same files, config and code finds its plan published and does not
    build the definitions at all; --force runs the job again."""
    import types

    import dagster as dg

    from crossdock.settings import Settings
    try:  # tests/ is on sys.path under pytest; a site-packages `tests` (mlforecast ships one) must not shadow it
        from test_orchestration_automation import persistent_instance, publish_plan_of
    except ImportError:
        from tests.test_orchestration_automation import persistent_instance, publish_plan_of

    built = []

    @dg.asset
    def plan() -> None:
        pass

    def build_definitions(settings):
        built.append(settings)
        return dg.Definitions(assets=[plan], jobs=[dg.define_asset_job("daily_planning")])

    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    (settings.landing / "orders").mkdir(parents=True)
    (settings.landing / "orders" / "orders_2026-03-02.csv").write_text("x\n")
    instance = persistent_instance(tmp_path)
    monkeypatch.setitem(sys.modules, "orchestration.definitions", types.SimpleNamespace(build_definitions=build_definitions))
    monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(lambda: instance))

    assert cli_run.run_planning_job(settings) is True
    [run] = instance.get_runs()
    publish_plan_of(run.run_id, settings.warehouse, run.tags["crossdock/inputs"])  # as the job's publish step would
    capsys.readouterr()

    assert cli_run.run_planning_job(settings) is True
    assert len(built) == 1 and len(instance.get_runs()) == 1
    assert f"nothing new: the published plan is from run {run.run_id}" in capsys.readouterr().out

    assert cli_run.run_planning_job(settings, force=True) is True
    assert len(built) == 2 and len(instance.get_runs()) == 2

    # a tariff loaded since the published plan (`crossdock tariff load`): the next run is not "nothing new" (it was,
    # and the loaded rates waited for --force, a planner's test found)
    import duckdb

    from compliance.tariffs.store import TABLE, table_ddl

    [latest] = [r for r in instance.get_runs() if r.run_id != run.run_id]
    publish_plan_of(latest.run_id, settings.warehouse, latest.tags["crossdock/inputs"])
    assert cli_run.run_planning_job(settings) is True and len(instance.get_runs()) == 2  # nothing new again
    with duckdb.connect(str(settings.warehouse)) as conn:
        conn.execute("create schema if not exists reference")
        conn.execute(table_ddl())
        conn.execute(f"insert into {TABLE} (destination, hs_heading, loaded_at) values "
                     "('GB', '6912', now()::timestamptz at time zone 'UTC' + interval 1 second)")
    assert cli_run.run_planning_job(settings) is True
    assert len(built) == 3 and len(instance.get_runs()) == 3


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_demo_and_run_make_the_plan_on_the_engine_set(tmp_path, monkeypatch, engine):
    """`crossdock demo` and `crossdock run` take the same way on Spark: inside the catalogue served for the run
    (cli.spark.run_job_on_spark, which prints the summary before the service stops), --last-cycle included."""
    from crossdock.settings import Settings, settings_variables

    settings = Settings.under(tmp_path)
    for name, value in {**settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
                        "CROSSDOCK_WAREHOUSE_ENGINE": engine}.items():
        monkeypatch.setenv(name, value)
    (settings.landing / "orders").mkdir(parents=True)
    (settings.landing / "orders" / "orders_2026-03-02.csv").write_text("x\n")  # landed: the demo generates nothing
    calls: list[tuple] = []
    monkeypatch.setattr(cli, "make_the_plan", lambda _settings, *plan: calls.append(("here", *plan)) or True)
    monkeypatch.setattr("cli.spark.run_job_on_spark", lambda _settings, *plan: calls.append(("spark", *plan)) or 0)
    monkeypatch.setattr(cli, "print_summary", lambda _settings: calls.append(("summary",)))
    assert cli.main(["demo", "--last-cycle"]) == 0
    assert cli.main(["run", "--as-of", "2026-09-30", "--force"]) == 0
    demo, run = (None, False, True), ("2026-09-30", True, False)
    if engine == "spark":
        assert calls == [("spark", *demo), ("spark", *run)]
    else:
        assert calls == [("here", *demo), ("summary",), ("here", *run), ("summary",)]


def test_a_command_leaves_its_heap_frozen_for_the_exit_and_a_caller_in_the_same_process_untouched(tmp_path):
    """The interpreter's exit would walk every object the command left (2 s after a run of the job)."""
    from crossdock.settings import Settings, settings_variables

    probe = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))  # runs after main's (LIFO)\n"
        "from cli.main import main\n"
        "main(['summary']); main(['summary'])\n"
        "print('frozen after main:', gc.get_freeze_count() > 0)\n"
    )
    env = {**os.environ, **settings_variables(Settings.under(tmp_path)), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=120).stdout
    assert "frozen after main: False\n" in out and out.endswith("frozen at exit: True\n"), out


def test_failed_gates_stop_the_run_and_a_failed_check_with_advice_is_said_beside_them():
    """A gate (ERROR) fails the run; a check the plan went on past (WARN: a forecast from a baseline because the model
    lost its backtest) is printed with its advice, and does not; a warning without advice is left to the log."""
    import dagster as dg

    def evaluation(name: str, passed: bool, severity: dg.AssetCheckSeverity, **metadata: str) -> dg.AssetCheckEvaluation:
        return dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["publish", "forecast_accuracy"]), check_name=name, passed=passed, severity=severity,
            description=f"{name} said", metadata={k: dg.MetadataValue.text(v) for k, v in metadata.items()},
        )

    gate = evaluation("a_gate", False, dg.AssetCheckSeverity.ERROR)
    lost = evaluation("model_beats_the_baselines", False, dg.AssetCheckSeverity.WARN, what_to_do="This run's forecast is X.")
    quiet = evaluation("a_warning", False, dg.AssetCheckSeverity.WARN)
    passed = evaluation("fine", True, dg.AssetCheckSeverity.ERROR, what_to_do="never said")
    failed, said = cli_run.failed_checks_said([gate, lost, quiet, passed])
    assert failed == [gate]
    assert said == [
        "\nQUALITY GATE FAILED: publish/forecast_accuracy / a_gate", "  a_gate said",
        "\nCHECK FAILED (it stops nothing; what the plan did instead is below): publish/forecast_accuracy / "
        "model_beats_the_baselines",
        "  model_beats_the_baselines said", "  what to do: This run's forecast is X.",
    ]


def test_a_dagster_storage_that_cannot_be_reached_is_one_line_saying_where_it_is_configured(monkeypatch):
    """A platform engineer's test: PostgreSQL down or a wrong password gave 181 lines of retries and traceback
    naming neither dagster.yaml nor the CROSSDOCK_DAGSTER_PG_* variables."""
    import sqlalchemy.exc
    from dagster_postgres.utils import DagsterPostgresException

    from cli.run import storage_unreachable

    monkeypatch.setenv("DAGSTER_HOME", "/srv/dagster")
    refused = sqlalchemy.exc.OperationalError(
        "select 1", {}, Exception('connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs it up?'))
    try:
        try:
            raise refused
        except sqlalchemy.exc.OperationalError as error:
            raise DagsterPostgresException("too many retries for DB connection") from error
    except DagsterPostgresException as error:
        said = storage_unreachable(error)
    assert said is not None and "\n" not in said
    assert 'port 1 failed: Connection refused' in said and "/srv/dagster/dagster.yaml" in said
    assert "CROSSDOCK_DAGSTER_PG_" in said
    assert storage_unreachable(ValueError("a bug of ours")) is None  # any other error keeps its traceback


def test_crossdock_run_refuses_while_a_planning_run_is_going(tmp_path, monkeypatch, capsys):
    """A review's case: the sensor's run had started, a merchant typed `crossdock run`, and the two runs' steps
    interleaved on plan_next; the daemon's queue limits the runs it starts, not one in a person's process."""
    import types

    import dagster as dg

    from crossdock.settings import Settings
    try:
        from test_orchestration_automation import persistent_instance
    except ImportError:
        from tests.test_orchestration_automation import persistent_instance

    @dg.asset
    def plan() -> None:
        pass

    job = dg.define_asset_job("daily_planning")
    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    (settings.landing / "orders").mkdir(parents=True)
    (settings.landing / "orders" / "orders_2026-03-02.csv").write_text("x\n")
    instance = persistent_instance(tmp_path)
    definitions = dg.Definitions(assets=[plan], jobs=[job])
    monkeypatch.setitem(sys.modules, "orchestration.definitions",
                        types.SimpleNamespace(build_definitions=lambda settings: definitions))
    monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(lambda: instance))
    going = instance.create_run_for_job(definitions.resolve_job_def("daily_planning"), status=dg.DagsterRunStatus.STARTED)

    assert cli_run.run_planning_job(settings) is False
    assert f"run {going.run_id} (daily_planning, STARTED) is planning now" in capsys.readouterr().err
    assert len(instance.get_runs()) == 1  # nothing started
    instance.report_run_failed(going)
    waiting = instance.create_run_for_job(definitions.resolve_job_def("daily_planning"),
                                          status=dg.DagsterRunStatus.NOT_STARTED)  # asked for, no daemon to start it
    assert cli_run.run_planning_job(settings) is False
    assert f"`dagster run delete {waiting.run_id}`" in capsys.readouterr().err
    instance.delete_run(waiting.run_id)
    assert cli_run.run_planning_job(settings) is True and len(instance.get_runs()) == 2
