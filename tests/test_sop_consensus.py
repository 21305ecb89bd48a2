"""The consensus demand plan: which overrides count in a cycle and how each reaches the daily SKU forecast."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sop.consensus import HELD_BACK, NO_FORECAST, build_consensus
from sop.overrides import APPLIED, BEYOND_HORIZON, EXPIRED, OVERRIDE_COLUMNS, PERIOD_PAST, WITHDRAWN, cycle_overrides

FIRST = dt.date(2026, 11, 2)  # a Monday
DAYS = pd.date_range(FIRST, periods=28)  # four weeks, to 2026-11-29
LAST = DAYS[-1].date()


def forecast(rows: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A flat daily forecast of `mean` units for each (sku, market), with a band of +-50%."""
    frames = [
        pd.DataFrame({"sku": sku, "market": market, "forecast_date": DAYS, "mean": mean,
                      "p10": mean * 0.5, "p50": mean, "p90": mean * 1.5})
        for (sku, market), mean in rows.items()
    ]
    return pd.concat(frames, ignore_index=True)


CATEGORIES = pd.DataFrame({"sku": ["A", "B", "C"], "category": ["shoes", "shoes", "bags"]})


def override(override_id: str, **values) -> dict:
    row = dict.fromkeys(OVERRIDE_COLUMNS)
    row.update(override_id=override_id, entered_at_utc=pd.Timestamp("2026-11-01 09:00", tz="UTC"), author="ana",
               market="DE", bucket="week", period_start=FIRST, reason_code="promotion", withdrawn=False)
    row.update(values)
    return row


def cycle(*rows: dict, cutoff: pd.Timestamp | None = None) -> pd.DataFrame:
    return cycle_overrides(pd.DataFrame(list(rows), columns=list(OVERRIDE_COLUMNS)), FIRST, LAST, cutoff)


def units(plan: pd.DataFrame, sku: str, start: dt.date, days: int, column: str = "mean") -> float:
    window = plan[(plan["sku"] == sku) & (plan["forecast_date"] >= start)
                  & (plan["forecast_date"] < start + dt.timedelta(days=days))]
    return float(window[column].sum())


def test_a_skus_week_in_units_is_split_over_its_days_in_proportion_to_the_forecast():
    base = forecast({("A", "DE"): 2.0, ("B", "DE"): 1.0})
    monday_rows = (base["sku"] == "A") & (base["forecast_date"] == pd.Timestamp(FIRST))
    base.loc[monday_rows, ["mean", "p10", "p50", "p90"]] = [8.0, 4.0, 8.0, 12.0]  # a busy Monday
    result = build_consensus(base, CATEGORIES, cycle(override("o1", sku="A", units=56.0)))
    plan = result.plan
    assert units(plan, "A", FIRST, 7) == pytest.approx(56.0)
    monday = plan[(plan["sku"] == "A") & (plan["forecast_date"] == FIRST)].iloc[0]
    assert monday["mean"] == pytest.approx(8.0 * 56.0 / 20.0)  # week was 8 + 6 x 2 = 20 units
    assert units(plan, "A", FIRST + dt.timedelta(days=7), 21) == pytest.approx(42.0)  # other weeks untouched
    assert units(plan, "B", FIRST, 28) == pytest.approx(28.0)
    assert monday["override_ids"] == "o1" and monday["statistical_mean"] == 8.0
    assert monday["p90"] == pytest.approx(12.0 * 56.0 / 20.0)  # the band moves with the mean: p90 was 12
    effect = result.overrides.iloc[0]
    assert (effect["status"], effect["days_covered"]) == (APPLIED, 7)
    assert (effect["units_before"], effect["units_after"]) == pytest.approx((20.0, 56.0))


