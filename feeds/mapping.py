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
"""
from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import duckdb
import pycountry
import yaml

from feeds.contracts import CONTRACTS, Contract
from feeds.sql import ident, literal

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
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
TIMESTAMP_KEYS = ("format", "timezone")
NUMBER_KEYS = ("decimal", "thousands")
CASE_KEYS = ("when", "then")
TEST_OPS = ("equals", "not_equals", "in", "starts_with", "ends_with", "contains", "empty", "negative")
CONDITION_KEYS = ("column", *TEST_OPS, "ignore_case", "all", "any", "not")
DECIMAL_MARKS = (".", ",")
THOUSANDS_MARKS = ("", ",", ".", " ", "'")
COUNTRY_MODES = ("name",)
COUNTRY_KEYS = ("name", "languages")
LETTER_CASES = ("lower", "upper")
SHIPPED_NAME = re.compile(r"^[a-z0-9_]+$")

# A local time followed by a UTC offset: "2024-03-05 14:22:05 +0100", "...T14:22:05Z".
# The offset must follow a clock time, so a bare date such as 2024-03-05 is not
# mistaken for "2024-03" with offset "-05".
OFFSET_SUFFIX = r"^(.*[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)\s*(Z|z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$"
# ISO 8601 local date-time without a zone. DuckDB's cast to timestamp silently
# drops a trailing zone name ("... CET"), so only this shape is cast.
ISO_LOCAL = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?$"
SIGNED_NUMBER = r"^[+-]?[0-9.]"
NEGATIVE_NUMBER = r"^-\s*[0-9.,]*[0-9]"

# Country spellings seen in real exports that pycountry does not know, mapped to
# ISO 3166-1 alpha-2. "Channel Islands" (Jersey or Guernsey?), "European
# Community" and "Unspecified" are deliberately absent: they stay as sent and the
# contract check quarantines them as not_allowed, showing the value.
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "EIRE": "IE",
    "Republic of Ireland": "IE",
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "United States of America": "US",
    "America": "US",
    "RSA": "ZA",
    "UAE": "AE",
    "Holland": "NL",
    "The Netherlands": "NL",
    "Turkey": "TR",
    "Russia": "RU",
    "Ivory Coast": "CI",
    "Macedonia": "MK",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "Burma": "MM",
    "East Timor": "TL",
    "Brunei": "BN",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Palestine": "PS",
    "Micronesia": "FM",
    "DR Congo": "CD",
    "Democratic Republic of the Congo": "CD",
    "Republic of the Congo": "CG",
    "The Bahamas": "BS",
    "The Gambia": "GM",
    "South Korea": "KR",
    "North Korea": "KP",
}


class MappingError(ValueError):
    """A mapping file is invalid, or a file lacks the columns its mapping needs."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Condition:
    """A test on one source column, or `all` / `any` / `not` of other conditions."""

    kind: str  # test | all | any | not
    column: str | None = None
    op: str | None = None  # one of TEST_OPS when kind == "test"
    value: Any = None  # str, tuple of str (in) or bool (empty, negative)
    ignore_case: bool = False
    children: tuple["Condition", ...] = ()

    def source_columns(self) -> list[str]:
        if self.kind == "test":
            return [self.column] if self.column is not None else []
        return [c for child in self.children for c in child.source_columns()]


@dataclass(frozen=True)
class TimestampRule:
    formats: tuple[str, ...] = ()  # strptime formats of the local time; ISO 8601 is always tried too
    timezone: str | None = None  # IANA zone of times written without an offset


@dataclass(frozen=True)
class NumberRule:
    decimal: str = "."
    thousands: str = ""


@dataclass(frozen=True)
class Case:
    when: Condition
    then: str | None  # None: the value becomes empty


