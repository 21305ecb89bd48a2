"""Bring-your-own-feed mappings turn a merchant's export into contract columns."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from feeds.contracts import ORDERS
from feeds.mapping import (
    MAPPINGS_DIR,
    FeedMapping,
    MappingError,
    apply_mapping,
    load_mapping,
    shipped_mapping,
)
from feeds.readers import land_file
from feeds.row_checks import checked_rows_sql, typed

FIXTURES = Path(__file__).parent / "fixtures" / "mapping"
SHOPIFY_FILE = FIXTURES / "shopify_orders_export.csv"
INVOICE_FILE = FIXTURES / "online_retail_invoices.csv"
ERP_FILE = FIXTURES / "erp_de" / "auftraege_2024-03.csv"
CONTRACT_COLUMNS = [c.name for c in ORDERS.columns]
# what the shipped mappings produce: every contract column but the node, which neither export has
SHIPPED_COLUMNS = [c for c in CONTRACT_COLUMNS if c != "fulfilment_node"]


@pytest.fixture()
def conn():
    with duckdb.connect() as c:
        yield c


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def map_file(conn, mapping: FeedMapping, path: Path) -> tuple[list[str], dict[int, dict], dict[int, tuple]]:
    """Land, map and check a file: (columns produced, mapped rows by row number, failures by row number)."""
    land_file(conn, path)
    produced = apply_mapping(conn, mapping)
    cursor = conn.execute("select * from mapped order by _row_number")
    names = [d[0] for d in cursor.description]
    rows = {r[0]: dict(zip(names, r)) for r in cursor.fetchall()}
    checked = conn.execute(
        f"select _row_number, reason_code, reason from ({checked_rows_sql(ORDERS, produced, source='mapped')}) "
        "where reason_code is not null"
    ).fetchall()
    return produced, rows, {r[0]: (r[1], r[2]) for r in checked}


def by_line(rows: dict[int, dict]) -> dict[tuple[str, str], dict]:
    return {(r["order_id"], r["line_id"]): r for r in rows.values()}


# --------------------------------------------------------------------------- invoice_lines (UCI Online Retail)


def test_invoice_lines_map_every_row_and_only_the_unknown_country_fails(conn):
    produced, rows, failures = map_file(conn, shipped_mapping("invoice_lines"), INVOICE_FILE)
    assert produced == SHIPPED_COLUMNS
    assert [d[0] for d in conn.execute("describe mapped").fetchall()] == ["_row_number", *SHIPPED_COLUMNS]
    assert len(rows) == conn.execute("select count(*) from landed").fetchall()[0][0] == 24
    # the BOM in front of InvoiceNo does not hide the column
    assert rows[1]["order_id"] == "536365"
    row = next(n for n, r in rows.items() if r["order_id"] == "540976")
    [(code, reason)] = [failures[row]] if list(failures) == [row] else [(None, None)]
    assert code == "not_allowed" and reason.startswith("ship_to_country not in (249 ISO codes): Channel Islands (")
    assert "country: {languages: [..]}" in reason and "value_map" in reason  # what a person fixes, and where


def test_only_a_country_column_hints_at_a_country_name():
    """The hint follows the country codes themselves, not a list's length: a bad currency (ISO 4217, 180 codes)
    was told it might be a country name and to map country languages."""
    from feeds.contracts import ORDERS
    from feeds.row_checks import column_rules

    messages = {c.name: " ".join(r.message for r in column_rules(c) if r.code == "not_allowed")
                for c in ORDERS.columns if c.name in ("currency", "ship_to_country")}
    assert "a country name?" in messages["ship_to_country"]
    assert "ISO codes" in messages["currency"] and "country" not in messages["currency"]


def test_invoice_lines_values(conn):
    _, rows, _ = map_file(conn, shipped_mapping("invoice_lines"), INVOICE_FILE)
    lines = by_line(rows)
    assert [k for k in lines if k[0] == "536365"] == [("536365", "1"), ("536365", "2"), ("536365", "3")]
    assert [k for k in lines if k[0] == "C536391"] == [("C536391", "1"), ("C536391", "2")]
    first = lines[("536365", "1")]
    assert {k: first.get(k) for k in ("sku", "quantity", "unit_price", "currency", "channel", "customer_id", "fulfilment_node", "line_type")} == {
        "sku": "85123A",
        "quantity": "6",
        "unit_price": "2.55",
        "currency": "GBP",
        "channel": "web",
        "customer_id": "17850",
        "fulfilment_node": None,  # the export names no node: the market's node in crossdock.yaml is assumed
        "line_type": "sale",
    }
    # a C invoice is a cancellation and keeps its (already negative) quantity
    assert (lines[("C536379", "1")]["quantity"], lines[("C536379", "1")]["line_type"]) == ("-1", "cancellation")
    assert (lines[("C536391", "2")]["quantity"], lines[("C536391", "2")]["line_type"]) == ("-24", "cancellation")
    # any other negative quantity is a return; a missing customer stays empty (optional column)
    assert (lines[("536414", "1")]["quantity"], lines[("536414", "1")]["line_type"]) == ("-56", "return")
    assert lines[("536414", "1")]["customer_id"] is None
    countries = {r["order_id"]: r["ship_to_country"] for r in rows.values()}
    assert {o: countries[o] for o in ("536365", "536370", "536847", "537226", "547247", "555200", "573585", "574000")} == {
        "536365": "GB",  # United Kingdom
        "536370": "FR",
        "536847": "IE",  # EIRE
        "537226": "DE",
        "547247": "AU",
        "555200": "US",  # USA
        "573585": "ZA",  # RSA
        "574000": "CZ",  # Czech Republic (pycountry's official name)
    }


def test_invoice_lines_local_times_get_the_right_offset_in_winter_summer_and_at_dst_changes(conn):
    _, rows, _ = map_file(conn, shipped_mapping("invoice_lines"), INVOICE_FILE)
    at = {r["order_id"]: r["ordered_at"] for r in rows.values()}
    assert at["536365"] == "2010-12-01T08:26:00+00:00"  # winter: GMT
    assert at["555200"] == "2011-06-01T08:26:00+01:00"  # summer: BST
    # spring forward, 27 March 2011 01:00 GMT -> 02:00 BST
    assert at["548113"] == "2011-03-27T00:59:00+00:00"
    assert at["548114"] == "2011-03-27T02:30:00+01:00"  # 01:30 never happened: read as the instant 01:30 GMT
    assert at["548115"] == "2011-03-27T02:00:00+01:00"
    # fall back, 30 October 2011 02:00 BST -> 01:00 GMT
    assert at["570870"] == "2011-10-30T00:59:00+01:00"
    assert at["570871"] == "2011-10-30T01:30:00+00:00"  # 01:30 happened twice: the later (GMT) one
    assert at["570872"] == "2011-10-30T02:00:00+00:00"
    # every other row agrees with Python's zoneinfo, and the text keeps the local date
    london = ZoneInfo("Europe/London")
    for text in at.values():
        local = datetime.fromisoformat(text).replace(tzinfo=None)
        if local.replace(tzinfo=london, fold=0).utcoffset() == local.replace(tzinfo=london, fold=1).utcoffset():
            assert datetime.fromisoformat(text).utcoffset() == local.replace(tzinfo=london).utcoffset(), text


def test_mapped_timestamps_load_as_the_right_instant_and_local_date(conn):
    _, _, _ = map_file(conn, shipped_mapping("invoice_lines"), INVOICE_FILE)
    ordered_at = ORDERS.column("ordered_at")
    order_date = ORDERS.derived[0].sql.format(ordered_at='"ordered_at"')
    got = dict(
        conn.execute(
            f"select order_id, struct_pack(utc := timezone('UTC', {typed(ordered_at, 'ordered_at')}), day := {order_date}) from mapped"
        ).fetchall()
    )
    assert got["548114"]["utc"] == datetime(2011, 3, 27, 1, 30)
    assert got["570870"]["utc"] == datetime(2011, 10, 29, 23, 59)
    assert str(got["570870"]["day"]) == "2011-10-30"  # the UK day, not the UTC one


def test_conversion_does_not_depend_on_the_session_time_zone(conn):
    conn.execute("set TimeZone = 'America/Los_Angeles'")
    _, rows, _ = map_file(conn, shipped_mapping("invoice_lines"), INVOICE_FILE)
    at = {r["order_id"]: r["ordered_at"] for r in rows.values()}
    assert at["536365"] == "2010-12-01T08:26:00+00:00" and at["555200"] == "2011-06-01T08:26:00+01:00"


# --------------------------------------------------------------------------- shopify_orders


def test_shopify_export_maps_every_row(conn):
    produced, rows, failures = map_file(conn, shipped_mapping("shopify_orders"), SHOPIFY_FILE)
    assert produced == SHIPPED_COLUMNS
    assert len(rows) == 10
    # in-store (pos) sales do not ship from a node: quarantined with the value shown, unless a merchant maps them
    [pos_row] = [n for n, r in rows.items() if r["order_id"] == "#1005"]
    assert failures == {pos_row: ("not_allowed", "channel not in (web, marketplace, app): pos")}


def test_shopify_order_level_fields_are_filled_down_within_the_order(conn):
    _, rows, _ = map_file(conn, shipped_mapping("shopify_orders"), SHOPIFY_FILE)
    lines = by_line(rows)
    assert [k for k in lines if k[0] == "#1001"] == [("#1001", "1"), ("#1001", "2"), ("#1001", "3")]
    for line in ("1", "2", "3"):
        r = lines[("#1001", line)]
        assert (r["ordered_at"], r["currency"], r["ship_to_country"], r["channel"], r["customer_id"]) == (
            "2024-03-05T14:22:05+00:00",
            "GBP",
            "GB",
            "web",
            "alice@example.co.uk",
        )
    assert [lines[("#1001", n)]["sku"] for n in ("1", "2", "3")] == ["TT-LIN-SAGE", "MUG-STN-BLU", "WRAP-BW-3"]
    assert [lines[("#1001", n)]["quantity"] for n in ("1", "2", "3")] == ["2", "1", "4"]
    assert [lines[("#1001", n)]["unit_price"] for n in ("1", "2", "3")] == ["12.00", "18.00", "8.00"]
    # the fill-down stops at the order boundary
    assert lines[("#1002", "1")]["currency"] == "EUR" and lines[("#1002", "1")]["ship_to_country"] == "DE"


def test_shopify_cancelled_orders_offsets_and_channels(conn):
    _, rows, _ = map_file(conn, shipped_mapping("shopify_orders"), SHOPIFY_FILE)
    lines = by_line(rows)
    # Cancelled at is only on the first line of #1003; both lines are cancellations
    assert [lines[("#1003", n)]["line_type"] for n in ("1", "2")] == ["cancellation", "cancellation"]
    assert [lines[("#1003", n)]["quantity"] for n in ("1", "2")] == ["2", "1"]
    assert {r["line_type"] for r in rows.values() if r["order_id"] != "#1003"} == {"sale"}
    # "2024-07-14 09:05:00 +0200" -> ISO with the offset as sent
    assert lines[("#1002", "1")]["ordered_at"] == "2024-07-14T09:05:00+02:00"
    assert lines[("#1004", "2")]["ordered_at"] == "2024-11-03T01:30:00-04:00"
    assert lines[("#1006", "1")]["ordered_at"] == "2025-01-02T10:00:00+00:00"  # ...Z
    # draft orders and app ids (default) are web; emails are lower-cased before pseudonymisation
    assert lines[("#1002", "1")]["channel"] == "web" and lines[("#1004", "1")]["channel"] == "web"
    assert lines[("#1002", "1")]["customer_id"] == "bob.richter@example.com"
    # two identical lines of one order keep two line numbers
    assert [k for k in lines if k[0] == "#1004"] == [("#1004", "1"), ("#1004", "2")]


def test_shopify_lines_that_ship_nothing_are_not_stocked_and_need_no_sku_or_country(conn):
    """A Shopify merchant's gift cards (no SKU), tips and Route's shipping protection (ROUTEINS) were
    quarantined for ever as missing_value, or planned as a product (safety stock 88, order 1,013 units of
    ROUTEINS). Shopify marks them `Lineitem requires shipping` false: they load as not_stocked lines."""
    _, rows, failures = map_file(conn, shipped_mapping("shopify_orders"), FIXTURES / "shopify_not_stocked_lines.csv")
    lines = by_line(rows)
    kinds = {key: (r["sku"], r["line_type"], r["ship_to_country"]) for key, r in lines.items()}
    assert kinds == {
        ("#2001", "1"): ("TT-LIN-SAGE", "sale", "GB"),
        ("#2001", "2"): (None, "not_stocked", "GB"),  # a gift card: no SKU
        ("#2001", "3"): ("ROUTEINS", "not_stocked", "GB"),  # 'FALSE': any letter case
        ("#2002", "1"): (None, "not_stocked", None),  # a gift card sent by e-mail: no shipping address
        ("#2003", "1"): (None, "sale", "FR"),
        ("#2004", "1"): ("MUG-STN-BLU", "cancellation", "NL"),
        ("#2004", "2"): (None, "not_stocked", "NL"),  # a tip on a cancelled order is still no good
    }
    # a good without its SKU is still quarantined: only a line that ships nothing may lack one
    [apron] = [n for n, r in rows.items() if r["order_id"] == "#2003"]
    assert failures == {apron: ("missing_value", "sku is missing")}


def test_a_shop_whose_goods_are_not_physical_restates_line_type_and_plans_them(conn, tmp_path):
    """docs/mappings.md's override: a mapping.yaml restating line_type without the requires-shipping case."""
    path = write(tmp_path / "shop/mapping.yaml", (
        "extends: shopify_orders\ncolumns:\n  line_type:\n    constant: sale\n    cases:\n"
        "      - when: {column: Cancelled at, empty: false}\n        then: cancellation\n"))
    _, rows, _ = map_file(conn, load_mapping(path), FIXTURES / "shopify_not_stocked_lines.csv")
    assert by_line(rows)[("#2001", "3")]["line_type"] == "sale"
    assert {r["line_type"] for r in rows.values()} == {"sale", "cancellation"}