def test_a_category_month_in_percent_scales_only_that_category_in_that_market():
    base = forecast({("A", "DE"): 2.0, ("B", "DE"): 1.0, ("C", "DE"): 4.0, ("A", "FR"): 3.0})
    result = build_consensus(base, CATEGORIES, cycle(override("o1", category="shoes", bucket="month",
                                                              period_start=dt.date(2026, 11, 1), change_pct=25.0)))
    plan = result.plan
    assert units(plan, "A", FIRST, 28) == pytest.approx(2.0 * 28 * 1.25 + 3.0 * 28)  # DE scaled, FR not
    assert units(plan, "B", FIRST, 28) == pytest.approx(28.0 * 1.25)
    assert units(plan, "C", FIRST, 28) == pytest.approx(4.0 * 28)


def test_a_moved_days_median_is_the_poisson_median_of_the_consensus_mean_as_the_forecasts_is():
    base = forecast({("A", "DE"): 0.6, ("C", "DE"): 4.0})
    base.loc[base["sku"] == "A", ["p10", "p50", "p90"]] = [0.0, 0.0, 1.0]  # a slow seller: median 0, as Poisson(0.6)'s
    result = build_consensus(base, CATEGORIES, cycle(override("o1", sku="A", change_pct=900.0)))  # 0.6 -> 6 a day
    week_two = FIRST + dt.timedelta(days=7)
    moved = result.plan[(result.plan["sku"] == "A") & (result.plan["forecast_date"] < week_two)]
    assert moved["mean"].round(9).unique().tolist() == [6.0]
    assert moved["p50"].unique().tolist() == [6.0]  # Poisson(6)'s median, not 0 x 10
    assert (moved["p10"] <= moved["p50"]).all() and (moved["p90"] >= moved["p50"]).all()
    assert moved["p90"].unique().tolist() == [10.0]  # the scaled p90 held it already
    later = result.plan[(result.plan["sku"] == "A") & (result.plan["forecast_date"] >= week_two)]
    assert later["p50"].unique().tolist() == [0.0]  # a day no override moved keeps the forecast's


def test_a_month_running_past_the_horizon_keeps_the_share_of_its_days_within_it():
    base = forecast({("A", "DE"): 1.0})
    # November has 30 days; the horizon holds 2..29 = 28 of them
    result = build_consensus(base, CATEGORIES, cycle(override("o1", sku="A", bucket="month",
                                                              period_start=dt.date(2026, 11, 1), units=300.0)))
    assert units(result.plan, "A", FIRST, 28) == pytest.approx(300.0 * 28 / 30)


def test_the_finer_override_has_the_last_word_whatever_the_order_they_were_entered_in():
    base = forecast({("A", "DE"): 2.0, ("B", "DE"): 2.0})
    sku_week = override("sku", sku="A", units=70.0, entered_at_utc=pd.Timestamp("2026-10-01", tz="UTC"))
    market_week = override("mkt", change_pct=100.0, entered_at_utc=pd.Timestamp("2026-10-20", tz="UTC"))
    plan = build_consensus(base, CATEGORIES, cycle(sku_week, market_week)).plan
    assert units(plan, "A", FIRST, 7) == pytest.approx(70.0)
    assert units(plan, "B", FIRST, 7) == pytest.approx(28.0)
    # A's week is the SKU's 70 whatever the market's +100 % did: only the SKU's override moves it now
    assert plan.loc[(plan["sku"] == "A") & (plan["forecast_date"] == FIRST), "override_ids"].item() == "sku"


def test_units_on_a_forecast_of_nothing_are_spread_evenly_with_a_poisson_band():
    base = forecast({("A", "DE"): 0.0})
    plan = build_consensus(base, CATEGORIES, cycle(override("o1", sku="A", units=14.0))).plan
    week = plan[plan["forecast_date"] < FIRST + dt.timedelta(days=7)]
    assert np.allclose(week["mean"], 2.0)
    assert week[["p10", "p50", "p90"]].drop_duplicates().values.tolist() == [[0.0, 2.0, 4.0]]  # Poisson(2)


