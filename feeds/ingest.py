"""Load landing files into `raw.*`, one file per transaction, each file once.

A file is identified by the SHA-256 of its bytes, so loading the same content
again (even under another name) changes nothing. Every row ends in its raw
table or in `audit.quarantine` with a reason, and `audit.ingest_ledger` records
per file: rows_received = rows_loaded + rows_quarantined + rows_rejected +
rows_duplicate. A row whose key was loaded before is a new version of it (the
latest wins downstream, earlier versions stay in raw as history); a row that
repeats the latest version exactly, as overlapping exports do, is counted as a
duplicate and not stored again. A rejected file is moved to
landing/rejected/<feed>/ with a .reason.txt beside it; which files wait and
what may be read is the landing folder's own module (`feeds.landing_folder`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from crossdock.warehouse import transaction
from feeds.audit import ensure_schema
from feeds.contracts import Contract, contract_for_file
from feeds.csv_reader import landed_delimiter
from feeds.file_dates import file_date, future_date_note
from feeds.findings import (
    CONTRACT_STEP,
    FLAGGED_STEP,
    REPEATED_KEY_STEP,
    add_findings,
    create_findings,
    failed_row_count,
    failed_rows_sql,
)
from feeds.landed import UnreadableFile, bad_lines_table, display_name, has_plain_values, safe_text, shortened_sql
from feeds.landing_folder import MAPPING_FILE, landing_files, landing_links, link_date, mapping_for, move_to_rejected, outside_problem
from feeds.mapping import FeedMapping, MappingError, apply_mapping, load_mapping, shipped_mapping_for
from feeds.masked_lines import masked_line
from feeds.new_versions import insert_new_versions
from feeds.plausibility import Plausibility, check_plausibility
from feeds.quarantine import record_fixes
from feeds.readers import land_file
from feeds.row_checks import (
    checked_values_sql,
    create_checked,
    failing_rows_sql,
    pseudonym,
    record_json_sql,
    repeated_keys_sql,
    use_pii_key,
)
from feeds.sql import ident
from feeds.unsafe_values import flagged_rows_sql

if TYPE_CHECKING:  # pragma: no cover
    from feeds.kept_rows import KeptRows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    file_name: str
    file_id: str
    dataset: str | None
    status: str  # loaded | rejected | skipped (already ingested) | waiting (still changing: left for a later run)
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    message: str = ""
    copy_of: str | None = None  # skipped: the name its same bytes were loaded under, when that is another name
    unread_columns: tuple[str, ...] = ()  # loaded: columns of the file the contract has no place for


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _loaded_as(conn: duckdb.DuckDBPyConnection, file_id: str, kept: KeptRows | None = None) -> str | None:
    """The name a file of these bytes was loaded under ('' when only the kept warehouse records it), None if none was."""
    # fetchall, not fetchone: DuckDB 2 refuses new work while a result is half-read.
    rows = conn.execute("select file_name from audit.ingest_ledger where file_id = ? and status = 'loaded' "
                        "order by ingested_at limit 1", [file_id]).fetchall()
    if rows:
        return rows[0][0]
    return "" if kept is not None and kept.recorded(file_id) else None


def _write_ledger(conn: duckdb.DuckDBPyConnection, path: Path, feed: str, result: FileResult) -> None:
    conn.execute(
        "insert into audit.ingest_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            result.file_id,
            feed,
            result.dataset,
            display_name(path),
            str(path.parent / display_name(path)),
            file_date(path) if not path.is_symlink() else link_date(path),
            path.lstat().st_size if not path.is_symlink() else 0,  # never the target's size
            result.rows_received,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_rejected,
            result.rows_duplicate,
            result.status,
            safe_text(result.message),  # a message may quote a non-UTF-8 name; DuckDB takes only UTF-8
        ],
    )


def _header_names(header: list[str]) -> list[str]:
    """The file's column names as a person wrote them: spaces around them and a byte-order mark dropped."""
    return [h.strip().lstrip("\ufeff") for h in header]


def _contract_names(contract: Contract) -> set[str]:
    """The contract's column names, lower case: a header is matched without regard to case."""
    return {c.name.lower() for c in contract.columns}


