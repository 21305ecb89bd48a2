"""A mapping file's schema: the keys allowed where, and the `FeedMapping` built from a file's data.

Takes the YAML data (with `extends` already merged by `feeds.mapping_load`)
and checks it key by key against the feed contract, so an error names the
file, the key and what is allowed; the converters' own settings are read by
their modules (numbers, timestamps, countries, conditions).
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from feeds.contracts import CONTRACTS, Contract
from feeds.mapping_checks import _check_keys, _text, _text_list, _Where
from feeds.mapping_conditions import _build_condition
from feeds.mapping_countries import _build_country
from feeds.mapping_model import Case, ColumnRule, FeedMapping, FillDown, _contract, _header_key
from feeds.mapping_numbers import _build_number
from feeds.mapping_timestamps import _build_timestamp

MAPPING_FILE_NAME = "mapping.yaml"  # landing/<feed>/<source>/mapping.yaml

TOP_LEVEL_KEYS = ("name", "description", "dataset", "extends", "fill_down", "personal", "columns")
FILL_DOWN_KEYS = ("within", "columns")
SOURCE_KEYS = ("from", "constant", "row_number_within")
RULE_KEYS = (
    "from",
    "constant",
    "row_number_within",
    "letter_case",
    "value_map",
    "default",
    "country",
    "timestamp",
    "number",
    "negate_when",
    "cases",
)
CASE_KEYS = ("when", "then")
LETTER_CASES = ("lower", "upper")


def _build(path: Path, data: dict) -> FeedMapping:
    where = _Where(path)
    _check_keys(where, data, TOP_LEVEL_KEYS, "mapping file")
    datasets = [c.dataset for c in CONTRACTS]
    dataset = data.get("dataset")
    if dataset is None:
        raise where.at("dataset").error(f"missing; allowed: {', '.join(datasets)}")
    if dataset not in datasets:
        raise where.at("dataset").error(f"unknown dataset {dataset!r}; allowed: {', '.join(datasets)}")
    contract = _contract(dataset)
    default_name = path.parent.name if path.name == MAPPING_FILE_NAME else path.stem
    name = _text(where.at("name"), data.get("name", default_name), allow_empty=False)
    description = _text(where.at("description"), data.get("description", "") or "")

    raw_columns = data.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise where.at("columns").error(
            f"expected a mapping of contract column -> rule; the {dataset} contract has: {', '.join(c.name for c in contract.columns)}"
        )
    contract_names = [c.name for c in contract.columns]
    rules: dict[str, ColumnRule] = {}
    for column, raw_rule in raw_columns.items():
        if column not in contract_names:
            raise where.at("columns").at(str(column)).error(
                f"'{column}' is not a column of the {dataset} contract; allowed: {', '.join(contract_names)}"
            )
        if raw_rule is None:
            continue  # `column: null` (e.g. to drop a column an extended mapping maps)
        rules[column] = _build_rule(where.at("columns").at(column), raw_rule)
    missing = [c for c in contract.required_columns if c not in rules]
    if missing:
        raise where.at("columns").error(
            f"required contract columns not mapped: {', '.join(missing)}; every required column needs a rule "
            f"(required: {', '.join(contract.required_columns)})"
        )

    fill_down = None
    if data.get("fill_down") is not None:
        fd_where = where.at("fill_down")
        raw_fd = data["fill_down"]
        if not isinstance(raw_fd, dict):
            raise fd_where.error(f"expected a mapping with keys {', '.join(FILL_DOWN_KEYS)}")
        _check_keys(fd_where, raw_fd, FILL_DOWN_KEYS, "fill_down")
        for key in FILL_DOWN_KEYS:
            if key not in raw_fd:
                raise fd_where.at(key).error(f"missing; fill_down needs: {', '.join(FILL_DOWN_KEYS)}")
        fill_down = FillDown(_text_list(fd_where.at("within"), raw_fd["within"]), _text_list(fd_where.at("columns"), raw_fd["columns"]))

    ordered = {c: rules[c] for c in contract_names if c in rules}
    personal = _build_personal(where.at("personal"), data.get("personal"), contract, ordered)
    extends = data.get("extends")
    return FeedMapping(name, dataset, description, MappingProxyType(ordered), fill_down, extends, path, personal)


def _build_personal(where: _Where, raw: Any, contract: Contract, rules: Mapping[str, ColumnRule]) -> tuple[str, ...]:
    """The `personal` source columns; refused when one is copied into a contract column that is stored as sent.

    A personal column feeding e.g. `sku` would put a name in raw.* in clear
    text; only the contract's PII columns (customer_id) are pseudonymised
    there. Reading one in a condition (`cases`, `negate_when`) stores nothing.
    """
    if raw is None:
        return ()
    personal = _text_list(where, raw)
    keys = {_header_key(c) for c in personal}
    for column, rule in rules.items():
        if rule.source is not None and _header_key(rule.source) in keys and not contract.column(column).pii:
            raise where.error(
                f"'{rule.source}' is marked personal but feeds the contract column '{column}', which is stored as sent; "
                f"map '{column}' from another column or leave '{rule.source}' out of personal"
            )
    return personal


def _build_rule(where: _Where, raw: Any) -> ColumnRule:
    if isinstance(raw, str):
        raw = {"from": raw}  # shorthand: `sku: Lineitem sku`
    if not isinstance(raw, dict):
        raise where.error(f"expected a rule (a mapping with keys from: {', '.join(RULE_KEYS)}) or a source column name")
    _check_keys(where, raw, RULE_KEYS, "column rule")
    sources = [k for k in SOURCE_KEYS if raw.get(k) is not None]
    if len(sources) > 1:
        raise where.error(f"give only one of {', '.join(SOURCE_KEYS)}; got {', '.join(sources)}")
    if not sources and not raw.get("cases"):
        raise where.error(f"needs a source: one of {', '.join(SOURCE_KEYS)} (or `cases` alone)")

    kw: dict[str, Any] = {}
    if raw.get("from") is not None:
        kw["source"] = _text(where.at("from"), raw["from"], allow_empty=False)
    if raw.get("constant") is not None:
        kw["constant"] = _text(where.at("constant"), raw["constant"])
    if raw.get("row_number_within") is not None:
        kw["row_number_within"] = _text_list(where.at("row_number_within"), raw["row_number_within"])
    if raw.get("letter_case") is not None:
        if raw["letter_case"] not in LETTER_CASES:
            raise where.at("letter_case").error(f"unknown value {raw['letter_case']!r}; allowed: {', '.join(LETTER_CASES)}")
        kw["letter_case"] = raw["letter_case"]

    if raw.get("value_map") is not None:
        vm = raw["value_map"]
        if not isinstance(vm, dict) or not vm:
            raise where.at("value_map").error("expected a mapping of source value -> contract value")
        pairs, seen = [], {}
        for k, v in vm.items():
            key = _text(where.at("value_map").at(str(k)), k)
            if key.lower() in seen:
                raise where.at("value_map").error(f"keys {seen[key.lower()]!r} and {key!r} differ only in letter case (matching ignores case)")
            seen[key.lower()] = key
            value = None if v is None else _text(where.at("value_map").at(key), v)
            pairs.append((key, value or None))
        kw["value_map"] = tuple(pairs)
    if "default" in raw:
        if "value_map" not in raw:
            raise where.at("default").error("default belongs to value_map (the value for source values not in the map)")
        kw["has_default"] = True
        kw["default"] = None if raw["default"] is None else (_text(where.at("default"), raw["default"]) or None)

    converters = [k for k in ("country", "timestamp", "number") if raw.get(k) is not None]
    if len(converters) > 1:
        raise where.error(f"give at most one of country, timestamp, number; got {', '.join(converters)}")
    if raw.get("country") is not None:
        kw["country"] = True
        kw["country_languages"] = _build_country(where.at("country"), raw["country"])
    if raw.get("timestamp") is not None:
        kw["timestamp"] = _build_timestamp(where.at("timestamp"), raw["timestamp"])
    if raw.get("number") is not None:
        kw["number"] = _build_number(where.at("number"), raw["number"])
    if raw.get("negate_when") is not None:
        kw["negate_when"] = _build_condition(where.at("negate_when"), raw["negate_when"])
    if raw.get("cases") is not None:
        cases = raw["cases"]
        if not isinstance(cases, list) or not cases:
            raise where.at("cases").error("expected a list of {when: <condition>, then: <value>}")
        built = []
        for i, case in enumerate(cases):
            cw = where.at("cases").at(i)
            if not isinstance(case, dict):
                raise cw.error("expected {when: <condition>, then: <value>}")
            _check_keys(cw, case, CASE_KEYS, "case")
            if "when" not in case or "then" not in case:
                raise cw.error(f"needs both of: {', '.join(CASE_KEYS)}")
            then = None if case["then"] is None else (_text(cw.at("then"), case["then"]) or None)
            built.append(Case(_build_condition(cw.at("when"), case["when"]), then))
        kw["cases"] = tuple(built)
    return ColumnRule(**kw)