# --------------------------------------------------------------------------- extends


def test_extends_overrides_only_what_it_says(conn):
    mapping = load_mapping(FIXTURES / "shopify_eu" / "mapping.yaml")
    base = shipped_mapping("shopify_orders")
    assert (mapping.name, mapping.dataset, mapping.extends) == ("shopify_eu", "orders", "shopify_orders")
    assert mapping.columns["fulfilment_node"].constant == "NL-AMS"
    assert dict(mapping.columns["channel"].value_map)["pos"] == "web"
    assert dict(mapping.columns["channel"].value_map)["amazon"] == "marketplace"  # the rest of the map is kept
    assert {k: v for k, v in mapping.columns.items() if k not in ("fulfilment_node", "channel")} == {
        k: v for k, v in base.columns.items() if k not in ("fulfilment_node", "channel")
    }
    assert mapping.fill_down == base.fill_down
    _, rows, failures = map_file(conn, mapping, SHOPIFY_FILE)
    assert failures == {}
    assert {r["fulfilment_node"] for r in rows.values()} == {"NL-AMS"}


def test_extends_can_change_the_time_zone_and_keep_the_format(tmp_path, conn):
    path = write(
        tmp_path / "landing/orders/us_invoices/mapping.yaml",
        "extends: invoice_lines\n"
        "columns:\n"
        "  ordered_at:\n"
        "    timestamp: {timezone: America/New_York}\n"
        "  currency: {constant: USD}\n"
        "  fulfilment_node: {constant: US-EWR}\n"
        "  customer_id: null\n",
    )
    mapping = load_mapping(path)
    assert mapping.name == "us_invoices"  # from the landing folder
    assert mapping.columns["ordered_at"].timestamp.formats == ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
    assert "customer_id" not in mapping.columns
    _, rows, _ = map_file(conn, mapping, INVOICE_FILE)
    at = {r["order_id"]: r["ordered_at"] for r in rows.values()}
    assert at["536365"] == "2010-12-01T08:26:00-05:00" and at["555200"] == "2011-06-01T08:26:00-04:00"
    assert {r["currency"] for r in rows.values()} == {"USD"}
    assert "customer_id" not in rows[1]


