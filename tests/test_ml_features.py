"""Panel densification and leakage-free features."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml.features import (
    FEATURE_NAMES,
    MAX_HORIZON_DAYS,
    build_context,
    build_features,
    sample_launch_rows,
    sample_rows,
)
from ml.series_selection import active_in_panel, active_series
from ml.panel import Panel, build_panel

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

END = dt.date(2025, 6, 30)


def _rows(rows):
    return pd.DataFrame(rows, columns=["sku", "market", "category", "demand_date", "units_sold"]).assign(
        demand_date=lambda f: pd.to_datetime(f["demand_date"]), units_returned=0, revenue_eur=0.0
    )


def test_panel_densifies_sums_duplicates_and_cuts_at_end():
    h = _rows(
        [
            ("A", "US", "home", "2025-01-01", 2),
            ("A", "US", "home", "2025-01-01", 1),  # same day twice: summed
            ("A", "US", "home", "2025-01-04", 5),
            ("B", "DE", "gifts", "2025-01-03", 0),  # activity without a sale
            ("B", "DE", "gifts", "2025-01-02", 4),
            ("A", "US", "home", "2025-01-09", 99),  # after the end: never read
        ]
    )
    p = build_panel(h, dt.date(2025, 1, 5))
    assert p.start == pd.Timestamp("2025-01-01") and p.n_days == 5
    assert p.series[["sku", "market"]].values.tolist() == [["A", "US"], ["B", "DE"]]
    np.testing.assert_array_equal(p.Y, [[3, 0, 0, 5, 0], [0, 4, 0, 0, 0]])
    assert p.series["first_idx"].tolist() == [0, 1]
    assert p.series["last_idx"].tolist() == [3, 1]


def test_panel_rejects_negative_units():
    h = _rows([("A", "US", "home", "2025-01-01", -1)])
    with pytest.raises(ValueError, match=">= 0"):
        build_panel(h, dt.date(2025, 1, 5))


def test_active_series_window_is_inclusive():
    as_of = dt.date(2025, 6, 30)
    h = _rows(
        [
            ("A", "US", "home", as_of - dt.timedelta(days=91), 1),  # exactly 91 days before: active
            ("B", "US", "home", as_of - dt.timedelta(days=92), 1),  # 92 days: inactive
            ("C", "US", "home", as_of, 1),  # on as_of: active
            ("D", "US", "home", as_of + dt.timedelta(days=1), 1),  # after as_of: unknown yet
            ("E", "US", "home", as_of - dt.timedelta(days=5), 0),  # rows without sales do not count
            ("A", "US", "home", as_of - dt.timedelta(days=300), 2),
        ]
    )
    a = active_series(h, as_of)
    assert a["sku"].tolist() == ["A", "C"]
    assert list(a.columns) == ["sku", "market", "category", "first_sale_date", "last_sale_date"]
    assert a.loc[a["sku"] == "A", "first_sale_date"].iloc[0] == pd.Timestamp(as_of - dt.timedelta(days=300))
    panel = build_panel(h, as_of, 1100)
    pd.testing.assert_frame_equal(active_in_panel(panel), a[["sku", "market", "category"]])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_active_series_read_off_the_panel_are_active_series(seed):
    """The forecast reads its series off its panel: the same rows, order and category as `active_series`."""
    history = make_history(n_skus=12, days=700, end=END, seed=seed, phase_out_share=0.3, coverage=0.7)
    recategorised = history["sku"] == history["sku"].iloc[0]
    history.loc[recategorised & (history["demand_date"] > history["demand_date"].median()), "category"] = "moved"
    for as_of, days in [(END, 91), (END - dt.timedelta(days=200), 91), (END, 30), (END - dt.timedelta(days=400), 182)]:
        expected = active_series(history, as_of, days)[["sku", "market", "category"]]
        assert len(expected) > 0
        pd.testing.assert_frame_equal(active_in_panel(build_panel(history, as_of, 1100), days), expected)


def _constant_panel(days=400, units=2.0):
    series = pd.DataFrame({"sku": ["A"], "market": ["US"], "category": ["home"], "first_idx": [0], "last_idx": [days - 1]})
    return Panel(series=series, start=pd.Timestamp("2024-01-01"), Y=np.full((1, days), units))


def test_feature_values_on_a_constant_series():
    p = _constant_panel()
    ctx = build_context(p, 56)
    o = p.n_days - 1
    X = build_features(ctx, np.array([0, 0]), np.array([o, o]), np.array([1, 56]))
    f = dict(zip(FEATURE_NAMES, X[0]))
    for name in ("mean_7", "mean_28", "mean_91", "mean_364", "same_wd_mean_4", "same_wd_mean_8", "lag_364",
                 "ly_mean_7", "last_units", "sku_mean_28", "catmkt_mean_28"):
        assert f[name] == pytest.approx(2.0), name
    assert f["std_28"] == pytest.approx(0.0)
    assert f["nonzero_share_91"] == pytest.approx(1.0)
    assert f["days_since_last_sale"] == 0
    assert f["age_days"] == o
    assert X[1, FEATURE_NAMES.index("horizon")] == 56
    target = p.start + pd.Timedelta(days=o + 56)
    assert X[1, FEATURE_NAMES.index("dow")] == target.dayofweek
    assert X[1, FEATURE_NAMES.index("month")] == target.month


def test_features_refuse_horizons_that_would_read_past_the_origin():
    p = _constant_panel()
    ctx = build_context(p, 56)
    o = np.array([p.n_days - 1])
    with pytest.raises(ValueError):
        build_features(ctx, np.array([0]), o, np.array([MAX_HORIZON_DAYS + 1]))
    with pytest.raises(ValueError):
        build_features(ctx, np.array([0]), o + 1, np.array([1]))


def test_calendar_flags_black_friday():
    p = _constant_panel(days=800)
    ctx = build_context(p, 56)
    bf = pd.Timestamp("2025-11-28")  # Friday after the 4th Thursday of November 2025
    o = p.day_index(bf) - 10
    X = build_features(ctx, np.array([0]), np.array([o]), np.array([10]))
    f = dict(zip(FEATURE_NAMES, X[0]))
    assert f["event_code"] == 1 and f["days_to_event"] == 0 and f["days_since_event"] == 0
    assert f["is_holiday_prev"] == 1  # Thanksgiving


def test_features_ignore_everything_after_the_origin():
    """Wildly perturb units and revenue after the origin: features for that origin must not move.

    Covers pre-launch rows too (series whose first sale is after the origin):
    their launch day is the one fact about the future they carry, so it is
    kept; every unit and euro after the origin is scrambled.
    """
    history = make_history(n_skus=8, days=500, end=END, seed=3)
    panel = build_panel(history, END)
    o = panel.n_days - 1 - 220  # before the late launch make_history always has (day ~300 of 500)
    rng = np.random.default_rng(0)
    Y2, R2 = panel.Y.copy(), panel.R.copy()
    Y2[:, o + 1 :] = rng.integers(0, 10_000, size=Y2[:, o + 1 :].shape)
    R2[:, o + 1 :] = rng.uniform(0, 1e6, size=R2[:, o + 1 :].shape)
    perturbed = Panel(series=panel.series, start=panel.start, Y=Y2, R=R2)
    ctx1, ctx2 = build_context(panel, 56), build_context(perturbed, 56)

    first = panel.series["first_idx"].to_numpy()
    pre_launch = np.flatnonzero(first > o)
    active = np.flatnonzero((first <= o) & (ctx1.L[:, o] >= o - 91))
    assert len(pre_launch) >= 1 and len(active) >= 10
    rows = np.concatenate([active, pre_launch])
    s = np.repeat(rows, 56)
    h = np.tile(np.arange(1, 57), len(rows))
    oo = np.full(len(s), o)
    X1, X2 = build_features(ctx1, s, oo, h), build_features(ctx2, s, oo, h)
    np.testing.assert_array_equal(X1, X2)  # NaNs compare equal here
    is_active = np.repeat(first[rows] <= o, 56)
    assert np.isfinite(X1[is_active, FEATURE_NAMES.index("mean_28")]).all()
    assert np.isfinite(X1[is_active, FEATURE_NAMES.index("price_28")]).mean() > 0.5
    assert np.isnan(X1[~is_active, FEATURE_NAMES.index("mean_28")]).all()  # no own history before launch
    assert np.isfinite(X1[~is_active, FEATURE_NAMES.index("sku_mean_28")]).all()  # the SKU elsewhere speaks


def sample_training_rows(*args, **kwargs):
    """The active series' rows alone."""
    return sample_rows(*args, launches=False, **kwargs)


