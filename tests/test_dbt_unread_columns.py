"""No staging, intermediate or mart column that nothing reads (issue 15).

A column a model writes and nothing reads costs every run and tells the next
reader it matters. The rule is lenient on purpose: a column counts as read
when its name appears as a word in a .py, .sql or .md file other than its
own model's SQL: another model or macro, the product's Python, a test, a
bench script or the docs. yml files are declarations, not readers, and are
not read; nor are the feed contracts and the page made from them
(feeds/contracts.py, docs/feeds.md), which name every column a feed sends:
a raw column carried into staging and read by nothing after passed the test
on its contract's word alone. A column an upstream model names passes here too (a `select *`
carries it on, and the first model to declare it is the one that fails). A generic name (`sku`) always passes; a
column carried along and forgotten (a timestamp kept "in case", a ratio no
step uses) does not. Before this test, nine did: stg_orders' ordered_at_utc
and source_file_id, int_shipments' customs timestamps and is_cross_border,
int_sku_lead_times.late_share, int_stock_position.next_promised_date and
int_open_po_arrivals' delay and receipt count.

The columns are the ones the yml declares, which
tests/test_end_to_end.py::test_every_column_schema_in_the_ui_matches_the_table_the_run_wrote
holds equal to the tables a run builds. The published models are left out:
what a BI tool reads is not in this repository.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import yaml

from crossdock.settings import DBT_PROJECT_DIR, PROJECT_ROOT

CHECKED_LAYERS = ("staging", "intermediate", "marts")
READERS = ("bench", "cli", "compliance", "crossdock", "dashboard", "demo", "docs", "expectations", "feeds", "ml",
           "orchestration", "planning", "scripts", "sop", "tests", "warehouse",
           "dbt_project/models", "dbt_project/macros", "dbt_project/tests")
READER_SUFFIXES = {".py", ".sql", ".md"}
DECLARATIONS = ("feeds/contracts.py", "docs/feeds.md")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def declared_columns(models_dir: Path, layers: tuple[str, ...]) -> dict[str, list[str]]:
    """Each model of `layers` (its folder under `models_dir`) and the columns its yml declares."""
    columns: dict[str, list[str]] = {}
    for layer in layers:
        for path in sorted((models_dir / layer).glob("*.yml")):
            for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
                columns[model["name"]] = [column["name"] for column in model.get("columns") or []]
    return columns


def files_naming(paths: list[Path]) -> dict[str, set[Path]]:
    """Each word and the files it appears in."""
    where: dict[str, set[Path]] = defaultdict(set)
    for path in paths:
        for word in set(WORD.findall(path.read_text(errors="replace"))):
            where[word].add(path)
    return where


def unread_columns(columns: dict[str, list[str]], own_sql: dict[str, Path], readers: list[Path]) -> list[str]:
    """`model.column` of every declared column whose name no reader but the model's own SQL has."""
    where = files_naming(readers)
    return [f"{model}.{column}" for model, names in columns.items() for column in names
            if not where.get(column, set()) - {own_sql.get(model)}]


def _readers() -> list[Path]:
    this = Path(__file__).resolve()
    return sorted(
        path for folder in READERS if (PROJECT_ROOT / folder).is_dir()
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in READER_SUFFIXES and path.is_file() and path.resolve() != this
        and "__pycache__" not in path.parts and "target" not in path.parts
        and path.relative_to(PROJECT_ROOT).as_posix() not in DECLARATIONS
    ) + [PROJECT_ROOT / "README.md"]


def test_every_staging_intermediate_and_mart_column_is_read_somewhere():
    models_dir = DBT_PROJECT_DIR / "models"
    columns = declared_columns(models_dir, CHECKED_LAYERS)
    assert {"stg_orders", "int_shipments", "fct_daily_demand"} <= set(columns)
    own_sql = {path.stem: path for path in models_dir.rglob("*.sql")}
    assert unread_columns(columns, own_sql, _readers()) == [], (
        "drop the column from the model and its yml, or read it where it is needed")


def test_a_column_named_only_in_its_own_model_is_unread_and_one_named_elsewhere_is_read(tmp_path):
    model = tmp_path / "int_thing.sql"
    model.write_text("select sku, kept_for_later, shipped_at from x")
    reader = tmp_path / "plan.py"
    reader.write_text("frame['shipped_at'] + 1  # sku_count is another word\n")
    columns = {"int_thing": ["sku", "kept_for_later", "shipped_at"]}
    assert unread_columns(columns, {"int_thing": model}, [model, reader]) == ["int_thing.sku", "int_thing.kept_for_later"]