@dataclass(frozen=True)
class ColumnRule:
    """How one contract column is produced.

    Steps, in order: the source (`from`, `constant` or `row_number_within`),
    `letter_case`, `value_map` (with `default`), one converter (`number`,
    `country` or `timestamp`), `negate_when`, and last `cases`, which override.
    """

    source: str | None = None  # `from`: a source column
    constant: str | None = None
    row_number_within: tuple[str, ...] = ()
    letter_case: str | None = None
    value_map: tuple[tuple[str, str | None], ...] = ()
    has_default: bool = False
    default: str | None = None
    country: bool = False
    country_languages: tuple[str, ...] = ()  # also read country names in these languages (pycountry's translations)
    timestamp: TimestampRule | None = None
    number: NumberRule | None = None
    negate_when: Condition | None = None
    cases: tuple[Case, ...] = ()

    def source_columns(self) -> list[str]:
        cols = [self.source] if self.source is not None else []
        cols += list(self.row_number_within)
        if self.negate_when is not None:
            cols += self.negate_when.source_columns()
        for case in self.cases:
            cols += case.when.source_columns()
        return cols


@dataclass(frozen=True)
class FillDown:
    within: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class FeedMapping:
    name: str
    dataset: str
    description: str
    columns: Mapping[str, ColumnRule]  # contract column -> rule, in contract order
    fill_down: FillDown | None = None
    extends: str | None = None
    path: Path | None = field(default=None, compare=False)
    # source columns holding personal data (names, addresses, phone numbers, notes): never stored as sent
    personal: tuple[str, ...] = ()

    @property
    def contract(self) -> Contract:
        return _contract(self.dataset)

    def personal_columns(self, header: list[str]) -> list[str]:
        """The columns of `header` (a file as sent) that hold personal data, as the header spells them.

        Those the mapping marks `personal`, and the sources of the contract's
        PII columns (the customer id); headers match as everywhere in a mapping.
        A listed column the file lacks is no error: exports differ in which they carry.
        """
        pii_sources = [r.source for c, r in self.columns.items() if r.source is not None and self.contract.column(c).pii]
        wanted = {_header_key(c) for c in (*self.personal, *pii_sources)}
        return [h for h in header if _header_key(h) in wanted]

    @property
    def source_columns(self) -> list[str]:
        """Source columns the mapping reads, each once, in first-use order."""
        cols: list[str] = []
        if self.fill_down is not None:
            cols += list(self.fill_down.within) + list(self.fill_down.columns)
        for rule in self.columns.values():
            cols += rule.source_columns()
        seen: dict[str, str] = {}
        for c in cols:
            seen.setdefault(_header_key(c), c)
        return list(seen.values())


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (the second would silently win)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in keys
        except TypeError:
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _contract(dataset: str) -> Contract:
    for contract in CONTRACTS:
        if contract.dataset == dataset:
            return contract
    raise KeyError(dataset)


def shipped_mapping_names() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        if mark is not None and problem:
            context = getattr(exc, "context", None)
            detail = f"line {mark.line + 1}, column {mark.column + 1}: {f'{context}: ' if context else ''}{problem}"
        else:
            detail = " ".join(str(exc).split())
        raise MappingError(f"{path}: invalid YAML at {detail}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping file must be a YAML mapping with keys {', '.join(TOP_LEVEL_KEYS)}")
    return data


