"""The market-day frame the `training_data_market_days` suite validates, and each market's own history.

`fct_daily_demand` is sparse: a row exists only where a SKU had activity in a
market on a day. A market-day with no sales therefore leaves no row at all, and
a row-level check cannot see it. `market_day_frame` densifies the mart to one
row per (expected market, calendar day), from the market's first activity date
to the last demand_date of the whole frame, with missing days zero-filled.

A day without sales is not a fault in itself: a shop closed on Saturdays, a
market that buys twice a week and a long-tail catch-all all have them. So
`market_histories` learns, per market, what is usual for it, and
`judged_market_days` adds the columns the suite checks:

- Weekday pattern. The market's history is its days from its first activity
  to its last sale. For each weekday w, n_w of those days fall on w and s_w of
  them have sales; the chance it sells on its next w-day is estimated with
  Laplace's rule of succession, a_w = (s_w + 1) / (n_w + 2) (never 0 or 1, so
  one quiet day never has probability 0 however regular the market).
- Feed stop. The days after the last sale, up to the end of the data, are the
  trailing quiet run. Taking days as independent given their weekday, its
  probability is P = prod over the run's days d of (1 - a_weekday(d)).
  `quiet_run_probability` carries P on the run's days of a judged market (1
  elsewhere), and the suite fails where P < `stop_probability`. A daily market
  with a year of history fails after 3 quiet days, with 8 weeks after 4; a
  market closed on Saturdays loses nothing on a Saturday (a_Sat is near 0); a
  twice-a-week market (a_w ~ 2/7) only after about 4 weeks. Only the trailing
  run is judged: an old gap is history the merchant cannot change, a stop is
  news. Markets with fewer than `min_history_days` selling days are not judged;
  a market whose run exceeds `dormant_after_days` is dormant (the forecast
  drops it) and is noted, not failed.
- Sign-flipped day. A day of orders booked as returns shows returns of about a
  usual day's sales, over about a usual day's SKUs, on a day with almost no
  sales. So on a market-day where `returning_skus` (SKUs returning more than
  they sold) >= `flip_sku_floor` = max(2, flip_share_of_usual_sales x the
  market's median SKUs on a selling day), units_returned must stay within
  `returns_ceiling` = units_sold + max(min_flip_units,
  flip_share_of_usual_sales x its median units sold on a selling day). One
  customer sending back a bulk order (one SKU) is not a flip; a market too
  small to sell two SKUs a day cannot be told apart from its returns.
- Share of return days. Returns above sales on a quiet day are normal (late
  returns), so only selling days count. `return_days_allowed` = the smallest
  k with P(X > k) <= `return_days_probability` for X ~ Binomial(selling days,
  `max_return_share_of_days`): a market fails when more of its selling days
  have returns above sales than a healthy market would show bar a 1-in-10,000
  fluke (7 of 61 days, 19 of 365), so one bad day in a short history is not
  a failure but a sustained sign problem is.

Pure pandas (and scipy for the binomial tail); no Great Expectations import.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from expectations.thresholds import GateThresholds

MARKET_DAY_COLUMNS: tuple[str, ...] = (
    "market",
    "demand_date",
    "units_sold",  # units, summed over SKUs; 0 on a day without rows
    "units_returned",  # units, summed over SKUs; 0 on a day without rows
    "active_skus",  # number of mart rows (SKUs with activity) that market-day
    "returning_skus",  # mart rows whose units_returned > units_sold that market-day
)

# Added by `judged_market_days`.
JUDGED_COLUMNS: tuple[str, ...] = (
    "weekday",  # 0 = Monday .. 6 = Sunday
    "quiet_run_probability",  # P of the market's trailing quiet run on its days (judged markets); else 1
    "returns_ceiling",  # units_sold + the market's flip limit in units
    "flip_sku_floor",  # returning SKUs from which a day counts as broad enough to be a flip
)

# Columns of the mart the derivation reads.
SOURCE_COLUMNS: tuple[str, ...] = ("market", "demand_date", "units_sold", "units_returned")

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_FLIP_SKUS = 2  # a flipped day turns several SKUs' sales into returns; one SKU is a bulk return

# MarketHistory.status values.
JUDGED = "judged"
NO_ORDERS = "no_orders"  # declared, no row in the data: nothing to forecast
NO_SALES = "no_sales"  # rows (returns, cancellations) but never a sale
DORMANT = "dormant"  # last sale more than dormant_after_days before the end
SHORT_HISTORY = "short_history"  # fewer than min_history_days selling days


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "market": pd.Series(dtype="object"),
            "demand_date": pd.Series(dtype="datetime64[ns]"),
            "units_sold": pd.Series(dtype="int64"),
            "units_returned": pd.Series(dtype="int64"),
            "active_skus": pd.Series(dtype="int64"),
            "returning_skus": pd.Series(dtype="int64"),
        }
    )


def _units(values: pd.Series) -> pd.Series:
    # Nulls and non-numbers count as 0 here; the row-level suite reports them.
    return pd.to_numeric(values, errors="coerce").fillna(0)


def market_day_frame(df: pd.DataFrame, expected_markets: Iterable[str]) -> pd.DataFrame:
    """One row per expected market and calendar day, zero-filled.

    For each market in `expected_markets` that has at least one row in `df`, the
    days run from that market's first `demand_date` to the latest `demand_date`
    of the whole frame (all markets). A market absent from `df` gets no rows
    (`market_histories` marks it `no_orders`). Rows of other markets, and rows
    with a null or unparsable `demand_date`, are ignored (the row-level suite
    reports them), except that any valid date counts towards the end date.

    Returns columns `MARKET_DAY_COLUMNS`, sorted by the order of
    `expected_markets`, then date. `demand_date` is datetime64[ns] at midnight.

    Raises KeyError if `df` lacks one of `SOURCE_COLUMNS`.
    """
    missing = [c for c in SOURCE_COLUMNS if c not in df.columns]
    if missing:
        raise KeyError(f"market_day_frame needs columns {missing} missing from the frame")

    markets = list(dict.fromkeys(expected_markets))
    dates = pd.to_datetime(df["demand_date"], errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    dates = dates.dt.normalize().astype("datetime64[ns]")
    if dates.notna().sum() == 0 or not markets:
        return _empty()
    end = dates.max()

    keep = df["market"].isin(markets).to_numpy() & dates.notna().to_numpy()
    if not keep.any():
        return _empty()
    sold = _units(df["units_sold"]).to_numpy()[keep]
    returned = _units(df["units_returned"]).to_numpy()[keep]
    activity = pd.DataFrame(
        {
            "market": df["market"].to_numpy()[keep],
            "demand_date": dates.to_numpy()[keep],
            "units_sold": sold,
            "units_returned": returned,
            "returning": (returned > sold).astype("int64"),
        }
    )
    daily = activity.groupby(["market", "demand_date"], sort=False).agg(
        units_sold=("units_sold", "sum"),
        units_returned=("units_returned", "sum"),
        active_skus=("units_sold", "size"),
        returning_skus=("returning", "sum"),
    )
    return dense_market_days(daily.reset_index(), markets, end)


def dense_market_days(daily: pd.DataFrame, expected_markets: Iterable[str], end: pd.Timestamp) -> pd.DataFrame:
    """`daily` (`MARKET_DAY_COLUMNS`, one row per market and day with activity) zero-filled from each expected
    market's first day to `end`, other markets dropped: the second half of `market_day_frame`, for a caller
    that sums the days where the data lives (`orchestration.lib.held_back.held_back_markets_in`)."""
    markets = list(dict.fromkeys(expected_markets))
    if daily.empty or not markets:
        return _empty()
    daily = daily.assign(demand_date=pd.to_datetime(daily["demand_date"]).astype("datetime64[ns]"))
    first_day = daily.groupby("market", sort=False)["demand_date"].min()
    end = pd.Timestamp(end).normalize()
    daily = daily.set_index(["market", "demand_date"])[list(MARKET_DAY_COLUMNS[2:])]

    spans = [(m, pd.date_range(first_day[m], end, freq="D")) for m in markets if m in first_day.index]
    if not spans:
        return _empty()
    grid = pd.MultiIndex.from_arrays(
        [
            np.concatenate([np.full(len(days), m, dtype=object) for m, days in spans]),
            np.concatenate([days.to_numpy() for _, days in spans]),
        ],
        names=["market", "demand_date"],
    )
    dense = daily.reindex(grid, fill_value=0).reset_index()
    for column in ("units_sold", "units_returned", "active_skus", "returning_skus"):
        values = dense[column]
        # Whole units stay integers; fractional input (unexpected) is kept as is.
        if np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0):
            dense[column] = values.astype("int64")
    return dense.loc[:, list(MARKET_DAY_COLUMNS)]


@dataclass
class MarketHistory:
    """What is usual for one market, learned from its own market-days.

    history: its days from first activity to last sale (the trailing quiet run
    excluded, so a stop does not dilute the pattern it is judged against).
    weekday_days / weekday_selling_days: n_w and s_w per weekday (Mon..Sun) over
    the history. quiet_run_days: days after the last sale up to the end of the
    data; quiet_run_probability: prod (1 - a_w) over them, a_w = (s_w+1)/(n_w+2).
    usual_units_sold / usual_active_skus: medians over selling days.
    flip_limit_units: max(min_flip_units, flip share x usual_units_sold);
    flip_sku_floor: max(2, flip share x usual_active_skus).
    return_days: selling days with units_returned > units_sold;
    return_days_allowed: the most a healthy market shows (None when not judged).
    status: judged, no_orders, no_sales, dormant or short_history.
    """

    market: str
    status: str
    first_day: pd.Timestamp | None = None
    last_sale_day: pd.Timestamp | None = None
    end_day: pd.Timestamp | None = None
    history_days: int = 0
    selling_days: int = 0
    weekday_days: tuple[int, ...] = (0,) * 7
    weekday_selling_days: tuple[int, ...] = (0,) * 7
    quiet_run_days: int = 0
    quiet_run_probability: float = 1.0
    usual_units_sold: float = 0.0
    usual_active_skus: float = 0.0
    flip_limit_units: float = 0.0
    flip_sku_floor: float = MIN_FLIP_SKUS
    return_days: int = 0
    return_days_allowed: int | None = None
    weekday_shares: tuple[float | None, ...] = field(default=(None,) * 7)

    @property
    def judged(self) -> bool:
        return self.status == JUDGED

    @property
    def active_share(self) -> float | None:
        """Share of history days with sales."""
        return self.selling_days / self.history_days if self.history_days else None

    @property
    def quiet_run_start(self) -> pd.Timestamp | None:
        if not self.quiet_run_days or self.end_day is None:
            return None
        return self.end_day - pd.Timedelta(days=self.quiet_run_days - 1)

    def note(self, thresholds: GateThresholds) -> str | None:
        """Why the market is not judged on gaps, in words; None when it is."""
        if self.status == NO_ORDERS:
            return f"{self.market} (declared, no orders: nothing to forecast)"
        if self.status == NO_SALES:
            return f"{self.market} (returns or cancellations only, no sale)"
        if self.status == DORMANT:
            return (
                f"{self.market} (dormant: no sale since {_day(self.last_sale_day)}, {self.quiet_run_days} days, "
                f"more than {thresholds.dormant_after_days}; the forecast no longer plans it)"
            )
        if self.status == SHORT_HISTORY:
            return (
                f"{self.market} ({self.selling_days} selling {'day' if self.selling_days == 1 else 'days'}, "
                f"fewer than {thresholds.min_history_days})"
            )
        return None

    def as_dict(self) -> dict:
        """JSON-ready, for the check's metadata."""
        share = self.active_share
        return {
            "market": self.market,
            "status": self.status,
            "first_day": _day(self.first_day),
            "last_sale_day": _day(self.last_sale_day),
            "history_days": self.history_days,
            "selling_days": self.selling_days,
            "active_share": None if share is None else round(share, 4),
            "weekday_active_share": {
                WEEKDAYS[w]: (None if s is None else round(float(s), 4)) for w, s in enumerate(self.weekday_shares)
            },
            "quiet_run_days": self.quiet_run_days,
            "quiet_run_probability": float(f"{self.quiet_run_probability:.3g}"),
            "usual_units_sold": _plain(self.usual_units_sold),
            "flip_limit_units": _plain(self.flip_limit_units),
            "flip_sku_floor": _plain(self.flip_sku_floor),
            "return_days": self.return_days,
            "return_days_allowed": self.return_days_allowed,
        }


