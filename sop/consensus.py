"""The consensus demand plan: the statistical forecast with the planners' overrides applied.

An override is stated for a period (a week or a month) at a level (a market,
a category in a market, or one SKU in a market). It reaches the daily SKU x
market forecast the plan runs on like this:

- `change_pct` scales every day of every SKU it covers;
- `units` is the period's total: the days it covers are scaled so that they
  sum to it, i.e. it is split down in proportion to the forecast. A period
  that runs past the horizon (or began before it) keeps the share of the
  units its days within the horizon hold. Where the forecast is zero on every
  day it covers, the units are spread evenly over those days: the planner
  knows something the model does not, and the model gives no shape. A SKU's
  units for a market the forecast has no row for (a launch the history
  cannot show) add that SKU x market to the plan, at zero outside the period.

Overrides apply coarse to fine (sop/overrides.py application_order), so a
SKU's own number wins over its market's. The band moves with the mean: each
day's p10/p50/p90 are scaled by the day's consensus/statistical ratio; a day
the model gave (next to) nothing takes a Poisson band around its consensus
mean (the only shape one number implies), and beyond a tenfold rise the
band's spread stops growing with the mean (`SPREAD_SCALE_LIMIT`).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.count_median import poisson_median
from crossdock.frames import require_columns
from sop.overrides import APPLIED, application_order

FORECAST_COLUMNS: tuple[str, ...] = ("sku", "market", "forecast_date", "p10", "p50", "p90", "mean")
QUANTILES = {"p10": 0.1, "p90": 0.9}
"""The band, scaled with the mean; p50 is the median of a Poisson count with the mean, as in the forecast
(`crossdock.count_median`)."""
SUPERSEDED = "superseded: override "
"""The status of an override every day of which later overrides set anew in units (their totals reset, whatever it
did): it moves nothing, and forecast value added does not credit it."""
NOTHING = 0.01
"""Units a day below which the model gave nothing: its band is no shape to scale (a mean of 1e-8 a day with a p90
of 1.68, raised to 3.35 by a planner, put p90 at 168 million). Such a day takes the Poisson band of its consensus."""
SPREAD_SCALE_LIMIT = 10.0
"""The most a band's spread around its mean is scaled by the consensus / statistical ratio. Up to tenfold the band
is scaled with the mean; beyond, the spread stops growing (never narrower than a Poisson count's), so a bigger
number never narrows the band and a fortyfold promotion does not stretch it fortyfold."""
NO_FORECAST = "nothing to adjust: no forecast for it in the horizon"
HELD_BACK = "waiting: market {market} is held back by the training-data gate this run (its own orders stopped or broke), " \
    "so it has no forecast to adjust; the override applies again once {market} is forecast"


@dataclass(frozen=True)
class Consensus:
    """`plan`: the forecast's rows with `statistical_mean`, the consensus `mean` and band, and `override_ids`
    (the overrides that moved the day, in the order applied). `overrides`: the cycle's overrides with what
    each did: `days_covered`, `units_statistical` (the forecast's units it covers), `units_before` and
    `units_after` (the consensus just before and after it applied)."""

    plan: pd.DataFrame
    overrides: pd.DataFrame


def build_consensus(forecast: pd.DataFrame, categories: pd.DataFrame, overrides: pd.DataFrame,
                    markets: Collection[str] | None = None, held_back: pd.DataFrame | None = None) -> Consensus:
    """The consensus of `forecast` (daily SKU x market) and the cycle's `overrides` (sop.overrides.cycle_overrides).

    `categories` maps each sku of the catalogue to its category (a SKU without one is in no category override;
    a SKU outside it cannot be listed by an override: its units are refused as a likely typo). `markets` are the
    merchant's (crossdock.yaml's, the catch-all's code among them; default: the forecast's): an override naming
    another is refused, since no node plans it. `held_back`: the series (sku, market) the forecast left out
    because the training-data gate held their market back (orchestration/lib/held_back.py). An override of such
    a market, or of one of those series, waits (`HELD_BACK`): their demand is unknown this run, not zero, and a
    series' units would otherwise list it as a launch, at zero on every day outside the override's period. A
    SKU's units for a SKU that market has not sold lately still list it there: a launch is the planner's to know.
    """
    require_columns(forecast, FORECAST_COLUMNS, "forecast")
    require_columns(categories, ("sku", "category"), "categories")
    plan = forecast.reset_index(drop=True).copy()
    plan["forecast_date"] = pd.to_datetime(plan["forecast_date"])
    overrides = _refuse_unplanned(overrides, set(markets) if markets is not None else set(plan["market"]))
    overrides = _waiting_for_held_back(overrides, held_back)
    applied = overrides[overrides["status"] == APPLIED] if len(overrides) else overrides
    category_of = categories.drop_duplicates("sku").set_index("sku")["category"]
    plan = _with_new_listings(plan, category_of, applied)
    statistical = plan["mean"].to_numpy(dtype=float)
    consensus = statistical.copy()
    category = plan["sku"].map(category_of).to_numpy(dtype=object)
    market, sku = plan["market"].to_numpy(dtype=object), plan["sku"].to_numpy(dtype=object)
    days = plan["forecast_date"].to_numpy(dtype="datetime64[D]")
    first_day, last_day = (days.min(), days.max()) if len(days) else (None, None)
    touched_by: list[list[str]] = [[] for _ in range(len(plan))]
    superseded: dict[str, str] = {}  # override id -> the later units override that set the last of its days again

    effects, cells_of = [], {}
    ordered = application_order(applied) if len(applied) else applied
    for override in ordered.itertuples(index=False):
        start, end = np.datetime64(override.period_start, "D"), np.datetime64(override.period_end, "D")
        covered = (market == override.market) & (days >= start) & (days <= end)
        if pd.notna(override.sku):
            covered &= sku == override.sku
        if pd.notna(override.category):
            covered &= category == override.category
        cells = np.flatnonzero(covered)
        before = float(consensus[cells].sum())
        if len(cells) and pd.notna(override.change_pct):
            consensus[cells] *= 1.0 + float(override.change_pct) / 100.0
        elif len(cells):
            target = float(override.units) * _share_in_horizon(start, end, first_day, last_day)
            if before > 0:
                consensus[cells] *= target / before
            else:
                consensus[cells] = target / len(cells)
        if pd.notna(override.units) and len(cells):
            # units set these days' total anew, keeping their shape: an earlier override of all of them (and maybe
            # more) scaled them alike, so it no longer moves them; one of some of them still shapes them and stays
            for earlier, their in list(cells_of.items()):
                if np.isin(cells, their).all():
                    for cell in cells:
                        touched_by[cell].remove(earlier)
                    cells_of[earlier] = np.setdiff1d(their, cells)
                    if not len(cells_of[earlier]):
                        superseded[earlier] = override.override_id
                        del cells_of[earlier]
        cells_of[override.override_id] = cells
        for cell in cells:
            touched_by[cell].append(override.override_id)
        effects.append({
            "override_id": override.override_id,
            "days_covered": int(len(cells)),
            "units_statistical": float(statistical[cells].sum()),
            "units_before": before,
            "units_after": float(consensus[cells].sum()),
            "no_forecast": not len(cells),
        })

    plan = _with_band(plan, statistical, consensus)
    plan["override_ids"] = [",".join(ids) if ids else None for ids in touched_by]
    plan["forecast_date"] = plan["forecast_date"].dt.date
    known_categories = set(category_of.dropna()) | (set(plan["category"].dropna()) if "category" in plan else set())
    out = _with_effects(overrides, effects, set(category_of.index) | set(plan["sku"]), known_categories)
    later = out["override_id"].map(superseded)
    out["status"] = out["status"].mask(later.notna(), SUPERSEDED + later.astype(str) + " set its days again")
    return Consensus(plan, out)


def _refuse_unplanned(overrides: pd.DataFrame, markets: set[str]) -> pd.DataFrame:
    """`overrides` with those that would apply but name a market the merchant does not plan marked invalid."""
    if overrides.empty:
        return overrides
    unplanned = (overrides["status"] == APPLIED) & ~overrides["market"].isin(markets)
    reason = ("invalid: market " + overrides["market"].astype(str) + " is not planned (the markets: "
              + ", ".join(sorted(markets)) + "; a country of the catch-all market is adjusted under its code)")
    return overrides.assign(status=overrides["status"].mask(unplanned, reason))


def _waiting_for_held_back(overrides: pd.DataFrame, held_back: pd.DataFrame | None) -> pd.DataFrame:
    """`overrides` with those that would apply to a held-back market as a whole (a market or category override) or
    to one of its held-back series (a SKU's) marked `HELD_BACK`."""
    if overrides.empty or held_back is None or held_back.empty:
        return overrides
    series = pd.MultiIndex.from_frame(held_back[["sku", "market"]].astype(str))
    whole_market = overrides["sku"].isna() & overrides["market"].isin(set(held_back["market"]))
    one_series = pd.MultiIndex.from_arrays([overrides["sku"].astype(str), overrides["market"].astype(str)]).isin(series)
    waiting = (overrides["status"] == APPLIED) & (whole_market | one_series)
    reason = overrides["market"].astype(str).map(lambda market: HELD_BACK.format(market=market))
    return overrides.assign(status=overrides["status"].mask(waiting, reason))


def _with_new_listings(plan: pd.DataFrame, category_of: pd.Series, applied: pd.DataFrame) -> pd.DataFrame:
    """`plan` with a zero forecast on every day of the horizon for each SKU x market an applied override gives
    units to but the model has no row for: a listing the planner knows is coming (a launch, a new market), which
    the history cannot show. The units then spread evenly over the override's days like any zero forecast."""
    if plan.empty or applied.empty:
        return plan
    listed = applied["sku"].notna() & applied["units"].notna() & applied["sku"].isin(category_of.index)
    wanted = applied[listed][["sku", "market"]].drop_duplicates()  # a SKU the catalogue lacks is a typo, not a launch
    known = plan[["sku", "market"]].drop_duplicates()
    new = wanted.merge(known, how="left", indicator=True).query("_merge == 'left_only'")[["sku", "market"]]
    if new.empty:
        return plan
    days = pd.DataFrame({"forecast_date": sorted(plan["forecast_date"].unique())})
    rows = new.merge(days, how="cross").assign(p10=0.0, p50=0.0, p90=0.0, mean=0.0)
    if "category" in plan.columns:
        rows["category"] = rows["sku"].map(category_of).fillna("unknown")
    for column in plan.columns.difference(rows.columns):  # the forecast's constant columns (its as_of, its model)
        values = plan[column].dropna().unique()
        rows[column] = values[0] if len(values) == 1 else None
    return pd.concat([plan, rows[plan.columns]], ignore_index=True)


def _share_in_horizon(start: np.datetime64, end: np.datetime64, first: np.datetime64, last: np.datetime64) -> float:
    """The share of a period's days that lie within the forecast horizon."""
    inside = (min(end, last) - max(start, first)).astype(int) + 1
    return max(inside, 0) / ((end - start).astype(int) + 1)


def _poisson_quantile(q: float, mean: np.ndarray) -> np.ndarray:
    """The q-quantile of Poisson(mean), for the band of a day the forecast gave nothing: scipy.stats is imported
    here, as only such an override needs it, and it costs every process that builds the definitions 0.6-1 s."""
    from scipy.stats import poisson

    return poisson.ppf(q, mean)


def _with_band(plan: pd.DataFrame, statistical: np.ndarray, consensus: np.ndarray) -> pd.DataFrame:
    plan = plan.rename(columns={"mean": "statistical_mean"})
    plan["mean"] = consensus
    moved = ~np.isclose(consensus, statistical)
    from_nothing = moved & (statistical < NOTHING)
    scaled = moved & ~from_nothing
    ratio = np.divide(consensus, statistical, out=np.ones_like(consensus), where=scaled)
    spread = np.minimum(ratio, SPREAD_SCALE_LIMIT)  # = ratio up to tenfold: the band scaled with the mean
    capped = scaled & (ratio > SPREAD_SCALE_LIMIT)
    p50 = plan["p50"].to_numpy(dtype=float).copy()
    if moved.any():
        p50[moved] = poisson_median(consensus[moved])
    plan["p50"] = p50
    poisson = from_nothing | capped
    for column, q in QUANTILES.items():
        stated = plan[column].to_numpy(dtype=float)
        band = np.where(scaled, np.maximum(consensus + (stated - statistical) * spread, 0.0), stated)
        if poisson.any():
            counts = _poisson_quantile(q, consensus[poisson])
            band[from_nothing] = counts[from_nothing[poisson]]
            widest = np.minimum if column == "p10" else np.maximum
            band[capped] = widest(band[capped], counts[capped[poisson]])
        plan[column] = np.minimum(band, p50) if column == "p10" else np.maximum(band, p50)
    return plan


def _with_effects(overrides: pd.DataFrame, effects: list[dict], known_skus: set[str],
                  known_categories: set[str] = frozenset()) -> pd.DataFrame:
    """`overrides` with what each did; one that found nothing to adjust because it names a SKU or a category nobody
    knows is called a likely typo, with the known name it most likely meant when only its letter case differs."""
    columns = ["override_id", "days_covered", "units_statistical", "units_before", "units_after"]
    done = pd.DataFrame(effects, columns=[*columns, "no_forecast"])
    out = overrides.merge(done, on="override_id", how="left")
    nothing = out["no_forecast"].eq(True)
    out.loc[nothing, "status"] = NO_FORECAST
    unknown = nothing & out["sku"].notna() & ~out["sku"].isin(known_skus)
    out.loc[unknown, "status"] = [f"invalid: SKU {sku} is in neither the forecast nor the catalogue{_meant(sku, known_skus)}"
                                  for sku in out.loc[unknown, "sku"].astype(str)]
    no_category = nothing & out["category"].notna() & ~out["category"].isin(known_categories)
    out.loc[no_category, "status"] = [
        f"invalid: category {category} is no SKU's in the catalogue{_meant(category, known_categories)}"
        for category in out.loc[no_category, "category"].astype(str)]
    out["days_covered"] = pd.to_numeric(out["days_covered"]).fillna(0).astype(int)
    return out.drop(columns="no_forecast")


def _meant(name: str, known: set[str]) -> str:
    """'; did you mean X?' when exactly one known name differs from `name` only in letter case."""
    same = [k for k in known if isinstance(k, str) and k.casefold() == name.casefold()]
    return f"; did you mean {same[0]}?" if len(same) == 1 else ""

