"""Coherent forecasts from SKU x market up to category x market and market totals.

An S&OP meeting reads market and category totals, the replenishment plan
reads SKUs; when the two are forecast separately they disagree, and the
meeting ends arguing about which number is right. Reconciliation makes them
one set of numbers: every market total is the sum of its categories, every
category x market the sum of its SKUs, on every day of the horizon.

The hierarchy (built by hierarchicalforecast's `aggregate`, so its summing
matrix S is the library's own): market -> market/category ->
market/category/sku, one bottom series per SKU x market, its category the
forecast frame's `category` column. Markets are separate trees, with no
grand total above them: the S&OP totals are read per market.

Base forecasts. The bottom level's is crossdock's LightGBM `mean` (expected
units per day). The upper levels get their own, independent ones, or
MinTrace would have nothing to combine: statsforecast AutoETS (season 7, no
trend: `ml.stat_baselines`, the backtest's baseline code) fitted on each
upper node's daily units over the last `fit_days` days up to the origin.
Only the forecast's own series are summed into that history, so the upper
base forecasts the same total the bottom sums to (a dormant SKU the
forecast dropped is not in the total it is compared with). Aggregates are
smooth where SKUs are intermittent, which is where an ETS on the total can
beat the sum of SKU forecasts.

Methods (`METHODS`):
- `bottom_up`: upper levels are the sums of the SKU forecasts, which stay as
  they are. What the plan did before this module; the default.
- `mint_wls_struct`: MinTrace (Wickramasuriya, Athanasopoulos & Hyndman 2019)
  with the structural diagonal weights (a node's error variance taken as
  proportional to its number of SKUs), `MinTraceSparse` with its
  non-negative quadratic programme (`nonnegative=True`, `qp=True`, Clarabel).
- `mint_ols`: the same with identity weights.
Why these and not `mint_shrink`: the covariance methods (`wls_var`,
`mint_cov`, `mint_shrink`) need in-sample fitted values of every base
forecast, which the LightGBM forecast does not produce, and the dense `MinTrace` builds
n_nodes x n_nodes and n_bottom x n_nodes matrices (0.8 GB each at 10,000
series). `MinTraceSparse` never builds them.

Non-negativity: negative units cannot reach a plan. MinTraceSparse's
non-negative QP (Wickramasuriya, Turlach & Hyndman 2020) returns the closest
coherent forecast with every SKU >= 0 in the method's metric, so totals and
SKUs stay coherent; it clips the (already >= 0) base forecasts first.
Values within the solver's tolerance below 0 are clipped to 0 by the library
and the upper levels re-summed from the bottom, so coherence is exact.

Measured (2 cores shared with other jobs; /tmp bench, ml/README.md "Hierarchy"):
10,000 SKU x market series (8 markets x 10 categories, 88 upper nodes), 56
days: bottom_up 0.03 s; mint_wls_struct and mint_ols with the non-negative
QP 5.5-6.2 s each (one Clarabel solve per day; num_threads=2 gave 5.4 s,
not worth taking the second core; `qp=False`, reconcile then clip and sum
up, 0.07 s but no longer the MinTrace optimum once it clips); the 88 upper
AutoETS fits 0.7-3 s. The dense `MinTrace("wls_struct")` took 15.4 s and
4.5 GB peak memory on the same data (without the non-negative constraint,
whose dense QP has 10,000 x 10,000 matrices), and agreed with the sparse
one to 2e-12. On the tidy and messy merchants' backtests (about 1,000
series and 60 upper nodes a window) `reconcile` takes 1.4-2.1 s a window and
`choose_method` over 4 windows and two MinTrace candidates 12.5 s; both chose
bottom_up. Upper base models compared on the messy one at the market level
(weekly WAPE over 4 windows): AutoETS daily on 112 days 0.923, on 56 days
1.021, on 364 days 1.053, AutoETS on weekly totals (52 weeks) 0.976, (16
weeks) 1.284, all worse than the summed SKU forecasts' 0.677 (its totals are
dominated by one-off wholesale days); daily on 112 days is kept, the
backtest's own baseline setup.

`choose_method` picks the method per merchant from the backtest: each window
reconciled every way from its own origin, each level scored by the weekly
WAPE of the level's sums (`ml.metrics.weekly_wape`), and MinTrace chosen only
when it wins at every upper level and costs the SKUs at most `tolerance`
(relative) of bottom-up's weekly WAPE, since SKU forecasts are what orders
are placed from. The windows all lie behind the planning date: a market
whose weeks ahead hold a season none of them did is summed up whatever was
chosen (`ml.season_ahead`, `reconcile(..., summed_up_markets=...)`).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ml import metrics
from ml.panel import daily_units, to_timestamp
from ml.stat_baselines import FIT_DAYS, statsforecast_baselines

Day = dt.date | pd.Timestamp | str

LEVELS: tuple[str, ...] = ("market", "market/category", "market/category/sku")
"""Level names, top first, as hierarchicalforecast's `aggregate` names them (its `tags` keys)."""
BOTTOM = LEVELS[-1]
SPEC: list[list[str]] = [level.split("/") for level in LEVELS]
BOTTOM_UP = "bottom_up"
MINT_WLS = "mint_wls_struct"
MINT_OLS = "mint_ols"
METHODS: tuple[str, ...] = (BOTTOM_UP, MINT_WLS, MINT_OLS)
DEFAULT_TOLERANCE = 0.01
"""How much worse (relative) than bottom-up a MinTrace method may be at the SKU level and still be chosen."""