def _day(value: pd.Timestamp | None) -> str | None:
    return None if value is None else pd.Timestamp(value).strftime("%Y-%m-%d")


def _plain(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 2)


def weekday_probabilities(history: MarketHistory) -> np.ndarray:
    """a_w = (s_w + 1) / (n_w + 2): Laplace's estimate of the chance of a sale on the next w-day."""
    n = np.asarray(history.weekday_days, dtype="float64")
    s = np.asarray(history.weekday_selling_days, dtype="float64")
    return (s + 1.0) / (n + 2.0)


def allowed_return_days(selling_days: int, thresholds: GateThresholds) -> int:
    """The most selling days with returns above sales a healthy market shows, bar a 1-in-1/alpha fluke.

    The smallest k with P(X > k) <= return_days_probability for X ~
    Binomial(selling_days, max_return_share_of_days).
    """
    if selling_days <= 0:
        return 0
    share = thresholds.max_return_share_of_days
    if share <= 0:
        return 0
    from scipy.stats import binom  # only here: the rest of the module needs pandas alone

    return int(binom.isf(thresholds.return_days_probability, selling_days, share))


def market_histories(
    market_days: pd.DataFrame,
    expected_markets: Sequence[str],
    thresholds: GateThresholds | None = None,
) -> list[MarketHistory]:
    """One `MarketHistory` per expected market (in that order), from `market_day_frame`'s output."""
    thresholds = thresholds or GateThresholds()
    end = market_days["demand_date"].max() if len(market_days) else None
    by_market = {m: g for m, g in market_days.groupby("market", sort=False)}
    histories: list[MarketHistory] = []
    for market in dict.fromkeys(expected_markets):
        days = by_market.get(market)
        if days is None or days.empty:
            histories.append(MarketHistory(market=market, status=NO_ORDERS))
            continue
        dates = days["demand_date"]
        sold = days["units_sold"].to_numpy(dtype="float64")
        returned = days["units_returned"].to_numpy(dtype="float64")
        selling = sold > 0
        first = dates.min()
        if not selling.any():
            histories.append(
                MarketHistory(
                    market=market,
                    status=NO_SALES,
                    first_day=first,
                    end_day=end,
                    quiet_run_days=len(days),
                    flip_limit_units=float(thresholds.min_flip_units),
                )
            )
            continue

        last_sale = dates[selling].max()
        in_history = (dates <= last_sale).to_numpy()
        weekday = dates.dt.weekday.to_numpy()
        n_w = np.bincount(weekday[in_history], minlength=7)
        s_w = np.bincount(weekday[in_history & selling], minlength=7)
        run_weekdays = weekday[~in_history]
        history = MarketHistory(
            market=market,
            status=JUDGED,
            first_day=first,
            last_sale_day=last_sale,
            end_day=end,
            history_days=int(in_history.sum()),
            selling_days=int(selling.sum()),
            weekday_days=tuple(int(x) for x in n_w),
            weekday_selling_days=tuple(int(x) for x in s_w),
            weekday_shares=tuple((float(s) / n if n else None) for s, n in zip(s_w, n_w)),
            quiet_run_days=int(len(run_weekdays)),
        )
        a_w = weekday_probabilities(history)
        history.quiet_run_probability = float(math.exp(float(np.log1p(-a_w)[run_weekdays].sum())))

        share = thresholds.flip_share_of_usual_sales
        history.usual_units_sold = float(np.median(sold[selling]))
        history.usual_active_skus = float(np.median(days["active_skus"].to_numpy()[selling]))
        history.flip_limit_units = max(float(thresholds.min_flip_units), share * history.usual_units_sold)
        history.flip_sku_floor = max(float(MIN_FLIP_SKUS), share * history.usual_active_skus)
        history.return_days = int(((returned > sold) & selling).sum())

        if history.quiet_run_days > thresholds.dormant_after_days:
            history.status = DORMANT
        elif history.selling_days < thresholds.min_history_days:
            history.status = SHORT_HISTORY
        else:
            history.return_days_allowed = allowed_return_days(history.selling_days, thresholds)
        histories.append(history)
    return histories


