"""Values not to store as sent: a NUL byte, a value too long to be one, a quote mark left open.

Found with one scan of the landed rows (`values_to_look_at`), as almost no
file has any; the rows holding one are listed in `flagged_rows_table` with a
reason, their values made safe to keep in the quarantine record, and the
ingest quarantines them with the row checks (`flagged_rows_sql`).
"""
from __future__ import annotations

import duckdb

from feeds.landed import (
    MALFORMED_LINE,
    MAX_VALUE_CHARS,
    NUL_BYTE,
    VALUE_TOO_LONG,
    flagged_rows_table,
    shortened_sql,
    sql_string,
    without_nul_sql,
)
from feeds.sql import ident


def values_to_look_at(conn: duckdb.DuckDBPyConnection, table: str, header: list[str], quotes: bool) -> tuple[bool, bool]:
    """(a value starts with a quote mark (CSV only), a value holds a NUL byte or is over-long): one scan of
    the landed rows for both, as almost every file has neither and each scan cost ~4% of the ingest."""
    if not header:
        return False, False
    # bytes, not characters: never fewer
    unsafe = " or ".join(f"contains({ident(h)}, chr(0)) or strlen({ident(h)}) > {MAX_VALUE_CHARS}" for h in header)
    quoted = " or ".join(f"starts_with({ident(h)}, '\"')" for h in header) if quotes else "false"
    [(any_quoted, any_unsafe)] = conn.execute(f"select coalesce(bool_or({quoted}), false), coalesce(bool_or({unsafe}), false) from {ident(table)}").fetchall()
    return bool(any_quoted), bool(any_unsafe)


def flag_unsafe_values(conn: duckdb.DuckDBPyConnection, table: str, header: list[str]) -> None:
    """List rows with a NUL byte or an over-long value in `flagged_rows_table(table)`, and make
    their values safe to keep in the quarantine record: NUL shown as ␀, long values shortened.

    A NUL byte cuts the value short in most tools downstream (C strings,
    terminals, the BI copies), so the row is not loaded: the merchant is told
    which column holds it.
    """
    flags = ident(flagged_rows_table(table))
    # called only when a cheap pass found such a value (`values_to_look_at`), as almost every file has none:
    # the lists below, built for every row, cost more than reading the file
    nul = [f"case when contains({ident(h)}, chr(0)) then {sql_string(h)} end" for h in header]
    long = [f"case when length({ident(h)}) > {MAX_VALUE_CHARS} then {sql_string(h)} end" for h in header]
    conn.execute(
        f"""
        insert into {flags}
        select _row_number,
            case when nul_columns <> [] then {sql_string(NUL_BYTE)} else {sql_string(VALUE_TOO_LONG)} end,
            concat_ws('; ',
                case when nul_columns <> [] then 'a NUL byte (shown as ␀) in ' || array_to_string(nul_columns, ', ') end,
                case when long_columns <> [] then 'a value longer than {MAX_VALUE_CHARS:,} characters in '
                    || array_to_string(long_columns, ', ') || ' (kept shortened)' end)
        from (
            select _row_number, list_filter([{', '.join(nul)}], lambda c: c is not null) as nul_columns,
                list_filter([{', '.join(long)}], lambda c: c is not null) as long_columns
            from {ident(table)}
        ) as found
        where nul_columns <> [] or long_columns <> []
        """
    )
    if conn.execute(f"select count(*) from {flags} where reason_code <> {sql_string(MALFORMED_LINE)}").fetchall()[0][0]:
        safe = ", ".join(f"{ident(h)} = {shortened_sql(without_nul_sql(ident(h)))}" for h in header)
        conn.execute(f"update {ident(table)} set {safe} where _row_number in (select _row_number from {flags})")


def flagged_rows_sql(checked: str = "checked", table: str = "landed") -> str:
    """SQL selecting (_row_number, reason_code, reason) for the rows of `checked` that `land_file` flagged in `table`
    (NUL byte, over-long value, open quote), one row each.

    Quarantined with the row checks' findings (`feeds.findings`): their reason
    comes first and the contract's own findings follow, so a merchant fixing
    the line sees every problem at once.
    """
    return f"""
select _row_number, min(reason_code) as reason_code, string_agg(reason, '; ' order by reason_code) as reason
from {ident(flagged_rows_table(table))}
where _row_number in (select _row_number from {ident(checked)})
group by _row_number
"""
