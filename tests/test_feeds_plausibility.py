"""One bad row never stops the plan: rows the contract lets through but this merchant cannot have are quarantined.

Each case is a file of good lines around the bad one, as a merchant's export
would carry it: the bad line goes to audit.quarantine with a reason naming the
limit, the good lines load, and the ledger balances.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from crossdock.merchant_config import ConfigError, parse_config
from feed_files import ORDERS_HEADER, conn, write  # noqa: F401 (conn is a pytest fixture)
from feeds.file_dates import file_date, future_date_note, utc_today
from feeds.ingest import ingest_feed
from feeds.plausibility import HISTORY_FLOOR, Plausibility
from orchestration.lib.resources import MerchantConfigFile

DAY = dt.date(2026, 10, 30)
NODES = Plausibility(nodes=frozenset({"DE-LEJ", "US-EWR"}))


def order(order_id: str, day: dt.date | str, node: str = "DE-LEJ") -> str:
    return f"{order_id},1,{day}T10:00:00+01:00,web,C1,SKU-1,1,19.99,EUR,DE,{node}\n"


def good_lines(count: int = 3, day: dt.date = DAY) -> str:
    return "".join(order(f"G{i}", day) for i in range(count))


def land(root: Path, name: str, body: str, feed: str = "orders") -> Path:
    return write(root / "landing" / feed / name, body)


def ingest(conn, root: Path, feed: str = "orders", plausibility: Plausibility = Plausibility()):
    return ingest_feed(conn, root / "landing", feed, "salt", plausibility=plausibility)


def quarantined(conn) -> dict[str, tuple[str, str]]:
    """order id (or first record value) -> (reason_code, reason) of every quarantined row."""
    rows = conn.execute("select record, reason_code, reason from audit.quarantine").fetchall()
    return {next(iter(json.loads(r).values())): (code, reason) for r, code, reason in rows}


def assert_balanced(result) -> None:
    assert result.status == "loaded", result.message
    assert result.rows_received == result.rows_loaded + result.rows_quarantined + result.rows_rejected + result.rows_duplicate


def test_an_order_dated_2999_is_quarantined_and_the_rest_of_the_file_loads(tmp_path, conn):
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + order("BAD", "2999-12-31"))
    [result] = ingest(conn, tmp_path)
    assert_balanced(result)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 1)
    code, reason = quarantined(conn)["BAD"]
    assert code == "implausible_date"
    assert "ordered_at 2999-12-31T10:00:00+01:00 is after 2026-11-01, the file's as-of date 2026-10-30 plus 2 days" in reason
    assert "name a file covering a longer period by its last day, e.g. orders_2015-04-30.csv" in reason
    assert "`crossdock quarantine --dataset orders --export fix.csv`" in reason
    assert conn.execute("select max(order_date) from raw.orders").fetchall() == [(DAY,)]


def test_an_order_dated_1900_is_quarantined_as_before_the_merchants_history(tmp_path, conn):
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + order("OLD", "1900-01-01"))
    [result] = ingest(conn, tmp_path)
    assert_balanced(result)
    code, reason = quarantined(conn)["OLD"]
    assert code == "implausible_date"
    assert f"is before {DAY}, where this merchant's order history starts" in reason
    assert "orders.earliest_order_date in crossdock.yaml" in reason
    assert conn.execute("select min(order_date) from raw.orders").fetchall() == [(DAY,)]


def test_a_file_of_nothing_but_ancient_lines_still_meets_the_1990_floor(tmp_path, conn):
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + order("A", "1970-01-02") + order("B", "1970-01-03"))
    [result] = ingest(conn, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (0, 2)
    assert "is before 1990-01-01, the earliest order date crossdock accepts" in quarantined(conn)["A"][1]


def test_two_stray_old_lines_do_not_vouch_for_each_other(tmp_path, conn):
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + order("S1", "2001-03-01") + order("S2", "2001-03-02"))
    [result] = ingest(conn, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 2)
    assert {code for code, _ in quarantined(conn).values()} == {"implausible_date"}


def test_a_line_dated_a_day_after_the_file_loads_three_days_after_does_not(tmp_path, conn):
    """The file's as-of day in one zone is the next day in another: two days of slack, not more."""
    body = ORDERS_HEADER + good_lines() + order("NEXT", DAY + dt.timedelta(days=1)) + order("LATER", DAY + dt.timedelta(days=3))
    land(tmp_path, f"orders_{DAY}.csv", body)
    [result] = ingest(conn, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    assert list(quarantined(conn)) == ["LATER"]


def test_twelve_years_of_history_load_whole_in_any_order(tmp_path, conn):
    """A real merchant's history: a line every ten days since 2014, recent years first, the archive later."""
    days = [dt.date(2014, 11, 1) + dt.timedelta(days=10 * i) for i in range(438)]  # to 2026-10-19
    recent = [d for d in days if d.year >= 2020]
    archive = [d for d in days if d.year < 2020]
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + "".join(order(f"R{i}", d) for i, d in enumerate(recent)))
    [first] = ingest(conn, tmp_path)
    land(tmp_path, "orders_archive_2019-12-31.csv", ORDERS_HEADER + "".join(order(f"A{i}", d) for i, d in enumerate(archive)))
    [_, second] = ingest(conn, tmp_path)
    assert (first.rows_quarantined, second.rows_quarantined) == (0, 0)
    assert conn.execute("select count(*), min(order_date) from raw.orders").fetchall() == [(len(days), days[0])]


