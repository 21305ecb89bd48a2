"""Bring your own feed: map a merchant's export onto a feed contract.

A mapping is a YAML file (see docs/mappings.md) that says, for each contract
column, where its value comes from in the merchant's file and how to convert
it. `apply_mapping` turns the landed all-text table into a temp table whose
columns are exactly the contract's column names (text), so the contract checks
(`feeds.row_checks.checked_rows_sql`) and the load run unchanged on it.

Everything runs as one DuckDB statement. File headers and values are data:
headers are quoted with `ident`, mapping settings with `literal`, and nothing
from a file or a mapping is ever pasted into SQL as code. Mappings hold no SQL
either: every rule is one of a fixed set of operations.

This module is the entry point callers import from; the work is in modules
with one job each:

- `feeds.mapping_model`: `FeedMapping`, `ColumnRule` and the other rule types; `MappingError`.
- `feeds.mapping_load`: reading a file (strict YAML, `extends`), `load_mapping`, `shipped_mapping`,
  `shipped_mapping_for` (the shipped mapping a header is laid out for).
- `feeds.mapping_shipped`: where the shipped mappings live and their names.
- `feeds.mapping_schema`: the keys a mapping file allows, validated into a `FeedMapping`.
- `feeds.mapping_checks`: error context (file and key) and the scalar setting checks.
- `feeds.mapping_numbers`: the `number:` format and its SQL.
- `feeds.mapping_timestamps`: the `timestamp:` rule (formats, time zone) and its SQL text.
- `feeds.mapping_countries`: country spellings -> ISO alpha-2, the aliases and the lookup table.
- `feeds.mapping_conditions`: `negate_when` / `cases` conditions and their SQL.
- `feeds.mapping_sql`: the generated statement, `mapping_sql` and `apply_mapping`.
"""
from __future__ import annotations

from feeds.mapping_conditions import CONDITION_KEYS, TEST_OPS
from feeds.mapping_countries import COUNTRY_ALIASES, COUNTRY_KEYS, COUNTRY_MODES
from feeds.mapping_load import load_mapping, shipped_mapping, shipped_mapping_for
from feeds.mapping_model import (
    Case,
    ColumnRule,
    Condition,
    FeedMapping,
    FillDown,
    MappingError,
    NumberRule,
    TimestampRule,
)
from feeds.mapping_numbers import (
    DECIMAL_MARKS,
    NEGATIVE_NUMBER,
    NUMBER_KEYS,
    SIGNED_NUMBER,
    THOUSANDS_MARKS,
    number_pattern,
)
from feeds.mapping_schema import (
    CASE_KEYS,
    FILL_DOWN_KEYS,
    LETTER_CASES,
    MAPPING_FILE_NAME,
    RULE_KEYS,
    SOURCE_KEYS,
    TOP_LEVEL_KEYS,
)
from feeds.mapping_shipped import MAPPINGS_DIR, SHIPPED_NAME, shipped_mapping_names
from feeds.mapping_sql import apply_mapping, mapping_sql
from feeds.mapping_timestamps import ISO_LOCAL, OFFSET_SUFFIX, TIMESTAMP_KEYS

__all__ = [
    "CASE_KEYS",
    "CONDITION_KEYS",
    "COUNTRY_ALIASES",
    "COUNTRY_KEYS",
    "COUNTRY_MODES",
    "DECIMAL_MARKS",
    "FILL_DOWN_KEYS",
    "ISO_LOCAL",
    "LETTER_CASES",
    "MAPPINGS_DIR",
    "MAPPING_FILE_NAME",
    "NEGATIVE_NUMBER",
    "NUMBER_KEYS",
    "OFFSET_SUFFIX",
    "RULE_KEYS",
    "SHIPPED_NAME",
    "SIGNED_NUMBER",
    "SOURCE_KEYS",
    "TEST_OPS",
    "THOUSANDS_MARKS",
    "TIMESTAMP_KEYS",
    "TOP_LEVEL_KEYS",
    "Case",
    "ColumnRule",
    "Condition",
    "FeedMapping",
    "FillDown",
    "MappingError",
    "NumberRule",
    "TimestampRule",
    "apply_mapping",
    "load_mapping",
    "mapping_sql",
    "number_pattern",
    "shipped_mapping",
    "shipped_mapping_for",
    "shipped_mapping_names",
]
