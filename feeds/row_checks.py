"""Turn a contract into SQL that finds the landed rows breaking it, and what each one breaks.

Each rule yields a reason code (for machines) and a message (for people); a
row with no failed rule is loadable. Only the failing rows come out, to be
kept as `feeds.findings`. Rules are generated from the contract, so
adding a constraint to a column adds its check and its documentation at once.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from crossdock.spreadsheet import UNESCAPE_PATTERN
from feeds.audit import WAREHOUSE_TYPES
from feeds.contracts import ISO_COUNTRIES, Column, Contract
from feeds.sql import ident, literal

INTEGER_PATTERN = r"^[+-]?[0-9]+$"
ZONE_SUFFIX_PATTERN = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


@dataclass(frozen=True)
class Rule:
    code: str
    condition: str  # SQL true when the row breaks the rule
    message: str  # SQL string expression, evaluated only when broken


SHORT_LIST = 12  # allowed values compared one by one up to this many, else looked up by a join
ISO_TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
PSEUDONYM_PREFIX = "sha256:"
PSEUDONYM_PATTERN = r"^sha256:[0-9a-f]{64}$"


def typed(col: Column, value: str) -> str:
    return f"try_cast({value} as {WAREHOUSE_TYPES[col.type]})"


PII_KEY_TABLE = "_pii_key"  # temp (per connection, in memory): never written to the warehouse file
HMAC_BLOCK_BYTES = 64  # SHA-256's block size (RFC 2104)


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256 (RFC 2104) for `key` as UTF-8."""
    raw = key.encode("utf-8")
    if len(raw) > HMAC_BLOCK_BYTES:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)


def use_pii_key(conn: duckdb.DuckDBPyConnection, key: str) -> None:
    """Make `key` the connection's pseudonym key, for `pseudonym` and `stored_pii` to read.

    The padded keys go in as query parameters into a temp table, so no SQL
    text (which a DuckDB error message may quote, and Dagster would keep in
    its event log) ever holds key material, and nothing of it reaches the
    warehouse file.
    """
    inner, outer = hmac_pads(key)
    conn.execute(f"create or replace temp table {PII_KEY_TABLE} as select ?::blob as inner_pad, ?::blob as outer_pad", [inner, outer])


def keyed_hash(value: str) -> str:
    """SQL for HMAC-SHA256(key, value as UTF-8) in lower-case hex, with the key of `use_pii_key`.

    Keyed, unlike the former sha256(salt || value): without the key, hashing
    candidate customer ids (e-mails, phone numbers) finds nothing.
    """
    inner = f"(select inner_pad from {PII_KEY_TABLE})"
    outer = f"(select outer_pad from {PII_KEY_TABLE})"
    return f"sha256({outer} || unhex(sha256({inner} || encode({value}))))"


def stored_pii(value: str) -> str:
    """SQL for the value a PII column is stored as: its keyed hash (hex), or the
    hash inside a re-submitted 'sha256:<hash>' as it is."""
    return (
        f"case when regexp_matches({value}, {literal(PSEUDONYM_PATTERN)}) then substr({value}, {len(PSEUDONYM_PREFIX) + 1}) "
        f"else {keyed_hash(value)} end"
    )


def pseudonym(value: str) -> str:
    """SQL for the stored form of a PII value: 'sha256:' and its keyed hash, passed through if already one."""
    prefix = literal(PSEUDONYM_PREFIX)
    return (
        f"case when regexp_matches({value}, {literal(PSEUDONYM_PATTERN)}) then {value} "
        f"else {prefix} || {keyed_hash(value)} end"
    )


def unescaped(value: str) -> str:
    """SQL for a sent value without the quote a spreadsheet-safe export put before a leading = + - @.

    The quarantine export escapes such values (crossdock.spreadsheet); a fix
    file comes back with them, and its rows must load as the lines they were.
    """
    return f"regexp_replace(trim({value}), {literal(UNESCAPE_PATTERN)}, '\\1')"