def test_the_earliest_order_date_in_crossdock_yaml_replaces_the_learned_limit(tmp_path, conn):
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + order("OLD", "1985-06-01") + order("OLDER", "1979-12-31"))
    [result] = ingest(conn, tmp_path, plausibility=Plausibility(earliest_order_date=dt.date(1980, 1, 1)))
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    code, reason = quarantined(conn)["OLDER"]
    assert code == "implausible_date" and "is before 1980-01-01, orders.earliest_order_date in crossdock.yaml" in reason


def test_an_unknown_node_is_quarantined_once_crossdock_yaml_declares_the_nodes(tmp_path, conn):
    body = ORDERS_HEADER + good_lines() + order("NOWHERE", DAY, node="XX-NOWHERE") + order("NO-NODE", DAY, node="")
    land(tmp_path, f"orders_{DAY}.csv", body)
    [result] = ingest(conn, tmp_path, plausibility=NODES)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)  # no node at all: the market's node is assumed
    code, reason = quarantined(conn)["NOWHERE"]
    assert code == "unknown_node"
    assert "fulfilment_node XX-NOWHERE is not a node of crossdock.yaml (DE-LEJ, US-EWR)" in reason


@pytest.mark.parametrize("sku", ["SKU-1", "SKU-\u00e9"], ids=["plain file", "file with a non-ASCII value"])
def test_a_line_breaking_every_kind_of_check_is_quarantined_once_with_its_reasons_in_order(tmp_path, conn, sku):
    """The contract's rule, the repeated key and the plausibility checks each find the line (feeds.findings): one
    quarantine row whose code is the contract's and whose reasons read in the order the checks run. A plain file's
    rows are checked as landed, another's from a cleaned copy: both say the same."""
    bad = f"TWICE,1,2999-12-31T10:00:00+01:00,shop,C1,{sku},1,19.99,EUR,DE,XX-NOWHERE\n"
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + bad + order("TWICE", DAY))
    [result] = ingest(conn, tmp_path, plausibility=NODES)
    assert_balanced(result)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    code, reason = quarantined(conn)["TWICE"]
    assert code == "not_allowed"
    parts = ["channel not in", "key (order_id, line_id) repeats later", "ordered_at 2999-12-31T10:00:00+01:00 is after", "is not a node"]
    assert all(part in reason for part in parts), reason
    assert sorted(parts, key=reason.index) == parts, reason


