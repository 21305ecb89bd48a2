"""Series that stopped selling: judged on their own rate, forecast 0 only where the backtest proved it held out."""

import numpy as np
import pandas as pd
import pytest

from ml import backtest as bt
from ml.blend import MeanChoice, blend, blend_errors, blend_forecast, fit_choice, held_out_choices
from ml.panel import build_panel
from ml.stopped_series import MIN_QUIET_DAYS, out_of_stock, quiet_run_probability, stopped, stopped_note

try:
    from bench_modules import load_bench
    from ml_synthetic import DEFAULT_END as AS_OF
    from ml_synthetic import FAST_BACKTEST as FAST
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.bench_modules import load_bench
    from tests.ml_synthetic import DEFAULT_END as AS_OF
    from tests.ml_synthetic import FAST_BACKTEST as FAST
    from tests.ml_synthetic import make_history



def test_a_young_daily_seller_is_judged_with_the_prior_days():
    # sold on its first 10 days: rate 10 / (10 + 28); (28/38)^q < 0.05 from q = 10 quiet days
    Y = np.zeros((1, 40))
    Y[0, 5:15] = 2.0
    probability, quiet = quiet_run_probability(Y, np.array([5]), 14 + 9)
    assert quiet[0] == 9 and probability[0] == pytest.approx((28 / 38) ** 9)
    assert not stopped(Y, np.array([5]), 14 + 9)[0] and stopped(Y, np.array([5]), 14 + 10)[0]


def test_a_long_daily_seller_stops_after_a_week_not_over_a_long_weekend():
    Y = np.ones((1, 400))
    Y[0, 390:] = 0.0  # last sale on day 389
    assert not stopped(Y, np.array([0]), 389 + MIN_QUIET_DAYS - 1)[0]  # P ~ 1e-8, but under a week
    assert stopped(Y, np.array([0]), 389 + MIN_QUIET_DAYS)[0]


def test_a_slow_seller_needs_a_longer_quiet_run_and_no_sale_at_all_is_not_judged():
    Y = np.zeros((2, 400))
    Y[0, 0:300:10] = 1.0  # one day in ten, last sale on day 290: rate 30 / (291 + 28), from day 0 (within 364 days)
    rate = 30 / (291 + 28)
    needed = int(np.ceil(np.log(0.05) / np.log(1 - rate)))
    assert not stopped(Y, np.array([0, 0]), 290 + needed - 1)[0] and stopped(Y, np.array([0, 0]), 290 + needed)[0]
    probability, quiet = quiet_run_probability(Y, np.array([0, 0]), 399)
    assert probability[1] == 1.0 and quiet[1] == -1 and not stopped(Y, np.array([0, 0]), 399)[1]


def test_a_season_ending_as_it_did_a_year_before_is_no_stop_but_a_product_taken_off_sale_is():
    """A Shopify merchant's summer lines, quiet since September, were judged stopped at the end of October (48
    stopped_selling exceptions, and a forecast of 0 into next spring). Quiet over the same days a year before and
    sold again after, a series is in a seasonal lull; a daily seller that stops where it sold a year before has
    stopped, and so does one whose run a year before was before its first sale."""
    days = 2 * 364 + 120
    Y = np.zeros((3, days))
    year = np.arange(days) % 364
    Y[0, (year >= 120) & (year < 270)] = 2.0  # summer lines: days 120..269 of each year
    Y[1, :] = 1.0  # sold every day...
    Y[1, 364 + 270:] = 0.0  # ...until day 270 of the second year
    Y[2, 364 + 120: 364 + 270] = 2.0  # a first summer only
    origin = 364 + 300  # 31 quiet days each (the last sale on day 269)
    first = np.array([120, 0, 364 + 120])
    probability, quiet = quiet_run_probability(Y, first, origin)
    assert quiet.tolist() == [31, 31, 31] and (probability < 0.05).all()  # each would be stopped by its run alone
    assert stopped(Y, first, origin).tolist() == [False, True, True]


def stopping_history() -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """A synthetic history whose four most regular series stop 70 days before AS_OF: quiet in windows 2 and 1 of three."""
    history = make_history(n_skus=10, markets=("US", "GB", "DE"), days=520, end=AS_OF, seed=5, phase_out_share=0.0)
    selling_days = history[history["units_sold"] > 0].groupby(["sku", "market"]).size().sort_values()
    gone = list(selling_days.index[-4:])
    cut = pd.Timestamp(AS_OF) - pd.Timedelta(days=70)
    key = pd.MultiIndex.from_frame(history[["sku", "market"]])
    late = key.isin(gone) & (pd.to_datetime(history["demand_date"]) > cut)
    return history[~late].reset_index(drop=True), gone