def _header_problem(contract: Contract, header: list[str]) -> str | None:
    sent = {h.lower() for h in _header_names(header)}
    expected = _contract_names(contract)
    missing = [c for c in contract.required_columns if c.lower() not in sent]
    if not missing:
        return None
    unexpected = sorted(h for h in sent if h not in expected)
    return (
        f"missing required columns: {', '.join(missing)}"
        + (f"; unexpected columns: {', '.join(unexpected)}" if unexpected else "")
        + f"; the {contract.dataset} contract expects: {', '.join(c.name for c in contract.columns)}"
    )


def _unread_columns(contract: Contract, header: list[str]) -> tuple[str, ...]:
    """The file's columns the contract does not name, which a load drops: a renamed column would vanish unsaid. A
    name starting with '_' is crossdock's own (a quarantine export's reason and source columns)."""
    expected = _contract_names(contract)
    return tuple(h for h in _header_names(header) if h and h.lower() not in expected and not h.startswith("_"))


def _load_checked_rows(
    conn: duckdb.DuckDBPyConnection,
    contract: Contract,
    header: list[str],
    file_id: str,
    as_of: dt.date,
    pii_salt: str,
    source: str = "landed",
    record_source: tuple[str, list[str]] | None = None,
    mapping: FeedMapping | None = None,
    plausibility: Plausibility = Plausibility(),
    kept: KeptRows | None = None,
) -> tuple[int, int, int]:
    """Insert the file's good rows and quarantine the rest; returns (loaded, quarantined, duplicate).

    The rows as checked are `checked`; each step of the checks adds the rows
    it fails to `feeds.findings`, and the load reads the rest.
    """
    use_pii_key(conn, pii_salt)
    plain = source == "landed" and has_plain_values(conn, source)  # a mapped source's values are the mapping's, not the file's
    create_checked(conn, checked_values_sql(contract, header, source, plain=plain), copy=not plain)
    create_findings(conn)
    add_findings(conn, CONTRACT_STEP, failing_rows_sql(contract))
    add_findings(conn, REPEATED_KEY_STEP, repeated_keys_sql(contract))  # the last row of a key wins; earlier ones are quarantined
    add_findings(conn, FLAGGED_STEP, flagged_rows_sql())  # a NUL byte or an over-long value found on reading
    check_plausibility(conn, contract, as_of, plausibility)  # the merchant's own limits, not the contract's
    loaded = insert_new_versions(conn, contract, file_id, as_of, kept)
    record_table, record_header = record_source or (source, header)
    pii_columns = _pii_record_columns(contract, record_header, mapping)
    # the record: the values as sent (from the file's own layout when it was mapped); the contract record: the
    # contract's columns as read, customer ids as their pseudonym, so a fix file in this layout keeps each line's
    # identity (a mapped source's derived line numbers included) when it comes back. Built for the quarantined
    # rows only.
    contract_record = "to_json(struct_pack(" + ", ".join(
        f"{ident(col.name)} := {pseudonym('checked.' + ident(col.name)) if col.pii else 'checked.' + ident(col.name)}"
        for col in contract.columns
    ) + "))"
    conn.execute(
        "insert into audit.quarantine (file_id, dataset, row_number, reason_code, reason, record, quarantined_at, contract_record) "
        f"select ?, ?, failed._row_number, failed.reason_code, failed.reason, {record_json_sql(record_header, pii_columns, 'sent')}, "
        f"now(), {contract_record} "
        f"from ({failed_rows_sql()}) as failed "
        "inner join checked on checked._row_number = failed._row_number "
        f"inner join {ident(record_table)} as sent on sent._row_number = failed._row_number "
        "order by failed._row_number",
        [file_id, contract.dataset],
    )
    quarantined = failed_row_count(conn)
    [(rows,)] = conn.execute("select count(*) from checked").fetchall()
    return int(loaded), quarantined, int(rows) - quarantined - int(loaded)


def _pii_record_columns(contract: Contract, record_header: list[str], mapping: FeedMapping | None) -> list[str]:
    """The columns of the file as sent that are kept only as pseudonyms in audit.quarantine.record.

    A contract-layout file: its PII contract columns. A mapped file: those the
    mapping marks personal and the sources of its PII columns (FeedMapping.personal_columns).
    """
    if mapping is not None:
        return mapping.personal_columns(record_header)
    pii = [c.name for c in contract.columns if c.pii]
    return [h for h in record_header if h.strip().lstrip("\ufeff").lower() in pii]


