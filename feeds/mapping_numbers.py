"""Numbers in a mapping: the `number:` format (decimal mark, thousands separator) and its SQL.

A value written in the format becomes plain decimal text ("1.234,5" ->
"1234.5"); anything else stays as sent, for the contract check to show. The
sign patterns are read by `negate_when` and the `negative` test.
"""
from __future__ import annotations

import re
from typing import Any

from feeds.mapping_checks import _check_keys, _Where
from feeds.mapping_model import NumberRule
from feeds.sql import literal

NUMBER_KEYS = ("decimal", "thousands")
DECIMAL_MARKS = (".", ",")
THOUSANDS_MARKS = ("", ",", ".", " ", "'")
SIGNED_NUMBER = r"^[+-]?[0-9.]"
NEGATIVE_NUMBER = r"^-\s*[0-9.,]*[0-9]"


def _build_number(where: _Where, raw: Any) -> NumberRule:
    if not isinstance(raw, dict):
        raise where.error(f"expected a mapping with keys {', '.join(NUMBER_KEYS)}")
    _check_keys(where, raw, NUMBER_KEYS, "number rule")
    decimal = raw.get("decimal", ".")
    thousands = raw.get("thousands", "")
    if decimal not in DECIMAL_MARKS:
        raise where.at("decimal").error(f"unknown decimal mark {decimal!r}; allowed: {', '.join(repr(m) for m in DECIMAL_MARKS)}")
    if thousands is None:
        thousands = ""
    if thousands not in THOUSANDS_MARKS:
        raise where.at("thousands").error(f"unknown thousands separator {thousands!r}; allowed: {', '.join(repr(m) for m in THOUSANDS_MARKS)}")
    if thousands == decimal:
        raise where.error("decimal and thousands must differ")
    return NumberRule(decimal, thousands)


def number_pattern(number: NumberRule) -> str:
    """RE2 pattern of a number written in this format: 1234,5 or 1.234,5 (never 1.23,4)."""
    dec = re.escape(number.decimal)
    grouped = ""
    if number.thousands:
        sep = "[ \\x{00A0}\\x{202F}]" if number.thousands == " " else re.escape(number.thousands)
        grouped = f"|[0-9]{{1,3}}(?:{sep}[0-9]{{3}})+"
    return f"^[+-]?(?:[0-9]+{grouped})(?:{dec}[0-9]+)?$"


def _number_sql(number: NumberRule, v: str) -> str:
    """Plain decimal text ("1234.5") when `v` is written in the format; otherwise `v` as sent, for the contract check to show."""
    converted = v
    if number.thousands:
        converted = f"replace({converted}, {literal(number.thousands)}, '')"
        if number.thousands == " ":
            converted = f"replace(replace({converted}, chr(160), ''), chr(8239), '')"
    if number.decimal != ".":
        converted = f"replace({converted}, {literal(number.decimal)}, '.')"
    return f"case when regexp_matches({v}, {literal(number_pattern(number))}) then {converted} else {v} end"