def test_training_rows_target_on_or_before_panel_end_and_series_active_at_origin():
    history = make_history(n_skus=8, days=500, end=END, seed=3)
    panel = build_panel(history, END)
    ctx = build_context(panel, 56)
    s, o, h, y = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7))
    assert len(s) > 1000
    assert ((o + h) <= panel.n_days - 1).all() and (o >= 0).all()
    assert h.min() >= 1 and h.max() <= 56
    last = ctx.L[s, o]
    assert ((last >= 0) & (o - last <= 91)).all()
    np.testing.assert_array_equal(y, panel.Y[s, o + h])
    # same seed, same rows
    s2, o2, h2, _ = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7))
    assert np.array_equal(s, s2) and np.array_equal(o, o2) and np.array_equal(h, h2)


def test_a_row_cap_keeps_the_rows_a_smaller_sample_would_have_drawn():
    history = make_history(n_skus=8, days=500, end=END, seed=3)
    ctx = build_context(build_panel(history, END), 56)
    full = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7), row_sample=0.5)
    capped = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7), row_sample=0.5, max_rows=1000)
    assert len(capped[0]) == 1000 < len(full[0])
    rows = {tuple(r) for r in np.column_stack(full[:3]).tolist()}
    assert all(tuple(r) in rows for r in np.column_stack(capped[:3]).tolist())  # a subset, same targets
    keys = capped[0] * 10**6 + capped[1] * 100 + capped[2]
    full_keys = full[0] * 10**6 + full[1] * 100 + full[2]
    order = {k: i for i, k in enumerate(full_keys.tolist())}
    assert np.all(np.diff([order[k] for k in keys.tolist()]) > 0)  # in their original order
    # the cap is what a smaller row_sample gives: the rows whose draw came first
    n = len(sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7), row_sample=0.2)[0])
    smaller = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7), row_sample=0.2)
    same = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7), row_sample=0.5, max_rows=n)
    assert all(np.array_equal(a, b) for a, b in zip(smaller, same))
    # a cap above the sample changes nothing
    above = sample_training_rows(ctx, 56, 420, 1, 91, np.random.default_rng(7), row_sample=0.5, max_rows=10**9)
    assert all(np.array_equal(a, b) for a, b in zip(full, above))


