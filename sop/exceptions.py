"""The plan's exceptions: the rows of the published plan that need a person, one rule per type.

Each rule reads frames of the plan's own tables and returns the rows it
raises in one layout (`RAISED_COLUMNS`): a stable `exception_id` (type, then
the row's key, e.g. `expedite:APP-00019:DE-FRA`), what the row is about, what
is wrong in plain words, the figures, the priced fix where the plan has one,
and the type's default owner (crossdock.yaml `exceptions:`). The same row
raised on the next day has the same id, so an owner's update (landing/
exceptions/) follows it from run to run; sop/exception_status.py folds those
updates in.

Types and what their figures mean:

- `market_held_back`: a market the training-data gate held back (its own
  history failed: a feed that stopped, a day of orders come in as returns),
  so this plan has no forecast for it, while every other market's plan went
  on and the run exited 0. Raised on every run it lasts, so it does not go
  unseen for weeks. units_affected = the units it sold in the last 364 days
  (the demand the plan leaves out), measure = their share of all markets'
  units; fix = land its missing days or take it out of the markets.
- `expedite`: inventory_plan says 'expedite or transfer' (stock runs out
  before a purchase placed today could land). units_affected = what the plan leaves
  unserved before then (scenario_impact 'as planned'), value_eur = those
  units at cost; fix = the cheapest option that covers them in time, priced.
- `below_safety_stock`: on hand below the safety stock, SKU x node. A row
  that already says 'expedite or transfer' is not raised again here: one
  SKU x node is one exception per type, and the expedite is the graver
  one. units_affected = safety stock - on hand, value_eur at cost; fix = the plan's
  order (and transfers in), priced at cost.
- `excess`: inventory_plan says 'excess'. units_affected = excess_units, value_eur =
  excess_value_eur; fix = the plan's transfers out, when it moves any.
- `forecast_bias`: SKU x market whose forecast missed what sold by more
  than a share in the backtest's latest window, when it sold enough to judge.
  units_affected = forecast - sold (signed), measure = that / sold.
- `stopped_selling`: SKU x market that stopped selling and is forecast 0
  (`publish.demand_forecast.stopped`, ml/stopped_series.py), so the plan
  orders nothing for its demand there. Someone should know whether it was
  delisted or is out of stock. units_affected = what it sold in the
  forecast's horizon of days up to its last sale: the demand left out of
  the plan if it is out of stock; measure = days since its last sale.
- `unlike_last_year`: SKU x market whose consensus plan over the horizon is
  under half, or over twice (`last_year_factor`), what the same weeks sold
  a year before, grown by its market's growth since. The backtest scores
  the weeks before the planning date, never the season ahead, so a peak
  the model met once (or never: 18 months of history hold one Christmas,
  without a year-ago feature) can be forecast from the quiet weeks before
  it; last year's shape is what a planner checks by eye. Judged when the
  series sold before last year's weeks began and in them, and its market's
  like-for-like growth is known. units_affected = plan - what last year implies (signed), measure
  = that / what last year implies; fix = an override, if last year's shape
  holds.
- `negative_fva`: an author, reason code, market or category whose consensus
  changes made the forecast worse than the statistical one in the latest
  cycle scored on enough days and units to judge (`fva_min_days`,
  `fva_min_units`). measure = the forecast value added (negative, in weekly
  WAPE).
- `landed_cost_jump`: SKU x market whose landed cost per unit on its primary
  route rose by more than a share since the previous published plan while
  its duty rate, VAT rate or de minimis regime changed. value_eur = the rise
  per unit, measure = the rise as a share. It is an event, not a state: the
  next plan compares with this one and sees no change, so it stays raised
  until its owner resolves or dismisses it (sop/exception_status.py).
- `moq_outlasts_demand`: a SKU x node the plan orders where the smallest
  order its supplier accepts (the MOQ, or one pack) covers more than
  `moq_cover_days` (365) of the node's demand: the plan buys it whole, so a
  MOQ of 5,000 on 180 a year is 27 years of stock. units_affected = the
  order's units beyond those days, value_eur = them at cost, measure = the
  days of demand the smallest order covers; fix = ask for smaller terms or
  another supplier (or send the terms, where crossdock.yaml's stood in).
- `overdue_purchase_order`: a purchase order with a line still open
  `po_overdue_days` (7) or more after its expected arrival (the supplier's
  promise plus its usual lateness): the plan counts it on order, arriving on
  its first day, so it orders up to that much less and would never reorder
  for a line the supplier will not ship (sop/purchase_order_exceptions.py).
  One per order and promised day, the delivery a buyer chases.
  units_affected = the overdue lines' units, value_eur = them at cost,
  measure = the days since the earliest was expected; fix = a new date on
  the order, or the lines cancelled.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crossdock.merchant_settings import ExceptionSettings
from crossdock.plan_labels import EXCEPTION_TYPES
from crossdock.wording import counted
from sop.exception_rows import day_text, empty_rows, finish_rows
from sop.last_year import SOLD_BEFORE_DAYS, YEAR_DAYS, no_last_year
from sop.purchase_order_exceptions import no_open_lines, overdue_purchase_order
from sop.stock_exceptions import below_safety_stock, excess, expedite, moq_outlasts_demand
from sop.stopped_figures import no_stopped

EVENT_TYPES: frozenset[str] = frozenset({"landed_cost_jump"})
"""Types raised once, by a change between two plans, and kept raised until someone closes them."""
FVA_SCOPES: tuple[str, ...] = ("author", "reason_code", "market", "category")



HELD_BACK_COLUMNS: tuple[str, ...] = (
    "market", "last_sale_date", "quiet_days", "units_year", "share_year", "is_catch_all", "catch_all_exists",
)
"""What `market_held_back` reads per held-back market: its last sale, the days from it to the planning date, the
units it sold in the last 364 days and their share of every market's, whether it is the catch-all market and
whether the merchant has one (what taking it out of the markets would do)."""


def no_held_back() -> pd.DataFrame:
    """No market held back, in `HELD_BACK_COLUMNS`."""
    return pd.DataFrame({"market": pd.Series(dtype=object), "last_sale_date": pd.Series(dtype="datetime64[ns]"),
                         "quiet_days": pd.Series(dtype=float), "units_year": pd.Series(dtype=float),
                         "share_year": pd.Series(dtype=float), "is_catch_all": pd.Series(dtype=bool),
                         "catch_all_exists": pd.Series(dtype=bool)})


def _about_series(exception_type: str, rows: pd.DataFrame) -> dict[str, pd.Series]:
    """The id, key and subject of exceptions about SKU x market series (`rows`: sku, market)."""
    return {"exception_id": f"{exception_type}:" + rows["sku"] + ":" + rows["market"], "sku": rows["sku"],
            "market": rows["market"], "subject": rows["sku"] + " in " + rows["market"]}


def forecast_bias(backtest: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """SKU x market whose expected units missed what sold by more than `forecast_bias_share` in the latest window.

    `backtest`: publish.forecast_backtest (window, sku, market, forecast_date, mean, actual_regular). The
    latest window (1) is the model nearest today's; sold is the regular demand the forecast is meant to
    forecast (a bulk day counted as the series' busy day), so one wholesale order does not raise it. A series
    that sold fewer than `forecast_bias_min_units` in the window is not judged.
    """
    if backtest.empty:
        return empty_rows()
    latest = backtest[backtest["window"] == backtest["window"].min()]
    series = latest.groupby(["sku", "market"], as_index=False).agg(
        forecast=("mean", "sum"), sold=("actual_regular", "sum"),
        first_day=("forecast_date", "min"), last_day=("forecast_date", "max"),
    )
    series = series[(series["sold"] >= settings.forecast_bias_min_units) & (series["sold"] > 0)]
    series = series.assign(share=(series["forecast"] - series["sold"]) / series["sold"])
    rows = series[series["share"].abs() > settings.forecast_bias_share]
    if rows.empty:
        return empty_rows()
    out = pd.DataFrame({
        **_about_series("forecast_bias", rows),
        "problem": [
            f"forecast {f:,.0f} units against {s:,.0f} sold from {day_text(a)} to {day_text(b)} "
            f"({'over' if x > 0 else 'under'}-forecast by {abs(x):.0%})"
            for f, s, a, b, x in zip(rows["forecast"], rows["sold"], rows["first_day"], rows["last_day"], rows["share"])
        ],
        "units_affected": rows["forecast"] - rows["sold"],
        "measure": rows["share"],
    })
    return finish_rows(out, "forecast_bias", settings)


def unlike_last_year(figures: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """SKU x market whose consensus plan for the horizon is under 1 / `last_year_factor`, or over
    `last_year_factor` times, what the same weeks sold last year grown by its market's growth.

    `figures`: `sop.last_year.LAST_YEAR_COLUMNS`. The market's like-for-like growth
    scales last year's weeks rather than the series' own: a SKU that sold 4
    units in those days of last year and 12 this year has not tripled. Not
    judged: a series first sold less than `SOLD_BEFORE_DAYS` before last
    year's weeks began; one in a market without like-for-like units in both
    growth windows; one whose same weeks last year sold nothing (no shape to
    compare, and a stock-out then looks the same); one the plan puts at 0
    (stopped_selling says why); one where the plan and last year's grown
    weeks are both under `last_year_min_units`.
    """
    if figures.empty:
        return empty_rows()
    f = figures.assign(first_day=pd.to_datetime(figures["first_day"]), last_day=pd.to_datetime(figures["last_day"]),
                       first_sale_date=pd.to_datetime(figures["first_sale_date"]))
    year = pd.Timedelta(days=YEAR_DAYS)
    growth_known = (f["market_year_before_units"] > 0) & (f["market_recent_units"] > 0)
    growth = (f["market_recent_units"] / f["market_year_before_units"].where(growth_known)).astype(float)
    implied = f["last_year_units"].astype(float) * growth
    plan = f["plan_units"].astype(float)
    judged = (growth_known & (f["last_year_units"] > 0) & (plan > 0)
              & (f["first_sale_date"] <= f["first_day"] - year - pd.Timedelta(days=SOLD_BEFORE_DAYS))
              & (np.maximum(plan, implied.fillna(0)) >= settings.last_year_min_units))
    factor = settings.last_year_factor
    rows = f.assign(implied=implied, growth=growth)[judged & ((plan * factor < implied) | (plan > implied * factor))]
    if rows.empty:
        return empty_rows()
    plan, implied = rows["plan_units"].astype(float), rows["implied"]
    out = pd.DataFrame({
        **_about_series("unlike_last_year", rows),
        "problem": [
            f"plan {p:,.0f} units from {day_text(a)} to {day_text(b)}; the same weeks last year sold {ly:,.0f}, "
            f"{i:,.0f} at {market}'s growth since ({g:.2f}x, like for like): the plan is {p / i:.0%} of that"
            for p, a, b, ly, i, market, g in zip(plan, rows["first_day"], rows["last_day"], rows["last_year_units"],
                                                 implied, rows["market"], rows["growth"])
        ],
        "units_affected": plan - implied,
        "measure": (plan - implied) / implied,
        "fix": ["check what differs from last year (a season, an event, a listing or delisting, a stock-out then); "
                f"if last year's shape holds, an override of {i:,.0f} units for these weeks ({i / p - 1:+.0%} on the "
                "plan: landing/overrides/, change_pct by week or month, reason market_intelligence) takes it into the "
                "consensus plan" for i, p in zip(implied, plan)],
    })
    return finish_rows(out, "unlike_last_year", settings)


def market_held_back(held: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """Markets the training-data gate held back (`HELD_BACK_COLUMNS`, one row per market).

    The run goes on without them and exits 0, its check failing only as a warning: an unattended schedule would
    plan without a market for weeks with no one told. Raised while it lasts, on the owner's list.
    """
    if held.empty:
        return empty_rows()
    market = held["market"].astype(str)
    units = held["units_year"].astype(float)
    out = pd.DataFrame({
        "exception_id": "market_held_back:" + market,
        "market": market,
        "subject": "market " + market,
        "problem": [f"the training-data gate held {m} back (its own order history failed the gate: the run's check "
                    f"names the days): this plan has no forecast for {m}, its {counted(u, 'unit')} of the last 364 "
                    f"days ({share:.1%} of all markets') are not planned and its stock is neither called idle nor "
                    f"moved; last sale {day_text(day) or 'never'}" + (f", {counted(q, 'day')} ago" if pd.notna(q) else "")
                    for m, u, share, day, q in zip(market, units, held["share_year"].astype(float),
                                                   held["last_sale_date"], held["quiet_days"])],
        "units_affected": units,
        "measure": held["share_year"].astype(float),
        "fix": [_held_back_fix(m, bool(catch_all), bool(exists))
                for m, catch_all, exists in zip(market, held["is_catch_all"], held["catch_all_exists"])],
    })
    return finish_rows(out, "market_held_back", settings)


def _held_back_fix(market: str, is_catch_all: bool, catch_all_exists: bool) -> str:
    """What to do about a held-back market: land what is missing, or, if it stopped selling, what taking it out does."""
    land = f"land {market}'s missing or corrected orders (landing/orders/)"
    if is_catch_all:
        return f"{land}: {market} is the catch-all market, the countries crossdock.yaml does not name"
    then = ("its countries then plan in the catch-all market" if catch_all_exists
            else "with no catch-all market its countries then go unplanned: publish.market_coverage lists them")
    return f"{land}; if {market} really stopped selling, take it out of crossdock.yaml's markets ({then})"


def stopped_selling(stopped: pd.DataFrame, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """SKU x market the forecast puts at 0 because it stopped selling.

    `stopped`: `sop.stopped_figures.stopped_series_figures`' columns, one row per series
    `publish.demand_forecast` marks stopped. The rule that zeroed it cannot
    tell a product taken off sale from one out of stock; a person can, and a
    stock-out forecast at 0 is never reordered until it sells again.
    """
    if stopped.empty:
        return empty_rows()
    units = stopped["units_before"].astype(float)
    out = pd.DataFrame({
        **_about_series("stopped_selling", stopped),
        "problem": [f"no sale since {day_text(day)} ({counted(days, 'day')}): forecast 0 in {market}, so the plan orders "
                    f"nothing for its demand there; it sold {counted(sold, 'unit')} in the {horizon:.0f} days before"
                    for day, days, market, sold, horizon in
                    zip(stopped["last_sale_date"], stopped["quiet_days"], stopped["market"], units, stopped["horizon_days"])],
        "units_affected": units,
        "measure": stopped["quiet_days"].astype(float),
        "fix": "none if it was taken off sale; if it is out of stock, restock it: its next sale brings its forecast back",
    })
    return finish_rows(out, "stopped_selling", settings)


def negative_fva(fva: pd.DataFrame | None, settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """Authors, reason codes, markets and categories whose consensus changes made the latest cycle's forecast worse.

    `fva`: (cycle, scope, scope_value, fva_vs_statistical, days_scored, horizon_days, actual_units), the forecast
    value added of the consensus over the statistical forecast per scope, in weekly WAPE; < 0 means worse. None or
    empty (no consensus yet): no exception. A scope is judged once its cycle has `fva_min_days` days of actuals
    (its widest scope's `days_scored`) and the scope sold `fva_min_units` on its days (a cycle scored on its first day raised six exceptions on one unit sold);
    of those, only the latest cycle counts: an older cycle's verdict was raised in its own time.
    """
    if fva is None or fva.empty:
        return empty_rows()
    # the cycle's days with actuals (its widest scope's): an author's own days are those their overrides moved, which
    # a week begun before the horizon keeps under seven however long the cycle has been scored
    cycle_days = fva.groupby("cycle")["days_scored"].transform("max")
    judged = fva[(cycle_days >= settings.fva_min_days) & (fva["actual_units"] >= settings.fva_min_units)]
    latest = judged[judged["cycle"] == judged["cycle"].max()]
    rows = latest[latest["scope"].isin(FVA_SCOPES) & (latest["fva_vs_statistical"] < 0)]
    if rows.empty:
        return empty_rows()
    scope_words = rows["scope"].str.replace("_", " ")
    out = pd.DataFrame({
        "exception_id": "negative_fva:" + rows["scope"] + ":" + rows["scope_value"].astype(str),
        "market": np.where(rows["scope"] == "market", rows["scope_value"], None),
        "subject": scope_words + " " + rows["scope_value"].astype(str),
        "problem": [f"in cycle {c} the consensus changes of {w} {v} made the forecast worse than the statistical one "
                    f"(value added {x:+.3f} in weekly WAPE, on {d} scored days of the horizon's {h})"
                    for c, w, v, x, d, h in zip(rows["cycle"], scope_words, rows["scope_value"], rows["fva_vs_statistical"],
                                                rows["days_scored"], rows["horizon_days"])],
        "measure": rows["fva_vs_statistical"].astype(float),
    })
    return finish_rows(out, "negative_fva", settings)


BORDER_RULES: dict[str, str] = {"duty_rate": "duty rate", "vat_rate": "VAT rate", "de_minimis_regime": "de minimis regime"}
"""The compliance_plan columns whose change is a border rule change, and their names in words."""


def _rule_text(column: str, value: object) -> str:
    if pd.isna(value):
        return "none"
    return f"{float(value):.1%}" if column.endswith("_rate") else str(value)


def landed_cost_jump(
    now: pd.DataFrame, before: pd.DataFrame | None, settings: ExceptionSettings = ExceptionSettings()
) -> pd.DataFrame:
    """SKU x market whose landed cost per unit rose more than `landed_cost_rise_share` because a border rule changed.

    `now`: this run's compliance_plan; `before`: the previously published one (None before the first publish).
    Both: sku, market, fulfilment_node, is_primary_route, landed_cost_eur_per_unit, duty_rate, vat_rate,
    de_minimis_regime. Compared on the market's primary route of `now`, the same route in `before`. A rise
    without a rule change (a price, weight or FX move) is not raised: nobody at the border can act on it.
    """
    if before is None or before.empty or now.empty:
        return empty_rows()
    key = ["sku", "market", "fulfilment_node"]
    columns = [*key, "landed_cost_eur_per_unit", *BORDER_RULES]
    pair = now.loc[now["is_primary_route"].fillna(False).astype(bool), columns].merge(
        before[columns], on=key, suffixes=("", "_before"))
    old, new = pair["landed_cost_eur_per_unit_before"].astype(float), pair["landed_cost_eur_per_unit"].astype(float)
    rise = (new - old) / old.where(old > 0)
    changed = pd.Series(False, index=pair.index)
    for column in BORDER_RULES:
        a, b = pair[f"{column}_before"], pair[column]
        changed |= ~((a == b) | (a.isna() & b.isna()))
    pair = pair.assign(rise=rise, old=old, new=new)
    rows = pair[(rise > settings.landed_cost_rise_share) & changed]
    if rows.empty:
        return empty_rows()

    def cause(r: pd.Series) -> str:
        return "; ".join(
            f"{words} {_rule_text(c, r[f'{c}_before'])} -> {_rule_text(c, r[c])}"
            for c, words in BORDER_RULES.items()
            if not ((r[f"{c}_before"] == r[c]) or (pd.isna(r[f"{c}_before"]) and pd.isna(r[c])))
        )

    out = pd.DataFrame({
        **_about_series("landed_cost_jump", rows), "node": rows["fulfilment_node"],
        "problem": [f"landed cost per unit €{o:,.2f} -> €{n:,.2f} (+{x:.0%}) since the previous plan: {cause(r)}"
                    for (_, r), o, n, x in zip(rows.iterrows(), rows["old"], rows["new"], rows["rise"])],
        "value_eur": rows["new"] - rows["old"],
        "measure": rows["rise"],
    })
    return finish_rows(out, "landed_cost_jump", settings)


def raise_exceptions(
    plan: pd.DataFrame,
    impact: pd.DataFrame,
    backtest: pd.DataFrame,
    compliance_now: pd.DataFrame,
    compliance_before: pd.DataFrame | None,
    fva: pd.DataFrame | None = None,
    settings: ExceptionSettings = ExceptionSettings(),
    stopped: pd.DataFrame | None = None,
    held_back: pd.DataFrame | None = None,
    last_year: pd.DataFrame | None = None,
    open_lines: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Every exception the plan raises today, by type in EXCEPTION_TYPES order, then id (RAISED_COLUMNS).

    `open_lines`: the purchase-order lines open on the planning date `as_of`
    (`sop.purchase_order_exceptions.OPEN_LINE_COLUMNS`); without them no order is overdue.
    """
    frames = {
        "market_held_back": market_held_back(held_back if held_back is not None else no_held_back(), settings),
        "expedite": expedite(plan, impact, settings),
        "below_safety_stock": below_safety_stock(plan, settings),
        "excess": excess(plan, settings),
        "forecast_bias": forecast_bias(backtest, settings),
        "stopped_selling": stopped_selling(stopped if stopped is not None else no_stopped(), settings),
        "unlike_last_year": unlike_last_year(last_year if last_year is not None else no_last_year(), settings),
        "negative_fva": negative_fva(fva, settings),
        "landed_cost_jump": landed_cost_jump(compliance_now, compliance_before, settings),
        "moq_outlasts_demand": moq_outlasts_demand(plan, settings),
        "overdue_purchase_order": overdue_purchase_order(open_lines if open_lines is not None else no_open_lines(),
                                                         plan, as_of, settings),
    }
    found = [frames[t] for t in EXCEPTION_TYPES if not frames[t].empty]
    return pd.concat(found, ignore_index=True) if found else empty_rows()