@dataclass(frozen=True)
class Hierarchy:
    """The summing structure of a set of SKU x market series.

    S: [n_nodes, n_bottom] sparse summing matrix, rows top level first (the
        markets, then market/category, then one identity row per series),
        columns the bottom series in `bottom` order.
    nodes: one row per S row: level, market, category (None on the market
        level), sku (None above the bottom).
    bottom: sku, market, category of each S column.
    smatrix, tags: `aggregate`'s own outputs (ids are codes, not names, so a
        '/' in a SKU cannot break its id parsing), for calling
        hierarchicalforecast's `HierarchicalReconciliation` directly.
    """

    S: sparse.csr_matrix
    nodes: pd.DataFrame
    bottom: pd.DataFrame
    smatrix: object
    tags: dict[str, np.ndarray]

    @property
    def n_bottom(self) -> int:
        return self.S.shape[1]

    @property
    def n_upper(self) -> int:
        return self.S.shape[0] - self.S.shape[1]

    def rows(self, level: str) -> np.ndarray:
        """Row indices of S on `level`."""
        return np.flatnonzero(self.nodes["level"].to_numpy() == level)


def build_hierarchy(series: pd.DataFrame) -> Hierarchy:
    """The market -> market/category -> SKU x market hierarchy of `series` (columns sku, market, category).

    Duplicate rows are dropped; a SKU x market with two categories is an
    error (it would be counted in two category totals).
    """
    # imported here, as ml.stat_baselines imports statsforecast: it brings scikit-learn (1.5 s),
    # which a caller that only imports the module (the Dagster definitions) should not pay for
    from hierarchicalforecast.utils import aggregate

    missing = [c for c in ("sku", "market", "category") if c not in series.columns]
    if missing:
        raise ValueError(f"series is missing columns {missing}")
    keys = series[["sku", "market", "category"]].astype(str).drop_duplicates().reset_index(drop=True)
    if keys.empty:
        raise ValueError("no series to build a hierarchy from")
    twice = keys.duplicated(["sku", "market"], keep=False)
    if twice.any():
        raise ValueError(f"SKU x market with more than one category: {keys[twice].head(6).to_dict('records')}")
    # aggregate joins ids with '/' and splits them again: codes keep a '/' in a name from corrupting S
    codes = {c: pd.factorize(keys[c], sort=True) for c in ("market", "category", "sku")}
    coded = pd.DataFrame({c: codes[c][0].astype(str) for c in codes})
    coded["ds"] = 0
    coded["y"] = 0.0
    _, smatrix, tags = aggregate(coded, SPEC, sparse_s=True)

    def decode(label: str, level: str) -> dict:
        parts = dict(zip(level.split("/"), label.split("/"), strict=True))
        out = {"level": level}
        for c in ("market", "category", "sku"):
            out[c] = codes[c][1][int(parts[c])] if c in parts else None
        return out

    level_of = {label: level for level in LEVELS for label in tags[level]}
    labels = list(smatrix.row_labels)
    nodes = pd.DataFrame([decode(label, level_of[label]) for label in labels])
    bottom = nodes[nodes["level"] == BOTTOM][["sku", "market", "category"]].reset_index(drop=True)
    if [level_of[label] for label in labels] != sorted((level_of[label] for label in labels), key=LEVELS.index):
        raise RuntimeError("aggregate returned S rows not ordered top level first")
    return Hierarchy(S=smatrix.to_csr(), nodes=nodes, bottom=bottom, smatrix=smatrix, tags=tags)