def _merge(base: Any, override: Any) -> Any:
    """Deep merge for `extends`: dicts merge key by key, anything else replaces, null removes."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_columns(base: Any, override: Any) -> Any:
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for column, rule in override.items():
        if rule is None:
            merged.pop(column, None)
            continue
        old = merged.get(column)
        if isinstance(old, dict) and isinstance(rule, dict):
            if any(k in rule for k in SOURCE_KEYS):
                # A new source replaces the old one: `constant: X` over `from: Y` needs no `from: null`.
                old = {k: v for k, v in old.items() if k not in SOURCE_KEYS}
            merged[column] = _merge(old, rule)
        else:
            merged[column] = rule
    return merged


def _raw_with_extends(path: Path, chain: tuple[str, ...] = ()) -> dict:
    data = _read_yaml(path)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str) or not SHIPPED_NAME.match(parent):
        raise MappingError(f"{path}: extends: must be the name of a shipped mapping; allowed: {', '.join(shipped_mapping_names())}")
    parent_path = MAPPINGS_DIR / f"{parent}.yaml"
    if not parent_path.is_file():
        raise MappingError(
            f"{path}: extends: no shipped mapping named '{parent}'; allowed: {', '.join(shipped_mapping_names())}"
        )
    if parent in chain:
        raise MappingError(f"{path}: extends: '{parent}' extends itself ({' -> '.join((*chain, parent))})")
    base = _raw_with_extends(parent_path, (*chain, parent))
    if "dataset" in data and data["dataset"] != base.get("dataset"):
        raise MappingError(
            f"{path}: dataset: {data['dataset']!r} differs from the extended mapping '{parent}' "
            f"({base.get('dataset')!r}); allowed: {base.get('dataset')!r} or leave dataset out"
        )
    merged = _merge({k: v for k, v in base.items() if k not in ("columns", "name", "description")}, {k: v for k, v in data.items() if k != "columns"})
    merged["columns"] = _merge_columns(base.get("columns") or {}, data.get("columns") or {})
    merged["description"] = data.get("description", base.get("description", ""))
    merged["extends"] = parent
    if isinstance(base.get("personal"), list) and isinstance(data.get("personal"), list):
        # a merchant adds its own personal columns; it cannot un-mark the shipped ones by omission
        merged["personal"] = base["personal"] + [c for c in data["personal"] if c not in base["personal"]]
    return merged


def load_mapping(path: Path) -> FeedMapping:
    """Read and validate a mapping YAML (following `extends`); raises MappingError naming file, key and what is allowed."""
    path = Path(path)
    data = _raw_with_extends(path)
    return _build(path, data)


def shipped_mapping(name: str) -> FeedMapping:
    """One of the mappings shipped in feeds/mappings/ by name, e.g. "shopify_orders"."""
    if not SHIPPED_NAME.match(name or "") or not (MAPPINGS_DIR / f"{name}.yaml").is_file():
        raise MappingError(f"no shipped mapping named '{name}'; allowed: {', '.join(shipped_mapping_names())}")
    return load_mapping(MAPPINGS_DIR / f"{name}.yaml")


class _Where:
    """Error context: the file and the dotted key being validated."""

    def __init__(self, path: Path, key: str = "") -> None:
        self.path, self.key = path, key

    def at(self, key: str | int) -> "_Where":
        part = f"[{key}]" if isinstance(key, int) else str(key)
        joined = part if not self.key else (f"{self.key}{part}" if isinstance(key, int) else f"{self.key}.{part}")
        return _Where(self.path, joined)

    def error(self, message: str) -> MappingError:
        return MappingError(f"{self.path}: {self.key}: {message}" if self.key else f"{self.path}: {message}")


def _check_keys(where: _Where, data: dict, allowed: tuple[str, ...], what: str) -> None:
    for key in data:
        if key == "sql":
            raise where.at(str(key)).error(f"SQL is not allowed in a mapping; a {what} takes only: {', '.join(allowed)}")
        if key not in allowed:
            raise where.at(str(key)).error(f"unknown key '{key}' in a {what}; allowed: {', '.join(allowed)}")


def _text(where: _Where, value: Any, *, allow_empty: bool = True) -> str:
    """A scalar setting as text. YAML booleans are refused: `yes`, `no`, `on`, `off` are rarely meant as such."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        hint = " (quote it: YAML reads yes/no/on/off/true/false as booleans)" if isinstance(value, bool) else ""
        raise where.error(f"expected a text value, got {type(value).__name__} {value!r}{hint}")
    text = value if isinstance(value, str) else str(value)
    if not allow_empty and not text.strip():
        raise where.error("must not be empty")
    return text