def test_extends_with_a_source_replaces_the_old_source(tmp_path):
    path = write(tmp_path / "m.yaml", "extends: shopify_orders\ncolumns:\n  channel: {constant: marketplace}\n")
    rule = load_mapping(path).columns["channel"]
    assert (rule.source, rule.constant) == (None, "marketplace")


def test_extends_an_unknown_mapping_lists_the_shipped_ones(tmp_path):
    path = write(tmp_path / "m.yaml", "extends: magento\n")
    with pytest.raises(MappingError, match=r"extends: no shipped mapping named 'magento'; allowed: invoice_lines, shopify_orders"):
        load_mapping(path)


# --------------------------------------------------------------------------- the other rules


def test_european_numbers_negation_value_maps_and_alpha3_countries(conn):
    mapping = load_mapping(FIXTURES / "erp_de" / "mapping.yaml")
    _, rows, failures = map_file(conn, mapping, ERP_FILE)
    assert failures == {}
    lines = by_line(rows)
    assert lines[("A-24-0001", "1")]["unit_price"] == "1234.50"  # 1.234,50
    assert lines[("A-24-0001", "2")]["unit_price"] == "18.00"
    assert [lines[k]["channel"] for k in [("A-24-0001", "1"), ("A-24-0002", "1"), ("A-24-0003", "1"), ("S-24-0001", "1")]] == [
        "web", "marketplace", "app", "web",  # Telefon -> default
    ]
    assert [lines[k]["ship_to_country"] for k in [("A-24-0001", "1"), ("A-24-0002", "1"), ("A-24-0003", "1"), ("S-24-0001", "1")]] == [
        "DE", "AT", "FR", "NL",
    ]
    assert (lines[("R-24-0001", "1")]["quantity"], lines[("R-24-0001", "1")]["line_type"]) == ("-1", "return")
    assert (lines[("S-24-0001", "1")]["quantity"], lines[("S-24-0001", "1")]["line_type"]) == ("-3", "cancellation")
    assert lines[("A-24-0001", "1")]["quantity"] == "2"
    assert lines[("A-24-0001", "1")]["ordered_at"] == "2024-03-05T14:22:00+01:00"
    assert lines[("A-24-0002", "1")]["ordered_at"] == "2024-03-31T03:30:00+02:00"  # 02:30 skipped in Berlin


