"""Shared run history: a shared deployment's Dagster instance keeps runs, events and pool slots in PostgreSQL.

deploy/dagster-postgres.yaml is what an operator copies to $DAGSTER_HOME: the
local config (.dagster_home/dagster.yaml) with a PostgreSQL `storage`. Here a
real crossdock job, `ingest_feeds` (the first part of what the landing sensor launches) on a
small demo merchant, runs in process as `crossdock run` runs its job, on that
config against a fresh database (tests/postgres_server.py); the run, its
events, its materializations and the pool are then read straight from
PostgreSQL and from a second DAGSTER_HOME, as another machine would. The
overlapping runs on the "duckdb" pool run on PostgreSQL too, in
tests/test_orchestration_concurrency.py.

Each check fails if the storage fell back to SQLite (a config without its
`storage`, a DAGSTER_HOME not the one configured): the instance must be
PostgreSQL's, and no SQLite file may appear in DAGSTER_HOME.
"""
from __future__ import annotations

import shutil
import time
from contextlib import closing
from pathlib import Path

import dagster as dg
import pytest
import yaml

from crossdock.settings import PATH_VARIABLES, PROJECT_ROOT, Settings
from postgres_server import PostgresDatabase, assert_dagster_storage_in, postgres_database, postgres_server  # noqa: F401

LOCAL_CONFIG = PROJECT_ROOT / ".dagster_home" / "dagster.yaml"
POSTGRES_CONFIG = PROJECT_ROOT / "deploy" / "dagster-postgres.yaml"
POOL = "duckdb"


def _dagster_home(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(POSTGRES_CONFIG, folder / "dagster.yaml")
    return folder


def test_the_deploy_config_is_the_local_one_with_a_postgres_storage():
    """One meaning for the pool and the recovery of killed runs, whichever storage (the comments are the local file's)."""
    local = yaml.safe_load(LOCAL_CONFIG.read_text())
    deployed = yaml.safe_load(POSTGRES_CONFIG.read_text())
    assert "storage" not in local
    assert set(deployed.pop("storage", None) or ()) == {"postgres"}, "deploy/dagster-postgres.yaml has no PostgreSQL `storage`"
    assert deployed == local, "deploy/dagster-postgres.yaml and .dagster_home/dagster.yaml differ beyond `storage`"


def test_an_unset_connection_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("CROSSDOCK_DAGSTER_PG_HOST", raising=False)
    with pytest.raises(Exception, match="CROSSDOCK_DAGSTER_PG_HOST"):
        dg.DagsterInstance.from_config(str(_dagster_home(tmp_path / "dagster_home")))


def _rows(database: PostgresDatabase, sql: str, *args: object) -> list[tuple]:
    with closing(database.connect()) as conn, conn.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


@pytest.mark.slow
def test_an_ingest_run_is_recorded_in_postgres_and_seen_from_another_dagster_home(tmp_path, postgres_database, monkeypatch):
    """The cheapest real run that proves a shared history: ~15-20 s, most of it importing orchestration and building
    the definitions (shared with the other tests of a worker); the run itself takes ~5 s."""
    from demo.generate import generate
    from demo.network import install_demo_config
    from orchestration.defs.automation.jobs import run_tags_for
    from orchestration.defs.automation.recovery import HOST_TAG, host_tags, recover
    from orchestration.definitions import build_definitions
    from orchestration.lib.run_inputs import all_landing_files

    settings = Settings.under(tmp_path / "crossdock")
    generate(settings.landing, scale=0.03, seed=11, days=60, quiet=True)
    install_demo_config(settings.config)
    for name in PATH_VARIABLES:  # the job must read the test's folders, not the shell's
        monkeypatch.delenv(name, raising=False)
    for name, value in postgres_database.dagster_env().items():
        monkeypatch.setenv(name, value)
    job = build_definitions(settings).resolve_job_def("ingest_feeds")

    here = _dagster_home(tmp_path / "this_machine")
    with dg.DagsterInstance.from_config(str(here)) as instance:
        assert_dagster_storage_in(postgres_database, instance, here)
        assert recover(instance) == []  # what `crossdock run` does first, on PostgreSQL's run and pool tables
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, tags={**run_tags_for(all_landing_files(settings.landing)), **host_tags()}
        )
        print(f"\ningest_feeds on PostgreSQL: {time.perf_counter() - started:.1f}s")
        assert result.success
        materialized = {event.asset_key for event in result.get_asset_materialization_events()}
        assert dg.AssetKey(["raw", "orders"]) in materialized
        events = len(instance.all_logs(result.run_id))
        assert_dagster_storage_in(postgres_database, instance, here)

    # in PostgreSQL itself: the run, its events and materializations, the pool with its one slot, free again
    assert _rows(postgres_database, "select run_id, status, pipeline_name from runs") == [
        (result.run_id, "SUCCESS", "ingest_feeds")
    ]
    assert _rows(postgres_database, "select count(*) from event_logs where run_id = %s", result.run_id) == [(events,)]
    stored = _rows(
        postgres_database,
        "select distinct asset_key from event_logs where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
        result.run_id,
    )
    assert {dg.AssetKey.from_db_string(key) for (key,) in stored} == materialized
    assert _rows(postgres_database, 'select concurrency_key, "limit" from concurrency_limits') == [(POOL, 1)]
    assert _rows(postgres_database, "select concurrency_key, run_id from concurrency_slots") == [(POOL, None)]

    # another DAGSTER_HOME on the same database (another machine, the daemon, the UI) sees the same history
    there = _dagster_home(tmp_path / "another_machine")
    with dg.DagsterInstance.from_config(str(there)) as other:
        assert_dagster_storage_in(postgres_database, other, there)
        run = other.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[HOST_TAG] == host_tags()[HOST_TAG]  # so its recovery check judges only this machine's runs
        assert len(other.all_logs(result.run_id)) == events
        for key in materialized:
            assert other.get_latest_materialization_event(key).run_id == result.run_id, key.to_user_string()
        info = other.event_log_storage.get_concurrency_info(POOL)
        assert info.slot_count == 1 and info.claimed_slots == []
