"""Load landing files into `raw.*`, one file per transaction, each file once.

A file is identified by the SHA-256 of its bytes, so loading the same content
again (even under another name) changes nothing. Every row ends in its raw
table or in `audit.quarantine` with a reason, and `audit.ingest_ledger` records
per file: rows_received = rows_loaded + rows_quarantined + rows_rejected.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from feeds.audit import ensure_schema
from feeds.contracts import Contract, contract_for_file
from feeds.readers import SUPPORTED_SUFFIXES, UnreadableFile, land_file
from feeds.row_checks import checked_rows_sql, typed
from feeds.sql import ident, literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    file_name: str
    file_id: str
    dataset: str | None
    status: str  # loaded | rejected | skipped (already ingested)
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_rejected: int = 0
    message: str = ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(landing: Path, feed: str) -> list[Path]:
    """Files waiting in landing/<feed>/, in name order (sub-folders such as rejected/ are not read)."""
    folder = landing / feed
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _already_ingested(conn: duckdb.DuckDBPyConnection, file_id: str) -> str | None:
    # fetchall, not fetchone: DuckDB 2 refuses new work while a result is half-read.
    rows = conn.execute("select status from audit.ingest_ledger where file_id = ? limit 1", [file_id]).fetchall()
    return rows[0][0] if rows else None


def _write_ledger(conn: duckdb.DuckDBPyConnection, path: Path, feed: str, result: FileResult) -> None:
    conn.execute(
        "insert into audit.ingest_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            result.file_id,
            feed,
            result.dataset,
            path.name,
            str(path),
            path.stat().st_size,
            result.rows_received,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_rejected,
            result.status,
            result.message,
        ],
    )


def _header_problem(contract: Contract, header: list[str]) -> str | None:
    sent = {h.strip().lstrip("\ufeff").lower() for h in header}
    expected = {c.name.lower() for c in contract.columns}
    missing = [c for c in contract.required_columns if c.lower() not in sent]
    if not missing:
        return None
    unexpected = sorted(h for h in sent if h not in expected)
    return (
        f"missing required columns: {', '.join(missing)}"
        + (f"; unexpected columns: {', '.join(unexpected)}" if unexpected else "")
        + f"; the {contract.dataset} contract expects: {', '.join(c.name for c in contract.columns)}"
    )


def _load_checked_rows(conn: duckdb.DuckDBPyConnection, contract: Contract, header: list[str], file_id: str, pii_salt: str) -> tuple[int, int]:
    conn.execute(f"create or replace temp table checked as {checked_rows_sql(contract, header)}")
    targets, values = [], []
    for col in contract.columns:
        targets.append(ident(col.target_name))
        v = ident(col.name)
        values.append(f"sha256({literal(pii_salt)} || {v})" if col.pii else typed(col, v))
    for derived in contract.derived:
        targets.append(ident(derived.name))
        values.append(derived.sql.format(**{c.name: ident(c.name) for c in contract.columns}))
    conn.execute(
        f"insert into {contract.table} ({', '.join(targets)}, _file_id, _row_number, _ingested_at) "
        f"select {', '.join(values)}, ?, _row_number, now() from checked where reason_code is null order by _row_number",
        [file_id],
    )
    conn.execute(
        "insert into audit.quarantine select ?, ?, _row_number, reason_code, reason, _record, now() "
        "from checked where reason_code is not null order by _row_number",
        [file_id, contract.dataset],
    )
    loaded, quarantined = conn.execute(
        "select count(*) filter (where reason_code is null), count(*) filter (where reason_code is not null) from checked"
    ).fetchall()[0]
    return int(loaded), int(quarantined)


def ingest_file(conn: duckdb.DuckDBPyConnection, path: Path, feed: str, pii_salt: str) -> FileResult:
    """Ingest one file in one transaction; a failure leaves no trace of it but the exception."""
    file_id = file_sha256(path)
    contract = contract_for_file(feed, path.name)
    previous = _already_ingested(conn, file_id)
    if previous is not None:
        return FileResult(path.name, file_id, contract.dataset if contract else None, "skipped", message=f"same content already {previous}")

    conn.execute("begin transaction")
    try:
        result = _ingest_in_transaction(conn, path, feed, file_id, contract, pii_salt)
        _write_ledger(conn, path, feed, result)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    log.info("%s/%s: %s, %s rows loaded, %s quarantined %s", feed, path.name, result.status, result.rows_loaded, result.rows_quarantined, result.message)
    return result


def _ingest_in_transaction(
    conn: duckdb.DuckDBPyConnection, path: Path, feed: str, file_id: str, contract: Contract | None, pii_salt: str
) -> FileResult:
    if contract is None:
        return FileResult(path.name, file_id, None, "rejected", message=f"no {feed} contract matches the file name '{path.name}'")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return FileResult(path.name, file_id, contract.dataset, "rejected", message=f"unsupported file type '{path.suffix}'")
    try:
        header = land_file(conn, path)
    except UnreadableFile as exc:
        return FileResult(path.name, file_id, contract.dataset, "rejected", message=str(exc))
    received = conn.execute("select count(*) from landed").fetchall()[0][0]
    problem = _header_problem(contract, header)
    if problem:
        return FileResult(path.name, file_id, contract.dataset, "rejected", rows_received=received, rows_rejected=received, message=problem)
    loaded, quarantined = _load_checked_rows(conn, contract, header, file_id, pii_salt)
    return FileResult(path.name, file_id, contract.dataset, "loaded", received, loaded, quarantined)


def ingest_feed(conn: duckdb.DuckDBPyConnection, landing: Path, feed: str, pii_salt: str) -> list[FileResult]:
    """Ingest every file of one feed that has not been ingested yet."""
    ensure_schema(conn)
    return [ingest_file(conn, path, feed, pii_salt) for path in landing_files(landing, feed)]