def test_units_on_a_forecast_of_almost_nothing_take_the_poisson_band_not_a_ratio_of_millions():
    """A planner's 14 units on a week the model gave 1e-8 a day: scaling its band by the ratio (2e8) put p90 in the
    hundreds of millions, and the plan's demand deviation with it. A model that gave next to nothing has no band to
    scale: the day's band is Poisson's."""
    base = forecast({("A", "DE"): 1e-8, ("B", "DE"): 1.0})
    base.loc[base["sku"] == "A", "p90"] = 1.68
    plan = build_consensus(base, CATEGORIES, cycle(override("o1", sku="A", units=14.0),
                                                   override("o2", sku="B", units=70.0))).plan
    week = plan[plan["forecast_date"] < FIRST + dt.timedelta(days=7)]
    a, b = week[week["sku"] == "A"], week[week["sku"] == "B"]
    assert np.allclose(a["mean"], 2.0) and a[["p10", "p50", "p90"]].drop_duplicates().values.tolist() == [[0.0, 2.0, 4.0]]
    assert np.allclose(b["mean"], 10.0) and np.allclose(b["p90"], 15.0)  # tenfold: still the model's band, scaled


def test_past_a_tenfold_rise_the_band_stops_widening_but_never_narrows_as_the_number_grows():
    """Mean 5 a day with p10 0 and p90 12: at 9.9x the band is scaled (p90 118.8); it switched to Poisson's at 10.1x
    (p90 60, a review found), so a slightly bigger promotion lost most of its safety stock. The spread now stops
    growing at tenfold, and p90 only grows with the number."""
    base = forecast({("A", "DE"): 5.0})
    base["p10"], base["p90"] = 0.0, 12.0
    p90 = []
    for units in (5.0 * 7 * 9.9, 5.0 * 7 * 10.1, 5.0 * 7 * 40):
        plan = build_consensus(base, CATEGORIES, cycle(override("o1", sku="A", units=units))).plan
        day = plan[plan["forecast_date"] == FIRST].iloc[0]
        p90.append(day["p90"])
        assert day["p10"] <= day["p50"] <= day["p90"] and day["p10"] >= 0
    assert p90[0] == pytest.approx(118.8) and p90[1] == pytest.approx(5.0 * 10.1 + 7.0 * 10)
    assert p90[0] < p90[1] < p90[2] < 12.0 * 40  # continuous, growing, not stretched fortyfold


def test_revisions_count_by_the_cutoff_and_a_withdrawal_undoes_the_override():
    first = override("o1", sku="A", units=70.0, entered_at_utc=pd.Timestamp("2026-10-01", tz="UTC"))
    revised = override("o1", sku="A", units=35.0, entered_at_utc=pd.Timestamp("2026-10-10", tz="UTC"))
    withdrawn = override("o1", sku="A", units=35.0, withdrawn=True, entered_at_utc=pd.Timestamp("2026-10-20", tz="UTC"))
    base = forecast({("A", "DE"): 2.0})
    for cutoff, expected in (("2026-10-05", 70.0), ("2026-10-15", 35.0), ("2026-10-25", 14.0), (None, 14.0)):
        overrides = cycle(first, revised, withdrawn, cutoff=None if cutoff is None else pd.Timestamp(cutoff, tz="UTC"))
        assert units(build_consensus(base, CATEGORIES, overrides).plan, "A", FIRST, 7) == pytest.approx(expected), cutoff
    assert cycle(first, revised, withdrawn)["status"].tolist() == [WITHDRAWN]


@pytest.mark.parametrize(("values", "status"), [
    (dict(units=10.0, change_pct=5.0), "invalid: give units or change_pct, not both"),
    (dict(), "invalid: give units or change_pct"),
    (dict(units=10.0, sku="A", category="shoes"), "invalid: give a sku or a category, not both"),
    (dict(units=10.0, period_start=dt.date(2026, 11, 3)), "invalid: a week starts on a Monday, 2026-11-03 is a Tuesday"),
    (dict(units=10.0, bucket="month", period_start=dt.date(2026, 11, 2)), "invalid: a month starts on the 1st, not on 2026-11-02"),
    (dict(units=10.0, expires_on=dt.date(2026, 10, 31)), EXPIRED),
    (dict(units=10.0, period_start=dt.date(2026, 11, 30)), BEYOND_HORIZON),
    (dict(units=10.0, expires_on=dt.date(2026, 11, 1)), APPLIED),  # the planning date: the last it applies on
])
def test_an_override_that_cannot_apply_says_why_and_moves_nothing(values, status):
    base = forecast({("A", "DE"): 2.0})
    result = build_consensus(base, CATEGORIES, cycle(override("o1", **values)))
    assert result.overrides["status"].tolist() == [status]
    if status != APPLIED:
        assert result.plan["mean"].tolist() == result.plan["statistical_mean"].tolist()