def judged_market_days(market_days: pd.DataFrame, histories: Sequence[MarketHistory]) -> pd.DataFrame:
    """`market_days` with `JUDGED_COLUMNS` added from each market's history (a new frame)."""
    frame = market_days.copy()
    frame["weekday"] = frame["demand_date"].dt.weekday.astype("int64")
    by_market = {h.market: h for h in histories}
    limit = frame["market"].map({m: h.flip_limit_units for m, h in by_market.items()}).astype("float64")
    frame["returns_ceiling"] = frame["units_sold"].astype("float64") + limit.fillna(0.0)
    floor = frame["market"].map({m: h.flip_sku_floor for m, h in by_market.items()}).astype("float64")
    frame["flip_sku_floor"] = floor.fillna(float(MIN_FLIP_SKUS))
    probability = np.ones(len(frame), dtype="float64")
    for history in histories:
        if history.judged and history.quiet_run_days:
            run = (frame["market"] == history.market).to_numpy() & (
                frame["demand_date"] > history.last_sale_day
            ).to_numpy()
            probability[run] = history.quiet_run_probability
    frame["quiet_run_probability"] = probability
    return frame.loc[:, [*MARKET_DAY_COLUMNS, *JUDGED_COLUMNS]]


def failing_markets(judged: pd.DataFrame, histories: Sequence[MarketHistory], thresholds: GateThresholds) -> list[str]:
    """The markets the `training_data_market_days` suite fails, read off `judged_market_days`'s frame as its
    expectations read it (a test holds the two to the same answer), in the histories' order.

    A market fails on a trailing quiet run improbable by its own weekday pattern, on a sign-flipped day, or on
    more selling days with returns above sales than it is allowed.
    """
    stopped = judged["quiet_run_probability"] < thresholds.stop_probability
    broad_returns = judged["returning_skus"] >= judged["flip_sku_floor"]
    flipped = broad_returns & (judged["units_returned"] > judged["returns_ceiling"])
    by_frame = set(judged.loc[stopped | flipped, "market"])
    by_returns = {h.market for h in histories
                  if h.judged and h.return_days_allowed is not None and h.return_days > h.return_days_allowed}
    return [h.market for h in histories if h.market in by_frame | by_returns]


