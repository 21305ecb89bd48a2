"""A merchant with three weeks of orders, onboarded as a merchant would: a plan, though nothing can be backtested yet.

The real DataCo export (`../shared/data/real/`) cut to its first 21 days: too
little history for one backtest window of the 56-day horizon (and the four
weeks its model needs before it). It used to end the run at the backtest
("history starts after the origin ... of window 4"), with no plan at all.
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil

import pytest

from crossdock.settings import Settings

try:
    from test_onboarding_end_to_end import DATACO, MAPPING, crossdock, query
except ImportError:  # tests/ imported as a package
    from tests.test_onboarding_end_to_end import DATACO, MAPPING, crossdock, query

DAYS = 21
FIRST_DAY = dt.date(2015, 1, 1)  # the export's first order day
LAST_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DATACO.exists(), reason="../shared/data/real/dataco_sample.csv is not beside the project"),
]


@pytest.fixture(scope="module")
def merchant(tmp_path_factory):
    settings = Settings.under(tmp_path_factory.mktemp("three_weeks"))
    source = settings.landing / "orders" / "dataco"
    source.mkdir(parents=True)
    with open(DATACO, encoding="latin-1", newline="") as full, \
            open(source / f"dataco_{LAST_DAY}.csv", "w", encoding="latin-1", newline="") as cut:
        rows, out = csv.reader(full), csv.writer(cut)
        header = next(rows)
        out.writerow(header)
        day = header.index("order date (DateOrders)")
        out.writerows(r for r in rows if dt.datetime.strptime(r[day], "%m/%d/%Y %H:%M").date() <= LAST_DAY)
    shutil.copy(MAPPING, source / "mapping.yaml")
    init = crossdock(settings, "init", "--merchant", "DataCo")
    return {"settings": settings, "init": init, "run": crossdock(settings, "run")}


def test_three_weeks_of_orders_get_a_plan_on_the_28_day_mean_and_say_why(merchant):
    settings, init, run = merchant["settings"], merchant["init"], merchant["run"]
    assert init.returncode == 0, init.stdout + init.stderr
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert query(settings, "select count(*) from publish.forecast_accuracy") == [(0,)]
    assert query(settings, "select distinct model_version from publish.demand_forecast") == [(f"baseline-mean_28-{LAST_DAY:%Y%m%d}",)]
    for table in ("inventory_plan", "compliance_plan", "demand_plan"):
        assert query(settings, f"select count(*) from publish.{table}")[0][0] > 0, table
    said = run.stdout + run.stderr
    assert "no backtest window fits in the history since 2015-01-01" in said
    assert "one fits once the history covers 84 days" in said
    assert "CHECK FAILED (it stops nothing" in said and "no backtest: too little history for one window" in said
    assert (f"FORECAST FROM A BASELINE: baseline-mean_28-{LAST_DAY:%Y%m%d} (ml/fallback_forecast.py), not the model, "
            "which no backtest has proven yet") in said