def test_an_override_whose_period_is_over_belongs_to_the_cycles_before():
    overrides = cycle(override("week_before", units=10.0, period_start=dt.date(2026, 10, 26),  # to 2026-11-01
                               entered_at_utc=pd.Timestamp("2026-10-25 09:00", tz="UTC")),
                      override("month_begun", units=10.0, bucket="month", period_start=dt.date(2026, 11, 1)),
                      override("last_cycles_late", units=10.0, period_start=dt.date(2026, 10, 5),
                               entered_at_utc=pd.Timestamp("2026-10-20 09:00", tz="UTC")))
    assert overrides["override_id"].tolist() == ["month_begun"]


@pytest.mark.parametrize(("period_start", "entered"), [
    (dt.date(2026, 10, 26), "2026-11-01 09:00"),  # on the week's last day, the planning date: no run could apply it
    (dt.date(2026, 10, 26), "2026-11-01 22:00"),  # Monday 08:00 in Sydney is still Sunday in UTC
    (dt.date(2026, 10, 19), "2026-10-31 18:00"),  # after October's last run, seen by the first November one
])
def test_a_late_entry_is_listed_as_past_on_its_periods_last_day_and_across_the_month_end(period_start, entered):
    overrides = cycle(override("late", units=10.0, period_start=period_start, entered_at_utc=pd.Timestamp(entered, tz="UTC")))
    assert overrides[["override_id", "status"]].values.tolist() == [["late", PERIOD_PAST]]


def test_an_override_entered_this_cycle_for_a_period_already_over_is_listed_as_past_not_dropped():
    """Entered on the planning date for the week of 19 October: a late entry or a wrong date, which the planner must
    see was not applied (it vanished from the cycle before)."""
    result = build_consensus(forecast({("A", "DE"): 2.0}), CATEGORIES, cycle(
        override("late", sku="A", units=10.0, period_start=dt.date(2026, 10, 19))))
    assert result.overrides[["override_id", "status", "days_covered"]].values.tolist() == [["late", PERIOD_PAST, 0]]
    assert result.plan["mean"].tolist() == result.plan["statistical_mean"].tolist()


def test_a_percent_on_a_sku_or_a_category_the_forecast_does_not_have_says_so():
    result = build_consensus(forecast({("A", "DE"): 2.0}), CATEGORIES, cycle(
        override("pct", sku="C", change_pct=20.0), override("cat", category="bags", units=5.0)))  # C, bags: not in DE
    assert result.overrides[["override_id", "status", "days_covered"]].values.tolist() == [
        ["cat", NO_FORECAST, 0], ["pct", NO_FORECAST, 0]]


def test_a_misspelt_category_or_a_skus_letter_case_is_called_a_typo_with_what_was_meant():
    result = build_consensus(forecast({("A", "DE"): 2.0}), CATEGORIES, cycle(
        override("cat", category="shose", change_pct=10.0), override("case", sku="a", units=7.0),
        override("bags", category="bags", change_pct=10.0), override("CASE", category="SHOES", change_pct=10.0)))
    status = result.overrides.set_index("override_id")["status"]
    assert status["cat"] == "invalid: category shose is no SKU's in the catalogue"
    assert status["case"] == "invalid: SKU a is in neither the forecast nor the catalogue; did you mean A?"
    assert status["CASE"] == "invalid: category SHOES is no SKU's in the catalogue; did you mean shoes?"
    assert status["bags"] == NO_FORECAST  # a real category with no SKU forecast in DE: nothing to adjust, no typo