def test_conditions_value_maps_and_cases(tmp_path, conn):
    path = write(
        tmp_path / "m.yaml",
        """
dataset: orders
columns:
  order_id: {from: ref, letter_case: upper}
  line_id: {row_number_within: [ref, part]}
  ordered_at: {from: at, timestamp: {timezone: UTC}}
  channel:
    from: via
    value_map: {"": web, "Mobile App": app, "market": marketplace}
  sku: {constant: S-1}
  quantity:
    from: qty
    number: {decimal: ".", thousands: ","}
    negate_when:
      any:
        - {column: kind, equals: refund, ignore_case: true}
        - all:
            - {column: note, contains: reversal}
            - not: {column: kind, in: [keep]}
  line_type:
    cases:
      - when: {column: kind, ends_with: cancel}
        then: cancellation
      - when: {column: qty, negative: true}
        then: return
      - when: {column: kind, not_equals: nothing}
        then: sale
  unit_price: {from: price, number: {decimal: ",", thousands: " "}}
  currency: {from: cur, letter_case: upper}
  ship_to_country: {from: country, country: name}
  fulfilment_node: {constant: "O'Hare's"}
""",
    )
    data = write(
        tmp_path / "x.csv",
        "ref,part,at,via,qty,kind,note,price,cur,country\n"
        "a1,p,2024-01-02 03:04:05,,\"1,200\",sale,,\"1 234,5\",eur,côte d'ivoire\n"
        "a1,p,2024-01-02 03:04:05.25,MOBILE APP,2,Refund,,\"0,99\",gbp,Turkey\n"
        "a1,q,2024-01-02,market,3,sale,a reversal,1,usd,Türkiye\n"
        "a2,p,2024-01-02T03:04,Fax,-4,keep,a reversal,1,usd,Korea\n"
        "a3,p,yesterday,web,5,precancel,,abc,usd,gb\n",
    )
    _, rows, failures = map_file(conn, load_mapping(path), data)
    assert [(r["order_id"], r["line_id"]) for r in rows.values()] == [("A1", "1"), ("A1", "2"), ("A1", "1"), ("A2", "1"), ("A3", "1")]
    assert [r["channel"] for r in rows.values()] == ["web", "app", "marketplace", "Fax", "web"]
    assert [r["quantity"] for r in rows.values()] == ["1200", "-2", "-3", "-4", "5"]
    assert [r["line_type"] for r in rows.values()] == ["sale", "sale", "sale", "return", "cancellation"]
    assert [r["unit_price"] for r in rows.values()] == ["1234.5", "0.99", "1", "1", "abc"]
    assert [r["ship_to_country"] for r in rows.values()] == ["CI", "TR", "TR", "Korea", "GB"]
    assert [r["ordered_at"] for r in rows.values()] == [
        "2024-01-02T03:04:05+00:00",
        "2024-01-02T03:04:05.250000+00:00",
        "2024-01-02T00:00:00+00:00",
        "2024-01-02T03:04:00+00:00",
        "yesterday",  # unparseable values are passed on as sent, so the contract check shows them
    ]
    assert {r["fulfilment_node"] for r in rows.values()} == {"O'Hare's"}
    assert failures[4][0] == "not_allowed" and "Korea" in failures[4][1]
    assert failures[5][0] == "bad_type" and "yesterday" in failures[5][1] and "abc" in failures[5][1]