SHARE_WINDOW_DAYS = 364  # the year a market's share of units is counted over: every season once


def recent_unit_shares(market_days: pd.DataFrame) -> dict[str, float]:
    """Each market's share of the units sold in the data's last `SHARE_WINDOW_DAYS` days."""
    if market_days.empty:
        return {}
    recent = market_days[market_days["demand_date"] > market_days["demand_date"].max() - pd.Timedelta(days=SHARE_WINDOW_DAYS)]
    units = recent.groupby("market", sort=False)["units_sold"].sum().astype("float64")
    total = float(units.sum())
    return {str(m): (float(u) / total if total > 0 else 0.0) for m, u in units.items()}


def markets_still_planned(histories: Sequence[MarketHistory], held_back: Sequence[str]) -> list[str]:
    """The markets with sales to forecast (judged, or too short a history to judge) that are not `held_back`."""
    return [h.market for h in histories if h.status in (JUDGED, SHORT_HISTORY) and h.market not in held_back]


def markets_to_hold_back(
    failing: Sequence[str], histories: Sequence[MarketHistory], shares: dict[str, float], thresholds: GateThresholds,
) -> list[str]:
    """The failing markets the plan goes on without, or none (the gate then stops the forecast).

    A market's own failure (its feed stopped, a day of its orders came in as returns) says its history cannot
    be trusted today, not that the other markets' cannot: holding it back keeps their plan fresh, where
    stopping the whole forecast kept every market's last plan. But a held-back market has no forecast in the
    new plan, so this is done only while the failing markets sold at most `max_held_back_share` of the last
    year's units and another market still has sales to forecast; a feed broken in the main market, or
    everywhere, still stops the forecast and keeps the last good plan whole.
    """
    failing = list(dict.fromkeys(failing))
    return failing if failing and why_not_held_back(failing, histories, shares, thresholds) is None else []


