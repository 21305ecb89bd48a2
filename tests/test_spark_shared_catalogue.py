"""Separate processes work on one Spark catalogue at the same time, through the metastore service (issue 18).

Dagster's dbt step runs dbt-spark in a subprocess while crossdock's Python
steps hold their own Spark session: with the local Derby catalogue the second
JVM cannot open it. Here a service (`crossdock.spark_metastore`) serves a
throwaway catalogue, and with CROSSDOCK_SPARK_METASTORE_URI set:

- a long-lived Python process opens crossdock's session and writes the
  `nodes` model's one input (config.nodes);
- while it still holds its session, `dbt run --target spark --select nodes`
  runs in another process, reading that table and writing reference.nodes;
- the first process then reads dbt's table.

With the Derby default the dbt run fails (the catalogue is booted by the
first process), so this test fails without the service.

Spark needs Java: without it the module skips, except under CI
(CROSSDOCK_REQUIRE_SPARK=1, set by .ci/run), where a missing JVM fails.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock.dbt_cli import dbt_executable

pytestmark = [pytest.mark.slow, pytest.mark.spark]

# Process 1: crossdock's session writes the input, waits (session held) for the test's word, reads dbt's output.
HOLDER = textwrap.dedent("""
    import json, sys
    from crossdock.spark import spark_session
    session = spark_session()
    session.sql("create database if not exists config")
    session.sql("create table config.nodes using parquet as select * from values "
                "('NL-AMS', 'NL', 'Amsterdam 3PL'), ('DE-BER', 'DE', 'Berlin warehouse') "
                "as t(node_code, country, description)")
    print("written", flush=True)
    sys.stdin.readline()
    rows = session.sql("select node_code, country from reference.nodes order by node_code").collect()
    print(json.dumps([list(row) for row in rows]), flush=True)
""")


def _java_or_skip() -> None:
    if shutil.which("java") is None:
        message = "no Java on PATH: the Spark target needs Java 17 (Debian: openjdk-17-jre-headless)"
        if os.environ.get("CROSSDOCK_REQUIRE_SPARK") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _line(process: subprocess.Popen, log: Path, timeout: float) -> str:
    """The next line process 1 prints, failing with its log if it exits or stays silent."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        pytest.fail(f"the Spark process printed nothing in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
    return line.strip()


@pytest.fixture
def shared_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A metastore service over a throwaway Spark home on a free port; the environment its clients need."""
    _java_or_skip()
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE, start_metastore, stop_metastore

    home = tmp_path / "spark"
    monkeypatch.setenv("CROSSDOCK_SPARK_HOME", str(home))
    port = _free_port()
    started = time.perf_counter()
    service = start_metastore(port)
    print(f"metastore up in {time.perf_counter() - started:.1f} s")
    try:
        uri = f"thrift://127.0.0.1:{port}"
        monkeypatch.setenv(METASTORE_URI_VARIABLE, uri)
        yield {**os.environ, "CROSSDOCK_SPARK_HOME": str(home), METASTORE_URI_VARIABLE: uri,
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    finally:
        stop_metastore(service)
    assert service.returncode is not None


def test_dbt_and_a_crossdock_session_in_separate_processes_share_one_catalogue(shared_catalogue, tmp_path):
    from crossdock.spark import spark_home
    from crossdock.spark_build import dbt_arguments

    workdir = tmp_path / "work"  # where the two processes run
    workdir.mkdir()
    log = tmp_path / "holder.log"
    started = time.perf_counter()
    with open(log, "w") as err:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=err, text=True, cwd=workdir, env=shared_catalogue)
    try:
        assert _line(holder, log, 180) == "written"
        print(f"session up and table written in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        dbt = subprocess.run(
            [dbt_executable(), *dbt_arguments("run"), "--select", "nodes", "--log-path", str(tmp_path / "dbt_logs")],
            cwd=workdir, env=shared_catalogue, capture_output=True, text=True, timeout=300,
        )
        print(f"dbt run in {time.perf_counter() - started:.1f} s")
        assert dbt.returncode == 0, dbt.stdout[-4000:] + dbt.stderr[-2000:]
        assert holder.poll() is None, "process 1 let go of its session before dbt ran"

        holder.stdin.write("read\n")
        holder.stdin.flush()
        assert json.loads(_line(holder, log, 120)) == [["DE-BER", "DE"], ["NL-AMS", "NL"]]
        assert holder.wait(60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    tables = spark_home() / "tables"
    assert (tables / "config.db" / "nodes").is_dir() and (tables / "reference.db" / "nodes").is_dir()
    assert not list(workdir.iterdir()), "a process booted Derby itself (its derby.log is written where it runs)"


def test_a_session_pointed_at_no_service_says_how_to_start_it(tmp_path, monkeypatch):
    """Before any JVM starts: Hive's own client would retry, then fail without naming the setting."""
    from crossdock.spark import spark_session
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE

    monkeypatch.setenv("CROSSDOCK_SPARK_HOME", str(tmp_path / "spark"))
    monkeypatch.setenv(METASTORE_URI_VARIABLE, f"thrift://127.0.0.1:{_free_port()}")
    with pytest.raises(RuntimeError, match=f"no Spark metastore answers .*{METASTORE_URI_VARIABLE}.*spark-serve"):
        spark_session()
    monkeypatch.setenv(METASTORE_URI_VARIABLE, "127.0.0.1:9083")
    with pytest.raises(ValueError, match="write it thrift://host:port"):
        spark_session()