def test_units_for_a_sku_outside_the_catalogue_are_refused_as_a_typo():
    result = build_consensus(forecast({("A", "DE"): 2.0}), CATEGORIES, cycle(override("typo", sku="AA", units=70.0)))
    assert result.overrides["status"].tolist() == ["invalid: SKU AA is in neither the forecast nor the catalogue"]
    assert set(result.plan["sku"]) == {"A"}


def test_an_override_for_a_market_nobody_plans_says_so_and_one_for_the_catch_all_applies():
    base = forecast({("A", "DE"): 2.0, ("A", "ROW"): 1.0})
    result = build_consensus(base, CATEGORIES, cycle(
        override("fr", market="FR", change_pct=50.0), override("row", market="ROW", change_pct=50.0),
        override("listing", market="fr", sku="A", units=30.0),  # units for a SKU: would list it, in no planned market
        override("new", market="US", sku="A", units=30.0),  # a market of crossdock.yaml without sales yet: listed
    ), markets=["DE", "ROW", "US"])
    status = dict(result.overrides[["override_id", "status"]].values.tolist())
    assert status["row"] == APPLIED and status["new"] == APPLIED
    assert status["fr"] == ("invalid: market FR is not planned (the markets: DE, ROW, US; a country of the "
                            "catch-all market is adjusted under its code)")
    assert status["listing"].startswith("invalid: market fr is not planned")
    assert set(result.plan["market"]) == {"DE", "ROW", "US"}
    moved = result.plan["override_ids"].notna() & (result.plan["market"] == "ROW")
    assert moved.any()
    np.testing.assert_allclose(result.plan.loc[moved, "mean"], 1.5 * result.plan.loc[moved, "statistical_mean"])


def test_units_for_a_listing_the_forecast_has_no_row_for_add_it_to_the_plan():
    base = forecast({("A", "DE"): 2.0})
    base["as_of"] = dt.date(2026, 11, 1)
    result = build_consensus(base, CATEGORIES, cycle(override("launch", sku="C", units=70.0, reason_code="new_listing")))
    launch = result.plan[(result.plan["sku"] == "C") & (result.plan["market"] == "DE")]
    assert len(launch) == 28 and launch["statistical_mean"].eq(0.0).all()
    assert units(result.plan, "C", FIRST, 7) == pytest.approx(70.0) and launch["mean"].sum() == pytest.approx(70.0)
    assert launch["as_of"].eq(dt.date(2026, 11, 1)).all()
    assert result.overrides[["status", "days_covered"]].values.tolist() == [[APPLIED, 7]]


def test_an_override_for_a_market_the_gate_held_back_waits_and_lists_nothing_there():
    """GB's feed broke, so the forecast has no GB rows: units for A, which GB sold lately, would list it as a launch,
    at zero on every other day of the horizon, a demand invented for a series whose demand is unknown. It waits, as
    does an override of GB as a whole; units for C, which GB has not sold lately, still list C there (a launch the
    planner knows of, its stock planned on them); a typo stays a typo."""
    base = forecast({("A", "DE"): 2.0})
    overrides = cycle(override("gb", sku="A", market="GB", units=14.0), override("de", sku="A", units=28.0),
                      override("gb_all", market="GB", change_pct=10.0), override("launch", sku="C", market="GB", units=7.0),
                      override("typo", sku="ZZ9", market="GB", units=7.0))
    held = pd.DataFrame({"sku": ["A"], "market": ["GB"]})
    result = build_consensus(base, CATEGORIES, overrides, markets=["DE", "GB"], held_back=held)
    status = result.overrides.set_index("override_id")["status"]
    assert status["gb"] == status["gb_all"] == HELD_BACK.format(market="GB")
    assert status["gb"].startswith("waiting: market GB is held back by the training-data gate")
    assert status["de"] == status["launch"] == APPLIED and status["typo"].startswith("invalid: SKU ZZ9")
    assert set(zip(result.plan["sku"], result.plan["market"])) == {("A", "DE"), ("C", "GB")}
    listed = build_consensus(base, CATEGORIES, overrides, markets=["DE", "GB"])  # not held back: A listed too
    assert set(zip(listed.plan["sku"], listed.plan["market"])) == {("A", "DE"), ("A", "GB"), ("C", "GB")}