def test_country_names_in_another_language_and_twice_encoded_names(tmp_path, conn):
    path = write(
        tmp_path / "m.yaml",
        """
extends: invoice_lines
columns:
  ship_to_country:
    from: Country
    value_map: {SudAfrica: ZA}
    country: {languages: [es]}
""",
    )
    data = write(
        tmp_path / "x.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        + "".join(
            f"{i},S,d,1,12/1/2010 8:26,1.5,C,{country}\n"
            for i, country in enumerate(
                ["Alemania", "Estados Unidos", "Reino Unido", "MÃ©xico", "México", "Japón", "SudAfrica", "France", "Atlantis"], 1
            )
        ),
    )
    _, rows, failures = map_file(conn, load_mapping(path), data)
    assert [r["ship_to_country"] for r in rows.values()] == ["DE", "US", "GB", "MX", "MX", "JP", "ZA", "FR", "Atlantis"]
    assert list(failures) == [9] and failures[9][0] == "not_allowed"


def test_headers_match_ignoring_case_bom_and_spaces(tmp_path, conn):
    data = write(
        tmp_path / "x.csv",
        "\ufeff INVOICENO ,stockcode,description,quantity,invoicedate,unitprice,customerid,  country\n"
        "1,S,d,2,2010-12-01 08:26:00,1.5,C,United Kingdom\n",
    )
    _, rows, failures = map_file(conn, shipped_mapping("invoice_lines"), data)
    assert failures == {}
    assert (rows[1]["order_id"], rows[1]["ordered_at"], rows[1]["ship_to_country"]) == ("1", "2010-12-01T08:26:00+00:00", "GB")


