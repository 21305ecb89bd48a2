"""`crossdock exceptions` on a hand-made published plan: counts per type, the open list, filters, --all."""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

import cli.main as cli
from cli.exceptions import print_exceptions
from crossdock.publish import stage_table
from crossdock.settings import Settings
from sop.exception_status import EXCEPTION_COLUMNS


def exception(exception_id: str, status: str = "open", owner: str = "supply planner", raised: bool = True,
              value: float = np.nan, fix: str | None = None) -> dict:
    kind = exception_id.split(":")[0]
    closed = status in ("resolved", "dismissed")
    return {
        "exception_id": exception_id, "type": kind, "sku": exception_id.split(":")[1], "market": None, "node": "DE-FRA",
        "subject": "s", "problem": f"problem of {exception_id}", "units_affected": 1.0, "value_eur": value,
        "measure": np.nan, "fix": fix, "fix_cost_eur": 9.0 if fix else np.nan, "default_owner": "supply planner",
        "owner": owner, "status": status, "raised": raised, "is_open": raised and not closed,
        "first_raised_date": pd.Timestamp("2026-10-20"), "last_seen_date": pd.Timestamp("2026-10-30"),
        "last_update_at": pd.NaT, "last_updated_by": None, "last_note": "booked air" if status != "open" else None,
        "updates": 1 if status != "open" else 0, "history": None, "as_of": pd.Timestamp("2026-10-30"),
    }


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    frame = pd.DataFrame([
        exception("expedite:A:DE-FRA", value=24.0, fix="reroute from GB-BHX (12): 12 units"),
        exception("expedite:B:DE-FRA", status="resolved", owner="ben"),
        exception("excess:C:US-EWR", value=1200.0, owner="Ops Lead"),
        exception("excess:D:US-EWR", raised=False, value=50.0),
    ], columns=list(EXCEPTION_COLUMNS))
    with duckdb.connect(str(settings.warehouse)) as conn:
        stage_table(conn, "exceptions", frame, "run-1")
        conn.execute("create schema publish")
        conn.execute("create table publish.exceptions as select * from plan_next.exceptions")
    return settings


def test_counts_come_first_then_the_open_exceptions_by_type(settings, capsys):
    assert print_exceptions(settings, None, None, None, False) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"exceptions of the plan as of {dt.date(2026, 10, 30)}: 2 open, 4 ever raised")
    counts = out[:out.index("expedite (1)")]
    assert [line.split() for line in counts.splitlines() if line.strip().startswith(("expedite ", "excess "))] == [
        ["expedite", "1", "2", "1", "2"], ["excess", "1", "1", "0", "2"]]
    assert "expedite:A:DE-FRA  [open]  owner: supply planner  since 2026-10-20  value €24.00; fix €9.00" in out
    assert "    fix: reroute from GB-BHX (12): 12 units" in out
    assert "excess:C:US-EWR" in out and "expedite:B:DE-FRA" not in out and "excess:D:US-EWR" not in out
    assert "landing/exceptions/" in out


def test_filters_and_all(settings, capsys):
    print_exceptions(settings, "excess", None, None, True)
    out = capsys.readouterr().out
    assert "excess:C:US-EWR" in out and "excess:D:US-EWR  [open, no longer raised]" in out and "expedite:A" not in out
    print_exceptions(settings, None, "ops lead", None, False)
    out = capsys.readouterr().out
    assert "excess:C:US-EWR" in out and "expedite:A" not in out
    print_exceptions(settings, None, None, "resolved", False)  # a closed status looks at every row
    out = capsys.readouterr().out
    assert "expedite:B:DE-FRA  [resolved]  owner: ben" in out and "last note: booked air" in out
    print_exceptions(settings, "forecast_bias", None, None, False)
    assert "no exception matches (open ones only; --all for every one)" in capsys.readouterr().out


def test_no_warehouse_or_no_table_says_so(tmp_path, capsys):
    settings = Settings.under(tmp_path)
    assert print_exceptions(settings, None, None, None, False) == 1
    assert "no warehouse" in capsys.readouterr().err
    settings.warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse)).close()
    assert print_exceptions(settings, None, None, None, False) == 1
    assert "no publish.exceptions" in capsys.readouterr().err


def test_the_command_parses_its_options():
    args = cli.parse_args(["exceptions", "--type", "expedite", "--owner", "ben", "--status", "acknowledged", "--all"])
    assert (args.exception_type, args.owner, args.status, args.everything) == ("expedite", "ben", "acknowledged", True)
    args = cli.parse_args(["exceptions"])
    assert (args.exception_type, args.owner, args.status, args.everything) == (None, None, None, False)
    with pytest.raises(SystemExit):
        cli.parse_args(["exceptions", "--type", "stockout"])


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    """`crossdock exceptions | head -1` printed a BrokenPipeError traceback once head had its line: the list here is
    longer than a pipe holds, so the command is still writing when its reader goes."""
    import os
    import subprocess
    import sys

    from crossdock.settings import PROJECT_ROOT, settings_variables

    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    frame = pd.DataFrame([exception(f"expedite:SKU-{n:05d}:DE-FRA", fix="x" * 80) for n in range(3000)],
                         columns=list(EXCEPTION_COLUMNS))
    with duckdb.connect(str(settings.warehouse)) as conn:
        stage_table(conn, "exceptions", frame, "run-1")
        conn.execute("create schema publish")
        conn.execute("create table publish.exceptions as select * from plan_next.exceptions")
    env = {**os.environ, **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
           "PYTHONPATH": str(PROJECT_ROOT)}
    command = subprocess.Popen([sys.executable, "-m", "cli", "exceptions"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, cwd=PROJECT_ROOT)
    first = command.stdout.readline()
    command.stdout.close()  # head -1 exits
    err = command.stderr.read().decode()
    assert command.wait(timeout=60) in (0, 141) and first.startswith(b"exceptions of the plan")
    assert "Traceback" not in err and "BrokenPipe" not in err, err[-2000:]
