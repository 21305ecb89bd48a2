"""Dates and times in a mapping: the `timestamp:` rule (formats, time zone) and the SQL text it writes.

A local time is read with the mapping's strptime formats or as ISO 8601, an
offset after it is kept, and a time zone turns a local time into an instant;
the result is ISO 8601 text with its UTC offset. The formats and zones are
checked against DuckDB itself, the engine that will parse them.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import duckdb

from feeds.mapping_checks import _check_keys, _text, _text_list, _Where
from feeds.mapping_model import TimestampRule

TIMESTAMP_KEYS = ("format", "timezone")

# A local time followed by a UTC offset: "2024-03-05 14:22:05 +0100", "...T14:22:05Z".
# The offset must follow a clock time, so a bare date such as 2024-03-05 is not
# mistaken for "2024-03" with offset "-05".
OFFSET_SUFFIX = r"^(.*[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)\s*(Z|z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$"
# ISO 8601 local date-time without a zone. DuckDB's cast to timestamp silently
# drops a trailing zone name ("... CET"), so only this shape is cast.
ISO_LOCAL = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?$"


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
