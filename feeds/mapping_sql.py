"""The SQL a mapping generates: one DuckDB statement from the landed all-text table to contract columns.

File headers and values are data: headers are quoted with `ident`, mapping
settings with `literal`, and nothing from a file or a mapping is ever pasted
into SQL as code. Each step of a column rule is a stage of one `with` query,
in the order `ColumnRule` documents.
"""
from __future__ import annotations

import duckdb

from feeds.mapping_conditions import _condition_sql
from feeds.mapping_countries import _create_country_lookup
from feeds.mapping_model import ColumnRule, FeedMapping, MappingError, _header_key
from feeds.mapping_numbers import SIGNED_NUMBER, _number_sql
from feeds.mapping_timestamps import ISO_LOCAL, OFFSET_SUFFIX, _normalised_offset, _offset_text, _timestamp_text
from feeds.sql import ident, literal


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