def ingest_file(
    conn: duckdb.DuckDBPyConnection, path: Path, feed: str, pii_salt: str, plausibility: Plausibility = Plausibility(),
    kept: KeptRows | None = None,
) -> FileResult:
    """Ingest one file in one transaction; a failure leaves no trace of it but the exception.

    `kept`: the warehouse the rows are kept in when it is not `conn` (feeds/kept_rows.py).
    """
    outside = outside_problem(path, feed)
    if outside is not None:
        return reject_link(conn, path, feed, outside, kept)
    file_id = file_sha256(path)
    name = display_name(path)  # undecodable bytes of a non-UTF-8 name as \xNN: safe to store and print
    mapping_path = mapping_for(path, feed)
    mapping: FeedMapping | None = None
    problem: str | None = None
    rejected_rows = 0  # lines of a file rejected on reading, counted as rejected
    if mapping_path is not None and mapping_path.is_symlink():
        problem = f"{MAPPING_FILE} of its source folder is a symbolic link; crossdock reads only files inside the landing folder"
        mapping_path = None
    if mapping_path is not None:
        try:
            mapping = load_mapping(mapping_path)
        except MappingError as exc:
            problem = f"bad mapping {mapping_path}: {exc}"
    contract = mapping.contract if mapping is not None else contract_for_file(feed, path.name)
    loaded_as = _loaded_as(conn, file_id, kept)
    if loaded_as is not None:  # every run sees the files it loaded before; a copy under another name is said
        copy_of = loaded_as if loaded_as and loaded_as != name else None
        message = f"the same bytes as {copy_of}, already loaded: nothing added" if copy_of else "same content already loaded"
        return FileResult(name, file_id, contract.dataset if contract else None, "skipped", message=message, copy_of=copy_of)
    if problem is None and contract is None:
        problem = f"no {feed} contract matches the file name '{name}'"
    if problem is None:
        # read before the transaction: a file DuckDB fails on half-way must not abort it
        try:
            header = land_file(conn, path)
        except UnreadableFile as exc:
            problem = str(exc)
            rejected_rows = exc.rows  # a repeated column, a JSON file without one object: its lines, unread

    with transaction(conn):
        if problem is not None:
            result = FileResult(
                display_name(path), file_id, contract.dataset if contract else None, "rejected",
                rows_received=rejected_rows, rows_rejected=rejected_rows, message=problem,
            )
        else:
            result = _check_and_load(conn, path, file_id, contract, header, mapping, pii_salt, plausibility, kept)
        _write_ledger(conn, path, feed, result)
    if result.status == "rejected":
        moved = move_to_rejected(path, result.file_id, result.message, feed)
        log.warning("%s/%s rejected (moved to %s): %s", feed, display_name(path), moved, result.message)
    else:
        log.info(
            "%s/%s: %s rows loaded, %s quarantined, %s duplicates skipped",
            feed, display_name(path), result.rows_loaded, result.rows_quarantined, result.rows_duplicate,
        )
    return result


MASK_FUNCTION = "crossdock_masked_line"


def _quarantine_bad_lines(
    conn: duckdb.DuckDBPyConnection, contract: Contract, file_id: str, header: list[str], mapping: FeedMapping | None, pii_salt: str
) -> int:
    """Quarantine the lines `land_file` could not read as rows, one row each; returns how many.

    The record keeps the line as sent (shortened, so a 50 MB line does not
    bloat the warehouse) and its line number; the values of personal columns
    are replaced by a keyed hash first (`masked_line`), as in any quarantine record.
    """
    bad = bad_lines_table("landed")
    count = conn.execute(f"select count(*) from {bad}").fetchall()[0][0]
    if not count:
        return 0
    personal = _pii_record_columns(contract, header, mapping)
    line = "raw_line"
    if personal:
        delimiter, key = landed_delimiter(conn), pii_salt.encode("utf-8")

        def mask(value: str) -> str:
            return "sha256:" + hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

        conn.create_function(MASK_FUNCTION, lambda text: masked_line(text, header, personal, delimiter, mask), ["VARCHAR"], "VARCHAR")
        line = f"{MASK_FUNCTION}(raw_line)"
    try:
        conn.execute(
            "insert into audit.quarantine (file_id, dataset, row_number, reason_code, reason, record, quarantined_at, contract_record) "
            f"select ?, ?, _row_number, reason_code, reason, to_json(struct_pack(_line_number := line_number, _raw_line := "
            f"{shortened_sql(line, 'raw_length')})), now(), null from {bad} order by _row_number",
            [file_id, contract.dataset],
        )
    finally:
        if personal:
            conn.remove_function(MASK_FUNCTION)
    return int(count)