def _text_list(where: _Where, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
    if not isinstance(items, list) or not items:
        raise where.error("expected a column name or a non-empty list of column names")
    return tuple(_text(where.at(i), v, allow_empty=False) for i, v in enumerate(items))


def _flag(where: _Where, value: Any) -> bool:
    if not isinstance(value, bool):
        raise where.error(f"expected true or false, got {value!r}")
    return value


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


def _build_timestamp(where: _Where, raw: Any) -> TimestampRule:
    if raw is True or raw == {}:
        return TimestampRule()
    if not isinstance(raw, dict):
        raise where.error(f"expected a mapping with keys {', '.join(TIMESTAMP_KEYS)} (both optional)")
    _check_keys(where, raw, TIMESTAMP_KEYS, "timestamp rule")
    formats: tuple[str, ...] = ()
    if raw.get("format") is not None:
        formats = _text_list(where.at("format"), raw["format"])
        for fmt in formats:
            if "%z" in fmt or "%Z" in fmt:
                raise where.at("format").error(
                    f"{fmt!r}: leave %z/%Z out; a UTC offset after the time is detected and kept automatically"
                )
            if "%" not in fmt:
                raise where.at("format").error(f"{fmt!r} has no % directive; use strptime directives such as %Y-%m-%d %H:%M:%S")
            problem = _strptime_format_problem(fmt)
            if problem:
                raise where.at("format").error(f"{fmt!r} is not a valid strptime format: {problem}")
    tz = None
    if raw.get("timezone") is not None:
        tz = _text(where.at("timezone"), raw["timezone"], allow_empty=False)
        if tz not in _timezone_names():
            raise where.at("timezone").error(f"unknown time zone {tz!r}; use an IANA name such as Europe/London, America/New_York, UTC")
    return TimestampRule(formats, tz)


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


@lru_cache(maxsize=1)
def _timezone_names() -> frozenset[str]:
    """The zones DuckDB's ICU knows: the ones `apply_mapping` can convert with."""
    with duckdb.connect() as conn:
        return frozenset(r[0] for r in conn.execute("select name from pg_timezone_names()").fetchall())


@lru_cache(maxsize=256)
def _strptime_format_problem(fmt: str) -> str | None:
    with duckdb.connect() as conn:
        try:
            conn.execute("select try_strptime('', ?)", [fmt]).fetchall()
        except duckdb.Error as exc:
            return str(exc).splitlines()[0]
    return None


# --------------------------------------------------------------------------- applying


def _build_country(where: _Where, raw: Any) -> tuple[str, ...]:
    """`country: name`, or `country: {languages: [es, pt]}` for names written in other languages."""
    if isinstance(raw, str) and raw in COUNTRY_MODES:
        return ()
    if not isinstance(raw, dict):
        raise where.error(
            f"unknown value {raw!r}; allowed: {', '.join(COUNTRY_MODES)} (country names, alpha-3 or alpha-2 codes -> "
            "alpha-2), or a mapping {languages: [es]} to read names in other languages too"
        )
    unknown = sorted(set(raw) - set(COUNTRY_KEYS))
    if unknown:
        raise where.error(f"unknown keys {', '.join(map(str, unknown))}; allowed: {', '.join(COUNTRY_KEYS)}")
    languages = raw.get("languages", [])
    languages = [languages] if isinstance(languages, str) else languages
    if not isinstance(languages, list) or not all(isinstance(lang, str) and lang for lang in languages):
        raise where.at("languages").error("give a list of language codes, e.g. [es, pt]")
    missing = [lang for lang in languages if not _country_translation(lang)]
    if missing:
        raise where.at("languages").error(f"pycountry has no country names in {', '.join(missing)}")
    return tuple(languages)


@lru_cache(maxsize=32)
def _country_translation(language: str) -> gettext.NullTranslations | None:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:
        return None


def _mojibake(name: str) -> str | None:
    """The name as it reads when its UTF-8 bytes were decoded as Latin-1 once more (México -> MÃ©xico)."""
    try:
        garbled = name.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return None
    return garbled if garbled != name else None


def _header_key(name: str) -> str:
    """Header matching ignores case, a BOM and surrounding or repeated whitespace."""
    return " ".join(name.replace("\ufeff", "").split()).lower()


def _country_pairs(languages: tuple[str, ...] = ()) -> tuple[list[str], list[str], list[int]]:
    """(spelling, alpha-2, priority): English spellings first, then translations, then their double-encoded forms.

    Real exports carry names that were UTF-8-encoded twice (`MÃ©xico`); each
    spelling's twice-encoded form is matched too, at the lowest priority.
    """
    names, codes, priorities = [], [], []

    def add(name: str | None, code: str, priority: int) -> None:
        if name:
            names.append(name)
            codes.append(code)
            priorities.append(priority)
            garbled = _mojibake(name)
            if garbled:
                names.append(garbled)
                codes.append(code)
                priorities.append(priority + 100)

    for alias, code in COUNTRY_ALIASES.items():
        add(alias, code, 0)
    for country in pycountry.countries:
        code = country.alpha_2
        add(code, code, 1)
        add(country.alpha_3, code, 2)
        add(country.name, code, 3)
        add(getattr(country, "common_name", None), code, 4)
        add(getattr(country, "official_name", None), code, 5)
    for rank, language in enumerate(languages):
        translate = _country_translation(language).gettext
        for country in pycountry.countries:
            for field_name in ("name", "common_name", "official_name"):
                english = getattr(country, field_name, None)
                if english:
                    add(translate(english), country.alpha_2, 10 + rank)
    return names, codes, priorities


def _create_country_lookup(conn: duckdb.DuckDBPyConnection, languages: tuple[str, ...] = ()) -> None:
    """Temp table _mapping_countries(key, alpha2): normalised spelling -> ISO alpha-2, from pycountry and the aliases."""
    names, codes, priorities = _country_pairs(languages)
    conn.execute(
        """
        create or replace temp table _mapping_countries as
        select key, alpha2 from (
            select lower(strip_accents(trim(n))) as key, c as alpha2, p
            from (select unnest(?::varchar[]) as n, unnest(?::varchar[]) as c, unnest(?::integer[]) as p)
        )
        qualify row_number() over (partition by key order by p, alpha2) = 1
        """,
        [names, codes, priorities],
    )


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


def _base_sql(rule: ColumnRule, cols: dict[str, str]) -> str:
    """Step 1-2: the value from the source, constant or row number, in the requested letter case."""
    if rule.source is not None:
        expr = cols[_header_key(rule.source)]
    elif rule.constant is not None:
        expr = f"nullif({literal(rule.constant)}, '')"
    elif rule.row_number_within:
        partition = ", ".join(cols[_header_key(c)] for c in rule.row_number_within)
        expr = f"cast(row_number() over (partition by {partition} order by _row_number) as varchar)"
    else:
        expr = "cast(null as varchar)"
    if rule.letter_case:
        expr = f"{rule.letter_case}({expr})"
    return expr


def _convert_sql(rule: ColumnRule, v: str) -> str:
    """value_map (with its default), then the number format, on the column's current value `v`."""
    expr = v
    if rule.value_map:
        whens = []
        empty_target = "cast(null as varchar)"
        for key, target in rule.value_map:
            target_sql = literal(target) if target is not None else "cast(null as varchar)"
            if key.strip() == "":
                empty_target = target_sql
            else:
                whens.append(f"when lower({v}) = lower({literal(key.strip())}) then {target_sql}")
        if rule.has_default:
            otherwise = literal(rule.default) if rule.default is not None else "cast(null as varchar)"
        else:
            otherwise = v
        expr = f"case when {v} is null then {empty_target} {' '.join(whens)} else {otherwise} end"
    if rule.number is not None:
        expr = _number_sql(rule.number, expr)
    return expr


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


def _timestamp_text(ts: str) -> str:
    micros = f"microsecond({ts}) % 1000000"
    return (
        f"strftime({ts}, '%Y-%m-%dT%H:%M:%S') || "
        f"case when {micros} <> 0 then '.' || lpad(cast({micros} as varchar), 6, '0') else '' end"
    )


def _offset_text(seconds: str) -> str:
    return (
        f"(case when {seconds} < 0 then '-' else '+' end || "
        f"lpad(cast(abs({seconds}) // 3600 as varchar), 2, '0') || ':' || "
        f"lpad(cast((abs({seconds}) % 3600) // 60 as varchar), 2, '0'))"
    )


def _normalised_offset(off: str) -> str:
    """Z, UTC, GMT -> +00:00; +0100 -> +01:00; +01 -> +01:00; +01:00 as is."""
    return (
        f"case when {off} in ('Z', 'z', 'UTC', 'GMT') then '+00:00' "
        f"when length({off}) = 3 then {off} || ':00' "
        f"when length({off}) = 5 then substr({off}, 1, 3) || ':' || substr({off}, 4, 2) "
        f"else {off} end"
    )


def mapping_sql(mapping: FeedMapping, header: list[str], source_table: str = "landed") -> tuple[str, list[str]]:
    """The SELECT producing the mapped rows from `source_table`, and the contract columns it yields.

    Raises MappingError when `header` lacks source columns the mapping needs.
    """
    by_key: dict[str, str] = {}
    for h in header:
        by_key.setdefault(_header_key(h), h)
    needed = mapping.source_columns
    missing = [c for c in needed if _header_key(c) not in by_key]
    if missing:
        raise MappingError(
            f"the file lacks source columns the mapping '{mapping.name}' needs: {', '.join(missing)}; "
            f"the file has: {', '.join(header) if header else '(no columns)'}"
        )
    # internal aliases s0, s1, ... for the source columns: file headers appear in SQL only through ident()
    cols = {_header_key(c): f"s{i}" for i, c in enumerate(needed)}
    src_select = ", ".join(f"nullif(trim(cast({ident(by_key[_header_key(c)])} as varchar)), '') as s{i}" for i, c in enumerate(needed))
    stages = [f"src as (select _row_number{', ' + src_select if src_select else ''} from {ident(source_table)})"]
    prev = "src"

    if mapping.fill_down is not None:
        partition = ", ".join(cols[_header_key(c)] for c in mapping.fill_down.within)
        window = f"over (partition by {partition} order by _row_number rows between unbounded preceding and current row)"
        fills = ", ".join(
            f"last_value({cols[_header_key(c)]} ignore nulls) {window} as {cols[_header_key(c)]}" for c in mapping.fill_down.columns
        )
        stages.append(f"filled as (select * replace ({fills}) from {prev})")
        prev = "filled"

    outputs = list(mapping.columns.items())
    base = ", ".join(f"{_base_sql(rule, cols)} as v{k}" for k, (_, rule) in enumerate(outputs))
    stages.append(f"base as (select *, {base} from {prev})")
    prev = "base"
    converted = [f"{_convert_sql(rule, f'v{k}')} as v{k}" for k, (_, rule) in enumerate(outputs) if rule.value_map or rule.number]
    if converted:
        stages.append(f"converted as (select * replace ({', '.join(converted)}) from {prev})")
        prev = "converted"

    country_ks = [k for k, (_, rule) in enumerate(outputs) if rule.country]
    if country_ks:
        replaces = ", ".join(f"coalesce(c{k}.alpha2, {prev}.v{k}) as v{k}" for k in country_ks)
        joins = " ".join(
            f"left join _mapping_countries as c{k} on c{k}.key = lower(strip_accents({prev}.v{k}))" for k in country_ks
        )
        stages.append(f"countries as (select {prev}.* replace ({replaces}) from {prev} {joins})")
        prev = "countries"

    ts_ks = [k for k, (_, rule) in enumerate(outputs) if rule.timestamp is not None]
    if ts_ks:
        parts = []
        for k in ts_ks:
            has_off = f"regexp_matches(v{k}, {literal(OFFSET_SUFFIX)})"
            parts.append(f"case when {has_off} then regexp_extract(v{k}, {literal(OFFSET_SUFFIX)}, 1) else v{k} end as tl{k}")
            parts.append(f"case when {has_off} then regexp_extract(v{k}, {literal(OFFSET_SUFFIX)}, 2) end as to{k}")
        stages.append(f"ts_split as (select *, {', '.join(parts)} from {prev})")
        parts = []
        for k in ts_ks:
            rule = outputs[k][1].timestamp
            parsed = f"case when regexp_matches(tl{k}, {literal(ISO_LOCAL)}) then try_cast(tl{k} as timestamp) end"
            if rule.formats:
                fmts = "[" + ", ".join(literal(f) for f in rule.formats) + "]"
                parsed = f"coalesce(try_strptime(tl{k}, {fmts}), {parsed})"
            parts.append(f"{parsed} as tp{k}")
        stages.append(f"ts_parsed as (select *, {', '.join(parts)} from ts_split)")
        parts = []
        for k in ts_ks:
            tz = outputs[k][1].timestamp.timezone
            if tz is not None:
                # the instant of the local time in tz; ICU reads a time skipped by a DST change as
                # the instant an hour on, and a repeated time as the later (standard time) one
                parts.append(f"case when to{k} is null then timezone({literal(tz)}, tp{k}) end as ti{k}")
            else:
                parts.append(f"cast(null as timestamptz) as ti{k}")
        stages.append(f"ts_instant as (select *, {', '.join(parts)} from ts_parsed)")
        parts = []
        for k in ts_ks:
            tz = outputs[k][1].timestamp.timezone
            if tz is not None:
                parts.append(f"timezone({literal(tz)}, ti{k}) as tw{k}")
                parts.append(f"date_diff('second', timezone('UTC', ti{k}), timezone({literal(tz)}, ti{k})) as tf{k}")
            else:
                parts.append(f"cast(null as timestamp) as tw{k}, cast(null as bigint) as tf{k}")
        stages.append(f"ts_local as (select *, {', '.join(parts)} from ts_instant)")
        replaces = []
        for k in ts_ks:
            replaces.append(
                f"case when v{k} is null or tp{k} is null then v{k} "
                f"when to{k} is not null then {_timestamp_text(f'tp{k}')} || {_normalised_offset(f'to{k}')} "
                f"when ti{k} is not null then {_timestamp_text(f'tw{k}')} || {_offset_text(f'tf{k}')} "
                # no offset and no time zone: ISO local time, which the contract quarantines as missing_timezone
                f"else {_timestamp_text(f'tp{k}')} end as v{k}"
            )
        stages.append(f"timestamps as (select * replace ({', '.join(replaces)}) from ts_local)")
        prev = "timestamps"

    finals = []
    for k, (name, rule) in enumerate(outputs):
        expr = f"v{k}"
        if rule.negate_when is not None:
            cond = _condition_sql(rule.negate_when, cols)
            flipped = (
                f"case when starts_with({expr}, '-') then substr({expr}, 2) "
                f"when starts_with({expr}, '+') then '-' || substr({expr}, 2) else '-' || {expr} end"
            )
            expr = f"case when {cond} and regexp_matches({expr}, {literal(SIGNED_NUMBER)}) then {flipped} else {expr} end"
        if rule.cases:
            whens = " ".join(
                f"when {_condition_sql(case.when, cols)} then {literal(case.then) if case.then is not None else 'cast(null as varchar)'}"
                for case in rule.cases
            )
            expr = f"case {whens} else {expr} end"
        finals.append(f"cast({expr} as varchar) as {ident(name)}")
    sql = "with " + ",\n".join(stages) + f"\nselect _row_number, {', '.join(finals)} from {prev}"
    return sql, [name for name, _ in outputs]


def apply_mapping(
    conn: duckdb.DuckDBPyConnection, mapping: FeedMapping, source_table: str = "landed", target_table: str = "mapped"
) -> list[str]:
    """Create temp table `target_table` (_row_number + one text column per mapped contract column); return those columns."""
    header = [r[0] for r in conn.execute(f"describe {ident(source_table)}").fetchall() if r[0] != "_row_number"]
    sql, produced = mapping_sql(mapping, header, source_table)
    if any(rule.country for rule in mapping.columns.values()):
        languages = tuple(dict.fromkeys(lang for rule in mapping.columns.values() for lang in rule.country_languages))
        _create_country_lookup(conn, languages)
    conn.execute(f"create or replace temp table {ident(target_table)} as {sql}\norder by _row_number")
    return produced