def test_every_node_passes_before_there_is_a_config(tmp_path, conn):
    """`crossdock init` loads the orders before crossdock.yaml exists, to propose its nodes from them."""
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + order("NEW", DAY, node="XX-NEW"))
    config = MerchantConfigFile(path=str(tmp_path / "crossdock.yaml"))
    [result] = ingest(conn, tmp_path, plausibility=config.plausibility())
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)


def test_an_unknown_ship_to_country_is_not_quarantined(tmp_path, conn):
    """The catch-all market or publish.market_coverage accounts for it (issue 13)."""
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + "BR1,1,2026-10-30T10:00:00-03:00,web,C,SKU-1,1,9,BRL,BR,DE-LEJ\n")
    [result] = ingest(conn, tmp_path, plausibility=NODES)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)


def test_stock_and_purchase_orders_are_checked_for_dates_and_nodes_tracking_for_dates(tmp_path, conn):
    land(tmp_path, f"inventory_{DAY}.csv", "snapshot_date,node,sku,on_hand\n"
         f"{DAY},DE-LEJ,S1,5\n2999-01-01,DE-LEJ,S2,5\n{DAY},XX-NOWHERE,S3,5\n", feed="inventory")
    po_header = "po_id,po_line,supplier_id,sku,destination_node,quantity,ordered_at,promised_at,received_at,status\n"
    land(tmp_path, f"purchase_orders_{DAY}.csv", po_header
         + f"P1,1,SUP,S1,DE-LEJ,10,{DAY},2027-06-30,,open\n"  # a promise may lie far ahead
         + f"P2,1,SUP,S1,DE-LEJ,10,{DAY},{DAY},2999-01-01,received\n"
         + f"P3,1,SUP,S1,XX-NOWHERE,10,{DAY},{DAY},,open\n", feed="suppliers")
    event = {"event_id": "E1", "shipment_id": "SH", "carrier": "DHL", "service": "std", "origin_node": "XX-DEPOT",
             "origin_country": "DE", "destination_country": "FR", "event_type": "delivered", "event_at": f"{DAY}T10:00:00Z"}
    land(tmp_path, f"tracking_{DAY}.jsonl", json.dumps(event) + "\n" + json.dumps(event | {"event_id": "E2", "event_at": "2999-01-01T00:00:00Z"}) + "\n",
         feed="carriers")
    [stock] = ingest(conn, tmp_path, "inventory", NODES)
    [pos] = ingest(conn, tmp_path, "suppliers", NODES)
    [tracking] = ingest(conn, tmp_path, "carriers", NODES)
    assert [(r.rows_loaded, r.rows_quarantined) for r in (stock, pos, tracking)] == [(1, 2), (1, 2), (1, 1)]
    codes = conn.execute("select dataset, reason_code, count(*) from audit.quarantine group by all order by all").fetchall()
    assert codes == [("carrier_events", "implausible_date", 1), ("inventory_snapshots", "implausible_date", 1),
                     ("inventory_snapshots", "unknown_node", 1), ("purchase_orders", "implausible_date", 1),
                     ("purchase_orders", "unknown_node", 1)]


