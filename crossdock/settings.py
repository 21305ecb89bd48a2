"""Where crossdock keeps its files.

Every path comes from an environment variable with a working local default, so
the demo, the Dagster UI, dbt and the tests (which point everything at a temp
folder) run the same code. Relative defaults are resolved against the project
root, not the current directory, so `dagster dev` and `make demo` agree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

PII_SALT_VARIABLE = "CROSSDOCK_PII_SALT"
# Public (it is in this file), so pseudonyms keyed with it are as good as plain ids: demo data only.
DEMO_PII_SALT = "crossdock-demo-salt"
# A key shorter than this can be guessed by trying keys against a few known customer ids.
MIN_PII_SALT_LENGTH = 16
# The shipped demo merchants' configs: with one of these, the demo salt is expected, not a mistake.
DEMO_CONFIGS = (PROJECT_ROOT / "demo" / "crossdock.yaml", PROJECT_ROOT / "demo" / "messy" / "crossdock.yaml")
# Under Settings.models: the models of runs over some of the markets, a folder per set of markets, so such runs do
# not take the all-markets model (or each other's) for theirs; ml.registry.latest_model passes over it.
MARKET_MODELS_FOLDER = "by_market"


def path_from_environment(var: str, default: str) -> Path:
    """The path in environment variable `var` (or `default`); a relative one is taken from the project root."""
    value = os.environ.get(var) or default
    path = Path(value)
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


@dataclass(frozen=True)
class Settings:
    warehouse: Path  # the DuckDB file (CROSSDOCK_WAREHOUSE)
    landing: Path  # folder the feeds land in (CROSSDOCK_LANDING)
    exports: Path  # Parquet/PNG outputs for BI tools (CROSSDOCK_EXPORTS)
    models: Path  # saved forecast models, one folder per model version (CROSSDOCK_MODELS)
    dagster_home: Path  # Dagster instance storage (DAGSTER_HOME)
    config: Path = PROJECT_ROOT / "crossdock.yaml"  # the merchant's network (CROSSDOCK_CONFIG)
    reporting_currency: str = "EUR"
    # How a backfill of several market partitions of the forecast runs (CROSSDOCK_FORECAST_RUNS):
    # "pooled", one run and one model for them all; "per_market", a run and a model each (a pod each on a
    # cluster; docs/spark.md says what they share). The daily job covers every market in one run either way.
    forecast_runs: str = "pooled"

    @property
    def pii_salt(self) -> str:
        """The pseudonym key, read from the environment each time and never stored in the settings.

        Settings are passed around, printed and turned into Dagster resources; a
        secret kept in them would end up in run config and the UI (issue 14).
        """
        return pii_salt()

    @classmethod
    def under(cls, root: Path) -> Settings:
        """Every path inside `root`, laid out like the project's defaults: a self-contained install."""
        return cls(
            warehouse=root / "warehouse" / "crossdock.duckdb",
            landing=root / "landing",
            exports=root / "exports",
            models=root / "models",
            dagster_home=root / "dagster_home",
            config=root / "crossdock.yaml",
        )


def load_settings() -> Settings:
    """Read the settings from the environment (call again after changing it)."""
    return Settings(
        warehouse=path_from_environment("CROSSDOCK_WAREHOUSE", "warehouse/crossdock.duckdb"),
        landing=path_from_environment("CROSSDOCK_LANDING", "landing"),
        exports=path_from_environment("CROSSDOCK_EXPORTS", "exports"),
        models=path_from_environment("CROSSDOCK_MODELS", "models"),
        dagster_home=path_from_environment("DAGSTER_HOME", ".dagster_home"),
        config=path_from_environment("CROSSDOCK_CONFIG", "crossdock.yaml"),
        reporting_currency=os.environ.get("CROSSDOCK_REPORTING_CURRENCY", "EUR"),
        forecast_runs=os.environ.get("CROSSDOCK_FORECAST_RUNS", "pooled"),
    )


def pii_salt() -> str:
    """The key of the customer pseudonyms: CROSSDOCK_PII_SALT, or the demo's when it is unset.

    Read at the moment of use, from the environment only, so it never enters
    Dagster run config, the UI, event logs or the warehouse.
    """
    return os.environ.get(PII_SALT_VARIABLE) or DEMO_PII_SALT


def is_demo_config(config: Path) -> bool:
    """True when `config` is, byte for byte, one of the shipped demo merchants' crossdock.yaml."""
    try:
        sent = Path(config).read_bytes()
    except OSError:
        return False
    return any(demo.is_file() and demo.read_bytes() == sent for demo in DEMO_CONFIGS)


def pii_salt_warning(config: Path) -> str | None:
    """Why the pseudonyms of a real merchant are not safe with the current key, or None.

    The demo salt is public and a short one is guessable: anyone with the
    warehouse could then re-key candidate customer ids and read the pseudonyms
    back. The shipped demo merchants may use the demo salt (their customers are
    invented); any other merchant gets this warning on every run and summary.
    Refusing instead would stop `crossdock init` and a first `crossdock run`
    before the merchant has seen anything, so the run goes on and says so.
    """
    salt = pii_salt()
    if salt == DEMO_PII_SALT:
        if is_demo_config(config):
            return None
        return (
            f"customer ids are pseudonymised with the public demo salt: anyone with the warehouse can re-identify "
            f"them. Set {PII_SALT_VARIABLE} to a long random secret (e.g. `python -c \"import secrets; "
            f"print(secrets.token_hex(32))\"`) in the environment of every crossdock and dagster command; rows "
            f"loaded before keep their old pseudonyms (docs/feeds.md#customer-pseudonyms)"
        )
    if len(salt) < MIN_PII_SALT_LENGTH:
        return (
            f"{PII_SALT_VARIABLE} is shorter than {MIN_PII_SALT_LENGTH} characters: a key that short can be guessed "
            f"from a few known customer ids; use a long random secret (docs/feeds.md#customer-pseudonyms)"
        )
    return None


PATH_VARIABLES: tuple[str, ...] = (
    "CROSSDOCK_WAREHOUSE", "CROSSDOCK_LANDING", "CROSSDOCK_EXPORTS", "CROSSDOCK_MODELS", "CROSSDOCK_CONFIG",
)
"""The variables that place a merchant's files (settings_variables' paths, in its order): what a test or a bench
clears so that a run reads its own folders, not the shell's."""


def settings_variables(settings: Settings) -> dict[str, str]:
    """The environment variables that give a process started by this one the same settings (DAGSTER_HOME aside)."""
    paths = (settings.warehouse, settings.landing, settings.exports, settings.models, settings.config)
    return {**{name: str(path) for name, path in zip(PATH_VARIABLES, paths, strict=True)},
            "CROSSDOCK_REPORTING_CURRENCY": settings.reporting_currency}


def export_to_environment(settings: Settings) -> None:
    """Publish the resolved paths to os.environ for the tools we spawn.

    dbt runs as a subprocess and reads CROSSDOCK_WAREHOUSE from its profile;
    it must see the same absolute path the Python assets use.
    """
    os.environ.update(settings_variables(settings))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
