"""Leakage-free features for direct multi-horizon forecasting.

Every model row is (series s, origin o, horizon h) with target day t = o + h.
History features are windows over days <= o only; calendar features describe
the target day t (calendar rules are known in advance). Windows are read from
cumulative sums with a leading zero column, `C[:, d] = sum(Y[:, :d])`, so a
window [a, b] is `C[:, b + 1] - C[:, a]`: one gather per feature for all rows,
and no column after o + 1 is ever read for a row with origin o.

Units: every `mean_*` / `*_units` feature is units sold per day of the series
(or per launched series of a group); `*_days` features are days; ratios are
unitless.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.calendar import SAME_WEEKDAY_LAST_YEAR_DAYS
from ml.calendar_features import CalendarArrays, build_calendar
from ml.panel import Panel, last_sale_index

YEAR_LAG_DAYS = SAME_WEEKDAY_LAST_YEAR_DAYS
MAX_HORIZON_DAYS = YEAR_LAG_DAYS - 3  # the last-year window t-367..t-361 must end on or before the origin
CATEGORICAL_FEATURES = ["market", "category", "event_code"]

FEATURE_NAMES: list[str] = [
    # what is asked
    "horizon",
    "market",
    "category",
    # target-day calendar
    "dow",
    "day_of_month",
    "week_of_year",
    "month",
    "is_holiday",
    "is_holiday_prev",
    "is_holiday_next",
    "event_code",
    "is_event_prev",
    "is_event_next",
    "days_to_event",
    "days_since_event",
    # the series, as of the origin
    "age_days",
    "days_since_last_sale",
    "last_units",
    "mean_7",
    "mean_28",
    "mean_91",
    "mean_364",
    "std_28",
    "max_28",
    "nonzero_share_91",
    "trend_7_28",
    "trend_28_91",
    "same_wd_mean_4",
    "same_wd_mean_8",
    "lag_364",
    "ly_mean_7",
    "ly_mean_28_origin",
    "ly_ratio",
    # price and promotion, from realised revenue / units (no planned-price feed exists)
    "price_28",
    "price_index_28_364",
    "price_rel_catmkt",
    "event_lift_364",
    # launch: how far the target day is from the series' first sale (negative before it)
    "target_age_days",
    # the same SKU in all its markets (what a new-market launch borrows from)
    "sku_mean_28",
    "sku_trend_7_28",
    "sku_age_days",
    "sku_markets_live",
    "sku_price_rel_catmkt",
    # the series' category in its market
    "catmkt_mean_28",
    "catmkt_trend_7_28",
    "catmkt_same_wd_index",
    "catmkt_ly_index",
    "catmkt_event_lift_364",
]

# Features read from the series' own history: unknown (NaN) for a row whose
# origin is before the series' launch, where only the SKU elsewhere, its
# category and the calendar speak.
OWN_HISTORY_FEATURES: tuple[str, ...] = (
    "days_since_last_sale", "last_units", "mean_7", "mean_28", "mean_91", "mean_364", "std_28", "max_28",
    "nonzero_share_91", "trend_7_28", "trend_28_91", "same_wd_mean_4", "same_wd_mean_8", "lag_364",
    "ly_mean_7", "ly_mean_28_origin", "ly_ratio", "price_28", "price_index_28_364", "price_rel_catmkt",
    "event_lift_364",
)
MIN_SILENT_DAYS_BEFORE_LAUNCH = 28  # a first sale this far into the panel is a launch, not the panel's edge


def _cumsum0(a: np.ndarray) -> np.ndarray:
    """Cumulative sum along days with a leading zero column."""
    out = np.zeros((a.shape[0], a.shape[1] + 1), dtype=np.float64)
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


def _group_sum(codes: np.ndarray, n_groups: int, a: np.ndarray) -> np.ndarray:
    out = np.zeros((n_groups, a.shape[1]), dtype=np.float64)
    np.add.at(out, codes, a)
    return out


def market_codes(markets: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer code per market, in sorted order of the markets present (stable for the same data)."""
    levels = sorted(set(markets))
    lookup = {m: i for i, m in enumerate(levels)}
    return markets.map(lookup).to_numpy(dtype=np.int64), levels