def test_the_backtest_forecasts_stopped_series_zero_when_the_other_windows_prove_it():
    history, gone = stopping_history()
    result = bt.backtest(history, AS_OF, horizon_days=28, n_windows=3, seed=7, config=FAST, baselines=())
    p, windows = result.predictions, result.windows.set_index("window")
    panel = build_panel(history, AS_OF)
    first = panel.series["first_idx"].to_numpy()
    keys = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    for window, rows in p.groupby("window"):
        flags = pd.Series(stopped(panel.Y, first, panel.day_index(rows["origin"].iloc[0])), index=keys)
        row_keys = pd.MultiIndex.from_frame(rows[["sku", "market"]])
        np.testing.assert_array_equal(rows["stopped"].to_numpy(), flags.reindex(row_keys).to_numpy())
        zero = rows["stopped"].to_numpy() & bool(windows.loc[window, "zero_stopped"])
        expected = np.where(zero, 0.0, blend(rows["mean_model"], rows["level_28"], windows.loc[window, "mean_weight"]))
        np.testing.assert_allclose(rows["mean"], expected)
        assert (rows.loc[zero, ["p10", "p50", "p90"]] == 0).all().all()
    stopped_rows = p[p["stopped"]]
    gone_rows = p[pd.MultiIndex.from_frame(p[["sku", "market"]]).isin(gone)]
    # stopped 70 days before AS_OF: after window 3's origin (84 days), before window 2's (56)
    assert gone_rows.groupby("window")["stopped"].all().to_dict() == {1: True, 2: True, 3: False}
    errors = {window: blend_errors(rows["actual"].to_numpy(), rows["mean_model"].to_numpy(), rows["level_28"].to_numpy()[::28],
                                   28, rows["stopped"].to_numpy()[::28]) for window, rows in p.groupby("window")}
    for window, choice in held_out_choices(errors).items():
        assert (windows.loc[window, "mean_weight"], windows.loc[window, "zero_stopped"]) == (choice.weight, choice.zero_stopped)
    assert result.zero_stopped == fit_choice(errors).zero_stopped
    assert windows["zero_stopped"].any()  # proven on some window, so the zeros below are the rule's
    zeroed = stopped_rows[stopped_rows["window"].map(windows["zero_stopped"]).astype(bool)]
    assert len(zeroed) and (zeroed[["mean", "p90"]].to_numpy() == 0).all()
    assert (gone_rows.loc[gone_rows["window"] < 3, "mean_model"] > 0).any()  # the model had kept them selling


def test_the_published_forecast_zeroes_stopped_series_and_names_them():
    history, gone = stopping_history()
    panel = build_panel(history, AS_OF)
    series = panel.series[["sku", "market"]]
    launch = pd.DataFrame({"sku": ["NEW"], "market": ["US"]})  # a planned launch: no history, nothing to judge
    forecast = pd.concat([series, launch], ignore_index=True).loc[lambda f: f.index.repeat(2)].reset_index(drop=True).assign(
        forecast_date=pd.Timestamp(AS_OF) + pd.Timedelta(days=1), mean=3.0, p10=1.0, p50=3.0, p90=6.0
    )
    out, named = blend_forecast(forecast, panel, MeanChoice(1.0, zero_stopped=True))
    assert out.loc[out["sku"] == "NEW", "mean"].tolist() == [3.0, 3.0]
    flags = stopped(panel.Y, panel.series["first_idx"].to_numpy(), panel.n_days - 1)
    judged = set(map(tuple, series[flags].to_numpy()))
    assert set(gone) <= judged and set(map(tuple, named[["sku", "market"]].to_numpy())) == judged
    is_stopped = pd.MultiIndex.from_frame(out[["sku", "market"]]).isin(list(judged))
    assert (out.loc[is_stopped, ["mean", "p10", "p50", "p90"]] == 0).all().all()
    assert (out.loc[~is_stopped, "mean"] == 3.0).all() and (out.loc[~is_stopped, "p90"] == 6.0).all()
    named_gone = named[pd.MultiIndex.from_frame(named[["sku", "market"]]).isin(gone)]
    assert (named_gone["quiet_days"] >= 70).all() and len(named_gone) == len(gone)
    last_sale = panel.start + pd.to_timedelta(panel.n_days - 1 - named["quiet_days"], unit="D")
    assert (named["last_sale_date"] == last_sale).all()
    kept, none_named = blend_forecast(forecast, panel, MeanChoice(1.0, zero_stopped=False))
    assert (kept["mean"] == 3.0).all() and none_named.empty


