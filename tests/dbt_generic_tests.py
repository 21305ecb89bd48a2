"""The project's generic dbt tests (dbt_project/macros/tests/) rendered without dbt, and the yml entries they test.

A generic test's SQL is rendered from the macro files' own text as plain
Jinja (each `{% test %}` block read as a macro), with the few dbt names the
macros use (`adapter.quote`, `adapter.dispatch` to the DuckDB variant of
macros/cross_database.sql, `exceptions.raise_compiler_error`, `config`), so
the tests can run it on DuckDB and read the config (fail_calc) it sets.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from types import SimpleNamespace

import jinja2
import yaml

from crossdock.settings import DBT_PROJECT_DIR

GENERIC_TESTS = DBT_PROJECT_DIR / "macros" / "tests"
CROSS_DATABASE = DBT_PROJECT_DIR / "macros" / "cross_database.sql"  # the DuckDB spelling of what Spark spells otherwise


class CompilerError(Exception):
    """What dbt's exceptions.raise_compiler_error raises in a render here."""


def _raise_compiler_error(message: str):
    raise CompilerError(message)


def render_generic_test(files: Sequence[str], test: str, model: str, **arguments) -> tuple[str, dict]:
    """The SQL of generic `test` (defined in `files` of macros/tests/) on `model`, and the config it sets."""
    source = "\n".join([*((GENERIC_TESTS / name).read_text() for name in files), CROSS_DATABASE.read_text()])
    source = re.sub(r"{%\s*test\b", "{% macro", source).replace("{% endtest %}", "{% endmacro %}")
    config: dict = {}
    rendered: list = []  # the module, once made: adapter.dispatch picks DuckDB's default__ variant from it
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = environment.from_string(
        source,
        globals={
            "adapter": SimpleNamespace(
                quote=lambda name: f'"{name}"',
                dispatch=lambda name, package: getattr(rendered[0], f"default__{name}"),
            ),
            "exceptions": SimpleNamespace(raise_compiler_error=_raise_compiler_error),
            "config": lambda **kwargs: config.update(kwargs) or "",
            "return": lambda value: value,
        },
    ).module
    rendered.append(module)
    return str(getattr(module, test)(model=model, **arguments)), config


def declared() -> list[tuple[str, str, dict]]:
    """(yml, name, entry) of every model, seed and source table of the dbt project."""
    entries = []
    for path in sorted([*DBT_PROJECT_DIR.glob("models/**/*.yml"), *DBT_PROJECT_DIR.glob("seeds/*.yml")]):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind in ("models", "seeds"):
            entries += [(path.name, entry["name"], entry) for entry in document.get(kind) or []]
        for source in document.get("sources") or []:
            entries += [(path.name, f"{source['name']}.{t['name']}", t) for t in source.get("tables") or []]
    return entries