@dataclass
class FeatureContext:
    """Everything the feature gathers need, precomputed once per panel.

    Built from a `Panel` whose last day is the latest origin that will be asked
    for; the forecast entry points only ever build it from history up to the
    forecast origin, so later data cannot reach the model even by mistake.
    """

    panel: Panel
    calendar: CalendarArrays
    cal_offset: int
    C: np.ndarray  # cumsum of units
    C2: np.ndarray  # cumsum of units^2 (for the std)
    NZ: np.ndarray  # cumsum of days with units > 0
    L: np.ndarray  # last sale day index <= d
    first: np.ndarray  # first sale day index per series
    market_code: np.ndarray
    market_levels: list[str]
    category_code: np.ndarray
    category_levels: list[str]
    sku_code: np.ndarray
    C_sku: np.ndarray  # cumsum over days of the SKU's units in all markets
    N_sku: np.ndarray  # number of the SKU's series launched by day d
    group_code: np.ndarray  # category x market
    C_grp: np.ndarray
    N_grp: np.ndarray
    R: np.ndarray  # cumsum of revenue (EUR), NaN when the history had none
    R_sku: np.ndarray
    R_grp: np.ndarray
    CE: np.ndarray  # cumsum of units sold on sales-event days of the series' market
    NE: np.ndarray  # cumsum of event days of the series' market
    CE_grp: np.ndarray
    cal_dow: np.ndarray
    cal_dom: np.ndarray
    cal_woy: np.ndarray
    cal_month: np.ndarray


def build_context(
    panel: Panel, horizon_days: int, holiday_subdivisions: Mapping[str, str | None] | None = None
) -> FeatureContext:
    """Precompute cumulative sums, groupings and the calendar for `panel`.

    The calendar grid runs to `horizon_days` after the panel's last day so the
    target days of the forecast have calendar features. `holiday_subdivisions`
    (market -> holidays subdivision, from the merchant config) picks regional
    public holidays; markets not in it follow their national calendar.
    """
    Y = panel.Y
    s = panel.series
    m_code, m_levels = market_codes(s["market"])
    c_levels = sorted(s["category"].unique())
    c_code = s["category"].map({c: i for i, c in enumerate(c_levels)}).to_numpy(dtype=np.int64)
    sku_levels = sorted(s["sku"].unique())
    sku_code = s["sku"].map({k: i for i, k in enumerate(sku_levels)}).to_numpy(dtype=np.int64)
    g_code = c_code * len(m_levels) + m_code
    first = s["first_idx"].to_numpy(dtype=np.int64)
    launched = (np.arange(panel.n_days)[None, :] >= first[:, None]).astype(np.float64)

    cal = build_calendar(
        tuple(m_levels), panel.start, panel.end + pd.Timedelta(days=horizon_days), holiday_subdivisions
    )
    dates = cal.dates
    off = cal.offset(panel.start)
    event_day = (cal.event_code[:, off : off + panel.n_days] > 0).astype(np.float64)[m_code]  # [series, day]
    R = panel.R if panel.R is not None else np.full(Y.shape, np.nan)
    n_groups = len(c_levels) * len(m_levels)
    return FeatureContext(
        panel=panel,
        calendar=cal,
        cal_offset=cal.offset(panel.start),
        C=_cumsum0(Y),
        C2=_cumsum0(Y * Y),
        NZ=_cumsum0((Y > 0).astype(np.float64)),
        L=last_sale_index(Y),
        first=first,
        market_code=m_code,
        market_levels=m_levels,
        category_code=c_code,
        category_levels=c_levels,
        sku_code=sku_code,
        C_sku=_cumsum0(_group_sum(sku_code, len(sku_levels), Y)),
        N_sku=_group_sum(sku_code, len(sku_levels), launched),
        group_code=g_code,
        C_grp=_cumsum0(_group_sum(g_code, n_groups, Y)),
        N_grp=_group_sum(g_code, n_groups, launched),
        R=_cumsum0(R),
        R_sku=_cumsum0(_group_sum(sku_code, len(sku_levels), R)),
        R_grp=_cumsum0(_group_sum(g_code, n_groups, R)),
        CE=_cumsum0(Y * event_day),
        NE=_cumsum0(event_day),
        CE_grp=_cumsum0(_group_sum(g_code, n_groups, Y * event_day)),
        cal_dow=dates.dayofweek.to_numpy(),
        cal_dom=dates.day.to_numpy(),
        cal_woy=dates.isocalendar().week.to_numpy(dtype=np.int64),
        cal_month=dates.month.to_numpy(),
    )