def _trimmed(value: str) -> str:
    """SQL for a sent value as the checks read it, but for empty text: unescaped and trimmed.

    The regular expression runs only on a value holding a quote mark: run on
    every value of a million lines of twelve columns it cost more than all the
    checks together. trim runs only on a value that may have something to
    trim: DuckDB's trim removes the Unicode space separators (category Zs), of
    which the only ASCII one is the space, so an ASCII value (as many bytes as
    characters) that neither starts nor ends with a space is trimmed already;
    trim decodes and copies every value, which cost twice these three tests.
    Empty text becomes null in a separate step: nullif(x, '') computes x twice.
    """
    return (
        f"case when contains({value}, '''') then trim({unescaped(value)}) "
        f"when starts_with({value}, ' ') or ends_with({value}, ' ') or strlen({value}) <> length({value}) then trim({value}) "
        f"else {value} end"
    )


def column_rules(col: Column) -> list[Rule]:
    v = ident(col.name)
    name = col.name
    rules: list[Rule] = []
    if col.required:
        allowed_empty = col.empty_allowed_sql(ident)
        missing = f"{v} is null" if allowed_empty is None else f"{v} is null and not coalesce({allowed_empty}, false)"
        rules.append(Rule("missing_value", missing, literal(f"{name} is missing")))
    bad_type = f"{v} is not null and {typed(col, v)} is null"
    if col.type == "integer":
        # DuckDB rounds '1.5' to 2 when casting: integers must be digits (and fit a BIGINT)
        bad_type = f"{v} is not null and (not regexp_matches({v}, {literal(INTEGER_PATTERN)}) or {typed(col, v)} is null)"
    if col.type == "timestamptz":
        # ISO 8601 only: the local day is read from the first ten characters
        bad_type = f"{v} is not null and ({typed(col, v)} is null or not regexp_matches({v}, {literal(ISO_TIMESTAMP_PATTERN)}))"
    rules.append(Rule("bad_type", bad_type, f"{literal(f'{name} is not a valid {col.type}: ')} || {v}"))
    if col.type == "timestamptz":
        rules.append(
            Rule(
                "missing_timezone",
                f"{v} is not null and {typed(col, v)} is not null and not regexp_matches({v}, {literal(ZONE_SUFFIX_PATTERN)})",
                f"{literal(f'{name} has no UTC offset: ')} || {v}",
            )
        )
    if col.allowed is not None:
        allowed_sql = ", ".join(literal(a) for a in col.allowed)
        shown = ", ".join(col.allowed) if len(col.allowed) <= 12 else f"{len(col.allowed)} ISO codes"
        # a long list (the ISO codes) is a subquery, not an IN list: DuckDB answers it with one hash join
        # instead of up to 250 comparisons per row, ~7x faster on a million lines; a short one (a few
        # channels or line types) is cheaper compared than joined
        allowed_set = f"({allowed_sql})" if len(col.allowed) <= SHORT_LIST else f"(select unnest([{allowed_sql}]))"
        # a country name sent instead of its ISO code is what a person will fix, and the mapping is where
        hint = "" if col.allowed != ISO_COUNTRIES else (
            " (a country name? a source folder's mapping.yaml reads names in other languages for the files "
            "landing next, country: {languages: [..]} or a value_map; `crossdock quarantine --export` fixes "
            "these: docs/mappings.md)")
        rules.append(
            Rule(
                "not_allowed",
                f"{v} is not null and {v} not in {allowed_set}",
                f"{literal(f'{name} not in ({shown}): ')} || {v}" + (f" || {literal(hint)}" if hint else ""),
            )
        )
    numeric = f"try_cast({v} as double)"
    if col.min_value is not None:
        rules.append(Rule("out_of_range", f"{numeric} < {col.min_value}", f"{literal(f'{name} below {col.min_value:g}: ')} || {v}"))
    if col.max_value is not None:
        rules.append(Rule("out_of_range", f"{numeric} > {col.max_value}", f"{literal(f'{name} above {col.max_value:g}: ')} || {v}"))
    if col.nonzero:
        rules.append(Rule("zero_quantity", f"{numeric} = 0", literal(f"{name} is zero")))
    return rules


