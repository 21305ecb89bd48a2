"""The landing sensor asks for one run per batch of new files, with a stable key."""
from __future__ import annotations

import dagster as dg

from orchestration.automation import daily_planning_schedule, landing_files_sensor
from orchestration.resources import LandingFolder


def evaluate(landing: LandingFolder, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": landing})
    return landing_files_sensor(context), context.cursor


def test_new_files_start_one_run_and_the_same_files_do_not_start_another(tmp_path):
    landing = LandingFolder(path=str(tmp_path), pii_salt="s")
    (tmp_path / "orders").mkdir()
    result, cursor = evaluate(landing, None)
    assert isinstance(result, dg.SkipReason)

    (tmp_path / "orders" / "orders_2026-01.csv").write_text("order_id\n1\n")
    first, cursor = evaluate(landing, cursor)
    assert isinstance(first, dg.RunRequest) and first.run_key

    again, cursor = evaluate(landing, cursor)
    assert isinstance(again, dg.SkipReason)

    (tmp_path / "orders" / "orders_2026-02.csv").write_text("order_id\n2\n")
    second, _ = evaluate(landing, cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key
    assert second.tags["crossdock/new_files"] == "1"


def test_the_run_key_depends_only_on_the_files(tmp_path):
    landing = LandingFolder(path=str(tmp_path), pii_salt="s")
    (tmp_path / "carriers").mkdir()
    (tmp_path / "carriers" / "tracking_2026-01.jsonl").write_text("{}\n")
    a, _ = evaluate(landing, None)
    b, _ = evaluate(landing, None)
    assert a.run_key == b.run_key


def test_daily_schedule_targets_the_planning_job():
    assert daily_planning_schedule.cron_schedule == "0 6 * * *"
    assert daily_planning_schedule.job_name == "daily_planning"