def _columns_of(h: Hierarchy, frame: pd.DataFrame) -> np.ndarray:
    """S column of each row of `frame` by sku x market, NaN for a series outside the hierarchy."""
    col = pd.Series(np.arange(h.n_bottom), index=pd.MultiIndex.from_frame(h.bottom[["sku", "market"]]))
    return col.reindex(pd.MultiIndex.from_arrays([frame["sku"].astype(str), frame["market"].astype(str)])).to_numpy()


def _bottom_positions(h: Hierarchy, frame: pd.DataFrame) -> np.ndarray:
    """S column of each row of `frame` (by sku x market)."""
    pos = _columns_of(h, frame)
    if np.isnan(pos).any():
        raise ValueError("rows for series outside the hierarchy")
    return pos.astype(np.int64)


def bottom_matrix(h: Hierarchy, frame: pd.DataFrame, column: str) -> np.ndarray:
    """[n_bottom, H] of `column` by S column and horizon 1..H; every series must have every horizon once."""
    H = int(frame["horizon"].max())
    if len(frame) != h.n_bottom * H or int(frame["horizon"].min()) != 1:
        raise ValueError(f"expected {h.n_bottom} series x horizons 1..{H}, got {len(frame)} rows")
    M = np.full((h.n_bottom, H), np.nan)
    M[_bottom_positions(h, frame), frame["horizon"].to_numpy(dtype=np.int64) - 1] = frame[column].to_numpy(dtype=float)
    if np.isnan(M).any():
        raise ValueError(f"{column} is missing or NaN for some series x horizon")
    return M


def upper_history(h: Hierarchy, history: pd.DataFrame, origin: Day, days: int) -> np.ndarray:
    """[n_upper, days] units sold per upper node on days origin - days + 1 .. origin (zeros filled).

    Only the hierarchy's own series are summed, by sku x market (their
    category is the hierarchy's, not the history's). Nothing after `origin`
    is read.
    """
    end = to_timestamp(origin)
    start = end - pd.Timedelta(days=days - 1)
    dates = pd.to_datetime(history["demand_date"]).dt.tz_localize(None)
    recent = history[(dates >= start) & (dates <= end)]
    Yb = np.zeros((h.n_bottom, days))
    if not recent.empty:
        daily = daily_units(recent, end.date())
        pos = _columns_of(h, daily)
        keep = ~np.isnan(pos)
        day = (daily["demand_date"] - start).dt.days.to_numpy()
        np.add.at(Yb, (pos[keep].astype(np.int64), day[keep]), daily["units_sold"].to_numpy()[keep])
    return np.asarray(h.S[: h.n_upper] @ Yb)


def upper_base_forecast(
    h: Hierarchy, history: pd.DataFrame, origin: Day, horizon_days: int, fit_days: int = FIT_DAYS
) -> np.ndarray:
    """[n_upper, H] AutoETS (season 7, no trend) forecasts of each upper node's daily units, >= 0.

    Fitted on the node's last `fit_days` days up to `origin`, by
    `ml.stat_baselines` (a node without a sale in that window gets 0; one
    AutoETS cannot fit gets the window's mean).
    """
    Y = upper_history(h, history, origin, fit_days)
    first = np.where((Y > 0).any(axis=1), (Y > 0).argmax(axis=1), -1)
    out = statsforecast_baselines(Y, first, fit_days - 1, horizon_days, fit_days=fit_days, models=("auto_ets",))
    return out["auto_ets"].p50


