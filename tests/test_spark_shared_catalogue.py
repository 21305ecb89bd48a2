"""The metastore service's setting, checked before any JVM starts (issue 18).

Separate processes share one Spark catalogue through the metastore service
(`crossdock.spark_metastore`, `crossdock spark-serve`): that dbt-spark in
Dagster's subprocess and the job's own session work on it at once is proven
end to end by tests/test_dagster_job_on_spark.py. Here, the cheap part: a
session named at a service that does not answer, or a setting that is not a
metastore address, fails at once and says what to do; Hive's own client
would retry, then fail without naming the setting.
"""
from __future__ import annotations

import os
import shutil
import socket

import pytest

try:
    from spark_support import free_port
except ImportError:  # tests/ imported as a package
    from tests.spark_support import free_port

pytest.importorskip("pyspark")


def test_a_session_pointed_at_no_service_says_how_to_start_it(tmp_path, monkeypatch):
    from crossdock.spark import spark_session
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE

    monkeypatch.setenv("CROSSDOCK_SPARK_HOME", str(tmp_path / "spark"))
    monkeypatch.setenv(METASTORE_URI_VARIABLE, f"thrift://127.0.0.1:{free_port()}")
    with pytest.raises(RuntimeError, match=f"no Spark metastore answers .*{METASTORE_URI_VARIABLE}.*spark-serve"):
        spark_session()
    monkeypatch.setenv(METASTORE_URI_VARIABLE, "127.0.0.1:9083")
    with pytest.raises(ValueError, match="write it thrift://host:port"):
        spark_session()


def test_a_process_uses_the_service_named_as_it_is_and_refuses_one_that_does_not_answer(monkeypatch):
    """`crossdock run` on Spark: a deployment's own service is used, never replaced by one of the run's (that one
    is started only when none is named, which tests/test_dagster_job_on_spark.py runs)."""
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE, metastore_for_this_process

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        uri = f"thrift://127.0.0.1:{listening.getsockname()[1]}"
        monkeypatch.setenv(METASTORE_URI_VARIABLE, uri)
        with metastore_for_this_process("a test") as used:
            assert used == uri
        assert os.environ[METASTORE_URI_VARIABLE] == uri  # left as the deployment set it
    monkeypatch.setenv(METASTORE_URI_VARIABLE, f"thrift://127.0.0.1:{free_port()}")
    with pytest.raises(RuntimeError, match="no Spark metastore answers .*spark-serve"):
        with metastore_for_this_process("a test"):
            pass


def test_a_catalogue_another_process_has_open_is_refused_with_what_to_do(tmp_path, monkeypatch, capsys):
    """Derby's OS lock on metastore_db/dbex.lck says another JVM has the catalogue open, read without a JVM; that a
    real service holds it is checked in tests/test_dagster_job_on_spark.py."""
    import fcntl
    import multiprocessing

    from cli.spark import catalogue_held_elsewhere
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE, catalogue_in_use, derby_database, refuse_a_catalogue_in_use

    monkeypatch.setenv("CROSSDOCK_SPARK_HOME", str(tmp_path / "spark"))
    monkeypatch.delenv(METASTORE_URI_VARIABLE, raising=False)
    database = derby_database()
    assert database == tmp_path / "spark" / "metastore_db"
    assert not catalogue_in_use(database)  # never booted
    database.mkdir(parents=True)
    (database / "dbex.lck").write_bytes(b"")
    assert not catalogue_in_use(database)  # left by a JVM that has ended
    refuse_a_catalogue_in_use("crossdock summary")

    locked, release = multiprocessing.get_context("fork").Event(), multiprocessing.get_context("fork").Event()

    def hold() -> None:
        with open(database / "dbex.lck", "r+b") as lock:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked.set()
            release.wait(30)

    holder = multiprocessing.get_context("fork").Process(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        assert catalogue_in_use(database)
        with pytest.raises(RuntimeError, match=f"crossdock summary: the Spark catalogue {database} is open in another "
                                               f"process .*set {METASTORE_URI_VARIABLE}"):
            refuse_a_catalogue_in_use("crossdock summary")
        assert catalogue_held_elsewhere("tariff load --engine spark")  # the commands' way: said, not raised
        said = capsys.readouterr().out
        assert said.startswith(f"crossdock tariff load --engine spark: the Spark catalogue {database} is open"), said
        monkeypatch.setenv(METASTORE_URI_VARIABLE, "thrift://127.0.0.1:9083")
        refuse_a_catalogue_in_use("crossdock summary", unless_served=True)  # told to ask the service
        assert not catalogue_held_elsewhere("summary") and capsys.readouterr().out == ""
    finally:
        release.set()
        holder.join(30)
    assert not catalogue_in_use(database)


def test_a_service_started_for_another_spark_home_serves_that_home_whatever_the_environment_names(tmp_path, monkeypatch):
    """bench/engines.py starts a service per size over a Spark home of its own while CROSSDOCK_SPARK_HOME names
    another: the catalogue, the tables' folder and the logs all come from the home passed, without a JVM here."""
    from crossdock.spark_metastore import derby_database, metastore_command

    monkeypatch.setenv("CROSSDOCK_SPARK_HOME", str(tmp_path / "the_environments"))
    own = tmp_path / "own"
    assert derby_database(own) == own / "metastore_db"
    assert derby_database() == tmp_path / "the_environments" / "metastore_db"
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: metastore_command needs it")
    command = " ".join(metastore_command(9083, own))
    assert f"databaseName={own / 'metastore_db'};" in command
    assert f"-Dhive.metastore.warehouse.dir={own / 'tables'} " in command and f"-Dhive.log.dir={own / 'logs'} " in command
    assert "the_environments" not in command
