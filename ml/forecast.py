"""Public entry points: which series to forecast, and the forecast itself.

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

from ml.features import (
    FEATURE_NAMES,
    MAX_HORIZON_DAYS,
    build_context,
    build_features,
    sample_launch_rows,
    sample_training_rows,
)
from ml.model import MEAN, ModelConfig, predict, progress, train_models
from ml.panel import Panel, add_planned_series, build_panel, daily_units, to_timestamp

MODEL_FAMILY = "lgbm-quantile"
CODE_VERSION = "2"  # bump when features or sampling change meaning, so model_version changes too
DEFAULT_INACTIVE_AFTER_DAYS = 91


@dataclass
class ForecastResult:
    """A forecast and what is needed to reproduce or audit it.

    forecast: one row per active series per day 1..H after the origin:
        sku, market, category, forecast_date (datetime64, the day forecast),
        horizon (days after as_of, 1..H), p10, p50, p90 (units sold that day,
        float >= 0, p10 <= p50 <= p90), mean (expected units that day, from
        the Tweedie model; present unless the config turns it off; use it,
        not p50, for sums over days), model_version.
    model_version: short deterministic id of code version, origin, horizon,
        seed, parameters, feature list and the training data itself.
    training_rows: number of (series, origin, horizon) rows the models saw.
    training_window: first / last history day read, first / last target day
        trained on (ISO dates), for the saved model's manifest.
    models: the trained boosters (`ml.registry.save_model` writes them).
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


def active_series(
    history: pd.DataFrame, as_of: dt.date, inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS
) -> pd.DataFrame:
    """The series to forecast at `as_of`: sku x market with a sale in the last `inactive_after_days` days.

    Active means units sold > 0 on some day d with as_of - inactive_after_days
    <= d <= as_of (so a series is dropped once more than `inactive_after_days`
    days have passed since its last sale: phased out, or out of the range).
    Only rows on or before `as_of` are read. Columns: sku, market, category
    (latest), first_sale_date, last_sale_date (datetime64), sorted by sku, market.
    """
    cols = ["sku", "market", "category", "first_sale_date", "last_sale_date"]
    daily = daily_units(history, as_of)
    daily = daily[daily["units_sold"] > 0]
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c.endswith("date") else object) for c in cols})
    g = daily.groupby(["sku", "market"], sort=True).agg(
        category=("category", "last"),
        first_sale_date=("demand_date", "min"),
        last_sale_date=("demand_date", "max"),
    )
    cutoff = to_timestamp(as_of) - pd.Timedelta(days=inactive_after_days)
    g = g[g["last_sale_date"] >= cutoff]
    return g.reset_index()[cols]


def planned_launches(
    launches: pd.DataFrame | None,
    history: pd.DataFrame,
    active: pd.DataFrame,
    as_of: pd.Timestamp,
    horizon_days: int,
    inactive_after_days: int,
) -> pd.DataFrame:
    """The planned launches to forecast: sku, market, category, launch_date.

    Kept when the launch falls in (as_of - inactive_after_days, as_of +
    horizon_days] and the series has not sold yet (once it sells it is an
    ordinary active series). The category comes from the SKU's history in
    other markets when the plan does not give one.
    """
    cols = ["sku", "market", "category", "launch_date"]
    if launches is None or launches.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    missing = [c for c in ("sku", "market", "launch_date") if c not in launches.columns]
    if missing:
        raise ValueError(f"launches is missing columns {missing}; expected sku, market, launch_date[, category]")
    plan = launches.assign(
        sku=launches["sku"].astype(str),
        market=launches["market"].astype(str),
        launch_date=pd.to_datetime(launches["launch_date"]).dt.tz_localize(None).dt.normalize(),
    )
    known_category = daily_units(history, as_of.date()).groupby("sku")["category"].last()
    given = plan["category"] if "category" in plan.columns else pd.Series(None, index=plan.index, dtype=object)
    plan["category"] = given.where(given.notna(), plan["sku"].map(known_category))
    unknown = plan[plan["category"].isna()]
    if not unknown.empty:
        examples = ", ".join(unknown["sku"].head(3))
        raise ValueError(f"launches: no category for new SKUs {examples}: give a category column for SKUs without history")
    window = (plan["launch_date"] > as_of - pd.Timedelta(days=inactive_after_days)) & (
        plan["launch_date"] <= as_of + pd.Timedelta(days=horizon_days)
    )
    plan = plan[window].drop_duplicates(["sku", "market"], keep="last")
    selling = pd.MultiIndex.from_frame(active[["sku", "market"]])
    plan = plan[~pd.MultiIndex.from_frame(plan[["sku", "market"]]).isin(selling)]
    return plan[cols].sort_values(["sku", "market"], ignore_index=True)


