"""The published tables, read from the one place they are declared: dbt's yml in dbt_project/models/publish/.

Every table of schema publish is declared once there, with its name,
description, columns (name, DuckDB type, description) and key: the tables dbt
builds as models (`_publish.yml`, the key being the model's
`unique_combination_of_columns` or `unique` test), the tables Python writes as
the dbt source `publish` (`_published_by_dagster.yml`, the key under
`meta: key:` since dbt does not test sources that it builds before them).
The list of published tables, the types the Python writers cast their frames
to (crossdock.publish.stage_table) and the Dagster column schemas all come
from that declaration, so a table or column added in the yml is published,
typed and documented without a second list to keep in step.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

if TYPE_CHECKING:
    import pandas as pd

from crossdock.settings import DBT_PROJECT_DIR

PUBLISH_MODELS_DIR = DBT_PROJECT_DIR / "models" / "publish"
PUBLISH_SOURCE = "publish"  # the dbt source whose tables Python writes into schema publish


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type as information_schema.columns.data_type spells it (lower case)
    description: str


@dataclass(frozen=True)
class PublishedTable:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    built_by: Literal["dbt", "python"]

    @property
    def schema(self) -> tuple[tuple[str, str], ...]:
        """(column, type) in table order."""
        return tuple((c.name, c.type) for c in self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def empty(self) -> pd.DataFrame:
        """The table with no rows, its declared columns in order: what a run with nothing to write stages."""
        import pandas as pd  # here: reading the declarations needs no pandas

        return pd.DataFrame(columns=list(self.column_names))


def _model_key(model: dict[str, Any]) -> tuple[str, ...]:
    """The columns a dbt model's uniqueness test names: the table's key."""
    for test in model.get("data_tests") or []:
        if isinstance(test, dict) and "unique_combination_of_columns" in test:
            spec = test["unique_combination_of_columns"]
            return tuple((spec.get("arguments") or spec)["combination_of_columns"])
    for column in model.get("columns") or []:
        if "unique" in (column.get("data_tests") or []):
            return (column["name"],)
    return ()


def _columns(declared: dict[str, Any]) -> tuple[Column, ...]:
    return tuple(
        Column(c["name"], str(c.get("data_type") or "").lower(), " ".join(str(c.get("description") or "").split()))
        for c in declared.get("columns") or []
    )


def _description(declared: dict[str, Any]) -> str:
    return " ".join(str(declared.get("description") or "").split())


def read_declarations(folder: Path = PUBLISH_MODELS_DIR) -> dict[str, PublishedTable]:
    """Every publish table declared in the yml files of `folder`, models first, in file and declaration order."""
    tables: dict[str, PublishedTable] = {}
    for path in sorted(folder.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            tables[model["name"]] = PublishedTable(
                model["name"], _description(model), _columns(model), _model_key(model), "dbt"
            )
        for source in document.get("sources") or []:
            if source.get("schema", source["name"]) != PUBLISH_SOURCE:
                continue
            for table in source.get("tables") or []:
                key = tuple((table.get("meta") or {}).get("key") or ())
                tables[table["name"]] = PublishedTable(
                    table["name"], _description(table), _columns(table), key, "python"
                )
    return tables


@cache
def published_tables() -> dict[str, PublishedTable]:
    """The declared publish tables by name (read once per process)."""
    return read_declarations()


def published_table(name: str) -> PublishedTable:
    """The declaration of publish.`name`; KeyError naming the yml when there is none."""
    try:
        return published_tables()[name]
    except KeyError:
        raise KeyError(f"publish.{name} is not declared in {PUBLISH_MODELS_DIR}/*.yml") from None