def test_an_override_whose_days_a_later_one_set_again_in_units_is_superseded_and_not_credited():
    """Two planners set A's week in DE: 100, then 50 under another id. The first moves nothing in the end, so it is
    not 'applied' and forecast value added (which reads override_ids) does not credit its author for those days."""
    base = forecast({("A", "DE"): 2.0, ("B", "DE"): 1.0})
    first = override("t09a", sku="A", units=100.0, entered_at_utc=pd.Timestamp("2026-11-01 09:00", tz="UTC"))
    second = override("t09b", sku="A", units=50.0, author="ben", entered_at_utc=pd.Timestamp("2026-11-01 10:00", tz="UTC"))
    market = override("mkt", change_pct=10.0)  # the market's week covers B's days too: it still moves those
    result = build_consensus(base, CATEGORIES, cycle(first, second, market))
    status = result.overrides.set_index("override_id")["status"]
    assert status["t09a"] == "superseded: override t09b set its days again"
    assert status["t09b"] == status["mkt"] == APPLIED
    assert units(result.plan, "A", FIRST, 7) == pytest.approx(50.0)
    week = result.plan[result.plan["forecast_date"] < FIRST + dt.timedelta(days=7)]
    assert set(week.loc[week["sku"] == "A", "override_ids"]) == {"t09b"}
    assert set(week.loc[week["sku"] == "B", "override_ids"]) == {"mkt"}
    # a market week of A alone is exactly A's days: A's units set them again, so it too moves nothing there
    alone = build_consensus(forecast({("A", "DE"): 2.0}), CATEGORIES, cycle(market, second)).overrides
    assert alone.set_index("override_id")["status"]["mkt"] == "superseded: override t09b set its days again"


def test_a_coarser_override_whose_days_later_units_set_again_is_credited_only_where_it_still_moves_them():
    """The market's +10 % for November, then units for A's first week: that week's total is A's units, whatever the
    10 % did, so only the units are credited there; the 10 % still moves B and A's later days. Once units set every
    day it moved, it is superseded."""
    base = forecast({("A", "DE"): 2.0, ("B", "DE"): 1.0})
    month = dict(bucket="month", period_start=dt.date(2026, 11, 1))
    market = override("mkt", change_pct=10.0, **month)
    week = override("a1", sku="A", units=50.0, author="ben", entered_at_utc=pd.Timestamp("2026-11-01 10:00", tz="UTC"))
    result = build_consensus(base, CATEGORIES, cycle(market, week))
    status = result.overrides.set_index("override_id")["status"]
    assert status["mkt"] == status["a1"] == APPLIED
    by_day = result.plan.set_index(["sku", "forecast_date"])["override_ids"]
    assert by_day[("A", FIRST)] == "a1" and by_day[("A", FIRST + dt.timedelta(days=7))] == "mkt"
    assert by_day[("B", FIRST)] == "mkt"
    assert units(result.plan, "A", FIRST, 7) == pytest.approx(50.0)
    # units for A's and B's November: nothing of the 10 % is left
    rest = [override("a_month", sku="A", units=300.0, entered_at_utc=pd.Timestamp("2026-11-01 11:00", tz="UTC"), **month),
            override("b_month", sku="B", units=20.0, entered_at_utc=pd.Timestamp("2026-11-01 12:00", tz="UTC"), **month)]
    status = build_consensus(base, CATEGORIES, cycle(market, week, *rest)).overrides.set_index("override_id")["status"]
    assert status["mkt"].startswith("superseded: override ") and status["mkt"].endswith(" set its days again")


def test_no_overrides_leave_the_forecast_as_it_is():
    base = forecast({("A", "DE"): 2.0, ("C", "FR"): 1.5})
    result = build_consensus(base, CATEGORIES, cycle())
    assert result.plan["mean"].tolist() == base["mean"].tolist()
    assert result.plan["override_ids"].isna().all() and result.overrides.empty