def reconciler(method: str) -> object:
    """The hierarchicalforecast reconciler behind `method` (module docstring)."""
    from hierarchicalforecast.methods import BottomUpSparse, MinTraceSparse

    if method == BOTTOM_UP:
        return BottomUpSparse()
    if method == MINT_WLS:
        return MinTraceSparse("wls_struct", nonnegative=True, qp=True)
    if method == MINT_OLS:
        return MinTraceSparse("ols", nonnegative=True, qp=True)
    raise ValueError(f"unknown method {method!r}; choose from {list(METHODS)}")


def reconcile_matrix(h: Hierarchy, y_hat: np.ndarray, method: str) -> np.ndarray:
    """[n_nodes, H] coherent forecasts from the base forecasts `y_hat` [n_nodes, H] (S row order).

    Calls the reconciler's `fit_predict` as `HierarchicalReconciliation`
    does (tests/test_ml_hierarchy.py checks they agree), without its frame
    handling. The upper levels are re-summed from the reconciled bottom, so
    coherence is exact whatever the solver's tolerance; all values are >= 0.
    """
    if y_hat.shape[0] != h.S.shape[0]:
        raise ValueError(f"y_hat has {y_hat.shape[0]} rows, the hierarchy {h.S.shape[0]} nodes")
    if not np.isfinite(y_hat).all():
        raise ValueError("base forecasts must be finite")
    out = reconciler(method).fit_predict(S=h.S, y_hat=np.asarray(y_hat, dtype=np.float64))["mean"]
    bottom = np.clip(np.asarray(out)[h.n_upper :], 0.0, None)
    return np.asarray(h.S @ bottom)


@dataclass
class Reconciled:
    """A reconciled forecast.

    forecast: the input forecast frame (same rows and order) with `mean`
        reconciled and `base_mean` the mean it started from (the blended mean, `ml.blend`);
        p10 / p50 / p90 are left as they were (quantiles do not add up across
        series, so they are not reconciled).
    levels: one row per node x horizon of every level: level, market,
        category (None on the market level), sku (None above the bottom),
        forecast_date, horizon, base_mean (the node's own base forecast:
        AutoETS above, LightGBM at the bottom), mean (reconciled; the sum of
        its SKUs' `mean`), method (the method its market was reconciled by).
    method: the method asked for (a market in `summed_up_markets` is bottom_up: `levels.method`). seconds: {"base": the upper AutoETS fits,
        "reconcile": the reconciliation}.
    """

    forecast: pd.DataFrame
    levels: pd.DataFrame
    method: str
    seconds: dict = field(default_factory=dict)


def _levels_frame(h: Hierarchy, base: np.ndarray, rec: np.ndarray, origin: Day, method: str) -> pd.DataFrame:
    """`Reconciled.levels` from the base and reconciled [n_nodes, H] matrices."""
    n, H = rec.shape
    horizon = np.tile(np.arange(1, H + 1), n)
    frame = h.nodes.loc[np.repeat(np.arange(n), H)].reset_index(drop=True)
    frame["forecast_date"] = to_timestamp(origin) + pd.to_timedelta(horizon, unit="D")
    frame["horizon"] = horizon
    frame["base_mean"] = base.ravel()
    frame["mean"] = rec.ravel()
    frame["method"] = method
    return frame