def reject_link(
    conn: duckdb.DuckDBPyConnection, path: Path, feed: str, message: str, kept: KeptRows | None = None
) -> FileResult:
    """Record a link (or a path out of landing) once as rejected and move the link itself to landing/rejected/.

    Its id is a hash of its path, not of the content: the target is never
    opened. A link that could not be moved is not recorded again on the next run.
    """
    file_id = hashlib.sha256(b"not read: " + os.fsencode(path)).hexdigest()
    contract = contract_for_file(feed, path.name)
    result = FileResult(display_name(path), file_id, contract.dataset if contract else None, "rejected", message=message)
    recorded = conn.execute("select 1 from audit.ingest_ledger where file_id = ? limit 1", [file_id]).fetchall()
    if not recorded and not (kept is not None and kept.recorded(file_id, loaded_only=False)):
        with transaction(conn):
            _write_ledger(conn, path, feed, result)
    if path.is_symlink():
        try:
            moved = move_to_rejected(path, result.file_id, result.message, feed)
        except OSError as exc:  # a link that cannot be moved must not stop the feed's other files: it stays, recorded once
            log.warning("%s/%s rejected, but the link could not be moved (%s): %s", feed, display_name(path), exc.strerror, message)
        else:
            log.warning("%s/%s rejected (the link moved to %s): %s", feed, display_name(path), moved, message)
    return result


def _check_and_load(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    file_id: str,
    contract: Contract,
    header: list[str],
    mapping: FeedMapping | None,
    pii_salt: str,
    plausibility: Plausibility = Plausibility(),
    kept: KeptRows | None = None,
) -> FileResult:
    """Map (if the source has a mapping), check the header, then check and load the rows of `landed`
    and quarantine the lines that were no rows (`land_file`'s bad lines)."""
    received = conn.execute(f"select (select count(*) from landed) + (select count(*) from {bad_lines_table('landed')})").fetchall()[0][0]
    file_header = header
    source, record_source = "landed", None
    if path.stat().st_size == 0:  # DuckDB reads it as one column 'column0': say what it is, not that columns are missing
        return FileResult(display_name(path), file_id, contract.dataset, "rejected", rows_received=received, rows_rejected=received,
                          message="the file is empty (0 bytes): an export that failed or was still being written; "
                                  "land it again once it is whole")
    if mapping is not None:
        try:
            mapped_header = apply_mapping(conn, mapping, source_table="landed", target_table="mapped")
        except MappingError as exc:
            return FileResult(display_name(path), file_id, contract.dataset, "rejected", rows_received=received, rows_rejected=received, message=str(exc))
        source, record_source, header = "mapped", ("landed", header), mapped_header
    problem = _header_problem(contract, header)
    if problem and mapping is None and (known := shipped_mapping_for(contract.dataset, header)):
        problem = (f"laid out as a {known} export, which crossdock reads through a mapping: put it in a source "
                   f"folder, landing/{path.parent.name}/<source>/, beside a {MAPPING_FILE} saying `extends: {known}` "
                   f"(docs/mappings.md). {problem}")
    if problem:
        return FileResult(display_name(path), file_id, contract.dataset, "rejected", rows_received=received, rows_rejected=received, message=problem)
    loaded, quarantined, duplicate = _load_checked_rows(
        conn, contract, header, file_id, file_date(path), pii_salt, source=source, record_source=record_source, mapping=mapping,
        plausibility=plausibility, kept=kept,
    )
    quarantined += _quarantine_bad_lines(conn, contract, file_id, file_header, mapping, pii_salt)
    unread: tuple[str, ...] = ()  # a mapping says what it reads
    if mapping is None:
        record_fixes(conn, file_id, header)  # a fix file (feeds/quarantine.py) is in the contract's layout
        unread = _unread_columns(contract, header)
    notes = [future_date_note(path),
             f"columns not in the {contract.dataset} contract, not loaded: {', '.join(unread)}" if unread else None]
    return FileResult(
        display_name(path), file_id, contract.dataset, "loaded", received, loaded, quarantined, rows_duplicate=duplicate,
        message="; ".join(n for n in notes if n), unread_columns=unread,
    )