def why_not_held_back(
    failing: Sequence[str], histories: Sequence[MarketHistory], shares: dict[str, float], thresholds: GateThresholds,
) -> str | None:
    """Why `markets_to_hold_back` keeps the failing markets in, so their failure stops the whole forecast, in the
    planner's words; None when they are held back."""
    failing = list(dict.fromkeys(failing))
    named = ", ".join(failing)
    if thresholds.max_held_back_share == 0:  # 0: never (a market with no sale, only returns, has a share of 0 too)
        return f"NOT HELD BACK {named}: gates.max_held_back_share is 0, so a market's own failure stops the whole forecast"
    if not markets_still_planned(histories, failing):
        return f"NOT HELD BACK {named}: no other market has sales to forecast"
    failing_share = sum(shares.get(m, 0.0) for m in failing)
    if failing_share > thresholds.max_held_back_share:
        return (f"NOT HELD BACK {named}: {'it' if len(failing) == 1 else 'they'} sold {failing_share:.1%} of the last "
                f"{SHARE_WINDOW_DAYS} days' units, more than gates.max_held_back_share ({thresholds.max_held_back_share:.1%}) "
                "lets the plan go on without")
    return None


def held_back_markets(df: pd.DataFrame, expected_markets: Sequence[str], thresholds: GateThresholds) -> list[str]:
    """The markets the training-data gate holds back from `df` (`marts.fct_daily_demand`): what the forecast
    leaves out, worked out from the data as the gate does, so the forecast needs no word from the check."""
    return held_back_in_market_days(market_day_frame(df, expected_markets), expected_markets, thresholds)


def held_back_in_market_days(market_days: pd.DataFrame, expected_markets: Sequence[str], thresholds: GateThresholds
                             ) -> list[str]:
    """`held_back_markets` from a market-day frame already made (`market_day_frame` or `dense_market_days`)."""
    histories = market_histories(market_days, expected_markets, thresholds)
    judged = judged_market_days(market_days, histories)
    failing = failing_markets(judged, histories, thresholds)
    return markets_to_hold_back(failing, histories, recent_unit_shares(market_days), thresholds)
