"""The resources every asset shares: the warehouse, the landing folder and dbt.

DuckDB allows one writer per file, so every asset that writes the warehouse
also declares `pool=WAREHOUSE_POOL`; with a pool limit of 1 in the instance
config, parallel runs queue instead of failing on the file lock.
"""

import os
import subprocess
import sys
from functools import cache, cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock
from packaging.version import Version

from crossdock.dbt_cli import dbt_executable
from crossdock.merchant_config import MerchantConfig, load_config
from crossdock.merchant_limits import Plausibility
from crossdock.merchant_settings import ComplianceSettings, ExceptionSettings, ForecastSettings
from crossdock.settings import DBT_PROJECT_DIR, Settings, export_to_environment, pii_salt
from crossdock.spark import warehouse_engine
from orchestration.lib.retries import WarehouseResource

WAREHOUSE_POOL = "duckdb"
# the dbt profile's output each warehouse engine builds on; None: the profile's default target (`local`, DuckDB)
DBT_TARGETS: dict[str, str | None] = {"duckdb": None, "spark": "spark"}


def manifest_is_stale(project: DbtProject) -> bool:
    """True when manifest.json is missing or older than any file of the dbt project.

    Dagster builds the asset graph from the manifest while dbt builds from the
    files: if they disagree, a new test or model is unknown to Dagster and the
    run fails. Parsing takes seconds, so it is done whenever a file changed.
    """
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    return _newest_source_mtime(Path(project.project_dir)) > manifest.stat().st_mtime


_NOT_SOURCES = {"target", "logs", "dbt_packages"}  # what dbt writes, not what it reads


def _newest_source_mtime(project_dir: Path) -> float:
    """The newest modification time of the project's own files, not walking into what dbt writes.

    Pruned at the top rather than filtered after the walk: target/ holds a folder
    per dbt invocation, tens of thousands of files, and walking them took 7 s of
    every start of the code location.
    """
    newest = 0.0
    for folder, subfolders, files in os.walk(project_dir):
        if Path(folder) == project_dir:
            subfolders[:] = [name for name in subfolders if name not in _NOT_SOURCES]
        for name in files:
            newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


@cache
def dbt_project() -> DbtProject:
    """The dbt project, with a manifest that matches its files (parsed here, once per process, when stale).

    Called when the definitions are built (`@dbt_assets` and the column
    schemas read the manifest), never at import: importing a module of the
    wiring must not spawn dbt, so that tests and tools can import it cheaply.
    """
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    parse_if_stale(project)
    return project


MANIFEST_LOCK = ".manifest.lock"  # in target/, beside the manifest it guards


def parse_if_stale(project: DbtProject) -> bool:
    """Parse the project when its manifest is stale; True when this call parsed.

    One process at a time, under a file lock: processes that start together
    on a fresh checkout (pytest's workers, a code server beside `crossdock
    run`) each found the manifest missing and ran `dbt parse`, whose writes
    of manifest.json interleaved into a file no one could read. The one that
    waited finds the manifest fresh and parses nothing.
    """
    target = Path(project.manifest_path).parent
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(target / MANIFEST_LOCK):
        if not manifest_is_stale(project):
            return False
        directory = str(project.project_dir)
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", directory, "--profiles-dir", str(project.profiles_dir)],
            check=True,
            cwd=directory,
        )
        return True


class DbtCli(DbtCliResource):
    """DbtCliResource without the two start-up costs of its `cli()` that the dbt asset does not use.

    On every call DbtCliResource runs `dbt --version` in a subprocess (a whole
    dbt start, 3 s of CPU and up to 8 s on a loaded machine, measured) to
    learn the dbt Core version, and loads the project and profile into a dbt
    adapter in this process (as long again) for fetch_row_counts and
    fetch_column_metadata. The executable is this environment's dbt, whose
    version is the installed dbt-core package's; the dbt asset counts rows
    itself in one query (defs/dbt/assets.py), so no adapter is needed here.
    Both are private methods of dagster-dbt (0.29): test_dbt_models_step.py
    fails if an upgrade renames them.
    """

    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return Version(installed_version("dbt-core"))
        return super()._cli_version  # another dbt: ask it

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 (same signature as dagster-dbt's)
        return None


class LandingFolder(dg.ConfigurableResource):
    """Where merchants drop feed files.

    The key of the customer pseudonyms is deliberately not a field: a
    resource's fields are run config, stored with every run and shown in the
    UI (GraphQL). It is read from CROSSDOCK_PII_SALT when the ingest runs.
    """

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)

    @property
    def pii_salt(self) -> str:
        """The pseudonym key from the environment, at run time (crossdock.settings.pii_salt)."""
        return pii_salt()


class MerchantConfigFile(dg.ConfigurableResource):
    """The merchant's crossdock.yaml (markets, nodes, routes); read at run time, never at import."""

    path: str

    @property
    def file(self) -> Path:
        return Path(self.path)

    def load(self) -> MerchantConfig:
        return load_config(self.file)

    # Each section below is the file's, or its defaults while there is no file yet: the steps that read them
    # (ingest, forecast, compliance, exceptions) run before a merchant has written one.
    def plausibility(self) -> Plausibility:
        """The ingest's limits (orders, catalogue, nodes)."""
        return self.load().plausibility() if self.file.is_file() else Plausibility()

    def forecast(self) -> ForecastSettings:
        """The `forecast:` section."""
        return self.load().forecast if self.file.is_file() else ForecastSettings()

    def compliance(self) -> ComplianceSettings:
        """The `compliance:` section."""
        return self.load().compliance if self.file.is_file() else ComplianceSettings()

    def exceptions(self) -> ExceptionSettings:
        """The `exceptions:` section."""
        return self.load().exceptions if self.file.is_file() else ExceptionSettings()


class ArtifactFolders(dg.ConfigurableResource):
    """Where files beside the warehouse go: exports for BI tools (plots) and saved forecast models."""

    exports: str
    models: str


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources, on the engine CROSSDOCK_WAREHOUSE_ENGINE names (crossdock.spark.warehouse_engine)."""
    # dbt runs as a subprocess and finds the warehouse through the environment.
    export_to_environment(settings)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    engine = warehouse_engine()
    return {
        # waits out another process's lock on DuckDB; on Spark, the process's session
        "warehouse": WarehouseResource(database=str(settings.warehouse), engine=engine),
        "landing": LandingFolder(path=str(settings.landing)),
        "merchant_config": MerchantConfigFile(path=str(settings.config)),
        "artifacts": ArtifactFolders(exports=str(settings.exports), models=str(settings.models)),
        "dbt": DbtCli(project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable(),
                      target=DBT_TARGETS[engine]),
    }