def _wsum(C: np.ndarray, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum over days [lo, hi] inclusive (empty when hi < lo)."""
    hi = np.maximum(hi, -1)
    lo = np.minimum(np.maximum(lo, 0), hi + 1)
    return C[rows, hi + 1] - C[rows, lo]


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def build_features(ctx: FeatureContext, s: np.ndarray, o: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Feature matrix (float32, rows x len(FEATURE_NAMES)) for rows (series s, origin o, horizon h).

    A row whose origin is before its series' launch (`first` > o: a planned
    launch, or in training a series whose first sale came after the origin)
    gets NaN for every own-history feature and is described by the launch
    distance, the SKU in its other markets, its category and the calendar.
    The launch date is the one fact about the future a row may carry, as a
    plan known in advance; no unit sold after the origin is read.
    Raises if a row's origin lies outside the panel or its series has no
    launch day at all.
    """
    s = np.asarray(s, dtype=np.int64)
    o = np.asarray(o, dtype=np.int64)
    h = np.asarray(h, dtype=np.int64)
    if len(s) and (o.max() >= ctx.panel.n_days or o.min() < 0):
        raise ValueError("origin outside the panel")
    if len(h) and (h.min() < 1 or h.max() > MAX_HORIZON_DAYS):
        raise ValueError(f"horizons must be in 1..{MAX_HORIZON_DAYS}")
    first = ctx.first[s]
    if (first < 0).any():
        raise ValueError("a row's series has neither a sale nor a planned launch day")
    pre_launch = first > o
    t = o + h
    # last-year look-ups read t-367..t-361 and o-391..o-364: all <= o by the horizon cap.
    # Checked explicitly (not `assert`, which -O strips): this is the one place a future day could slip in.
    if not (t - YEAR_LAG_DAYS + 3 <= o).all():
        raise AssertionError("a last-year feature would read after the origin")
    ct = t + ctx.cal_offset
    cal = ctx.calendar
    mk = ctx.market_code[s]
    f: dict[str, np.ndarray] = {}
    f["horizon"] = h
    f["market"] = mk
    f["category"] = ctx.category_code[s]
    f["dow"] = ctx.cal_dow[ct]
    f["day_of_month"] = ctx.cal_dom[ct]
    f["week_of_year"] = ctx.cal_woy[ct]
    f["month"] = ctx.cal_month[ct]
    f["is_holiday"] = cal.is_holiday[mk, ct]
    f["is_holiday_prev"] = cal.is_holiday[mk, ct - 1]
    f["is_holiday_next"] = cal.is_holiday[mk, ct + 1]
    f["event_code"] = cal.event_code[mk, ct]
    f["is_event_prev"] = cal.event_code[mk, ct - 1] > 0
    f["is_event_next"] = cal.event_code[mk, ct + 1] > 0
    f["days_to_event"] = cal.days_to_event[mk, ct]
    f["days_since_event"] = cal.days_since_event[mk, ct]

    f["age_days"] = o - first
    last = ctx.L[s, o]
    f["days_since_last_sale"] = np.where(last >= 0, o - last, np.nan)
    f["last_units"] = ctx.panel.Y[s, o]

    def since_launch_mean(C: np.ndarray, w: int) -> np.ndarray:
        lo = np.maximum(o - w + 1, first)
        return _wsum(C, s, lo, o) / np.maximum(o - lo + 1, 1)

    for w in (7, 28, 91, 364):
        f[f"mean_{w}"] = since_launch_mean(ctx.C, w)
    m2 = since_launch_mean(ctx.C2, 28)
    f["std_28"] = np.sqrt(np.maximum(m2 - f["mean_28"] ** 2, 0.0))
    lo28 = np.maximum(o - 27, first)
    win = np.arange(28)
    idx = np.minimum(lo28[:, None] + win[None, :], o[:, None])
    f["max_28"] = ctx.panel.Y[s[:, None], idx].max(axis=1)
    f["nonzero_share_91"] = since_launch_mean(ctx.NZ, 91)
    f["trend_7_28"] = _div(f["mean_7"], f["mean_28"])
    f["trend_28_91"] = _div(f["mean_28"], f["mean_91"])

    # same weekday as the target, the latest 4 / 8 such days on or before the origin
    back = 7 * ((h + 6) // 7)  # smallest multiple of 7 >= h
    sums = np.zeros(len(s))
    counts = np.zeros(len(s))
    for j in range(8):
        d = t - back - 7 * j
        ok = d >= np.maximum(first, 0)
        sums += np.where(ok, ctx.panel.Y[s, np.maximum(d, 0)], 0.0)
        counts += ok
        if j == 3:
            f["same_wd_mean_4"] = _div(sums, counts)
    f["same_wd_mean_8"] = _div(sums, counts)

    d364 = t - YEAR_LAG_DAYS
    f["lag_364"] = np.where(d364 >= np.maximum(first, 0), ctx.panel.Y[s, np.maximum(d364, 0)], np.nan)

    def valid_mean(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        lo = np.maximum(lo, np.maximum(first, 0))
        n = hi - lo + 1
        return np.where(n > 0, _wsum(ctx.C, s, lo, hi) / np.maximum(n, 1), np.nan)

    f["ly_mean_7"] = valid_mean(d364 - 3, d364 + 3)
    f["ly_mean_28_origin"] = valid_mean(o - YEAR_LAG_DAYS - 27, o - YEAR_LAG_DAYS)
    f["ly_ratio"] = _div(f["ly_mean_7"], f["ly_mean_28_origin"])

    lo364 = np.maximum(o - 363, np.maximum(first, 0))
    units_28 = _wsum(ctx.C, s, np.maximum(o - 27, first), o)
    units_364 = _wsum(ctx.C, s, lo364, o)
    f["price_28"] = _div(_wsum(ctx.R, s, np.maximum(o - 27, first), o), units_28)
    price_364 = _div(_wsum(ctx.R, s, lo364, o), units_364)
    f["price_index_28_364"] = _div(f["price_28"], price_364)
    g = ctx.group_code[s]
    grp_price_364 = _div(_wsum(ctx.R_grp, g, o - 363, o), _wsum(ctx.C_grp, g, o - 363, o))
    f["price_rel_catmkt"] = _div(price_364, grp_price_364)
    ev_units = _wsum(ctx.CE, s, lo364, o)
    ev_days = _wsum(ctx.NE, s, lo364, o)
    f["event_lift_364"] = _div(_div(ev_units, ev_days), _div(units_364 - ev_units, (o - lo364 + 1) - ev_days))
    f["target_age_days"] = t - first

    k = ctx.sku_code[s]
    n_sku = ctx.N_sku[k, o]
    sku_first = np.where(ctx.N_sku.any(axis=1), (ctx.N_sku > 0).argmax(axis=1), ctx.panel.n_days)[k]
    f["sku_age_days"] = np.where(sku_first <= o, o - sku_first, np.nan)
    f["sku_markets_live"] = n_sku
    sku_price_364 = _div(_wsum(ctx.R_sku, k, o - 363, o), _wsum(ctx.C_sku, k, o - 363, o))
    f["sku_price_rel_catmkt"] = _div(sku_price_364, grp_price_364)
    f["sku_mean_28"] = _div(_wsum(ctx.C_sku, k, o - 27, o) / 28.0, n_sku)
    f["sku_trend_7_28"] = _div(_wsum(ctx.C_sku, k, o - 6, o) / 7.0, _wsum(ctx.C_sku, k, o - 27, o) / 28.0)

    n_grp = ctx.N_grp[g, o]
    g28 = _wsum(ctx.C_grp, g, o - 27, o) / 28.0
    f["catmkt_mean_28"] = _div(g28, n_grp)
    f["catmkt_trend_7_28"] = _div(_wsum(ctx.C_grp, g, o - 6, o) / 7.0, g28)
    wd = np.zeros(len(s))
    wd_n = np.zeros(len(s))
    for j in range(8):
        d = t - back - 7 * j
        ok = d >= 0
        d = np.maximum(d, 0)
        wd += np.where(ok, ctx.C_grp[g, d + 1] - ctx.C_grp[g, d], 0.0)
        wd_n += ok
    g56 = _div(_wsum(ctx.C_grp, g, o - 55, o), np.minimum(o + 1, 56).astype(float))
    f["catmkt_same_wd_index"] = _div(_div(wd, wd_n), g56)
    ly_g7 = _wsum(ctx.C_grp, g, d364 - 3, d364 + 3) / 7.0
    ly_g28 = _wsum(ctx.C_grp, g, o - YEAR_LAG_DAYS - 27, o - YEAR_LAG_DAYS) / 28.0
    f["catmkt_ly_index"] = np.where(d364 - 3 >= 0, _div(ly_g7, ly_g28), np.nan)
    # event days are the same for every series of a group's market: any member's NE serves
    g_ev_units = _wsum(ctx.CE_grp, g, o - 363, o)
    g_units = _wsum(ctx.C_grp, g, o - 363, o)
    g_ev_days = _wsum(ctx.NE, s, np.maximum(o - 363, 0), o)
    g_days = o - np.maximum(o - 363, 0) + 1
    f["catmkt_event_lift_364"] = _div(_div(g_ev_units, g_ev_days), _div(g_units - g_ev_units, g_days - g_ev_days))

    for name in OWN_HISTORY_FEATURES:
        f[name] = np.where(pre_launch, np.nan, f[name])

    X = np.empty((len(s), len(FEATURE_NAMES)), dtype=np.float32)
    for i, name in enumerate(FEATURE_NAMES):
        X[:, i] = f[name]
    return X


def active_at(ctx: FeatureContext, o: np.ndarray, inactive_after_days: int) -> np.ndarray:
    """Mask [series, len(o)]: series sold within `inactive_after_days` days before origin o (inclusive)."""
    last = ctx.L[:, o]
    return (last >= 0) & (o[None, :] - last <= inactive_after_days)


def _first_drawn(draws: np.ndarray, n: int) -> np.ndarray:
    """Positions of the `n` smallest draws, in their original order (all of them when there are no more)."""
    if n >= len(draws):
        return np.arange(len(draws))
    return np.sort(np.argpartition(draws, n - 1)[:n]) if n > 0 else np.arange(0)


def sample_rows(
    ctx: FeatureContext,
    horizon_days: int,
    train_days: int,
    horizons_per_day: int,
    inactive_after_days: int,
    rng: np.random.Generator,
    row_sample: float = 1.0,
    max_rows: int | None = None,
    *,
    launches: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic (series, origin, horizon, target units) training rows: the active series', then the launches'.

    For every target day t in the last `train_days` days of the panel and
    every series, draw `horizons_per_day` horizons in 1..H; keep the row when
    the series was active at the origin o = t - h (same rule as forecasting,
    so the model learns on the population it is asked about). `row_sample`
    < 1 keeps that share of the rows at random (training cost is linear in
    rows; neighbouring days carry overlapping information). All targets are
    <= the panel's last day, so training never sees past the origin. With
    `launches`, the rows asked before a launch follow (`sample_launch_rows`).

    `max_rows` bounds all of them, so a merchant with ten times the series
    does not train ten times as long; each kind keeps its share of the rows
    it would have had without the bound (launch rows were once added on top:
    146,000 beside 600,000 at 10,000 series, a fifth more training time). The
    active series' rows kept are the ones drawn first, the sample a smaller
    `row_sample` would give; the launch rows kept are drawn after all other
    draws, so a history under the bound gets exactly the rows it had.
    """
    T = ctx.panel.n_days - 1
    t_days = np.arange(max(T - train_days + 1, 1), T + 1)
    S = ctx.panel.n_series
    s = np.repeat(np.arange(S), len(t_days) * horizons_per_day)
    t = np.tile(np.repeat(t_days, horizons_per_day), S)
    h = rng.integers(1, horizon_days + 1, size=len(s))
    u = rng.random(len(s))  # drawn for every candidate so the sample does not depend on row_sample's value
    o = t - h
    keep = (o >= 0) & (u < row_sample)
    s, t, h, o, u = s[keep], t[keep], h[keep], o[keep], u[keep]
    last = ctx.L[s, o]
    keep = (last >= 0) & (o - last <= inactive_after_days)
    s, o, h, t, u = s[keep], o[keep], h[keep], t[keep], u[keep]
    if not launches:
        kept = _first_drawn(u, len(u) if max_rows is None else max_rows)
        return s[kept], o[kept], h[kept], ctx.panel.Y[s[kept], t[kept]]
    ls, lo, lh, ly = sample_launch_rows(ctx, horizon_days, rng)
    total = len(s) + len(ls)
    if max_rows is not None and total > max_rows:
        n_launch = round(max_rows * len(ls) / total)
        kept = _first_drawn(u, max_rows - n_launch)
        s, o, h, t = s[kept], o[kept], h[kept], t[kept]
        launch_kept = _first_drawn(rng.random(len(ls)), n_launch)
        ls, lo, lh, ly = ls[launch_kept], lo[launch_kept], lh[launch_kept], ly[launch_kept]
    return (np.concatenate([s, ls]), np.concatenate([o, lo]), np.concatenate([h, lh]),
            np.concatenate([ctx.panel.Y[s, t], ly]))


def sample_launch_rows(
    ctx: FeatureContext,
    horizon_days: int,
    rng: np.random.Generator,
    min_silent_days: int = MIN_SILENT_DAYS_BEFORE_LAUNCH,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training rows asked before a series' launch, so a planned launch is not forecast as zeros.

    For every series whose first sale comes at least `min_silent_days` into
    the panel (a launch seen in the data, not the panel's first day) and
    each of its first `horizon_days` days t, one origin o is drawn uniformly
    from the pre-launch days that can still reach t (t - H <= o < first).
    The first sale day stands in for the launch date a merchant would plan.
    """
    T = ctx.panel.n_days - 1
    first = ctx.first
    launched = np.flatnonzero((first >= min_silent_days) & (first <= T))
    launched = launched[ctx.panel.Y[launched, first[launched]] > 0]  # planned launches without a sale teach nothing
    s = np.repeat(launched, horizon_days)
    t = first[s] + np.tile(np.arange(horizon_days), len(launched))
    u = rng.random(len(s))
    keep = t <= T
    s, t, u = s[keep], t[keep], u[keep]
    lo = np.maximum(t - horizon_days, 0)
    o = lo + np.floor(u * (first[s] - lo)).astype(np.int64)
    return s, o, t - o, ctx.panel.Y[s, t]