def test_an_override_or_an_exception_update_entered_after_its_file_is_quarantined(tmp_path, conn):
    """The latest revision wins: an override entered '2027-06-01' by a slipped key would win over every correction
    entered since (a planner's test: +50 % stayed applied after a +5 % correction). It is quarantined instead."""
    override_header = ("override_id,entered_at,author,market,category,sku,bucket,period_start,units,change_pct,"
                       "reason_code,comment,expires_on,withdrawn\n")
    land(tmp_path, f"overrides_{DAY}.csv", override_header
         + f"m8,{DAY}T09:00:00+00:00,ana,GB,,,week,2026-11-02,,5,promotion,,,\n"
         + "m8,2027-06-01T09:00:00+00:00,ana,GB,,,week,2026-11-02,,50,promotion,,,\n", feed="overrides")
    land(tmp_path, f"exception_updates_{DAY}_ben.csv", "exception_id,updated_at,updated_by,status,owner,note\n"
         f"expedite:A:DE-LEJ,{DAY}T10:00:00+01:00,ben,acknowledged,,\n"
         "expedite:A:DE-LEJ,2027-10-30T10:00:00+01:00,ben,dismissed,,\n", feed="exceptions")
    [overrides] = ingest(conn, tmp_path, "overrides")
    [updates] = ingest(conn, tmp_path, "exceptions")
    for result in (overrides, updates):
        assert_balanced(result)
        assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    reasons = conn.execute("select dataset, reason from audit.quarantine order by 1").fetchall()
    assert [dataset for dataset, _ in reasons] == ["exception_updates", "forecast_overrides"]
    assert all("is after 2026-11-01, the file's as-of date 2026-10-30" in reason for _, reason in reasons)


def test_a_file_named_for_a_future_date_is_taken_as_of_today_and_the_ledger_says_so(tmp_path, conn):
    today = utc_today()
    path = land(tmp_path, "orders_2099-01.csv", ORDERS_HEADER + order("F1", today - dt.timedelta(days=1)))
    [result] = ingest(conn, tmp_path)
    assert result.status == "loaded" and result.rows_loaded == 1
    [(as_of, message)] = conn.execute("select file_date, message from audit.ingest_ledger").fetchall()
    assert as_of == today
    assert message == f"file name says 2099-01-31, later than today: treated as {today}, so a later export can still correct its rows"
    assert future_date_note(path, today) == message
    # a correction sent today, in a file named for today, is the line's latest version
    land(tmp_path, f"orders_fix_{today}.csv", ORDERS_HEADER + order("F1", today - dt.timedelta(days=1)).replace(",1,19.99,", ",3,19.99,"))
    ingest(conn, tmp_path)
    latest = conn.execute("select quantity from raw.orders order by _file_date desc, _ingested_at desc limit 1").fetchall()
    assert latest == [(3,)]


def test_file_dates_take_the_latest_named_day_and_never_a_future_one(tmp_path):
    today = dt.date(2026, 12, 3)
    assert file_date(Path("orders_2026-11-01_2026-11-30.csv"), today) == dt.date(2026, 11, 30)
    assert file_date(Path("orders_2026-12-04.csv"), today) == dt.date(2026, 12, 4)  # tomorrow, somewhere: kept
    assert file_date(Path("orders_2026-12-05.csv"), today) == today
    assert file_date(Path("orders_2026-12.csv"), today) == today  # a month to date speaks for today, not the 31st
    assert future_date_note(Path("orders_2026-12-04.csv"), today) is None


def test_crossdock_yaml_gives_the_ingest_its_nodes_and_limits():
    config = parse_config({
        "nodes": [{"code": "DE-LEJ", "country": "DE"}, {"code": "US-EWR", "country": "US"}],
        "markets": [{"code": "DE", "currency": "EUR", "timezone": "Europe/Berlin", "node": "DE-LEJ"}],
        "orders": {"max_abs_quantity": 500, "earliest_order_date": dt.date(2012, 1, 1)},
        "catalogue": {"max_weight_kg": 40},
    })
    assert config.plausibility() == Plausibility(500, dt.date(2012, 1, 1), frozenset({"DE-LEJ", "US-EWR"}), 40.0)
    for refused in (0, float("inf")):
        with pytest.raises(ConfigError, match="catalogue.max_weight_kg"):
            parse_config({"nodes": [{"code": "N", "country": "DE"}], "catch_all": {"node": "N"},
                          "catalogue": {"max_weight_kg": refused}})
    with pytest.raises(ConfigError, match="orders.earliest_order_date"):
        parse_config({"nodes": [{"code": "N", "country": "DE"}], "catch_all": {"node": "N"},
                      "orders": {"earliest_order_date": "1969-12-31"}})
    assert HISTORY_FLOOR == dt.date(1990, 1, 1)


