"""`crossdock spark-build`: the dbt project built on Spark from the DuckDB warehouse's sources.

The models and seeds are the same files as on DuckDB (the few SQL spellings
the engines do not share are dispatch macros in dbt_project/macros/); only the
target differs. `crossdock spark-build` copies the sources the models read
(raw.*, config.*, reference.fx_rates) from the DuckDB warehouse, which is how
a merchant moves its history over, or compares dbt alone on both engines
(bench/engines.py); the Dagster job on Spark ingests them on Spark itself.

dbt runs in this process (dbtRunner) so it shares the JVM of the session that
copied the sources: a local session's Derby catalogue admits one JVM at a time.
The published models are built into schema publish directly (var plan_schema),
or into plan_next, where a run of the job stages them, when the Python steps
follow on Spark and publish the whole plan (docs/spark.md).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossdock.settings import DBT_PROJECT_DIR, Settings
from crossdock.spark import copy_tables_from_duckdb, spark_home, spark_session
from crossdock.warehouse import connect, table_exists

# tables a model reads only when they exist (dbt macro optional_relation), copied when the warehouse has them:
# the tariff files a merchant loaded with `crossdock tariff load` (compliance/tariffs/store.py)
OPTIONAL_SOURCES = ("reference.tariff_file_rates",)

log = logging.getLogger("crossdock.spark")


@dataclass
class SparkBuild:
    """What a build on Spark did: the sources copied and each dbt node's status."""

    sources: dict[str, int] = field(default_factory=dict)  # schema.table -> rows copied
    statuses: dict[str, str] = field(default_factory=dict)  # dbt unique_id -> success / pass / error / fail / skipped
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall seconds

    @property
    def ok(self) -> bool:
        return bool(self.statuses) and not self.failed()

    def failed(self) -> list[str]:
        return sorted(node for node, status in self.statuses.items() if status not in ("success", "pass"))


def dbt_target_path() -> Path:
    """The Spark build's own dbt target folder, beside its tables: the DuckDB manifest names the published
    models plan_next.*, this one publish.*."""
    return spark_home() / "dbt_target"


def dbt_arguments(command: str, plan_schema: str = "publish") -> list[str]:
    """A dbt command on the Spark target, with publish models built into `plan_schema`."""
    return [
        command, "--target", "spark",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(dbt_target_path()), "--vars", f"{{plan_schema: {plan_schema}}}",
    ]


def model_sources(manifest: dict[str, Any]) -> list[str]:
    """The `schema.table` of every source a model reads, from a manifest.json.

    Not every declared source: the published tables Dagster writes are declared
    too, for lineage, and no model reads them.
    """
    used = {dependency for node in manifest["nodes"].values() if node["resource_type"] == "model"
            for dependency in node["depends_on"]["nodes"] if dependency.startswith("source.")}
    return sorted(f"{manifest['sources'][source]['schema']}.{manifest['sources'][source]['name']}" for source in used)


def _invoke(runner: Any, arguments: list[str]) -> Any:
    result = runner.invoke(arguments)
    if result.exception is not None:
        raise RuntimeError(f"dbt {arguments[0]} on Spark failed to run: {result.exception}") from result.exception
    return result.result


def build_on_spark(settings: Settings, plan_schema: str = "publish") -> SparkBuild:
    """Copy the models' sources from the DuckDB warehouse into Spark, then `dbt build` there (seeds, models, tests)."""
    from dbt.cli.main import dbtRunner

    build = SparkBuild()
    started = time.perf_counter()
    session = spark_session()
    session.sparkContext.setLogLevel("ERROR")
    build.seconds["session"] = time.perf_counter() - started

    runner = dbtRunner()
    started = time.perf_counter()
    _invoke(runner, dbt_arguments("parse", plan_schema))
    tables = model_sources(json.loads((dbt_target_path() / "manifest.json").read_text()))
    with connect(str(settings.warehouse), read_only=True) as conn:
        tables += [table for table in OPTIONAL_SOURCES if table_exists(conn, table)]
        log.info("copying %d source tables from %s into Spark", len(tables), settings.warehouse)
        build.sources = copy_tables_from_duckdb(conn, session, tables)
    build.seconds["copy sources"] = time.perf_counter() - started

    started = time.perf_counter()
    results = _invoke(runner, dbt_arguments("build", plan_schema))
    build.statuses = {result.node.unique_id: str(result.status) for result in results.results}
    build.seconds["dbt build"] = time.perf_counter() - started
    return build
