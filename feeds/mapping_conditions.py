"""Conditions in a mapping (`negate_when`, `cases`): a test on a source column, or all/any/not of others.

Read from YAML into a `Condition` and written as a SQL boolean that is never
null, so a missing value fails a test instead of making the whole rule null.
"""
from __future__ import annotations

from typing import Any

from feeds.mapping_checks import _check_keys, _flag, _text, _Where
from feeds.mapping_model import Condition, _header_key
from feeds.mapping_numbers import NEGATIVE_NUMBER
from feeds.sql import literal

TEST_OPS = ("equals", "not_equals", "in", "starts_with", "ends_with", "contains", "empty", "negative")
CONDITION_KEYS = ("column", *TEST_OPS, "ignore_case", "all", "any", "not")


def _build_condition(where: _Where, raw: Any) -> Condition:
    if not isinstance(raw, dict):
        raise where.error(f"expected a condition: {{column: <source column>, <test>: <value>}} with a test from {', '.join(TEST_OPS)}, or all/any/not")
    _check_keys(where, raw, CONDITION_KEYS, "condition")
    combinators = [k for k in ("all", "any", "not") if k in raw]
    if combinators:
        if len(combinators) > 1 or len(raw) > 1:
            raise where.error(f"'{combinators[0]}' must stand alone in its condition")
        key = combinators[0]
        if key == "not":
            return Condition("not", children=(_build_condition(where.at("not"), raw["not"]),))
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise where.at(key).error("expected a non-empty list of conditions")
        return Condition(key, children=tuple(_build_condition(where.at(key).at(i), c) for i, c in enumerate(items)))
    if "column" not in raw:
        raise where.error("needs `column`: the source column to test")
    column = _text(where.at("column"), raw["column"], allow_empty=False)
    ops = [k for k in TEST_OPS if k in raw]
    if len(ops) != 1:
        raise where.error(f"needs exactly one test; allowed: {', '.join(TEST_OPS)}")
    op = ops[0]
    ignore_case = _flag(where.at("ignore_case"), raw["ignore_case"]) if "ignore_case" in raw else False
    value: Any
    if op in ("empty", "negative"):
        value = _flag(where.at(op), raw[op])
    elif op == "in":
        if not isinstance(raw[op], list) or not raw[op]:
            raise where.at(op).error("expected a non-empty list of values")
        value = tuple(_text(where.at(op).at(i), v) for i, v in enumerate(raw[op]))
    else:
        value = _text(where.at(op), raw[op])
    return Condition("test", column, op, value, ignore_case)


def _condition_sql(cond: Condition, cols: dict[str, str]) -> str:
    if cond.kind == "not":
        return f"(not {_condition_sql(cond.children[0], cols)})"
    if cond.kind in ("all", "any"):
        joiner = " and " if cond.kind == "all" else " or "
        return "(" + joiner.join(_condition_sql(c, cols) for c in cond.children) + ")"
    col = cols[_header_key(cond.column)]
    v = f"lower({col})" if cond.ignore_case else col

    def lit(text: str) -> str:
        return f"lower({literal(text)})" if cond.ignore_case else literal(text)

    op, value = cond.op, cond.value
    if op == "empty":
        return f"({col} is null)" if value else f"({col} is not null)"
    if op == "negative":
        test = f"coalesce(regexp_matches({col}, {literal(NEGATIVE_NUMBER)}), false)"
        return test if value else f"(not {test})"
    if op == "equals":
        return f"coalesce({v} = {lit(value)}, false)"
    if op == "not_equals":
        return f"coalesce({v} <> {lit(value)}, true)"
    if op == "in":
        return f"coalesce({v} in ({', '.join(lit(x) for x in value)}), false)"
    if op == "starts_with":
        return f"coalesce(starts_with({v}, {lit(value)}), false)"
    if op == "ends_with":
        return f"coalesce(suffix({v}, {lit(value)}), false)"
    if op == "contains":
        return f"coalesce(contains({v}, {lit(value)}), false)"
    raise AssertionError(op)  # pragma: no cover - validated at load