def test_custom_table_names(conn):
    land_file(conn, INVOICE_FILE, table="incoming")
    produced = apply_mapping(conn, shipped_mapping("invoice_lines"), source_table="incoming", target_table="orders mapped")
    assert produced == SHIPPED_COLUMNS
    assert conn.execute('select count(*) from "orders mapped"').fetchall() == [(24,)]


# --------------------------------------------------------------------------- errors


def test_a_file_missing_a_source_column_is_refused_naming_it(tmp_path, conn):
    data = write(tmp_path / "x.csv", "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,S,1,12/1/2010 8:26,1,C\n")
    land_file(conn, data)
    with pytest.raises(MappingError) as err:
        apply_mapping(conn, shipped_mapping("invoice_lines"))
    message = str(err.value)
    assert "needs: Country" in message
    assert "the file has: InvoiceNo, StockCode, Quantity, InvoiceDate, UnitPrice, CustomerID" in message
    assert "invoice_lines" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dataset: orders\ncolumns:\n  order_id: {form: Name}\n", r"columns\.order_id\.form: unknown key 'form' in a column rule; allowed: from, constant"),
        ("dataset: orders\ncolumns:\n  order_id: {sql: \"select 1\"}\n", r"columns\.order_id\.sql: SQL is not allowed in a mapping"),
        ("dataset: orders\ncolumns:\n  order_no: {from: Name}\n", r"columns\.order_no: 'order_no' is not a column of the orders contract; allowed: order_id, line_id"),
        ("dataset: orders\ncolums: {}\n", r"colums: unknown key 'colums' in a mapping file; allowed: name, description, dataset, extends, fill_down, personal, columns"),
        ("dataset: invoices\ncolumns: {}\n", r"dataset: unknown dataset 'invoices'; allowed: orders, suppliers"),
        ("dataset: orders\ncolumns:\n  order_id: {from: [unclosed\n", r"invalid YAML"),
        ("dataset: orders\ncolumns:\n  order_id: Name\n", r"columns: required contract columns not mapped: line_id, ordered_at"),
        ("extends: invoice_lines\ncolumns:\n  ordered_at: {timestamp: {timezone: Europe/Londres}}\n", r"columns\.ordered_at\.timestamp\.timezone: unknown time zone 'Europe/Londres'"),
        ("extends: invoice_lines\ncolumns:\n  ordered_at: {timestamp: {format: '%d/%m/%Y %H:%M %z'}}\n", r"timestamp\.format: .*leave %z/%Z out"),
        ("extends: invoice_lines\ncolumns:\n  ordered_at: {timestamp: {format: '%Q'}}\n", r"timestamp\.format: '%Q' is not a valid strptime format"),
        ("extends: invoice_lines\ncolumns:\n  unit_price: {number: {decimal: ';'}}\n", r"number\.decimal: unknown decimal mark ';'; allowed: '.', ','"),
        ("extends: invoice_lines\ncolumns:\n  line_type:\n    cases: [{when: {column: Quantity, below: 0}, then: return}]\n", r"cases\[0\]\.when\.below: unknown key 'below' in a condition; allowed: column, equals"),
        ("extends: invoice_lines\ncolumns:\n  channel: {value_map: {on: web}}\n", r"quote it"),
        ("extends: invoice_lines\ncolumns:\n  currency: {constant: GBP, from: Cur}\n", r"give only one of from, constant, row_number_within"),
        ("extends: invoice_lines\ncolumns:\n  ship_to_country: {country: alpha5}\n", r"country: unknown value 'alpha5'; allowed: name"),
        ("extends: invoice_lines\ncolumns:\n  ship_to_country: {country: {languages: [xx-nope]}}\n", r"country\.languages: pycountry has no country names in xx-nope"),
        ("extends: invoice_lines\ncolumns:\n  ship_to_country: {country: {langs: [es]}}\n", r"country: unknown keys langs; allowed: name, languages"),
        ("extends: invoice_lines\nname: a\nname: b\n", r"appears twice"),
        ("extends: shopify_orders\ndataset: suppliers\n", r"dataset: 'suppliers' differs from the extended mapping"),
        ("- just\n- a list\n", r"must be a YAML mapping"),
    ],
)
def test_bad_mapping_files_are_refused_naming_file_key_and_what_is_allowed(tmp_path, text, expected):
    path = write(tmp_path / "bad_mapping.yaml", text)
    with pytest.raises(MappingError, match=expected) as err:
        load_mapping(path)
    assert str(path) in str(err.value)