def _model_version(panel: Panel, horizon_days: int, seed: int, params: dict) -> str:
    """Deterministic short id: same data, origin, settings and code -> same id.

    Thread counts are left out: every booster trains single-threaded, so the
    model does not depend on them.
    """
    params = json.loads(json.dumps(params))
    params["config"].pop("num_threads", None)
    for booster in params["boosters"].values():
        booster.pop("num_threads", None)
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {
                "code": CODE_VERSION,
                "start": str(panel.start.date()),
                "end": str(panel.end.date()),
                "horizon_days": horizon_days,
                "seed": seed,
                "params": params,
                "features": FEATURE_NAMES,
            },
            sort_keys=True,
        ).encode()
    )
    h.update(pd.util.hash_pandas_object(panel.series[["sku", "market", "category"]], index=False).to_numpy().tobytes())
    h.update(np.ascontiguousarray(panel.Y).tobytes())
    return f"{MODEL_FAMILY}-{panel.end:%Y%m%d}-{h.hexdigest()[:12]}"


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

    Trains one global LightGBM per quantile on history <= `as_of` (direct
    multi-horizon rows, see `ml.features`) and predicts from the origin
    `as_of`. Deterministic for a given input, `seed` and `config`.

    `launches` (sku, market, launch_date[, category]) adds series that have
    not sold yet (cold start): they are forecast from the SKU's sales in its
    other markets, its category in the market and the calendar, and get 0
    before their launch day.
    """
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ValueError(f"horizon_days must be in 1..{MAX_HORIZON_DAYS}")
    config = config or ModelConfig()
    if config.max_history_days <= inactive_after_days:
        raise ValueError("max_history_days must exceed inactive_after_days")
    t0 = time.perf_counter()
    as_of_ts = to_timestamp(as_of)
    history = history[(pd.to_datetime(history["demand_date"]).dt.tz_localize(None) <= as_of_ts).to_numpy()]
    active = active_series(history, as_of_ts.date(), inactive_after_days)
    planned = planned_launches(launches, history, active, as_of_ts, horizon_days, inactive_after_days)
    panel = add_planned_series(build_panel(history, as_of_ts.date(), config.max_history_days), planned)
    active = pd.concat([active, planned.drop(columns="launch_date")], ignore_index=True)
    ctx = build_context(panel, horizon_days, holiday_subdivisions)

    params = {
        "config": config.as_dict(),
        "boosters": {
            (f"p{round(t * 100)}" if t != MEAN else MEAN): config.booster_params(t, seed) for t in config.targets()
        },
        "seed": seed,
        "inactive_after_days": inactive_after_days,
        "horizon_days": horizon_days,
    }
    version = _model_version(panel, horizon_days, seed, params)
    columns = ["sku", "market", "category", "forecast_date", "horizon", "p10", "p50", "p90"]
    columns += [MEAN] if config.with_mean else []
    if active.empty:
        progress(f"forecast as_of={as_of_ts.date()}: no active series")
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns + ["model_version"]})
        return ForecastResult(empty, version, list(FEATURE_NAMES), params, 0, as_of_ts.date(), horizon_days)

    rng = np.random.default_rng(seed)
    s, o, h, y = sample_training_rows(
        ctx, horizon_days, config.train_days, config.horizons_per_day, inactive_after_days, rng,
        config.row_sample,
    )
    if len(y) == 0:
        raise ValueError(f"history up to {as_of_ts.date()} is too short to train on (no origin with a later day)")
    ls, lo, lh, ly = sample_launch_rows(ctx, horizon_days, rng)
    s, o, h, y = np.concatenate([s, ls]), np.concatenate([o, lo]), np.concatenate([h, lh]), np.concatenate([y, ly])
    X = build_features(ctx, s, o, h)
    t1 = time.perf_counter()
    models = train_models(X, y, config, seed)
    t2 = time.perf_counter()

    key = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    rows = pd.Series(np.arange(panel.n_series), index=key).reindex(
        pd.MultiIndex.from_frame(active[["sku", "market"]])
    )
    if rows.isna().any():  # cannot happen while max_history_days > inactive_after_days
        raise RuntimeError("active series missing from the panel")
    ps = np.repeat(rows.to_numpy(dtype=np.int64), horizon_days)
    ph = np.tile(np.arange(1, horizon_days + 1), len(active))
    po = np.full(len(ps), panel.n_days - 1)
    P = predict(models, build_features(ctx, ps, po, ph), config.num_threads)
    before_launch = po + ph < ctx.first[ps]  # a planned launch sells nothing before its day
    P = {k: np.where(before_launch, 0.0, v) for k, v in P.items()}

    forecast = pd.DataFrame(
        {
            "sku": np.repeat(active["sku"].to_numpy(), horizon_days),
            "market": np.repeat(active["market"].to_numpy(), horizon_days),
            "category": np.repeat(active["category"].to_numpy(), horizon_days),
            "forecast_date": as_of_ts + pd.to_timedelta(ph, unit="D"),
            "horizon": ph.astype(np.int64),
            "p10": P["p10"],
            "p50": P["p50"],
            "p90": P["p90"],
        }
    )
    if MEAN in P:
        forecast["mean"] = P[MEAN]
    forecast["model_version"] = version
    gains = [m.feature_importance("gain") for m in models.values()]
    gain = np.mean([g / max(g.sum(), 1e-12) for g in gains], axis=0)
    importance = (
        pd.DataFrame({"feature": FEATURE_NAMES, "gain_share": gain})
        .sort_values("gain_share", ascending=False, ignore_index=True)
    )
    progress(
        f"forecast as_of={as_of_ts.date()} series={len(active)} (planned launches {len(planned)}) train_rows={len(y)} "
        f"features {t1 - t0:.1f}s train {t2 - t1:.1f}s total {time.perf_counter() - t0:.1f}s"
    )
    return ForecastResult(
        forecast=forecast,
        model_version=version,
        feature_names=list(FEATURE_NAMES),
        params=params,
        training_rows=int(len(y)),
        as_of=as_of_ts.date(),
        horizon_days=horizon_days,
        feature_importance=importance,
        training_window={
            "history_start": str(panel.start.date()),
            "history_end": str(panel.end.date()),
            "first_target_day": str((panel.start + pd.Timedelta(days=int((o + h).min()))).date()),
            "last_target_day": str((panel.start + pd.Timedelta(days=int((o + h).max()))).date()),
        },
        models=models,
    )