def row_rules(contract: Contract) -> list[Rule]:
    """The contract's rules over several columns of a row (`Contract.row_rules`), on the values as sent."""
    return [Rule(r.code, r.sql(ident), literal(r.message)) for r in contract.row_rules]


def checked_values_sql(contract: Contract, header: list[str], source: str = "landed", plain: bool = False) -> str:
    """SQL selecting every row of `source` as the checks read it: _row_number and the contract's columns (text).

    The values are cleaned (unescaped, trimmed, empty text as null), but for
    `plain`: the reader proved that no value of `source` needs trimming or is
    empty text (`feeds.landed.plain_values_table`), so the values are taken as
    they are, which is what the cleaning would have left of them.

    Columns the contract names but the file lacks (optional ones only; a
    missing required column rejects the file before this runs) become null.
    """
    by_lower = {h.strip().lstrip("\ufeff").lower(): h for h in header}
    trimmed_cols = []
    for col in contract.columns:
        sent = by_lower.get(col.name.lower())
        value = "cast(null as varchar)" if sent is None else ident(sent) if plain else _trimmed(ident(sent))
        trimmed_cols.append(f"{value} as {ident(col.name)}")
    if plain:
        return f"select _row_number, {', '.join(trimmed_cols)}\nfrom {ident(source)}"
    return f"""
with trimmed as (
    select _row_number, {", ".join(trimmed_cols)}
    from {ident(source)}
)

select _row_number, {", ".join(f"nullif({ident(c.name)}, '') as {ident(c.name)}" for c in contract.columns)}
from trimmed
"""


CHECKED_COPY = "checked_values"


def create_checked(conn: duckdb.DuckDBPyConnection, values_sql: str, copy: bool) -> None:
    """Make temp view `checked` the file's rows as the checks read them (`values_sql`, from `checked_values_sql`).

    `copy`: the values are cleaned, which costs per value, so they are
    computed once into a temp table the view reads. Otherwise (a plain
    file's values as landed) the view reads the landed rows themselves, and
    the file's values are not copied before the load: a copy of a million
    lines cost ~0.35 CPU-s.
    """
    if copy:
        conn.execute(f"create or replace temp table {CHECKED_COPY} as {values_sql}")
        conn.execute(f"create or replace temp view checked as select * from {CHECKED_COPY}")
    else:
        conn.execute(f"drop table if exists {CHECKED_COPY}")  # an earlier file's copy: no use, and it holds its values
        conn.execute(f"create or replace temp view checked as {values_sql}")


def failing_rows_sql(contract: Contract, checked: str = "checked") -> str:
    """SQL selecting (_row_number, reason_code, reason) for the rows of `checked` that break a rule of the contract.

    `checked` holds the values as `checked_values_sql` selects them. One pass
    over the rows, each rule tested once: its outcome is a boolean column,
    rows breaking none are dropped, and reason_code and reason are read from
    the booleans of the rest (a reason is only written for a row that breaks
    a rule, which few do). The quarantine record is not built here but for
    the quarantined rows alone (`record_json_sql`). A key repeated within the
    file is found after (`repeated_keys_sql`).
    """
    rules = [r for col in contract.columns for r in column_rules(col)] + row_rules(contract)
    flags = [ident(f"_rule_{i}") for i in range(len(rules))]
    tested = ", ".join(f"coalesce({r.condition}, false) as {flag}" for r, flag in zip(rules, flags))
    code = "coalesce(" + ", ".join(f"case when {flag} then {literal(r.code)} end" for r, flag in zip(rules, flags)) + ")"
    reason = "concat_ws('; ', " + ", ".join(f"case when {flag} then {r.message} end" for r, flag in zip(rules, flags)) + ")"
    return f"""
with tested as (
    select *, {tested}
    from {ident(checked)}
),

failing as (
    select *
    from tested
    where {" or ".join(flags)}
)

select _row_number, {code} as reason_code, nullif({reason}, '') as reason
from failing
"""


