"""Spark's own warnings go to a file under the Spark home, not between the steps' lines (issue 15, item 5).

A local session's JVM is told at start to log through crossdock's log4j2
profile (crossdock/spark_log4j2.properties). That a run of the job on Spark
keeps its console free of Spark's warnings is checked end to end by
tests/test_dagster_job_on_spark.py; here, what the session is given, and one
session started in a process of its own under a Spark home whose path has a
space.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crossdock.settings import PROJECT_ROOT
from crossdock.spark import LOG_CONFIG, spark_log, with_spark_log

try:
    from spark_support import java_or_skip
except ImportError:  # tests/ imported as a package
    from tests.spark_support import java_or_skip

SPARK_LOG_LINE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (WARN|INFO) ", re.MULTILINE)


def _option(options: str, name: str) -> str:
    [value] = re.findall(rf'-D{re.escape(name)}="([^"]+)"', options)
    return value


def test_the_session_logs_through_the_shipped_profile_into_its_spark_homes_log(tmp_path):
    options = with_spark_log({"spark.sql.session.timeZone": "UTC"}, tmp_path)["spark.driver.extraJavaOptions"]
    assert Path(_option(options, "log4j2.configurationFile")) == LOG_CONFIG and LOG_CONFIG.is_file()
    assert Path(_option(options, "crossdock.spark.log")) == spark_log(tmp_path) == tmp_path / "logs" / "spark.log"


def test_java_options_the_profile_gives_are_kept_before_the_logs():
    parameters = {"spark.driver.extraJavaOptions": " -XX:+UseG1GC ", "spark.driver.memory": "2g"}
    given = with_spark_log(parameters, Path("/spark"))
    assert given["spark.driver.extraJavaOptions"].startswith("-XX:+UseG1GC -Dlog4j2.configurationFile=")
    assert given["spark.driver.memory"] == "2g" and parameters["spark.driver.extraJavaOptions"] == " -XX:+UseG1GC "


def test_the_profile_sends_only_errors_to_the_console_and_warnings_to_the_file_it_is_given():
    settings = dict(line.split(" = ", 1) for line in LOG_CONFIG.read_text().splitlines() if " = " in line and not line.startswith("#"))
    assert settings["rootLogger.level"] == "warn"
    assert settings["appender.console.filter.threshold.level"] == "error"
    assert settings["appender.file.fileName"] == "${sys:crossdock.spark.log}"
    assert {settings["rootLogger.appenderRef.file.ref"], settings["rootLogger.appenderRef.console.ref"]} == {"file", "console"}


@pytest.mark.spark
@pytest.mark.slow
def test_a_session_under_a_home_with_a_space_writes_its_warnings_to_its_log_and_none_to_stderr(tmp_path):
    """Spark warns at every start on this kind of machine (no native Hadoop library): into logs/spark.log."""
    java_or_skip()
    pytest.importorskip("pyspark")
    home = tmp_path / "spark home"
    environment = {**os.environ, "CROSSDOCK_SPARK_HOME": str(home)}
    environment.pop("CROSSDOCK_SPARK_METASTORE_URI", None)
    started = subprocess.run(
        [sys.executable, "-c", "from crossdock.spark import spark_session; s = spark_session(); "
         "print(s.sql('select 41 + 1').collect()[0][0]); s.stop()"],
        env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert started.returncode == 0, started.stderr[-3000:]
    assert started.stdout.strip().endswith("42")
    assert not SPARK_LOG_LINE.findall(started.stdout + started.stderr), started.stderr[-3000:]
    log = spark_log(home)
    assert log.is_file() and SPARK_LOG_LINE.search(log.read_text())
