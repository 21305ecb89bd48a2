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


def _path(var: str, default: str) -> Path:
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
    pii_salt: str = "crossdock-demo-salt"

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
        warehouse=_path("CROSSDOCK_WAREHOUSE", "warehouse/crossdock.duckdb"),
        landing=_path("CROSSDOCK_LANDING", "landing"),
        exports=_path("CROSSDOCK_EXPORTS", "exports"),
        models=_path("CROSSDOCK_MODELS", "models"),
        dagster_home=_path("DAGSTER_HOME", ".dagster_home"),
        config=_path("CROSSDOCK_CONFIG", "crossdock.yaml"),
        reporting_currency=os.environ.get("CROSSDOCK_REPORTING_CURRENCY", "EUR"),
        pii_salt=os.environ.get("CROSSDOCK_PII_SALT", "crossdock-demo-salt"),
    )


def export_to_environment(settings: Settings) -> None:
    """Publish the resolved paths to os.environ for the tools we spawn.

    dbt runs as a subprocess and reads CROSSDOCK_WAREHOUSE from its profile;
    it must see the same absolute path the Python assets use.
    """
    os.environ["CROSSDOCK_WAREHOUSE"] = str(settings.warehouse)
    os.environ["CROSSDOCK_LANDING"] = str(settings.landing)
    os.environ["CROSSDOCK_EXPORTS"] = str(settings.exports)
    os.environ["CROSSDOCK_MODELS"] = str(settings.models)
    os.environ["CROSSDOCK_CONFIG"] = str(settings.config)
    os.environ["CROSSDOCK_REPORTING_CURRENCY"] = settings.reporting_currency
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