def file_warnings(feed: str, results: list[FileResult]) -> list[str]:
    """What a person should hear of a run's files: each file rejected, each with rows quarantined, each copy of a
    file already loaded (its rows are not loaded twice, and nothing else says it was not read)."""
    warnings = []
    for r in results:
        if r.status == "rejected":
            warnings.append(f"rejected {feed}/{r.file_name}: {r.message}")
        elif r.status == "loaded" and r.rows_quarantined:
            warnings.append(f"{feed}/{r.file_name}: {r.rows_quarantined:,} of {r.rows_received:,} rows quarantined; "
                            f"`crossdock quarantine --dataset {r.dataset}` lists them with their reasons")
        elif r.status == "waiting":
            warnings.append(f"waiting {feed}/{r.file_name}: {r.message}")
        elif r.status == "skipped" and r.copy_of:
            warnings.append(f"skipped {feed}/{r.file_name}: {r.message} (remove the copy from the landing folder)")
        if r.status == "loaded" and r.unread_columns:  # besides any quarantined rows
            warnings.append(f"{feed}/{r.file_name}: column{'s' if len(r.unread_columns) > 1 else ''} "
                            f"{', '.join(r.unread_columns)} not in the {r.dataset} contract, not loaded (a renamed "
                            "column is lost so too: docs/feeds.md lists each contract's columns)")
    return warnings


def ingest_feed(
    conn: duckdb.DuckDBPyConnection,
    landing: Path,
    feed: str,
    pii_salt: str,
    between: tuple[dt.date, dt.date] | None = None,
    plausibility: Plausibility = Plausibility(),
    kept: KeptRows | None = None,
    settle_seconds: float = 0.0,
) -> list[FileResult]:
    """Ingest every file of one feed that has not been ingested yet.

    `between` (inclusive) limits the run to files whose as-of date falls in
    that range, which is how a daily-partitioned run picks its files.
    `plausibility` holds crossdock.yaml's limits (quantities, earliest order
    date, nodes); the default, before there is a file, learns them from the
    merchant's lines and lets every node pass (feeds.plausibility).
    `kept`: the warehouse the rows are kept in when it is not `conn` (Spark:
    feeds/kept_rows.py); what the feed's files loaded goes there at the end.
    `settle_seconds`: a file changed more recently than this may still be
    being written (an export copied in); it is left waiting, untouched, for a
    later run. The runs the daemon starts set it; a person's run does not.
    """
    ensure_schema(conn)
    links = [reject_link(conn, link, feed, outside_problem(link, feed) or "", kept) for link in landing_links(landing, feed)]
    paths = landing_files(landing, feed)
    if between is not None:
        paths = [p for p in paths if between[0] <= file_date(p) <= between[1]]
    now = time.time()
    changing = {p: age for p in paths if settle_seconds > 0 and (age := now - p.stat().st_mtime) < settle_seconds}
    waiting = [FileResult(display_name(p), "", getattr(contract_for_file(feed, p.name), "dataset", None), "waiting",
                          message=f"changed {age:.0f} s ago: it may still be being written; a later run ingests it")
               for p, age in changing.items()]
    results = links + waiting + [ingest_file(conn, path, feed, pii_salt, plausibility, kept)
                                 for path in paths if path not in changing]
    if kept is not None:
        kept.keep(feed, [r.file_id for r in results if r.status == "loaded"],
                  [r.file_id for r in results if r.status in ("loaded", "rejected")])
    return results
