"""ml.season_lift: a category's forecast lifted to last year's season where no backtest window held one like it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.backtest import window_origins
from crossdock.count_median import poisson_median
from ml.season_lift import MAX_LIFT, NOISE_Z, lift_forecast, season_lift

AS_OF = pd.Timestamp("2024-10-31")
H = 56
MARKETS = ("DE", "US")


def _peak(height: float):
    return lambda day: 10.0 * height if (day.month == 11 or (day.month == 12 and day.day <= 26)) else 10.0


def _history(rates: dict[str, object], start: str = "2023-01-01", end: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """Units a day per category (a number or a function of the day), one SKU of it in each market."""
    days = pd.date_range(start, end)
    frames = []
    for category, rate in rates.items():
        units = np.asarray([rate(d) if callable(rate) else rate for d in days], dtype=float)
        for market in MARKETS:
            frames.append(pd.DataFrame({"sku": f"{category}-1", "market": market, "category": category,
                                        "demand_date": days, "units_sold": units}))
    out = pd.concat(frames, ignore_index=True)
    return out[out["units_sold"] > 0]


def _forecast(per_day: dict[str, float], as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """A flat forecast of each category's SKU in each market, a band around its mean."""
    days = pd.date_range(as_of + pd.Timedelta(days=1), periods=H)
    rows = [{"sku": f"{c}-1", "market": m, "category": c, "forecast_date": d, "mean": rate, "p10": rate / 2,
             "p50": rate, "p90": rate * 2} for c, rate in per_day.items() for m in MARKETS for d in days]
    return pd.DataFrame(rows)


def _lift(history: pd.DataFrame, forecast: pd.DataFrame, as_of: pd.Timestamp = AS_OF, **kwargs):
    return season_lift(forecast, history, as_of.date(), H, window_origins(as_of.date(), H, 4), **kwargs)


def test_a_peak_last_year_that_the_forecast_misses_lifts_its_category_to_last_years_ratio_and_no_other():
    history = _history({"toys": _peak(2.5), "socks": 10.0})
    lift = _lift(history, _forecast({"toys": 10.0, "socks": 10.0}))
    assert set(lift.lifts) == {"toys"}
    # last year's ratio over a flat forecast's 1.0x: the 56 days after 2023-11-02 over the 28 up to it, 2 peak days
    # among the level days and 2 quiet ones among those after, so 2.21x rather than the peak's 2.5x; then taken
    # NOISE_Z standard errors of its counts (620 units in the level days, 2,740 after, both markets) towards 1.0x
    row = lift.categories.set_index("category").loc["toys"]
    measured, error = 1370 / 56 / (310 / 28), np.sqrt(1 / 620 + 1 / 2740)
    assert row["forecast_ratio"] == pytest.approx(1.0)
    assert row["ratio_ahead"] == pytest.approx(measured * np.exp(-NOISE_Z * error))
    assert lift.lifts["toys"] == pytest.approx(row["ratio_ahead"])
    assert "toys in DE, US: the same weeks last year sold at least 2.05x" in lift.describe()
    assert "(the cap)" not in lift.describe()


def test_a_category_of_a_few_units_a_day_needs_a_larger_season_to_be_lifted():
    """The same peak (1.83x measured) in a category of 10 a day a market is lifted, in one of 1 a day it is not: its
    60 level units could read that far above a season of 1.5x by chance."""
    thick = _lift(_history({"toys": _peak(2.0)}), _forecast({"toys": 10.0}))
    thin = _lift(_history({"toys": lambda d: _peak(2.0)(d) / 10}), _forecast({"toys": 1.0}))
    assert set(thick.lifts) == {"toys"} and thin.lifts == {}


