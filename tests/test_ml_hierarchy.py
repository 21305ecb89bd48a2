"""ml.hierarchy: coherent SKU, category and market forecasts, reconciled by hierarchicalforecast."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import hierarchy as hy

ORIGIN = pd.Timestamp("2026-03-01")
H = 14


def _keys() -> pd.DataFrame:
    """2 markets x 2 categories x 3 SKUs, one SKU sold in both markets, one with a '/' in its name."""
    rows = []
    for market in ("DE", "FR"):
        for category in ("shoes", "bags"):
            for k in range(3):
                rows.append((f"{category}-{k}", market, category))
    rows.append(("shoes/red-9", "DE", "shoes"))
    return pd.DataFrame(rows, columns=["sku", "market", "category"])


def _forecast(keys: pd.DataFrame, mean: np.ndarray, origin: pd.Timestamp = ORIGIN) -> pd.DataFrame:
    """A crossdock forecast frame: series-major, horizons 1..H, `mean` [series, H]."""
    f = keys.loc[np.repeat(np.arange(len(keys)), H)].reset_index(drop=True)
    f["horizon"] = np.tile(np.arange(1, H + 1), len(keys))
    f["forecast_date"] = origin + pd.to_timedelta(f["horizon"], unit="D")
    f["p50"] = mean.ravel()
    f["mean"] = mean.ravel()
    return f


def _history(keys: pd.DataFrame, rates: np.ndarray, end: pd.Timestamp, days: int, seed: int = 0) -> pd.DataFrame:
    """Poisson(rate) units a day per series on the `days` days up to `end`, zero days left out (as in the mart)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(end - pd.Timedelta(days=days - 1), end)
    Y = rng.poisson(np.asarray(rates)[:, None] * np.ones((1, days)))
    i, d = np.nonzero(Y)
    return pd.DataFrame(
        {
            "sku": keys["sku"].to_numpy()[i],
            "market": keys["market"].to_numpy()[i],
            "category": keys["category"].to_numpy()[i],
            "demand_date": dates[d],
            "units_sold": Y[i, d].astype(float),
        }
    )


def _check_coherent(levels: pd.DataFrame, forecast: pd.DataFrame) -> None:
    """Every market = sum of its categories = sum of its SKUs, per day; the bottom rows are the forecast's."""
    by = levels.set_index(["level", "market", "category", "sku", "horizon"])["mean"]
    top = levels[levels["level"] == "market"].set_index(["market", "horizon"])["mean"]
    mid = levels[levels["level"] == "market/category"]
    bottom = levels[levels["level"] == hy.BOTTOM]
    assert np.allclose(mid.groupby(["market", "horizon"])["mean"].sum().reindex(top.index), top, atol=1e-6, rtol=0)
    mid_sum = bottom.groupby(["market", "category", "horizon"])["mean"].sum()
    mid_own = mid.set_index(["market", "category", "horizon"])["mean"].reindex(mid_sum.index)
    assert np.allclose(mid_own, mid_sum, atol=1e-6, rtol=0)
    fc_sum = forecast.groupby(["market", "horizon"])["mean"].sum().reindex(top.index)
    assert np.allclose(fc_sum, top, atol=1e-6, rtol=0)
    assert by.index.is_unique


def test_hierarchy_levels_and_names():
    keys = _keys()
    h = hy.build_hierarchy(pd.concat([keys, keys]))  # duplicates dropped
    assert h.S.shape == (2 + 4 + len(keys), len(keys))
    assert list(h.nodes["level"].drop_duplicates()) == list(hy.LEVELS)
    assert np.array_equal(h.S[h.n_upper :].toarray(), np.eye(len(keys)))
    assert "shoes/red-9" in set(h.bottom["sku"])  # a '/' in a name does not split the id
    n = h.nodes
    de_shoes = n[(n["level"] == "market/category") & (n["market"] == "DE") & (n["category"] == "shoes")]
    row = h.S[de_shoes.index[0]].toarray().ravel().astype(bool)
    assert sorted(h.bottom.loc[row, "sku"]) == ["shoes-0", "shoes-1", "shoes-2", "shoes/red-9"]
    clash = pd.concat([keys, pd.DataFrame([{"sku": "shoes-0", "market": "DE", "category": "bags"}])])
    with pytest.raises(ValueError, match="more than one category"):
        hy.build_hierarchy(clash)


@pytest.fixture(scope="module")
def case():
    keys = _keys()
    rng = np.random.default_rng(3)
    rates = rng.uniform(0.2, 4.0, len(keys))
    history = _history(keys, rates, ORIGIN, 56)
    mean = rates[:, None] * rng.uniform(0.6, 1.6, (len(keys), H))
    return keys, history, _forecast(keys, mean)


@pytest.mark.parametrize("method", hy.METHODS)
def test_every_method_is_coherent_and_non_negative(case, method):
    keys, history, forecast = case
    r = hy.reconcile(forecast, history, ORIGIN, method, fit_days=56)
    _check_coherent(r.levels, r.forecast)
    assert (r.levels["mean"] >= 0).all() and (r.forecast["mean"] >= 0).all()
    assert list(r.forecast.columns[: len(forecast.columns)]) == list(forecast.columns)
    assert np.array_equal(r.forecast["base_mean"], forecast["mean"])
    assert (r.forecast["p50"] == forecast["p50"]).all()  # quantiles are not reconciled


def test_bottom_up_leaves_the_skus_alone(case):
    keys, history, forecast = case
    r = hy.reconcile(forecast, history.iloc[:0], ORIGIN, hy.BOTTOM_UP)  # bottom-up needs no history
    assert np.array_equal(r.forecast["mean"].to_numpy(), forecast["mean"].to_numpy())
    de = r.levels[(r.levels["level"] == "market") & (r.levels["market"] == "DE")]["mean"].to_numpy()
    assert np.allclose(de, forecast[forecast["market"] == "DE"].groupby("horizon")["mean"].sum().to_numpy(), atol=1e-9)


def test_mint_moves_the_skus_toward_the_upper_forecasts(case):
    keys, history, forecast = case
    h = hy.build_hierarchy(forecast)
    bottom = hy.bottom_matrix(h, forecast, "mean")
    upper = 0.5 * np.asarray(h.S[: h.n_upper] @ bottom)  # every total forecast at half the SKU sum
    r = hy.reconcile(forecast, history, ORIGIN, hy.MINT_WLS, upper_base=upper)
    top = r.levels[r.levels["level"] == "market"]
    # between the two forecasts of each total: its own (half the SKU sum) and the SKU sum
    assert (top["mean"].to_numpy() < 2 * top["base_mean"].to_numpy() - 1e-6).all()
    assert (top["mean"].to_numpy() > top["base_mean"].to_numpy() + 1e-6).all()
    assert r.forecast["mean"].sum() < forecast["mean"].sum()


def _library(h: hy.Hierarchy, y_hat: np.ndarray, reconciler) -> np.ndarray:
    """hierarchicalforecast's HierarchicalReconciliation on frames, [n_nodes, H] in S row order."""
    from hierarchicalforecast.core import HierarchicalReconciliation

    ids = np.asarray(h.smatrix.row_labels)
    Y_hat_df = pd.DataFrame(
        {"unique_id": np.repeat(ids, H), "ds": np.tile(np.arange(1, H + 1), len(ids)), "base": y_hat.ravel()}
    )
    out = HierarchicalReconciliation(reconcilers=[reconciler]).reconcile(Y_hat_df=Y_hat_df, tags=h.tags, S_df=h.smatrix)
    col = [c for c in out.columns if c.startswith("base/")][0]
    return out.pivot(index="unique_id", columns="ds", values=col).reindex(ids).to_numpy()


@pytest.mark.parametrize("method", [hy.MINT_WLS, hy.MINT_OLS, hy.BOTTOM_UP])
def test_matches_hierarchical_reconciliation_called_directly(case, method):
    keys, history, forecast = case
    h = hy.build_hierarchy(forecast)
    bottom = hy.bottom_matrix(h, forecast, "mean")
    upper = np.asarray(h.S[: h.n_upper] @ bottom) * np.random.default_rng(1).uniform(0.3, 1.2, (h.n_upper, 1))
    ours = hy.reconcile(forecast, history, ORIGIN, method, upper_base=upper).levels["mean"].to_numpy().reshape(-1, H)
    theirs = _library(h, np.vstack([upper, bottom]), hy.reconciler(method))
    assert np.allclose(ours, theirs, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("method", "weights"), [(hy.MINT_WLS, "structural"), (hy.MINT_OLS, "identity")])
def test_mint_is_the_textbook_projection_when_nothing_goes_negative(case, method, weights):
    """P = (S'W^-1 S)^-1 S'W^-1 by hand, when the unconstrained solution is already >= 0."""
    keys, history, forecast = case
    h = hy.build_hierarchy(forecast)
    bottom = hy.bottom_matrix(h, forecast, "mean") + 5.0  # far from 0: the constraint is inactive
    upper = np.asarray(h.S[: h.n_upper] @ bottom) * np.random.default_rng(2).uniform(0.8, 1.2, (h.n_upper, 1))
    y_hat = np.vstack([upper, bottom])
    S = h.S.toarray()
    w = S.sum(axis=1) if weights == "structural" else np.ones(S.shape[0])
    Winv = np.diag(1.0 / w)
    expected = S @ np.linalg.solve(S.T @ Winv @ S, S.T @ Winv @ y_hat)
    assert expected.min() > 0
    assert np.allclose(hy.reconcile_matrix(h, y_hat, method), expected, atol=1e-4, rtol=0)


def test_non_negative_where_plain_mint_would_go_negative(case):
    keys, history, forecast = case
    h = hy.build_hierarchy(forecast)
    bottom = hy.bottom_matrix(h, forecast, "mean")
    bottom[0] = 0.01  # a slow SKU
    upper = 0.2 * np.asarray(h.S[: h.n_upper] @ bottom)  # totals far below the SKU sums
    y_hat = np.vstack([upper, bottom])
    S = h.S.toarray()
    plain = S @ np.linalg.lstsq(S, y_hat, rcond=None)[0]  # OLS MinTrace without the constraint
    assert plain.min() < -0.01  # the case is one where the constraint matters
    for method in (hy.MINT_OLS, hy.MINT_WLS):
        rec = hy.reconcile_matrix(h, y_hat, method)
        assert rec.min() >= 0
        assert np.allclose(rec[: h.n_upper], h.S[: h.n_upper] @ rec[h.n_upper :], atol=1e-6, rtol=0)


def _backtest(keys: pd.DataFrame, rates: np.ndarray, windows: int, future_factor: float, bias: float, seed: int):
    """Backtest-shaped predictions and the history they came from.

    Demand is Poisson(rate) before each window's origin and
    Poisson(future_factor x rate) on its horizon (a promotion the history
    does not show); the SKU forecast `mean` is bias x future_factor x rate.
    """
    rng = np.random.default_rng(seed)
    as_of = ORIGIN + pd.Timedelta(days=H * windows)
    start = ORIGIN - pd.Timedelta(days=111)
    dates = pd.date_range(start, as_of)
    factor = np.ones(len(dates))
    origins = [as_of - pd.Timedelta(days=k * H) for k in range(windows, 0, -1)]
    if future_factor != 1.0:
        assert windows == 1
        factor[dates > origins[0]] = future_factor
    Y = rng.poisson(rates[:, None] * factor[None, :])
    i, d = np.nonzero(Y)
    history = pd.DataFrame(
        {
            "sku": keys["sku"].to_numpy()[i],
            "market": keys["market"].to_numpy()[i],
            "category": keys["category"].to_numpy()[i],
            "demand_date": dates[d],
            "units_sold": Y[i, d].astype(float),
        }
    )
    preds = []
    for k, origin in zip(range(windows, 0, -1), origins, strict=True):
        o = int((origin - start).days)
        mean = bias * rates[:, None] * factor[None, o + 1 : o + 1 + H]
        actual = Y[:, o + 1 : o + 1 + H].ravel().astype(float)
        preds.append(_forecast(keys, mean, origin).assign(window=k, origin=origin, actual=actual))
    return pd.concat(preds, ignore_index=True), history


def _big_keys() -> pd.DataFrame:
    return pd.DataFrame(
        [(f"s{c}{k}", m, c) for m in ("DE", "FR") for c in ("a", "b") for k in range(6)],
        columns=["sku", "market", "category"],
    )


def test_choose_method_picks_mint_when_the_totals_know_better():
    """SKU forecasts 60 % too high, history steady: the totals' AutoETS is right and MinTrace pulls the SKUs down."""
    keys = _big_keys()
    rates = np.random.default_rng(0).uniform(2.0, 8.0, len(keys))
    preds, history = _backtest(keys, rates, windows=2, future_factor=1.0, bias=1.6, seed=1)
    choice = hy.choose_method(preds, history, candidates=(hy.MINT_WLS, hy.MINT_OLS))
    s = choice.scores.set_index("level")
    assert choice.method in (hy.MINT_WLS, hy.MINT_OLS), choice.reason
    assert list(s.index) == list(hy.LEVELS)
    assert s.loc["market", "bottom_up"] == pytest.approx(0.6, abs=0.05)  # 60 % too high, summed
    assert s.loc["market", choice.method] < 0.5 * s.loc["market", "bottom_up"]
    assert s.loc[hy.BOTTOM, "base"] == s.loc[hy.BOTTOM, "bottom_up"]
    assert s.loc["market", "n_nodes"] == 2 and s.loc["market/category", "n_nodes"] == 4


def test_choose_method_keeps_bottom_up_when_the_skus_know_better():
    """A promotion on the horizon that the SKU forecast knows and the totals' history does not: MinTrace would undo it."""
    keys = _big_keys()
    rates = np.random.default_rng(0).uniform(2.0, 8.0, len(keys))
    preds, history = _backtest(keys, rates, windows=1, future_factor=3.0, bias=1.0, seed=2)
    choice = hy.choose_method(preds, history, candidates=(hy.MINT_WLS,))
    s = choice.scores.set_index("level")
    assert choice.method == hy.BOTTOM_UP, choice.reason
    assert s.loc["market", hy.MINT_WLS] > s.loc["market", "bottom_up"]
    assert s.loc["market", "base"] > 0.5  # AutoETS on the totals misses the promotion


def test_the_rule_and_its_tolerance():
    def table(mint_bottom: float, mint_market: float = 0.1) -> pd.DataFrame:
        return pd.DataFrame(
            {"bottom_up": [0.3, 0.4, 0.5], hy.MINT_WLS: [mint_market, 0.2, mint_bottom]}, index=list(hy.LEVELS)
        )

    assert hy._apply_rule(table(0.504), (hy.MINT_WLS,), 0.01)[0] == hy.MINT_WLS
    assert hy._apply_rule(table(0.506), (hy.MINT_WLS,), 0.01)[0] == hy.BOTTOM_UP
    assert hy._apply_rule(table(0.4, mint_market=0.3), (hy.MINT_WLS,), 0.01)[0] == hy.BOTTOM_UP  # a tie is no win
    assert hy._apply_rule(table(0.4, mint_market=np.nan), (hy.MINT_WLS,), 0.01)[0] == hy.BOTTOM_UP


def test_a_summed_up_market_is_bottom_up_and_the_others_as_without_it(case):
    """ml.season_ahead's markets: summed up whatever the method; each market is its own tree, so the rest are
    reconciled exactly as they would be alone, and the rows keep the forecast's order."""
    keys, history, forecast = case
    shuffled = forecast.sample(frac=1.0, random_state=5)  # the input's row order, not the hierarchy's, is kept
    whole = hy.reconcile(shuffled, history, ORIGIN, hy.MINT_WLS, fit_days=56)
    split = hy.reconcile(shuffled, history, ORIGIN, hy.MINT_WLS, fit_days=56, summed_up_markets=["DE", "XX"])
    assert list(split.forecast.index) == list(shuffled.index)
    _check_coherent(split.levels, split.forecast)
    de = (split.forecast["market"] == "DE").to_numpy()
    assert np.array_equal(split.forecast["mean"].to_numpy()[de], shuffled["mean"].to_numpy()[de])
    assert np.allclose(split.forecast["mean"].to_numpy()[~de], whole.forecast["mean"].to_numpy()[~de], atol=1e-5)  # the QP solver's tolerance
    assert not np.allclose(whole.forecast["mean"].to_numpy()[de], shuffled["mean"].to_numpy()[de])
    methods = split.levels.groupby("market")["method"].unique().map(list).to_dict()
    assert methods == {"DE": [hy.BOTTOM_UP], "FR": [hy.MINT_WLS]}
    assert list(split.levels["level"].drop_duplicates()) == list(hy.LEVELS)
    with pytest.raises(TypeError, match="not one string"):  # "DE" would be the markets "D" and "E"
        hy.reconcile(shuffled, history, ORIGIN, hy.MINT_WLS, summed_up_markets="DE")
    with pytest.raises(ValueError, match="not both"):
        hy.reconcile(shuffled, history, ORIGIN, hy.MINT_WLS, upper_base=np.zeros((6, H)), summed_up_markets=["DE"])