def test_the_bench_scores_the_rule_against_never_using_it():
    scores = load_bench("stopped_series").scores
    history, _ = stopping_history()
    result = bt.backtest(history, AS_OF, horizon_days=28, n_windows=3, seed=7, config=FAST, baselines=())
    proven = scores(result, 28)
    assert proven["chosen"] == pytest.approx(result.overall().loc["lightgbm", "weekly_wape"])
    assert proven["chosen"] < proven["never"]  # the four stopped series, forecast 0 where the others proved it
    before = make_history(n_skus=10, markets=("US", "GB", "DE"), days=520, end=AS_OF, seed=5, phase_out_share=0.0)
    untouched = bt.backtest(before, AS_OF, horizon_days=28, n_windows=3, seed=7, config=FAST, baselines=())
    assert not untouched.windows["zero_stopped"].any()  # the same series still selling: no window chooses the rule
    same = scores(untouched, 28)
    assert same["chosen"] == pytest.approx(same["never"])


def test_a_series_is_out_of_stock_only_where_its_nodes_snapshot_since_its_last_sale_says_so():
    series = pd.DataFrame({"sku": ["A", "B", "C", "A", "D"], "market": ["DE", "DE", "DE", "US", "DE"],
                           "last_sale_date": pd.to_datetime(["2026-10-01"] * 4 + ["2026-10-20"])})
    stock = pd.DataFrame({"sku": ["A", "B"], "node": ["DE-FRA", "DE-FRA"], "on_hand": [0, 12],
                          "snapshot_date": pd.to_datetime(["2026-10-12"] * 2)})
    # A at DE-FRA holds 0, B 12, C is not in DE-FRA's snapshot (none held); US-EWR has no inventory feed: unknown;
    # D sold after the snapshot that lacks it: the snapshot is older than its quiet run
    nodes = {"DE": "DE-FRA", "US": "US-EWR"}
    assert out_of_stock(series, nodes, stock).tolist() == [True, False, True, False, False]
    assert not out_of_stock(series, nodes, stock.iloc[:0]).any()  # no feed at all
    # a later file counting B alone (int_stock_position keeps A at the full count of 10-12): A's own count is
    # older than a sale of 10-15, so A is not known to be out of stock, whatever B's file says
    later = pd.DataFrame({"sku": ["A", "B"], "node": ["DE-FRA", "DE-FRA"], "on_hand": [0, 12],
                          "snapshot_date": pd.to_datetime(["2026-10-12", "2026-10-20"])})
    sold = pd.DataFrame({"sku": ["A"], "market": ["DE"], "last_sale_date": pd.to_datetime(["2026-10-15"])})
    assert out_of_stock(sold, nodes, later).tolist() == [False]


def test_a_stopped_series_out_of_stock_keeps_its_forecast_and_is_named_as_such():
    history, gone = stopping_history()
    panel = build_panel(history, AS_OF)
    series = panel.series[["sku", "market"]]
    forecast = series.loc[series.index.repeat(2)].reset_index(drop=True).assign(
        forecast_date=pd.Timestamp(AS_OF) + pd.Timedelta(days=1), mean=3.0, p10=1.0, p50=3.0, p90=6.0
    )
    short = pd.DataFrame([gone[0]], columns=["sku", "market"])
    out, judged = blend_forecast(forecast, panel, MeanChoice(1.0, zero_stopped=True), short)
    row = pd.MultiIndex.from_frame(out[["sku", "market"]])
    assert (out.loc[row.isin([gone[0]]), "mean"] == 3.0).all()  # out of stock: its quiet run says nothing of demand
    assert (out.loc[row.isin(gone[1:]), "mean"] == 0.0).all()
    named = judged.set_index(["sku", "market"])["out_of_stock"]
    assert named[gone[0]] and not named[list(gone[1:])].any()


def test_the_warning_names_the_freshest_stops_first_and_counts_the_rest():
    stopped_rows = pd.DataFrame({"sku": [f"S{i}" for i in range(7)], "market": "DE", "quiet_days": [30, 8, 9, 10, 11, 12, 13]})
    note = stopped_note(stopped_rows)
    assert note.startswith("7 series stopped selling and are forecast 0")
    assert "S1 in DE (8 days), S2 in DE (9 days), S3 in DE (10 days), S4 in DE (11 days), S5 in DE (12 days) and 2 more." in note
