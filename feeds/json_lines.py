"""Land a JSON Lines file line by line, so one broken line is quarantined and the others load."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

from feeds import landed
from feeds.landed import MALFORMED_LINE, UnreadableFile, bad_lines_table, show_nul_in_bad_lines, sql_string
from feeds.sql import ident


def land_json_lines(conn: duckdb.DuckDBPyConnection, readable: Path, table: str) -> None:
    """Read JSON Lines line by line, so one broken line (a truncated last line, a line that is
    not an object, a key written twice) is quarantined and the others load.

    read_json stops at the first bad line and does not say which. DuckDB's CSV
    reader with no delimiter and no quoting returns the file's lines with
    their numbers, streaming; its JSON functions check and split each line.
    Every value is read as text (json_transform to VARCHAR, as read_json with
    VARCHAR columns did): type detection would rewrite values (a timestamp
    string comes back converted to UTC, losing the local day).
    """
    lines = f"{table}_lines"
    conn.execute(
        f"create or replace temp table {ident(lines)} as select row_number() over () as line_number, line from read_csv(?, "
        "columns = {'line': 'VARCHAR'}, header = false, delim = '\\0', quote = '', escape = '', auto_detect = false, "
        f"strict_mode = false, max_line_size = {landed.MAX_LINE_BYTES}, encoding = 'utf-8')",
        [str(readable)],
    )
    conn.execute(
        f"""
        create or replace temp table {ident(lines + '_checked')} as
        select row_number() over (order by line_number) as _row_number, line_number, line,
            case
                when doc is null then 'is not JSON' || case when line_number = (select max(line_number) from {ident(lines)})
                    then ' (it is the last line: was the file cut short?)' else '' end
                when json_type(doc) <> 'OBJECT' then 'is not a JSON object but ' || lower(json_type(doc))
                when len(json_keys(doc)) <> len(list_distinct(json_keys(doc))) then 'names a key twice: '
                    || list_filter(json_keys(doc), lambda k, i: list_position(json_keys(doc), k) < i)[1]
            end as problem
        from (select line_number, line, try_cast(line as json) as doc from {ident(lines)}) as parsed
        where trim(coalesce(line, ''), ' \t\r') <> ''
        """
    )
    conn.execute(
        f"insert into {ident(bad_lines_table(table))} select _row_number, line_number, {sql_string(MALFORMED_LINE)}, "
        f"'line ' || format('{{:,}}', line_number) || ' of the file ' || problem, rtrim(line, chr(13)), length(rtrim(line, chr(13))) "
        f"from {ident(lines + '_checked')} where problem is not null"
    )
    show_nul_in_bad_lines(conn, table)
    keys = [
        row[0]
        for row in conn.execute(
            f"""
            select key from (
                select unnest(json_keys(line)) as key, line_number, generate_subscripts(json_keys(line), 1) as place
                from {ident(lines + '_checked')} where problem is null
            ) group by key order by min(line_number * 1000000 + place)
            """
        ).fetchall()
    ]
    if not keys:  # nothing to load: the file is rejected, saying why its first line is not a row
        bad = conn.execute(f"select count(*), min_by(reason, _row_number) from {ident(bad_lines_table(table))}").fetchall()[0]
        raise UnreadableFile(f"no line is a JSON object; {bad[1]}" if bad[0] else "no JSON objects found", rows=bad[0])
    structure = json.dumps({key: "VARCHAR" for key in keys})
    conn.execute(
        f"create or replace temp table {ident(table)} as select _row_number, unnest(json_transform(line, ?)) "
        f"from {ident(lines + '_checked')} where problem is null order by _row_number",
        [structure],
    )
    for helper in (lines, lines + "_checked"):  # each holds the whole file's text
        conn.execute(f"drop table {ident(helper)}")