def test_a_slipped_keyboard_in_a_merchants_first_small_file_does_not_set_its_own_limit(tmp_path, conn):
    """Five lines, one of them 999,999,999,999 units: the limit is learned from the others (100,000 x 1 unit)."""
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines(4) + order("TYPO", DAY).replace(",1,19.99,", ",999999999999,19.99,"))
    [result] = ingest(conn, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    code, reason = quarantined(conn)["TYPO"]
    assert code == "out_of_range" and "is beyond the plausible ±100,000 (100,000 x the 99th percentile" in reason


def test_a_line_from_a_node_declared_later_loads_from_the_quarantine_export_as_it_is(tmp_path, conn):
    from feeds.quarantine import export_quarantine, open_quarantine

    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines() + order("NEW-NODE", DAY, node="FR-LIL"))
    ingest(conn, tmp_path, plausibility=NODES)
    assert export_quarantine(conn, "orders", tmp_path / "landing" / "orders" / f"orders_fix_{DAY}.csv") == 1
    [result] = [r for r in ingest(conn, tmp_path, plausibility=Plausibility(nodes=NODES.nodes | {"FR-LIL"})) if r.status == "loaded"]
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert open_quarantine(conn, "orders").empty
    assert conn.execute("select fulfilment_node from raw.orders where order_id = 'NEW-NODE'").fetchall() == [("FR-LIL",)]


def test_a_line_dated_2999_that_an_older_release_loaded_does_not_hold_back_every_new_line(tmp_path, conn):
    land(tmp_path, f"orders_{DAY}.csv", ORDERS_HEADER + good_lines())
    ingest(conn, tmp_path)
    conn.execute("insert into raw.orders select * replace ('LEGACY' as order_id, date '2999-12-31' as order_date) "
                 "from raw.orders limit 1")
    land(tmp_path, f"orders_{DAY + dt.timedelta(days=1)}.csv", ORDERS_HEADER + order("NEXT", DAY + dt.timedelta(days=1)))
    [_, result] = ingest(conn, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)


CATALOGUE_HEADER = "supplier_id,sku,product_name,category,unit_cost,currency,moq,pack_size,quoted_lead_time_days,origin_country,hs_code,weight_kg,is_primary\n"


def catalogue_line(sku: str, weight_kg: float | str) -> str:
    return f"SUP-1,{sku},Thing,apparel,10.00,EUR,1,1,30,CN,620193,{weight_kg},true\n"


def quarantined_lines(conn) -> dict[str, tuple[str, str]]:
    """sku -> (reason_code, reason) of every quarantined catalogue line."""
    rows = conn.execute("select record, reason_code, reason from audit.quarantine").fetchall()
    return {json.loads(r)["sku"]: (code, reason) for r, code, reason in rows}


def test_a_jacket_of_62014_kg_is_quarantined_and_the_rest_of_the_catalogue_loads(tmp_path, conn):
    """A unit weight prices every parcel of the SKU: one slipped keyboard once put an order at EUR 10.8 bn."""
    lines = "".join(catalogue_line(f"APP-{i}", w) for i, w in enumerate([0.6, 0.8, 1.2, 2.5, 0.4]))
    land(tmp_path, f"catalogue_{DAY}.csv", CATALOGUE_HEADER + lines + catalogue_line("HEAVY", 62014), feed="suppliers")
    [result] = ingest(conn, tmp_path, feed="suppliers")
    assert_balanced(result)
    assert (result.rows_loaded, result.rows_quarantined) == (5, 1)
    [(code, reason)] = quarantined_lines(conn).values()
    assert code == "out_of_range"
    assert reason == (  # the typo itself is never the percentile's line
        "weight_kg 62014 is beyond the plausible 1,000 kg a unit (1,000 x the median of this merchant's "
        "catalogue weights (1 kg), at least 1,000 kg; set catalogue.max_weight_kg in crossdock.yaml to change it)"
    )
    assert conn.execute("select max(weight_kg) from raw.supplier_catalogue").fetchall() == [(2.5,)]