def test_a_forecast_that_carries_last_years_season_is_left_as_it_is():
    history = _history({"toys": _peak(2.5)})
    forecast = _forecast({"toys": 25.0})
    lift = _lift(history, forecast)
    assert lift.lifts == {}
    out, _ = lift_forecast(forecast, pd.DataFrame(), lift)
    pd.testing.assert_frame_equal(out, forecast)
    # nor one within 10 % of it (SMALLEST_CHANGE): short by 5 %, above by 8 %
    ratio = _lift(history, _forecast({"toys": 10.0})).categories.loc[0, "ratio_ahead"]
    assert _lift(history, _forecast({"toys": 10.0 * ratio * 0.95})).lifts == {}
    assert _lift(history, _forecast({"toys": 10.0 * ratio * 0.88})).lifts["toys"] == pytest.approx(1 / 0.88)


def test_the_lift_is_capped_and_says_so():
    lift = _lift(_history({"toys": _peak(6.0)}), _forecast({"toys": 10.0}))
    assert lift.lifts == {"toys": MAX_LIFT} and "(the cap)" in lift.describe()
    assert _lift(_history({"toys": _peak(6.0)}), _forecast({"toys": 10.0}), max_lift=2.0).lifts == {"toys": 2.0}


def test_a_max_lift_of_one_turns_it_off():
    assert _lift(_history({"toys": _peak(2.5)}), _forecast({"toys": 10.0}), max_lift=1.0).lifts == {}


def test_a_season_ending_lowers_a_forecast_that_stays_at_the_peak():
    as_of = pd.Timestamp("2024-12-20")
    lull = lambda d: 4.0 if d.month == 1 or (d.month == 12 and d.day > 26) else _peak(2.0)(d)  # noqa: E731
    history = _history({"toys": lull}, end=as_of)
    lift = _lift(history, _forecast({"toys": 20.0}, as_of), as_of)  # the peak's 20 a day carried on
    ratio = lift.categories.set_index("category").loc["toys", "ratio_ahead"]
    assert 1 / MAX_LIFT < ratio < 0.5 and lift.lifts["toys"] == pytest.approx(ratio)
    # a forecast already at the lull, or under it, is not raised
    assert _lift(history, _forecast({"toys": 20.0 * ratio * 0.99}, as_of), as_of).lifts == {}


def test_a_launch_in_last_years_weeks_is_no_season():
    """Like for like: a SKU first sold after last year's level days does not count in last year's weeks."""
    history = _history({"toys": 10.0})
    launch_days = pd.date_range("2023-11-05", AS_OF)
    launch = pd.concat([pd.DataFrame({"sku": "toys-new", "market": m, "category": "toys", "demand_date": launch_days,
                                      "units_sold": 30.0}) for m in MARKETS])
    lift = _lift(pd.concat([history, launch], ignore_index=True), _forecast({"toys": 10.0}))
    assert lift.lifts == {}


def test_lifted_totals_stay_coherent_with_the_skus():
    history = _history({"toys": _peak(2.5), "socks": 10.0})
    forecast = _forecast({"toys": 10.0, "socks": 10.0})
    skus = forecast.assign(level="market/category/sku")[["level", "market", "category", "sku", "forecast_date", "mean"]]
    categories = skus.groupby(["market", "category", "forecast_date"], as_index=False)["mean"].sum().assign(
        level="market/category", sku=None)
    markets = skus.groupby(["market", "forecast_date"], as_index=False)["mean"].sum().assign(
        level="market", category=None, sku=None)
    levels = pd.concat([markets, categories, skus], ignore_index=True)
    lift = _lift(history, forecast)
    out, lifted = lift_forecast(forecast, levels, lift)
    factor = lift.lifts["toys"]
    toys = out["category"] == "toys"
    np.testing.assert_allclose(out.loc[toys, "mean"], forecast.loc[toys, "mean"] * factor)
    # the band moves with the mean, p50 the count median of the new mean (a whole number, as everywhere)
    np.testing.assert_allclose(out.loc[toys, "p50"], poisson_median(out.loc[toys, "mean"].to_numpy()))
    np.testing.assert_allclose(out.loc[toys, "p90"], np.maximum(forecast.loc[toys, "p90"] * factor, out.loc[toys, "p50"]))
    np.testing.assert_allclose(out.loc[toys, "p10"], np.minimum(forecast.loc[toys, "p10"] * factor, out.loc[toys, "p50"]))
    for column in ("mean", "p10", "p50", "p90"):
        np.testing.assert_allclose(out.loc[~toys, column], forecast.loc[~toys, column])
    key = ["market", "forecast_date"]
    cat_rows = lifted[lifted["level"] == "market/category"]
    sku_rows = lifted[lifted["level"] == "market/category/sku"]
    market_rows = lifted[lifted["level"] == "market"].set_index(key)["mean"].sort_index()
    np.testing.assert_allclose(market_rows, cat_rows.groupby(key)["mean"].sum().sort_index())
    np.testing.assert_allclose(cat_rows.set_index(["market", "category", "forecast_date"])["mean"].sort_index(),
                               sku_rows.groupby(["market", "category", "forecast_date"])["mean"].sum().sort_index())
    np.testing.assert_allclose(market_rows, out.groupby(key)["mean"].sum().sort_index())


