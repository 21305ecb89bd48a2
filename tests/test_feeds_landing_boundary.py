"""Landing is a boundary, and one bad line never rejects a whole file (issue 14, parts 5, 6 and 11).

Each test lands one kind of bad input beside good lines and checks what a
merchant sees: the good lines load, the bad one is its own quarantine row with
its line in the file, the ledger balances; a link is rejected without its
target being read, quoted or moved.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pytest

from feeds.ingest import ingest_feed
from feeds.landing_folder import landing_files, landing_links

HEADER = "order_id,line_id,ordered_at,channel,customer_id,sku,quantity,unit_price,currency,ship_to_country,fulfilment_node"
SYSTEM_FILE = Path("/etc/passwd")


def good(n: int, customer: str = "C-1") -> str:
    return f"A{n},1,2025-01-03T10:00:00Z,web,{customer},SKU-1,1,9.99,EUR,DE,NL-AMS"


def good_event(n: int) -> str:
    return json.dumps({
        "event_id": f"E{n}", "shipment_id": "S1", "carrier": "DHL", "service": "x", "origin_node": "N", "origin_country": "NL",
        "destination_country": "GB", "event_type": "delivered", "event_at": "2025-01-03T10:00:00Z",
    })


@pytest.fixture()
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def land(tmp_path: Path, relative: str, data: str | bytes) -> Path:
    path = tmp_path / "landing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def ingest(conn, tmp_path: Path, feed: str = "orders"):
    [result] = ingest_feed(conn, tmp_path / "landing", feed, "salt")
    assert result.rows_received == result.rows_loaded + result.rows_quarantined + result.rows_rejected + result.rows_duplicate
    [ledger] = conn.execute(
        "select rows_received, rows_loaded + rows_quarantined + rows_rejected + rows_duplicate from audit.ingest_ledger where file_id = ?",
        [result.file_id],
    ).fetchall()
    assert ledger[0] == ledger[1] == result.rows_received
    return result


def quarantined(conn) -> list[tuple]:
    return conn.execute("select row_number, reason_code, reason, record from audit.quarantine order by row_number").fetchall()


def loaded_ids(conn, table: str = "raw.orders", key: str = "order_id") -> list[str]:
    return [r[0] for r in conn.execute(f"select {key} from {table} order by _row_number").fetchall()]


# --------------------------------------------------------------------------- ragged and unparseable lines
@pytest.mark.parametrize(
    ("label", "bad"),
    [("too many fields", good(90) + ",extra,fields"), ("too few fields", ",".join(good(90).split(",")[:5]))],
)
def test_a_ragged_line_is_its_own_quarantine_row_and_the_rest_loads(tmp_path, conn, label, bad):
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), good(2), bad, good(3), good(4)]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.status, result.rows_received, result.rows_loaded, result.rows_quarantined) == ("loaded", 5, 4, 1)
    assert loaded_ids(conn) == ["A1", "A2", "A3", "A4"]
    [(row, code, reason, record)] = quarantined(conn)
    fields = len(bad.split(","))
    assert (row, code) == (3, "malformed_line")
    assert reason.startswith(f"line 4 of the file has {fields} fields, the header has 11")
    kept = json.loads(record)
    assert kept["_line_number"] == 4
    # the line as sent up to the first place the customer id may have shifted to; from there on only pseudonyms
    shown = kept["_raw_line"].split(",")
    assert len(shown) == fields and "C-1" not in record
    first_hidden = max(0, 4 - max(0, 11 - fields))
    assert shown[:first_hidden] == bad.split(",")[:first_hidden] and all(f.startswith("sha256:") for f in shown[first_hidden:])
    # the good rows keep their own numbers around the bad one
    assert conn.execute("select _row_number from raw.orders order by 1").fetchall() == [(1,), (2,), (4,), (5,)]


def test_a_ragged_first_line_does_not_reject_the_file(tmp_path, conn):
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(90) + ",x", good(1), good(2)]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 1)
    [(row, code, reason, _)] = quarantined(conn)
    assert (row, code) == (1, "malformed_line") and reason.startswith("line 2 of the file has 12 fields")


def test_a_ragged_line_deep_in_a_big_file_is_found_at_its_line(tmp_path, conn):
    lines = [good(n) for n in range(1, 30_001)] + [good(99_999) + ",x"] + [good(n) for n in range(30_001, 30_003)]
    land(tmp_path, "orders/orders_a.csv", HEADER + "\n" + "\n".join(lines) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.rows_received, result.rows_loaded, result.rows_quarantined) == (30_003, 30_002, 1)
    [(row, code, reason, _)] = quarantined(conn)
    assert (row, code) == (30_001, "malformed_line")
    assert reason.startswith("line 30,002 of the file has 12 fields")
    assert conn.execute("select max(_row_number), count(distinct _row_number) from raw.orders").fetchall() == [(30_003, 30_002)]


def test_the_line_number_is_the_editors_line_after_a_value_spanning_lines_and_blank_lines(tmp_path, conn):
    two_lines = good(1).replace("SKU-1", '"SKU\n1"')
    body = "\n".join([HEADER, two_lines, "", good(2), good(90)[:20], good(3)]) + "\n"
    land(tmp_path, "orders/orders_a.csv", body)
    result = ingest(conn, tmp_path)
    assert (result.rows_received, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    [(row, _, reason, _)] = quarantined(conn)
    assert row == 3  # the third row of the file: rows are counted, blank lines are not
    assert reason.startswith("line 6 of the file has")  # header, two lines of the first row, a blank line, a good row
    assert conn.execute("select _row_number from raw.orders order by 1").fetchall() == [(1,), (2,), (4,)]


def test_a_truncated_last_json_line_is_quarantined_and_the_others_load(tmp_path, conn):
    body = "\n".join([good_event(1), good_event(2), good_event(3)[:-25]])
    land(tmp_path, "carriers/tracking_a.jsonl", body)
    result = ingest(conn, tmp_path, "carriers")
    assert (result.status, result.rows_received, result.rows_loaded, result.rows_quarantined) == ("loaded", 3, 2, 1)
    assert loaded_ids(conn, "raw.carrier_events", "event_id") == ["E1", "E2"]
    [(row, code, reason, record)] = quarantined(conn)
    assert (row, code) == (3, "malformed_line")
    assert reason == "line 3 of the file is not JSON (it is the last line: was the file cut short?)"
    assert json.loads(record)["_raw_line"] == good_event(3)[:-25]


@pytest.mark.parametrize(
    ("bad", "says"),
    [("this is not json", "is not JSON"), ("[1, 2, 3]", "is not a JSON object but array"),
     ('{"event_id": "E9", "event_id": "E8"}', "names a key twice: event_id")],
)
def test_a_json_line_that_is_not_one_object_is_quarantined_at_its_line(tmp_path, conn, bad, says):
    land(tmp_path, "carriers/tracking_a.jsonl", "\n".join([good_event(1), "", bad, good_event(2)]) + "\n")
    result = ingest(conn, tmp_path, "carriers")
    assert (result.rows_received, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [(row, code, reason, _)] = quarantined(conn)
    assert (row, code, reason) == (2, "malformed_line", f"line 3 of the file {says}")


def test_a_huge_line_is_its_own_row_at_its_true_line_and_is_stored_shortened(tmp_path, conn):
    huge = good(90).replace("SKU-1", "H" * 3_000_000)  # beyond DuckDB's 2 MB default line size
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), good(2), good(3), huge, good(4)]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.rows_received, result.rows_loaded, result.rows_quarantined) == (5, 4, 1)
    [(row, code, reason, record)] = quarantined(conn)
    assert (row, code) == (4, "value_too_long")
    assert "in sku" in reason
    assert len(record) < 3_000 and "3,000,000 characters, shortened" in json.loads(record)["sku"]
    contract_record = conn.execute("select contract_record from audit.quarantine").fetchall()[0][0]
    assert len(contract_record) < 3_000


def test_a_huge_ragged_line_keeps_its_line_number_and_a_short_record(tmp_path, conn):
    header, row = "snapshot_date,node,sku,on_hand", "2025-01-03,NL-AMS,SKU-{n},5"
    huge = "2025-01-03,NL-AMS," + "H" * 3_000_000 + ",5,x"
    land(tmp_path, "inventory/inventory_2025-01-03.csv", "\n".join([header, row.format(n=1), huge, row.format(n=2)]) + "\n")
    result = ingest(conn, tmp_path, "inventory")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    [(row_number, code, reason, record)] = quarantined(conn)
    assert (row_number, code) == (2, "malformed_line") and reason.startswith("line 3 of the file has 5 fields, the header has 4")
    shown = json.loads(record)["_raw_line"]
    assert len(record) < 3_000 and shown.startswith("2025-01-03,NL-AMS,HHH") and shown.endswith(" … [3,000,022 characters, shortened]")


def test_a_quote_never_closed_quarantines_the_lines_read_with_quote_marks(tmp_path, conn):
    # DuckDB's sniffer then reads the file without quoting: the open quote, and a correctly quoted value, would keep their marks
    quoted = good(2).replace("SKU-1", '"SKU-1"')
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), quoted, good(3), good(90).replace("SKU-1", '"OPEN')]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 2)
    assert [(r[0], r[1]) for r in quarantined(conn)] == [(2, "malformed_line"), (4, "malformed_line")]
    assert quarantined(conn)[1][2].startswith("sku starts with a quote mark, but a quote in this file is never closed")
    assert conn.execute("select count(*) from raw.orders where contains(sku, '\"')").fetchall() == [(0,)]


def test_a_quote_inside_a_value_is_text(tmp_path, conn):
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1).replace("SKU-1", 'Pizza 12" large'), good(2)]) + "\n")
    assert ingest(conn, tmp_path).rows_loaded == 2
    assert conn.execute("select sku from raw.orders order by 1").fetchall() == [("Pizza 12\" large",), ("SKU-1",)]


# --------------------------------------------------------------------------- duplicate columns and NUL bytes
@pytest.mark.parametrize("second", ["sku", "SKU", " sku "])
def test_a_column_named_twice_rejects_the_file_naming_it(tmp_path, conn, second):
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER + f",{second}", good(1) + ",X", good(2) + ",Y"]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.status, result.rows_received, result.rows_rejected, result.rows_loaded) == ("rejected", 2, 2, 0)
    assert f"the column '{second.strip()}' appears twice in the header (columns 6 and 12)" in result.message
    reason = (tmp_path / "landing/rejected/orders/orders_a.csv.reason.txt").read_text(encoding="utf-8")
    assert "appears twice" in reason


def test_a_column_that_only_looks_like_a_renamed_repeat_is_not_one(tmp_path, conn):
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER + ",sku_1", good(1) + ",X"]) + "\n")
    assert ingest(conn, tmp_path).rows_loaded == 1


@pytest.mark.parametrize(("column", "fmt"), [("order_id", "csv"), ("sku", "csv"), ("order_id", "jsonl")])
def test_a_nul_byte_quarantines_the_row_naming_the_column_and_is_stored_nowhere(tmp_path, conn, column, fmt):
    values = dict(zip(HEADER.split(","), good(90).split(",")))
    values[column] = values[column][:2] + "\x00" + values[column][2:]
    if fmt == "csv":
        land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), ",".join(values.values()), good(2)]) + "\n")
    else:
        rows = [dict(zip(HEADER.split(","), good(n).split(","))) for n in (1, 2)]
        land(tmp_path, "orders/orders_a.jsonl", "\n".join(json.dumps(r) for r in [rows[0], values, rows[1]]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.rows_received, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [(row, code, reason, record)] = quarantined(conn)
    assert (row, code) == (2, "nul_byte") and f"NUL byte (shown as ␀) in {column}" in reason
    assert "\x00" not in record and "\\u0000" not in record and "␀" in record
    assert conn.execute("select count(*) from raw.orders where contains(order_id, chr(0)) or contains(sku, chr(0))").fetchall() == [(0,)]
    stored = conn.execute("select string_agg(coalesce(cast(contract_record as varchar), ''), '') from audit.quarantine").fetchall()[0][0]
    assert "\x00" not in stored and "\\u0000" not in stored


# --------------------------------------------------------------------------- links out of landing
def everything_stored(conn, landing: Path, caplog) -> str:
    texts = conn.execute(
        "select coalesce(message, '') || file_name || file_path from audit.ingest_ledger "
        "union all select reason || cast(record as varchar) from audit.quarantine"
    ).fetchall()
    reasons = [p.read_text(encoding="utf-8") for p in (landing / "rejected").rglob("*.reason.txt")]
    return "\n".join([t for (t,) in texts] + reasons + [caplog.text])


def test_a_link_to_a_file_outside_landing_is_rejected_unread_and_only_the_link_moves(tmp_path, conn, caplog):
    outside = tmp_path / "elsewhere" / "orders_2025-01-03.csv"
    outside.parent.mkdir()
    outside.write_text(HEADER + "\n" + good(1) + "\n", encoding="utf-8")
    (tmp_path / "landing/orders").mkdir(parents=True)
    link = tmp_path / "landing/orders/orders_2025-01-03.csv"
    link.symlink_to(outside)
    assert landing_files(tmp_path / "landing", "orders") == [] and landing_links(tmp_path / "landing", "orders") == [link]
    with caplog.at_level(logging.INFO):
        result = ingest(conn, tmp_path)
    assert (result.status, result.rows_received, result.rows_loaded) == ("rejected", 0, 0)
    assert result.message == ("orders_2025-01-03.csv is a symbolic link; crossdock reads only files inside the landing folder, "
                              "so it was not followed")
    assert conn.execute("select count(*) from raw.orders").fetchall() == [(0,)]
    assert not link.is_symlink() and (tmp_path / "landing/rejected/orders/orders_2025-01-03.csv").is_symlink()
    assert outside.read_text(encoding="utf-8") == HEADER + "\n" + good(1) + "\n"  # the target stays where it was
    assert "elsewhere" not in everything_stored(conn, tmp_path / "landing", caplog)
    # re-running records nothing new
    assert ingest_feed(conn, tmp_path / "landing", "orders", "salt") == []
    assert conn.execute("select count(*) from audit.ingest_ledger").fetchall() == [(1,)]


def test_a_link_to_a_system_file_puts_nothing_of_it_anywhere(tmp_path, conn, caplog):
    assert SYSTEM_FILE.is_file()
    link = tmp_path / "landing/orders/orders_passwd.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(SYSTEM_FILE)
    with caplog.at_level(logging.DEBUG):
        result = ingest(conn, tmp_path)
    assert result.status == "rejected"
    stored = everything_stored(conn, tmp_path / "landing", caplog)
    first_line = SYSTEM_FILE.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first_line not in stored and "root:" not in stored and str(SYSTEM_FILE) not in stored
    [(size,)] = conn.execute("select file_bytes from audit.ingest_ledger").fetchall()
    assert size == 0  # not even the target's size


def test_a_dangling_link_and_a_link_to_a_link_are_rejected_too(tmp_path, conn):
    folder = tmp_path / "landing/orders"
    folder.mkdir(parents=True)
    (folder / "orders_gone.csv").symlink_to(tmp_path / "nowhere.csv")
    (folder / "orders_hop.csv").symlink_to(folder / "orders_gone.csv")
    results = ingest_feed(conn, tmp_path / "landing", "orders", "salt")
    assert sorted((r.file_name, r.status) for r in results) == [("orders_gone.csv", "rejected"), ("orders_hop.csv", "rejected")]
    assert list(folder.iterdir()) == []


def test_a_linked_source_folder_is_not_followed(tmp_path, conn):
    outside = tmp_path / "elsewhere" / "shop"
    outside.mkdir(parents=True)
    (outside / "orders_2025-01-03.csv").write_text(HEADER + "\n" + good(1) + "\n", encoding="utf-8")
    (tmp_path / "landing/orders").mkdir(parents=True)
    link = tmp_path / "landing/orders/shop"
    link.symlink_to(outside, target_is_directory=True)
    result = ingest(conn, tmp_path)
    assert (result.file_name, result.status) == ("shop", "rejected") and "is a symbolic link" in result.message
    assert conn.execute("select count(*) from raw.orders").fetchall() == [(0,)]
    assert (outside / "orders_2025-01-03.csv").is_file() and not link.exists()


def test_a_linked_feed_folder_is_not_followed(tmp_path, conn):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "orders_2025-01-03.csv").write_text(HEADER + "\n" + good(1) + "\n", encoding="utf-8")
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing/orders").symlink_to(outside, target_is_directory=True)
    result = ingest(conn, tmp_path)
    assert result.status == "rejected" and conn.execute("select count(*) from raw.orders").fetchall() == [(0,)]
    assert (outside / "orders_2025-01-03.csv").is_file()


def test_a_linked_mapping_is_not_read(tmp_path, conn):
    secret = tmp_path / "elsewhere" / "mapping.yaml"
    secret.parent.mkdir()
    secret.write_text("extends: shopify_orders\n", encoding="utf-8")
    land(tmp_path, "orders/shop/export_2025-01-03.csv", HEADER + "\n" + good(1) + "\n")
    (tmp_path / "landing/orders/shop/mapping.yaml").symlink_to(secret)
    results = ingest_feed(conn, tmp_path / "landing", "orders", "salt")
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert "mapping.yaml is a symbolic link" in results[0].message


def test_a_link_that_cannot_be_moved_is_recorded_once_and_does_not_stop_the_feed(tmp_path, conn, monkeypatch):
    import feeds.ingest

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    land(tmp_path, "orders/orders_b.csv", HEADER + "\n" + good(1) + "\n")
    (tmp_path / "landing/orders/orders_a.csv").symlink_to(SYSTEM_FILE)
    monkeypatch.setattr(feeds.ingest, "move_to_rejected", refuse)
    for _ in range(2):
        statuses = [r.status for r in ingest_feed(conn, tmp_path / "landing", "orders", "salt")]
    assert statuses == ["rejected", "skipped"]  # the link again, unrecorded; the good file was loaded the first time
    assert conn.execute("select status, count(*) from audit.ingest_ledger group by 1 order by 1").fetchall() == [
        ("loaded", 1), ("rejected", 1)]


def test_a_file_with_bad_lines_loads_once(tmp_path, conn):
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), good(2) + ",x"]) + "\n")
    ingest(conn, tmp_path)
    assert [r.status for r in ingest_feed(conn, tmp_path / "landing", "orders", "salt")] == ["skipped"]
    assert conn.execute("select count(*) from audit.quarantine").fetchall() == [(1,)]


def test_many_ragged_lines_are_each_their_own_row(tmp_path, conn):
    lines = [good(n) + (",x" if n % 2 else "") for n in range(1, 20_001)]
    land(tmp_path, "orders/orders_a.csv", "\r\n".join([HEADER, *lines]) + "\r\n")
    result = ingest(conn, tmp_path)
    assert (result.rows_received, result.rows_loaded, result.rows_quarantined) == (20_000, 10_000, 10_000)
    bad = conn.execute("select row_number, json_extract(record, '$._line_number')::int from audit.quarantine order by 1").fetchall()
    assert bad == [(n, n + 1) for n in range(1, 20_001, 2)]
    assert conn.execute("select list(_row_number order by _row_number) from raw.orders").fetchall()[0][0] == list(range(2, 20_001, 2))


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_line_and_blank_line_counts_are_exact_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    import random

    import feeds.csv_reader as csv_reader

    monkeypatch.setattr(csv_reader, "COUNT_CHUNK_BYTES", chunk)
    rng = random.Random(chunk)
    for _ in range(100):
        data = bytes(rng.choice(b"ab\n\r\n\n") for _ in range(rng.randint(0, 60)))
        (tmp_path / "f.csv").write_bytes(data)
        positions = sorted(rng.sample(range(len(data) + 3), k=min(5, len(data) + 3)))
        expected = [(data[:p].count(b"\n"), len(csv_reader.BLANK_LINE.findall(data[:p]))) for p in positions]
        assert csv_reader._line_counts_before(tmp_path / "f.csv", positions) == expected, (data, positions)


def test_a_json_file_with_no_object_is_rejected_saying_why(tmp_path, conn):
    land(tmp_path, "carriers/tracking_a.jsonl", '[{"event_id": "E1"}]\n{"event_id": \n')
    result = ingest(conn, tmp_path, "carriers")
    assert (result.status, result.message) == ("rejected", "no line is a JSON object; line 1 of the file is not a JSON object but array")
    assert (result.rows_received, result.rows_rejected) == (2, 2)


def test_a_line_beyond_the_longest_read_rejects_the_file_without_a_wrong_line_number(tmp_path, conn, monkeypatch):
    import feeds.landed

    monkeypatch.setattr(feeds.landed, "MAX_LINE_BYTES", 1 << 20)
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), good(90).replace("SKU-1", "H" * (2 << 20)), good(2)]) + "\n")
    result = ingest(conn, tmp_path)
    assert result.status == "rejected"
    assert result.message == ("cannot read orders_a.csv: a line is longer than 1 MB, the longest crossdock reads; "
                              "a feed export has one row per line: is it the right file?")


def test_a_line_longer_than_the_first_read_allows_is_read_again_and_numbered_in_place(tmp_path, conn, monkeypatch):
    """A line over FIRST_READ_LINE_BYTES fails DuckDB's first read; the second, allowing MAX_LINE_BYTES,
    reads the whole file: the long line is a row (quarantined for its over-long value), the others load."""
    import feeds.landed

    monkeypatch.setattr(feeds.landed, "FIRST_READ_LINE_BYTES", 1 << 20)
    monkeypatch.setattr(feeds.landed, "MAX_LINE_BYTES", 4 << 20)
    land(tmp_path, "orders/orders_a.csv", "\n".join([HEADER, good(1), "not,a,row", good(90).replace("SKU-1", "H" * (2 << 20)), good(2)]) + "\n")
    result = ingest(conn, tmp_path)
    assert (result.status, result.rows_received, result.rows_loaded, result.rows_quarantined) == ("loaded", 4, 2, 2)
    assert conn.execute("select _row_number, order_id from raw.orders order by _row_number").fetchall() == [(1, "A1"), (4, "A2")]
    assert [(row, code) for row, code, *_ in quarantined(conn)] == [(2, "malformed_line"), (3, "value_too_long")]


def test_a_json_line_longer_than_a_csv_first_read_loads_and_every_line_keeps_its_number(tmp_path, conn, monkeypatch):
    """JSON Lines are read allowing MAX_LINE_BYTES at once (CSV's smaller first read measured no faster for them:
    3.1-3.4 s against 2.9-3.3 s for a million lines), so a 2 MB line is a row, quarantined for its over-long
    value, and every line keeps its number (the blank line counts, the malformed one is quarantined at line 3)."""
    import feeds.landed

    monkeypatch.setattr(feeds.landed, "FIRST_READ_LINE_BYTES", 1 << 20)
    monkeypatch.setattr(feeds.landed, "MAX_LINE_BYTES", 4 << 20)
    long_event = good_event(3).replace('"service": "x"', '"service": "' + "x" * (2 << 20) + '"')
    land(tmp_path, "carriers/tracking_a.jsonl", "\n".join([good_event(1), "", "not json", long_event, good_event(4)]) + "\n")
    result = ingest(conn, tmp_path, "carriers")
    assert (result.status, result.rows_received, result.rows_loaded, result.rows_quarantined) == ("loaded", 4, 2, 2)
    assert [(row, code) for row, code, *_ in quarantined(conn)] == [(2, "malformed_line"), (3, "value_too_long")]
    [(reason,)] = conn.execute("select reason from audit.quarantine where reason_code = 'malformed_line'").fetchall()
    assert reason == "line 3 of the file is not JSON"
