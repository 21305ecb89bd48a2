"""Spark's own warnings go to a file under the Spark home, not between the steps' lines (issue 15, item 5).

A local session's JVM is told at start to log through crossdock's log4j2
profile (crossdock/spark_log4j2.properties). That a run of the job on Spark
keeps its console free of Spark's warnings is checked end to end by
tests/test_dagster_job_on_spark.py; here, without a JVM, what the session is
given.
"""
from __future__ import annotations

import re
from pathlib import Path

from crossdock.spark import LOG_CONFIG, spark_log, with_spark_log


def _option(options: str, name: str) -> str:
    [value] = re.findall(rf"-D{re.escape(name)}=(\S+)", options)
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