def test_a_merchant_of_heavy_goods_learns_a_higher_limit_and_crossdock_yaml_sets_its_own(tmp_path, conn):
    """Machinery at 200-900 kg a unit makes 450 t plausible; a configured 500 kg holds back what is heavier."""
    heavy = "".join(catalogue_line(f"MAC-{i}", w) for i, w in enumerate([200, 350, 600, 900, 450]))
    land(tmp_path, f"catalogue_{DAY}.csv", CATALOGUE_HEADER + heavy + catalogue_line("CRANE", 4000), feed="suppliers")
    [result] = ingest(conn, tmp_path, feed="suppliers")
    assert (result.rows_loaded, result.rows_quarantined) == (6, 0)
    later = DAY + dt.timedelta(days=1)
    land(tmp_path, f"catalogue_{later}.csv", CATALOGUE_HEADER + heavy, feed="suppliers")
    [_, result] = ingest(conn, tmp_path, feed="suppliers", plausibility=Plausibility(max_weight_kg=500))
    assert (result.rows_quarantined, result.rows_duplicate) == (2, 3)  # the lighter three are as loaded before
    assert quarantined_lines(conn) == {
        sku: ("out_of_range", f"weight_kg {kg} is beyond the plausible 500 kg a unit (catalogue.max_weight_kg in crossdock.yaml)")
        for sku, kg in (("MAC-2", 600), ("MAC-3", 900))
    }


def test_a_typo_loaded_before_and_corrected_since_does_not_let_the_next_one_through(tmp_path, conn):
    """The limit is learned from each line's latest version and the file's: an old typo, since corrected, is no
    evidence of heavy goods, and a line sent again counts once."""
    lines = "".join(catalogue_line(f"APP-{i}", w) for i, w in enumerate([0.6, 0.8, 1.2, 2.5, 0.4]))
    land(tmp_path, f"catalogue_{DAY}.csv", CATALOGUE_HEADER + lines + catalogue_line("HEAVY", 62014), feed="suppliers")
    ingest(conn, tmp_path, feed="suppliers", plausibility=Plausibility(max_weight_kg=1e9))  # as a release before the limit
    fixed = DAY + dt.timedelta(days=1)
    land(tmp_path, f"catalogue_{fixed}.csv", CATALOGUE_HEADER + lines + catalogue_line("HEAVY", 0.9), feed="suppliers")
    later = DAY + dt.timedelta(days=2)
    land(tmp_path, f"catalogue_{later}.csv", CATALOGUE_HEADER + lines + catalogue_line("HEAVY", 0.9)
         + catalogue_line("TYPO", 45000) + catalogue_line("NAN", "nan") + catalogue_line("INF", "inf"), feed="suppliers")
    results = ingest(conn, tmp_path, feed="suppliers")
    assert [r.rows_quarantined for r in results[1:]] == [0, 3]
    lines_held = quarantined_lines(conn)
    assert lines_held["TYPO"][1].startswith("weight_kg 45000 is beyond the plausible 1,000 kg a unit (1,000 x the median")
    assert lines_held["NAN"] == ("out_of_range", "weight_kg nan is not a weight: give the kilograms of one unit, or leave it empty")
    assert lines_held["INF"][1] == "weight_kg inf is not a weight: give the kilograms of one unit, or leave it empty"