def test_the_merchant_setting_defaults_to_the_cap_and_the_docs_show_it():
    import yaml

    from crossdock.merchant_config import parse_config
    from crossdock.merchant_settings import ForecastSettings
    from crossdock.settings import PROJECT_ROOT

    assert ForecastSettings().season_lift_max == MAX_LIFT
    text = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    block = text.split("## Keys", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    assert parse_config(yaml.safe_load(block)).forecast == ForecastSettings()
    with pytest.raises(ValueError, match="season_lift_max"):
        ForecastSettings(season_lift_max=0.5)  # under 1 would turn a peak into a lull


def test_a_season_must_repeat_where_the_history_reaches_the_year_before_and_the_milder_year_is_aimed_at():
    """A peak last year only (a lockdown's spring) is not lifted; two peaks are, to the smaller one."""
    once = lambda d: _peak(2.5)(d) if d.year == 2023 else 10.0  # noqa: E731
    assert _lift(_history({"toys": once}, start="2022-01-01"), _forecast({"toys": 10.0})).lifts == {}
    twice = lambda d: _peak(2.5 if d.year == 2023 else 2.0)(d)  # noqa: E731
    lift = _lift(_history({"toys": twice}, start="2022-01-01"), _forecast({"toys": 10.0}))
    row = lift.categories.set_index("category").loc["toys"]
    assert row["ratio_year_before"] < row["ratio_ahead"] and row["season_ratio"] == row["ratio_year_before"]
    assert lift.lifts["toys"] == pytest.approx(row["ratio_year_before"])
    assert ", the year before 1.6" in lift.describe()


def test_a_market_that_sold_flat_is_not_lifted_by_another_markets_christmas_and_a_run_of_one_market_agrees():
    """The category's season is pooled over every market, but its factor applies where the market's own last year
    went the same way; a forecast of one market, judged on every market's history, gets the same factor."""
    days = pd.date_range("2023-01-01", AS_OF)
    de = pd.DataFrame({"sku": "toys-1", "market": "DE", "category": "toys", "demand_date": days,
                       "units_sold": [_peak(3.5)(d) for d in days]})
    us = pd.DataFrame({"sku": "toys-1", "market": "US", "category": "toys", "demand_date": days, "units_sold": 10.0})
    history = pd.concat([de, us], ignore_index=True)
    forecast = _forecast({"toys": 10.0})
    lift = _lift(history, forecast)
    assert set(lift.lifts) == {"toys"} and lift.markets_for("toys") == ["DE"]
    out, _ = lift_forecast(forecast, pd.DataFrame(), lift)
    assert (out.loc[out["market"] == "US", "mean"] == 10.0).all()
    assert np.allclose(out.loc[out["market"] == "DE", "mean"], 10.0 * lift.lifts["toys"])
    assert "toys in DE: the same weeks last year sold at least" in lift.describe()
    alone = _lift(history, forecast[forecast["market"] == "DE"])
    assert alone.lifts["toys"] == pytest.approx(lift.lifts["toys"]) and alone.markets_for("toys") == ["DE"]