def reconcile(
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    origin: Day,
    method: str = BOTTOM_UP,
    *,
    fit_days: int = FIT_DAYS,
    upper_base: np.ndarray | None = None,
    summed_up_markets: Collection[str] = (),
) -> Reconciled:
    """Make `forecast` (crossdock's: sku, market, category, horizon, mean, ...) coherent with its totals.

    `history` is `marts.fct_daily_demand` (read up to `origin` only, for the
    upper levels' AutoETS base forecasts; not needed by bottom_up, which
    never fits them). `origin` is the forecast's as_of: horizon h is the day
    origin + h. `upper_base` ([n_upper, H] in `build_hierarchy` row order)
    skips the fit when the caller already has it, as `choose_method` does.
    The markets in `summed_up_markets` are reconciled bottom-up whatever
    `method` (`ml.season_ahead`: a season no backtest window scored); each
    market is a tree of its own, so the others' result is the same as
    without them. Returns `Reconciled` (`.forecast` the frame with `mean` reconciled, `.levels`
    every level's rows).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {list(METHODS)}")
    if isinstance(summed_up_markets, str):
        raise TypeError("summed_up_markets is a collection of markets, not one string")
    summed = forecast["market"].astype(str).isin([str(m) for m in summed_up_markets])
    if method != BOTTOM_UP and summed.any():
        if upper_base is not None:
            raise ValueError("upper_base is in the order of the whole hierarchy: give it or summed_up_markets, not both")
        return _reconciled_in_parts(forecast, history, origin, method, fit_days, summed.to_numpy())
    h = build_hierarchy(forecast)
    base_bottom = bottom_matrix(h, forecast, "mean")
    H = base_bottom.shape[1]
    t0 = time.perf_counter()
    if upper_base is None and method == BOTTOM_UP:
        upper_base = np.full((h.n_upper, H), np.nan)  # bottom-up reads no upper forecast: none is fitted
    elif upper_base is None:
        upper_base = upper_base_forecast(h, history, origin, H, fit_days)
    t1 = time.perf_counter()
    y_hat = np.vstack([upper_base, base_bottom])
    rec = reconcile_matrix(h, np.nan_to_num(y_hat) if method == BOTTOM_UP else y_hat, method)
    t2 = time.perf_counter()
    out = forecast.copy()
    pos = _bottom_positions(h, forecast)
    hz = forecast["horizon"].to_numpy(dtype=np.int64) - 1
    out["base_mean"] = forecast["mean"].to_numpy(dtype=float)
    out["mean"] = rec[h.n_upper :][pos, hz]
    levels = _levels_frame(h, y_hat, rec, origin, method)
    return Reconciled(forecast=out, levels=levels, method=method, seconds={"base": t1 - t0, "reconcile": t2 - t1})


def _reconciled_in_parts(
    forecast: pd.DataFrame, history: pd.DataFrame, origin: Day, method: str, fit_days: int, summed: np.ndarray
) -> Reconciled:
    """`reconcile` with the rows where `summed` is true bottom-up and the rest by `method`, in the input's order."""
    parts = [reconcile(forecast[~summed], history, origin, method, fit_days=fit_days)] if (~summed).any() else []
    parts.append(reconcile(forecast[summed], history, origin, BOTTOM_UP))
    order = np.concatenate([np.flatnonzero(~summed), np.flatnonzero(summed)]) if parts[:-1] else np.flatnonzero(summed)
    out = pd.concat([p.forecast for p in parts]).iloc[np.argsort(order, kind="stable")]
    levels = pd.concat([p.levels for p in parts], ignore_index=True)
    levels = (levels.assign(_rank=levels["level"].map(LEVELS.index)).sort_values(["_rank", "market"], kind="stable")
              .drop(columns="_rank").reset_index(drop=True))  # top level first, markets in order, as one tree gives
    seconds = {k: sum(p.seconds.get(k, 0.0) for p in parts) for k in ("base", "reconcile")}
    return Reconciled(forecast=out, levels=levels, method=method, seconds=seconds)


@dataclass
class MethodChoice:
    """What `choose_method` picked and why.

    method: the chosen method. reason: one sentence, for the published table.
    scores: one row per level (top first): level, n_nodes (per window),
        actual_units (over the windows), then the weekly WAPE of the level's
        sums for `base` (each node's own base forecast: AutoETS above the
        bottom, LightGBM at it) and for each method compared.
    """

    method: str
    reason: str
    scores: pd.DataFrame