def test_launch_rows_share_the_row_cap_and_a_history_under_it_keeps_every_row():
    history = make_history(n_skus=8, days=500, end=END, seed=3)  # has a late launch (day ~300 of 500)
    ctx = build_context(build_panel(history, END), 56)
    args = (ctx, 56, 420, 1, 91)
    rng = np.random.default_rng(7)
    regular = sample_training_rows(*args, rng, row_sample=0.5)
    launch = sample_launch_rows(ctx, 56, rng)
    assert len(launch[0]) > 0
    under = sample_rows(*args, np.random.default_rng(7), row_sample=0.5, max_rows=10**9)
    assert all(np.array_equal(a, np.concatenate([r, lr])) for a, r, lr in zip(under, regular, launch))

    total = len(regular[0]) + len(launch[0])
    cap = total // 3
    capped = sample_rows(*args, np.random.default_rng(7), row_sample=0.5, max_rows=cap)
    n_launch = round(cap * len(launch[0]) / total)
    assert len(capped[0]) == cap and n_launch > 0
    first_drawn = sample_training_rows(*args, np.random.default_rng(7), row_sample=0.5, max_rows=cap - n_launch)
    assert all(np.array_equal(a[: cap - n_launch], b) for a, b in zip(capped, first_drawn))
    launch_keys = {tuple(r) for r in np.column_stack(launch).tolist()}
    kept = np.column_stack([a[cap - n_launch :] for a in capped]).tolist()
    assert len(kept) == n_launch and all(tuple(r) in launch_keys for r in kept)  # a share of the launch rows