def test_unknown_shipped_mapping(conn):
    with pytest.raises(MappingError, match="no shipped mapping named '../feeds'; allowed: invoice_lines, shopify_orders"):
        shipped_mapping("../feeds")


def test_shipped_mappings_are_all_valid():
    names = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
    assert names == ["invoice_lines", "shopify_orders"]
    for name in names:
        mapping = shipped_mapping(name)
        assert mapping.name == name and mapping.dataset == "orders" and mapping.description


# --------------------------------------------------------------------------- file content is data


def test_malicious_headers_and_values_are_data(tmp_path, conn):
    conn.execute("create table t (x integer)")
    evil_header = 'x"); drop table t; --'
    evil_value = "'); drop table t; --"
    data = write(
        tmp_path / "x.csv",
        f'InvoiceNo,"{evil_header.replace(chr(34), chr(34) * 2)}",Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n'
        f"1,\"{evil_value}\",1,12/1/2010 8:26,1,{evil_value},{evil_value}\n",
    )
    path = write(
        tmp_path / "m.yaml",
        "extends: invoice_lines\n"
        "columns:\n"
        f"  sku: {{from: '{evil_header}'}}\n"
        f"  channel: {{from: Country, value_map: {{\"{evil_value}\": \"web'); drop table t; --\"}}}}\n"
        f"  line_type: {{constant: sale, cases: [{{when: {{column: '{evil_header}', starts_with: \"'); drop\"}}, then: sale}}]}}\n",
    )
    _, rows, failures = map_file(conn, load_mapping(path), data)
    assert conn.execute("select count(*) from t").fetchall() == [(0,)]  # t still exists
    assert rows[1]["sku"] == evil_value
    assert rows[1]["customer_id"] == evil_value
    assert rows[1]["ship_to_country"] == evil_value
    assert rows[1]["channel"] == "web'); drop table t; --"
    assert failures[1][0] == "not_allowed"


