"""The Spark side of the warehouse: one local session configured like dbt's `spark` target.

crossdock's tables live in one DuckDB file by default. When one machine is not
enough the same dbt project builds on Spark (`dbt build --target spark`,
docs/spark.md). A local session keeps its tables and its catalogue (Hive's
Derby metastore) under CROSSDOCK_SPARK_HOME, so a session opened here and the
one dbt-spark opens see the same databases: one process at a time (Derby
inside a JVM admits that one), or at the same time when every process asks
one metastore service (CROSSDOCK_SPARK_METASTORE_URI, crossdock/spark_metastore.py).

The session's settings are read from the `spark` output of
dbt_project/profiles.yml rather than written twice: a table written here with
other settings (another warehouse dir, another time zone) would be invisible
to dbt or read differently.

pyspark is imported when a session is made, never at import time: it is a test
and deployment dependency the DuckDB path does not need.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from crossdock.settings import DBT_PROJECT_DIR, path_from_environment

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

PROFILES = DBT_PROJECT_DIR / "profiles.yml"
SPARK_HOME_VARIABLE = "CROSSDOCK_SPARK_HOME"
ENGINE_VARIABLE = "CROSSDOCK_WAREHOUSE_ENGINE"
ENGINES = ("duckdb", "spark")
LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")
_JAVA_OPTIONS = "spark.driver.extraJavaOptions"
_ENV_VAR = re.compile(r"\{\{\s*env_var\('([A-Z_]+)',\s*'([^']*)'\)\s*\}\}")


def _render(value: str, fixed: dict[str, str]) -> str:
    """The profile's `{{ env_var('NAME', 'default') }}` placeholders, filled the way dbt fills them, but the
    variables `fixed` gives."""
    return _ENV_VAR.sub(lambda match: fixed.get(match.group(1), os.environ.get(match.group(1), match.group(2))), value)


def warehouse_engine() -> str:
    """The engine the Dagster job's tables live on: CROSSDOCK_WAREHOUSE_ENGINE, `duckdb` (default) or `spark`.

    One switch for the whole job: the Python steps' warehouse resource and the
    dbt step's target both follow it (orchestration/lib/resources.py), so a
    run never builds dbt on one engine and plans on the other (docs/spark.md).
    Read here, without Dagster, so the command line can ask it cheaply.
    """
    engine = os.environ.get(ENGINE_VARIABLE, "").strip() or "duckdb"
    if engine not in ENGINES:
        raise ValueError(f"{ENGINE_VARIABLE}={engine!r}: write one of {', '.join(ENGINES)}")
    return engine


def spark_home() -> Path:
    """Where a local session keeps its tables and catalogue: CROSSDOCK_SPARK_HOME, default warehouse/spark.

    A relative path is taken from the project root, as for the DuckDB file; the
    session and dbt's profile must both see it whole.
    """
    return path_from_environment(SPARK_HOME_VARIABLE, "warehouse/spark")


def spark_parameters(home: Path | None = None) -> dict[str, str]:
    """The session settings of dbt's `spark` target, rendered with this process's environment and the Spark
    home whole: `home`, default `spark_home()` (a relative CROSSDOCK_SPARK_HOME is taken from the project root).

    dbt-spark adds `spark.sql.ansi.enabled=false` to every session it opens (so
    a cast that fails is null, as in DuckDB); this session does the same.
    """
    output = yaml.safe_load(PROFILES.read_text())["crossdock"]["outputs"]["spark"]
    fixed = {SPARK_HOME_VARIABLE: str(home or spark_home())}
    parameters = {str(key): _render(str(value), fixed) for key, value in output.get("server_side_parameters", {}).items()}
    parameters["spark.sql.ansi.enabled"] = "false"
    return parameters


def spark_log(home: Path | None = None) -> Path:
    """The file a local session's JVM logs its warnings to: `<Spark home>/logs/spark.log` (LOG_CONFIG)."""
    return (home or spark_home()) / "logs" / "spark.log"


def with_spark_log(parameters: dict[str, str], home: Path | None = None) -> dict[str, str]:
    """`parameters` with the driver JVM told to log through LOG_CONFIG into `spark_log(home)`, after any Java
    options the profile already gives (so a log4j2 configuration of the profile's own is replaced). The paths are
    quoted: Spark splits the options on spaces, and honours double quotes."""
    options = f'-Dlog4j2.configurationFile="{LOG_CONFIG}" -Dcrossdock.spark.log="{spark_log(home)}"'
    given = parameters.get(_JAVA_OPTIONS, "").strip()
    return {**parameters, _JAVA_OPTIONS: f"{given} {options}" if given else options}


def spark_session() -> SparkSession:
    """The local session dbt's `spark` target uses (one per process: Spark hands back the running one).

    With a metastore service named, one that does not answer fails here,
    saying how to start it, rather than after Hive's client has retried.
    Spark's warnings go to `spark_log()`, not to the console between the
    steps' lines; its errors still reach the console.
    """
    from pyspark.sql import SparkSession

    from crossdock.spark_metastore import check_metastore

    os.environ[SPARK_HOME_VARIABLE] = str(spark_home())  # dbt-spark renders its profile with the same path
    parameters = spark_parameters()
    check_metastore(parameters)
    parameters = with_spark_log(parameters)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in parameters.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def quoted(name: str) -> str:
    """A Spark identifier in backticks (a column may be called `date` or `order`)."""
    return "`" + name.replace("`", "``") + "`"


def copy_tables_from_duckdb(conn: Any, session: SparkSession, tables: list[str]) -> dict[str, int]:
    """Copy DuckDB tables (`schema.table`) into Spark under the same names; returns rows per table.

    How a merchant's warehouse moves to Spark, and how the tests give the dbt
    project on Spark exactly the inputs it had on DuckDB. Each table goes
    through a Parquet file that DuckDB writes and Spark reads back in parts:
    handed over in memory (Arrow), 10 million order lines did not fit the
    driver's 2 GB heap (bench/README.md).
    """
    staging = spark_home() / "staging"
    rows = {}
    try:
        for table in tables:
            schema, name = table.split(".")
            folder = staging / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            [(rows[table],)] = conn.execute(
                f"copy (select * from {table}) to '{folder / 'part.parquet'}' (format parquet)"
            ).fetchall()
            session.sql(f"create database if not exists {quoted(schema)}")
            session.read.parquet(str(folder)).write.mode("overwrite").format("parquet").saveAsTable(
                f"{quoted(schema)}.{quoted(name)}"
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows
