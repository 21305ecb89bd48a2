"""The forecast: prepare a history, train the models, predict every active series.

`forecast_demand` reads only history on or before `as_of` (the origin); the
backtest calls the same function with earlier origins, so what is scored is
exactly what is published.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.bulk_orders import BulkSummary, cap_panel
from ml.calendar_features import EVENT_CODES, OTHER_EVENT_CODE
from ml.features import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    MAX_HORIZON_DAYS,
    FeatureContext,
    build_context,
    build_features,
    sample_rows,
)
from ml.model import MEAN, QUANTILES, ModelConfig, predict, progress, train_models
from ml.panel import Panel, add_planned_series, build_panel, to_timestamp
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS, active_in_panel, planned_launches

MODEL_FAMILY = "lgbm-quantile"
# bump when features or sampling change meaning, so model_version changes too (3: bulk days capped, ml.bulk_orders;
# 4: launch rows inside max_training_rows, ml.features.sample_rows)
CODE_VERSION = "4"
RECENT_UNITS_DAYS = 91  # the window of training history a reused model's history is checked on


@dataclass
class ForecastResult:
    """A forecast and what is needed to reproduce or audit it.

    forecast: one row per active series per day 1..H after the origin:
        sku, market, category, forecast_date (datetime64, the day forecast),
        horizon (days after as_of, 1..H), p10, p50, p90 (units sold that day,
        float >= 0, p10 <= p50 <= p90; p50 a whole number, the median of a
        count with the mean, `crossdock.count_median`), mean (expected units that
        day, from the Tweedie model; use it, not p50, for sums over days),
        model_version.
    model_version: short deterministic id of code version, origin, horizon,
        seed, parameters, feature list and the training data itself.
    training_rows: number of (series, origin, horizon) rows the models saw.
    training_window: first / last history day read, first / last target day
        trained on (ISO dates), for the saved model's manifest.
    models: the trained boosters (`ml.registry.save_model` writes them).
    fingerprint: `forecast_fingerprint` of the settings (what a saved model
        must match to be reused).
    levels: the market and category values behind the model's categorical
        codes (code i = the i-th value).
    trained_on: the planning date the models were trained as of: `as_of`
        when this call trained them, earlier when a saved model was reused.
    recent_units: units sold in the last `RECENT_UNITS_DAYS` days of the
        training history ({"from", "to", "units"}): a later run checks its
        history still holds them before reusing the model.
    bulk: the bulk days capped in the history the forecast read
        (`ml.bulk_orders`): their units are not in the forecast.
    """

    forecast: pd.DataFrame
    model_version: str
    feature_names: list[str]
    params: dict
    training_rows: int
    as_of: dt.date | None = None
    horizon_days: int = 56
    feature_importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    training_window: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    fingerprint: str = ""
    levels: dict = field(default_factory=dict)
    trained_on: dt.date | None = None
    recent_units: dict = field(default_factory=dict)
    bulk: BulkSummary = field(default_factory=lambda: BulkSummary(0, 0.0, 0.0))


def _threadless(params: dict) -> dict:
    """`params` without thread counts: every booster trains single-threaded, so the model does not depend on them."""
    params = json.loads(json.dumps(params))
    params["config"].pop("num_threads", None)
    for booster in params["boosters"].values():
        booster.pop("num_threads", None)
    return params


def _model_version(panel: Panel, horizon_days: int, seed: int, params: dict) -> str:
    """Deterministic short id: same data, origin, settings and code -> same id.

    Thread counts are left out: every booster trains single-threaded, so the
    model does not depend on them.
    """
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {
                "code": CODE_VERSION,
                "start": str(panel.start.date()),
                "end": str(panel.end.date()),
                "horizon_days": horizon_days,
                "seed": seed,
                "params": _threadless(params),
                "features": FEATURE_NAMES,
            },
            sort_keys=True,
        ).encode()
    )
    h.update(pd.util.hash_pandas_object(panel.series[["sku", "market", "category"]], index=False).to_numpy().tobytes())
    h.update(np.ascontiguousarray(panel.Y).tobytes())
    return f"{MODEL_FAMILY}-{panel.end:%Y%m%d}-{h.hexdigest()[:12]}"


def model_params(config: ModelConfig, seed: int, inactive_after_days: int, horizon_days: int) -> dict:
    """The settings a model is trained with, as saved in its manifest: config, per-booster LightGBM parameters, seed."""
    return {
        "config": config.as_dict(),
        "boosters": {
            (f"p{round(t * 100)}" if t != MEAN else MEAN): config.booster_params(t, seed) for t in config.targets()
        },
        "seed": seed,
        "inactive_after_days": inactive_after_days,
        "horizon_days": horizon_days,
    }


def forecast_fingerprint(
    horizon_days: int = 56,
    seed: int = 7,
    *,
    config: ModelConfig | None = None,
    inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
    holiday_subdivisions: Mapping[str, str | None] | None = None,
) -> str:
    """A short hash of everything that decides what a trained model means, apart from the data it saw.

    A saved model may predict a later planning date only when this is the
    same: the code version (`CODE_VERSION`, bumped when features or sampling
    change meaning), the feature names, which of them are categorical, the
    event codes, the quantiles, the LightGBM settings (thread count left out),
    horizon, seed, the inactivity rule and the markets' regional holiday
    calendars (a market without one follows its national calendar, so it is
    left out). Not the series: new ones are predicted through the features,
    and new market or category codes are checked on their own
    (`ml.retrain_cadence`).
    """
    params = model_params(config or ModelConfig(), seed, inactive_after_days, horizon_days)
    payload = {
        "model_code": f"{MODEL_FAMILY}/{CODE_VERSION}",
        "features": list(FEATURE_NAMES),
        "categorical": list(CATEGORICAL_FEATURES),
        "event_codes": {**EVENT_CODES, "other": OTHER_EVENT_CODE},
        "quantiles": list(QUANTILES),
        "params": _threadless(params),
        "holiday_subdivisions": {str(k): v for k, v in sorted((holiday_subdivisions or {}).items()) if v},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class PreparedForecast:
    """A forecast at `as_of` before any model: the panel, its feature context and the series to forecast.

    Built from history on or before `as_of` only. `active` holds the series
    forecast (the active ones, then planned launches: sku, market, category)
    and `rows` their rows in the panel, whose bulk days are capped (`bulk`
    says what that took out, `ml.bulk_orders`). `fingerprint` is
    `forecast_fingerprint` of the settings; `levels()` the market and
    category codes this panel gives, `needed_levels()` the markets and
    categories of the series forecast, which a reused model must know.
    """

    as_of: dt.date
    horizon_days: int
    seed: int
    config: ModelConfig
    inactive_after_days: int
    panel: Panel
    ctx: FeatureContext
    active: pd.DataFrame
    rows: np.ndarray
    n_planned: int
    params: dict
    fingerprint: str
    seconds: float
    bulk: BulkSummary

    def levels(self) -> dict[str, list[str]]:
        """The values behind the categorical codes of this panel's features (code i = the i-th value)."""
        return {"market": list(self.ctx.market_levels), "category": list(self.ctx.category_levels)}

    def units_between(self, first: dt.date, last: dt.date) -> float:
        """Units sold in the panel on days `first`..`last` (inclusive, clipped to the panel)."""
        lo = max((to_timestamp(first) - self.panel.start).days, 0)
        hi = min((to_timestamp(last) - self.panel.start).days, self.panel.n_days - 1)
        return float(self.panel.Y[:, lo : hi + 1].sum()) if hi >= lo else 0.0

    def recent_units(self) -> dict:
        """Units sold in the last `RECENT_UNITS_DAYS` days up to the origin (what a saved model records)."""
        first = self.as_of - dt.timedelta(days=RECENT_UNITS_DAYS - 1)
        return {"from": str(first), "to": str(self.as_of), "units": self.units_between(first, self.as_of)}

    def needed_levels(self) -> dict[str, list[str]]:
        """The markets and categories of the series forecast (as the panel codes them)."""
        series = self.panel.series.iloc[self.rows]
        return {name: sorted(set(series[name])) for name in LEVEL_FEATURES}


LEVEL_FEATURES = ("market", "category")  # categorical features whose codes depend on the data (event_code is fixed)


def prepare_forecast(
    history: pd.DataFrame,
    as_of: dt.date,
    horizon_days: int = 56,
    seed: int = 7,
    *,
    config: ModelConfig | None = None,
    inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
    launches: pd.DataFrame | None = None,
    holiday_subdivisions: Mapping[str, str | None] | None = None,
) -> PreparedForecast:
    """Cut `history` at `as_of` and build what both training and prediction need (see `forecast_demand`)."""
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ValueError(f"horizon_days must be in 1..{MAX_HORIZON_DAYS}")
    config = config or ModelConfig()
    if config.max_history_days <= inactive_after_days:
        raise ValueError("max_history_days must exceed inactive_after_days")
    t0 = time.perf_counter()
    as_of_ts = to_timestamp(as_of)
    history = history[(pd.to_datetime(history["demand_date"]).dt.tz_localize(None) <= as_of_ts).to_numpy()]
    built = build_panel(history, as_of_ts.date(), config.max_history_days)
    active = active_in_panel(built, inactive_after_days)
    planned = planned_launches(launches, history, active, as_of_ts, horizon_days, inactive_after_days)
    regular, bulk = cap_panel(built)
    panel = add_planned_series(regular, planned)
    active = pd.concat([active, planned.drop(columns="launch_date")], ignore_index=True)
    ctx = build_context(panel, horizon_days, holiday_subdivisions)
    key = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    rows = pd.Series(np.arange(panel.n_series), index=key).reindex(pd.MultiIndex.from_frame(active[["sku", "market"]]))
    if rows.isna().any():  # cannot happen while max_history_days > inactive_after_days
        raise RuntimeError("active series missing from the panel")
    return PreparedForecast(
        as_of=as_of_ts.date(),
        horizon_days=horizon_days,
        seed=seed,
        config=config,
        inactive_after_days=inactive_after_days,
        panel=panel,
        ctx=ctx,
        active=active[["sku", "market", "category"]],
        rows=rows.to_numpy(dtype=np.int64),
        n_planned=len(planned),
        params=model_params(config, seed, inactive_after_days, horizon_days),
        fingerprint=forecast_fingerprint(
            horizon_days, seed, config=config, inactive_after_days=inactive_after_days,
            holiday_subdivisions=holiday_subdivisions,
        ),
        seconds=time.perf_counter() - t0,
        bulk=bulk,
    )


def unknown_levels(needed: Mapping[str, list[str]], known: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The markets / categories in `needed` that `known` (a model's codes) has no code for."""
    out = {name: sorted(set(needed.get(name, ())) - set(known.get(name, ()))) for name in LEVEL_FEATURES}
    return {name: values for name, values in out.items() if values}


def recode_levels(X: np.ndarray, prep: PreparedForecast, levels: Mapping[str, list[str]]) -> np.ndarray:
    """`X` (built on `prep`'s panel) with its market and category codes rewritten to a model's `levels`.

    Codes are positions in the sorted values present in a panel, so a market
    or category that appears or drops out shifts the others: a model trained
    on another panel must be given its own codes, or "DE" would be read as
    whatever sorted where DE now does. Raises when a row's value has no code
    in `levels` (`unknown_levels` tells beforehand).
    """
    X = X.copy()
    for name, mine in prep.levels().items():
        theirs = list(levels[name])
        if mine == theirs:
            continue
        position = {value: i for i, value in enumerate(theirs)}
        lookup = np.array([position.get(value, -1) for value in mine], dtype=np.int64)
        col = FEATURE_NAMES.index(name)
        codes = lookup[X[:, col].astype(np.int64)]
        if (codes < 0).any():
            missing = sorted({mine[c] for c, m in zip(X[:, col].astype(np.int64), codes) if m < 0})
            raise ValueError(f"the model has no code for {name} {', '.join(missing)}: it has to be trained again")
        X[:, col] = codes
    return X


def _empty_forecast(prep: PreparedForecast) -> pd.DataFrame:
    columns = ["sku", "market", "category", "forecast_date", "horizon", "p10", "p50", "p90", MEAN]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns + ["model_version"]})


def _predict_forecast(
    prep: PreparedForecast, models: Mapping[float | str, object], levels: Mapping[str, list[str]], version: str
) -> pd.DataFrame:
    """Every series to forecast x day 1..H from the origin `prep.as_of`, predicted by `models`."""
    H, ctx, panel, active = prep.horizon_days, prep.ctx, prep.panel, prep.active
    ps = np.repeat(prep.rows, H)
    ph = np.tile(np.arange(1, H + 1), len(active))
    po = np.full(len(ps), panel.n_days - 1)
    X = recode_levels(build_features(ctx, ps, po, ph), prep, levels)
    P = predict(dict(models), X, prep.config.num_threads)
    before_launch = po + ph < ctx.first[ps]  # a planned launch sells nothing before its day
    P = {k: np.where(before_launch, 0.0, v) for k, v in P.items()}
    as_of_ts = to_timestamp(prep.as_of)
    forecast = pd.DataFrame(
        {
            "sku": np.repeat(active["sku"].to_numpy(), H),
            "market": np.repeat(active["market"].to_numpy(), H),
            "category": np.repeat(active["category"].to_numpy(), H),
            "forecast_date": as_of_ts + pd.to_timedelta(ph, unit="D"),
            "horizon": ph.astype(np.int64),
            "p10": P["p10"],
            "p50": P["p50"],
            "p90": P["p90"],
            "mean": P[MEAN],
        }
    )
    forecast["model_version"] = version
    return forecast


def train_forecast(prep: PreparedForecast) -> ForecastResult:
    """Train the models on `prep`'s history and forecast from its origin (what `forecast_demand` does)."""
    t0 = time.perf_counter()
    ctx, panel, config, seed, H = prep.ctx, prep.panel, prep.config, prep.seed, prep.horizon_days
    version = _model_version(panel, H, seed, prep.params)
    common = dict(
        feature_names=list(FEATURE_NAMES), params=prep.params, as_of=prep.as_of, horizon_days=H,
        fingerprint=prep.fingerprint, levels=prep.levels(), trained_on=prep.as_of, recent_units=prep.recent_units(),
        bulk=prep.bulk,
    )
    if prep.active.empty:
        progress(f"forecast as_of={prep.as_of}: no active series")
        return ForecastResult(_empty_forecast(prep), version, training_rows=0, **common)

    rng = np.random.default_rng(seed)
    s, o, h, y = sample_rows(
        ctx, H, config.train_days, config.horizons_per_day, prep.inactive_after_days, rng, config.row_sample,
        config.max_training_rows,
    )
    if len(y) == 0:
        raise ValueError(f"history up to {prep.as_of} is too short to train on (no origin with a later day)")
    X = build_features(ctx, s, o, h)
    t1 = time.perf_counter()
    models = train_models(X, y, config, seed)
    t2 = time.perf_counter()
    forecast = _predict_forecast(prep, models, prep.levels(), version)
    gains = [m.feature_importance("gain") for m in models.values()]
    gain = np.mean([g / max(g.sum(), 1e-12) for g in gains], axis=0)
    importance = (
        pd.DataFrame({"feature": FEATURE_NAMES, "gain_share": gain})
        .sort_values("gain_share", ascending=False, ignore_index=True)
    )
    progress(
        f"forecast as_of={prep.as_of} series={len(prep.active)} (planned launches {prep.n_planned}) train_rows={len(y)} "
        f"features {prep.seconds + t1 - t0:.1f}s train {t2 - t1:.1f}s total {prep.seconds + time.perf_counter() - t0:.1f}s"
    )
    return ForecastResult(
        forecast=forecast,
        model_version=version,
        training_rows=int(len(y)),
        feature_importance=importance,
        training_window={
            "history_start": str(panel.start.date()),
            "history_end": str(panel.end.date()),
            "first_target_day": str((panel.start + pd.Timedelta(days=int((o + h).min()))).date()),
            "last_target_day": str((panel.start + pd.Timedelta(days=int((o + h).max()))).date()),
        },
        models=models,
        **common,
    )


def forecast_with_models(
    prep: PreparedForecast,
    models: Mapping[float | str, object],
    *,
    model_version: str,
    levels: Mapping[str, list[str]],
    trained_on: dt.date,
    training_rows: int = 0,
    training_window: dict | None = None,
    feature_importance: pd.DataFrame | None = None,
    recent_units: dict | None = None,
) -> ForecastResult:
    """Forecast from `prep`'s origin with models trained earlier (no fit): fresh features, old boosters.

    `levels` are the market and category codes the models were trained with
    (their manifest's); the features are recoded to them. The caller checks
    the models fit `prep` (same `fingerprint`, no unknown levels:
    `ml.retrain_cadence`). Rows carry `model_version`, the models' own id, so
    the saved folder that made them is the one they name.
    """
    t0 = time.perf_counter()
    if prep.active.empty:
        progress(f"forecast as_of={prep.as_of}: no active series")
        forecast = _empty_forecast(prep)
    else:
        forecast = _predict_forecast(prep, models, levels, model_version)
        progress(
            f"forecast as_of={prep.as_of} series={len(prep.active)} (planned launches {prep.n_planned}) with the model "
            f"trained {trained_on} (not retrained): features {prep.seconds:.1f}s predict {time.perf_counter() - t0:.1f}s"
        )
    return ForecastResult(
        forecast=forecast,
        model_version=model_version,
        feature_names=list(FEATURE_NAMES),
        params=prep.params,
        training_rows=int(training_rows),
        as_of=prep.as_of,
        horizon_days=prep.horizon_days,
        feature_importance=feature_importance if feature_importance is not None else pd.DataFrame(),
        training_window=dict(training_window or {}),
        models=dict(models),
        fingerprint=prep.fingerprint,
        levels={name: list(values) for name, values in levels.items()},
        trained_on=trained_on,
        recent_units=dict(recent_units or {}),
        bulk=prep.bulk,
    )


def forecast_demand(
    history: pd.DataFrame,
    as_of: dt.date,
    horizon_days: int = 56,
    seed: int = 7,
    *,
    config: ModelConfig | None = None,
    inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
    launches: pd.DataFrame | None = None,
    holiday_subdivisions: Mapping[str, str | None] | None = None,
) -> ForecastResult:
    """Daily p10/p50/p90 units sold for every active series, days 1..`horizon_days` after `as_of`.

    Trains global LightGBM boosters for p10, p90 and the expected units on
    history <= `as_of` (direct multi-horizon rows, see `ml.features`) and
    predicts from the origin `as_of`; p50 is the median of a count with the
    expected units (`crossdock.count_median`). Deterministic for a given input, `seed` and `config`.

    `launches` (sku, market, launch_date[, category]) adds series that have
    not sold yet (cold start): they are forecast from the SKU's sales in its
    other markets, its category in the market and the calendar, and get 0
    before their launch day.

    The daily pipeline does not always train: `ml.retrain_cadence.forecast_or_reuse`
    prepares the same way and predicts with the last saved model while it holds.
    """
    prep = prepare_forecast(
        history, as_of, horizon_days, seed, config=config, inactive_after_days=inactive_after_days,
        launches=launches, holiday_subdivisions=holiday_subdivisions,
    )
    return train_forecast(prep)