def test_number_formats_convert_only_well_formed_numbers(tmp_path, conn):
    path = write(
        tmp_path / "m.yaml",
        "extends: invoice_lines\ncolumns:\n  unit_price: {number: {decimal: ',', thousands: '.'}}\n  quantity: {number: {decimal: ','}}\n",
    )
    data = write(
        tmp_path / "x.csv",
        "InvoiceNo;StockCode;Quantity;InvoiceDate;UnitPrice;CustomerID;Country\n"
        "1;S;3;12/1/2010 8:26;1.234,50;C;France\n"
        "2;S;-2;12/1/2010 8:26;-0,99;C;France\n"
        "3;S;1;12/1/2010 8:26;12.345.678;C;France\n"
        "4;S;1,5;12/1/2010 8:26;1.23,4;C;France\n",
    )
    _, rows, failures = map_file(conn, load_mapping(path), data)
    assert [r["unit_price"] for r in rows.values()] == ["1234.50", "-0.99", "12345678", "1.23,4"]
    assert [r["quantity"] for r in rows.values()] == ["3", "-2", "1", "1.5"]
    assert failures[2][0] == "out_of_range"  # a negative price is still refused by the contract
    assert failures[4][0] == "bad_type" and "1.23,4" in failures[4][1] and "quantity is not a valid integer: 1.5" in failures[4][1]
    assert set(failures) == {2, 4}


def test_local_times_without_a_time_zone_are_quarantined_as_missing_timezone(tmp_path, conn):
    path = write(tmp_path / "m.yaml", "extends: invoice_lines\ncolumns:\n  ordered_at: {timestamp: {timezone: null}}\n")
    mapping = load_mapping(path)
    assert mapping.columns["ordered_at"].timestamp.timezone is None
    _, rows, failures = map_file(conn, mapping, INVOICE_FILE)
    assert rows[1]["ordered_at"] == "2010-12-01T08:26:00"
    assert failures[1] == ("missing_timezone", "ordered_at has no UTC offset: 2010-12-01T08:26:00")
    assert len(failures) == 24 and {code for code, _ in failures.values()} == {"missing_timezone"}