def test_a_not_stocked_line_may_name_a_node_crossdock_yaml_does_not_declare(tmp_path, conn):
    """An ERP books a gift card at its DIGITAL location: nothing ships from it, so it is no node to declare. A good
    sent from there is still quarantined."""
    header = ORDERS_HEADER.rstrip("\n") + ",line_type\n"
    body = header + "".join(
        f"{order_id},1,{DAY}T10:00:00+01:00,web,C1,{sku},1,25.00,EUR,{country},{node},{kind}\n"
        for order_id, sku, country, node, kind in [
            ("GOOD", "SKU-1", "DE", "DE-LEJ", "sale"),
            ("GIFT", "", "", "DIGITAL", "not_stocked"),
            ("SHIRT", "SKU-1", "DE", "DIGITAL", "sale"),
        ]
    )
    land(tmp_path, f"orders_{DAY}.csv", body)
    [result] = ingest(conn, tmp_path, plausibility=NODES)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert {o: code for o, (code, _) in quarantined(conn).items()} == {"SHIRT": "unknown_node"}


def test_a_not_stocked_line_in_another_letter_case_is_quarantined_for_its_type_not_its_missing_sku(tmp_path, conn):
    """`Not_Stocked` is no line type crossdock knows (the dbt models compare exactly), so the line waits; its reason
    code points at the type to fix, not at the SKU a gift card never has."""
    header = ORDERS_HEADER.rstrip("\n") + ",line_type\n"
    land(tmp_path, f"orders_{DAY}.csv", header + f"GIFT,1,{DAY}T10:00:00+01:00,web,C1,,1,25.00,EUR,,DIGITAL,Not_Stocked\n")
    [result] = ingest(conn, tmp_path, plausibility=NODES)
    assert result.rows_quarantined == 1
    code, reason = quarantined(conn)["GIFT"]
    assert code == "not_allowed" and "Not_Stocked" in reason
    assert "missing" not in reason and "unknown_node" not in reason and "not a node" not in reason


def test_the_refund_of_a_not_stocked_sku_may_name_the_undeclared_node_too(tmp_path, conn):
    """Whether a line is a good is its SKU's (stg_orders.stocked): shipping protection sold as not_stocked at DIGITAL,
    in this file or an earlier one, is refunded there by a return line the export does not type as such."""
    header = ORDERS_HEADER.rstrip("\n") + ",line_type\n"

    def line(order_id: str, quantity: int, kind: str, sku: str = "SHIP-PROT", day: dt.date = DAY) -> str:
        return f"{order_id},1,{day}T10:00:00+01:00,web,C1,{sku},{quantity},1.95,EUR,DE,DIGITAL,{kind}\n"

    land(tmp_path, f"orders_{DAY}.csv", header + line("SOLD", 1, "not_stocked") + line("REFUND", -1, "return"))
    [first] = ingest(conn, tmp_path, plausibility=NODES)
    later = DAY + dt.timedelta(days=1)
    land(tmp_path, f"orders_{later}.csv", header + line("REFUND-2", -1, "return", day=later)
         + line("SHIRT", 1, "sale", sku="SKU-1", day=later))
    [_, second] = ingest(conn, tmp_path, plausibility=NODES)
    assert (first.rows_loaded, second.rows_loaded, second.rows_quarantined) == (2, 1, 1)
    assert {o: code for o, (code, _) in quarantined(conn).items()} == {"SHIRT": "unknown_node"}


def test_a_quarantined_not_stocked_line_vouches_for_no_other_line_of_its_sku(tmp_path, conn):
    """`Not_Stocked` is quarantined (not_allowed), so nothing loaded says SHIP-PROT is no good: its sale at an
    undeclared node is quarantined too, where the file's own rows as sent had spared it."""
    header = ORDERS_HEADER.rstrip("\n") + ",line_type\n"
    body = header + "".join(
        f"{order_id},1,{DAY}T10:00:00+01:00,web,C1,SHIP-PROT,1,1.95,EUR,DE,DIGITAL,{kind}\n"
        for order_id, kind in [("SOLD", "Not_Stocked"), ("OTHER", "sale")]
    )
    land(tmp_path, f"orders_{DAY}.csv", body)
    [result] = ingest(conn, tmp_path, plausibility=NODES)
    assert result.rows_quarantined == 2
    assert {o: code for o, (code, _) in quarantined(conn).items()} == {"SOLD": "not_allowed", "OTHER": "unknown_node"}
