"""bench/season_ahead.py: the month-ends the season check can judge, and how many it sets a market aside at."""
from __future__ import annotations

import pandas as pd

from bench_modules import load_bench

try:
    from test_ml_season_ahead import _christmas, _history
except ImportError:  # tests/ imported as a package
    from tests.test_ml_season_ahead import _christmas, _history


def test_a_christmas_market_is_set_aside_before_and_after_its_peak_and_a_flat_one_never():
    bench = load_bench("season_ahead")
    history = _history({"DE": _christmas, "US": 10.0}, start="2022-01-01", end=pd.Timestamp("2025-03-15"))
    months = bench.month_ends(history, 56, 4)
    assert months[0] >= pd.Timestamp("2022-01-01") + pd.Timedelta(days=364 + 4 * 56 + 28)
    assert months[-1] == pd.Timestamp("2025-02-28")
    judged = bench.set_aside(history)
    assert set(judged["market"]) == {"DE", "US"} and judged["as_of"].nunique() == len(months)
    hit = judged[judged["beyond"] > 1.5]
    assert set(hit["market"]) == {"DE"}
    assert {(d.month, d.day) for d in hit["as_of"]} >= {(10, 31), (12, 31)}  # the peak coming, and ending
    counts = bench.summary(judged)
    assert counts[1.5] == (hit["as_of"].nunique(), len(hit))
    assert counts[1.0][1] >= counts[1.5][1] >= counts[2.0][1]


def test_by_category_pools_the_markets_and_judges_as_the_season_lift_does():
    """`--by category`: one row per month-end x category over every market's sales, like for like and counting
    the noise, as ml/season_lift.py judges."""
    from ml.backtest import window_origins
    from ml.season_ahead import season_ahead
    from ml.season_lift import NOISE_Z

    bench = load_bench("season_ahead")
    history = _history({"DE": _christmas, "US": _christmas}, start="2022-01-01", end=pd.Timestamp("2025-03-15"))
    judged = bench.set_aside(history, by="category")
    assert "market" not in judged.columns and set(judged["category"]) == {"c"}
    for row in judged.itertuples():
        check = season_ahead(history, row.as_of.date(), 56, window_origins(row.as_of.date(), 56, 4), by="category",
                             like_for_like=True, noise_z=NOISE_Z).groups.iloc[0]
        assert row.beyond == check["beyond"]
    hit = judged[judged["beyond"] > 1.5]
    assert {(d.month, d.day) for d in hit["as_of"]} >= {(10, 31), (12, 31)}  # the peak coming, and ending