def choose_method(
    predictions: pd.DataFrame,
    history: pd.DataFrame,
    *,
    candidates: tuple[str, ...] = (MINT_WLS,),
    tolerance: float = DEFAULT_TOLERANCE,
    fit_days: int = FIT_DAYS,
) -> MethodChoice:
    """Pick bottom-up or a MinTrace method from a backtest (`BacktestResult.predictions`).

    Each window (its `origin`, its series and their `mean` and `actual`) is
    reconciled by bottom-up and every candidate, the upper AutoETS fitted
    once per window on history <= that origin. Every level is scored by the
    weekly WAPE of its nodes' sums over all windows. The rule: a candidate
    qualifies when its weekly WAPE is strictly below bottom-up's at every
    upper level and at most (1 + `tolerance`) x bottom-up's at the SKU level;
    the qualifying candidate with the lowest SKU-level WAPE is chosen, and
    bottom-up otherwise (it leaves the SKU forecasts, which the orders come
    from, untouched, so it needs no proof). An undefined score (nothing sold
    on a level) qualifies nothing.
    """
    unknown = [m for m in candidates if m not in METHODS or m == BOTTOM_UP]
    if unknown:
        raise ValueError(f"candidates must be MinTrace methods from {list(METHODS[1:])}, got {unknown}")
    methods = (BOTTOM_UP, *candidates)
    parts: dict[str, dict[str, list[np.ndarray]]] = {
        lv: {k: [] for k in ("actual", "base", *methods)} for lv in LEVELS
    }
    n_nodes: dict[str, int] = {}
    H = int(predictions["horizon"].max())
    for _, p in predictions.groupby("window", sort=True):
        origin = pd.Timestamp(p["origin"].iloc[0])
        h = build_hierarchy(p)
        base_bottom = bottom_matrix(h, p, "mean")
        actual = np.asarray(h.S @ bottom_matrix(h, p, "actual"))
        upper = upper_base_forecast(h, history, origin, H, fit_days)
        y_hat = np.vstack([upper, base_bottom])
        for lv in LEVELS:
            rows = h.rows(lv)
            n_nodes[lv] = max(n_nodes.get(lv, 0), rows.size)
            parts[lv]["actual"].append(actual[rows])
            parts[lv]["base"].append(y_hat[rows])
        for m in methods:
            rec = reconcile_matrix(h, y_hat, m)
            for lv in LEVELS:
                parts[lv][m].append(rec[h.rows(lv)])

    rows = []
    for lv in LEVELS:
        a = np.vstack(parts[lv]["actual"])
        row = {"level": lv, "n_nodes": n_nodes[lv], "actual_units": float(a.sum())}
        for k in ("base", *methods):
            row[k] = metrics.weekly_wape(a, np.vstack(parts[lv][k]), H)
        rows.append(row)
    scores = pd.DataFrame(rows)
    method, reason = _apply_rule(scores.set_index("level"), candidates, tolerance)
    return MethodChoice(method=method, reason=reason, scores=scores)


def _apply_rule(s: pd.DataFrame, candidates: tuple[str, ...], tolerance: float) -> tuple[str, str]:
    """The rule of `choose_method` on the score table (indexed by level)."""
    upper = list(LEVELS[:-1])
    bu_bottom = s.loc[BOTTOM, BOTTOM_UP]
    qualified, why_not = [], []
    for m in candidates:
        wins = all(np.isfinite(s.loc[lv, m]) and s.loc[lv, m] < s.loc[lv, BOTTOM_UP] for lv in upper)
        bottom_ok = np.isfinite(s.loc[BOTTOM, m]) and s.loc[BOTTOM, m] <= (1 + tolerance) * bu_bottom
        if wins and bottom_ok:
            qualified.append(m)
        elif not wins:
            why_not.append(f"{m} does not beat bottom_up at every upper level")
        else:
            why_not.append(
                f"{m} costs the SKU level {s.loc[BOTTOM, m]:.3f} against bottom_up's {bu_bottom:.3f} "
                f"(tolerance {tolerance:.0%})"
            )
    if not qualified:
        return BOTTOM_UP, "bottom_up: " + "; ".join(why_not)
    best = min(qualified, key=lambda m: s.loc[BOTTOM, m])
    ups = ", ".join(f"{lv} {s.loc[lv, best]:.3f} vs {s.loc[lv, BOTTOM_UP]:.3f}" for lv in upper)
    return best, (
        f"{best}: beats bottom_up at every upper level ({ups}) and the SKU level scores "
        f"{s.loc[BOTTOM, best]:.3f} against {bu_bottom:.3f} (tolerance {tolerance:.0%})"
    )