def checked_rows_sql(contract: Contract, header: list[str], source: str = "landed", plain: bool = False) -> str:
    """SQL selecting every row of `source` as checked, with its reason_code and reason (null for a loadable row).

    For a person looking at what a mapping makes of a file (docs/mappings.md);
    the ingest keeps the failing rows alone (`feeds.findings`).
    """
    return f"""
with checked as (
    {checked_values_sql(contract, header, source, plain)}
),

failing as (
    {failing_rows_sql(contract, "checked")}
)

select checked.*, failing.reason_code, failing.reason
from checked
left join failing using (_row_number)
order by _row_number
"""


DUPLICATE_KEY = "duplicate_key"


def repeated_keys_sql(contract: Contract, checked: str = "checked") -> str:
    """SQL selecting (_row_number, reason_code, reason) for the rows of `checked` whose key repeats later in the file.

    Within a file the last row with a given key wins: earlier ones are
    quarantined as duplicate_key so nothing is counted twice. Keys compare as
    their typed values ('1' and '01' are the same line); keys that do not cast
    (null) compare equal, as a window's partition would. Every row counts,
    those that break a rule too; the step comes after the contract's rules
    (`feeds.findings`), so a row that breaks one keeps that code and the
    duplicate is added to its reason. A file without repeats costs one
    grouping of its keys.
    """
    typed_keys = [typed(contract.column(k), ident(k)) for k in contract.key]
    names = [ident(f"_key_{i}") for i in range(len(contract.key))]
    present = " and ".join(f"{ident(k)} is not null" for k in contract.key)
    same_key = " and ".join(
        f"{typed(contract.column(k), f'candidate.{ident(k)}')} is not distinct from repeated.{name}"
        for k, name in zip(contract.key, names)
    )
    message = literal(f"key ({', '.join(contract.key)}) repeats later in this file; the later row wins")
    return f"""
with repeated as (
    select {", ".join(f"{t} as {n}" for t, n in zip(typed_keys, names))}, max(_row_number) as _last_row_number
    from {ident(checked)}
    where {present}
    group by all
    having count(*) > 1
)

select candidate._row_number, {literal(DUPLICATE_KEY)} as reason_code, {message} as reason
from {ident(checked)} as candidate
inner join repeated on {same_key}
where {" and ".join(f"candidate.{ident(k)} is not null" for k in contract.key)}
    and candidate._row_number < repeated._last_row_number
"""


def record_json_sql(header: list[str], pii: list[str] | None = None, table: str | None = None) -> str:
    """SQL for a row's values as sent, as a JSON object: the quarantine record.

    `pii` = the record's personal columns (a contract's PII column, or a
    column a mapping marks `personal`): those values are kept as their
    'sha256:<pseudonym>' (keyed with `use_pii_key`) so no name, address or
    customer identifier reaches the warehouse, not even in quarantine; the
    ingest passes such a value through unchanged when a fixed row is
    re-submitted. `table` qualifies the columns (an alias), for a join.
    """
    masked_lower = {m.strip().lstrip("\ufeff").lower() for m in pii or []}

    def value(h: str) -> str:
        column = f"{table}.{ident(h)}" if table else ident(h)
        if h.strip().lstrip("\ufeff").lower() in masked_lower:
            return f"case when {column} is null then null else {pseudonym(column)} end"
        return column

    return "to_json(struct_pack(" + ", ".join(f"{ident(h)} := {value(h)}" for h in header) + "))"
