"""The monthly S&OP view in money: per product family (category) x market x month, this cycle's plan beside the
last cycle's and beside actuals.

A finance lead reads months and money, not SKU x day units, so this folds the
cycle's daily consensus, the inventory projection and the compliance plan's
cost per unit into one row per category x market x month x version:

- `plan`: the current cycle's consensus (publish.demand_plan `mean`);
- `last plan`: the previous stored cycle's consensus, on the months the current
  plan touches (its days in them, which may differ from the plan's);
- `actual`: units sold and revenue (marts.fct_daily_demand) on the days of those
  months, and of the planning date's own, up to the planning date: planned on
  a month's last day, the month just closed is shown with its actuals and the
  last plan's days in it, not left out because the plan starts the day after.

What each figure rests on:

- **sales_units**: expected units (plan versions, the consensus mean) or units sold.
- **revenue_eur**, net of VAT/GST, before returns. fct_daily_demand's `revenue_eur` is what the
  shopper paid, in EUR at the order day's ECB rate, VAT/GST included where the
  market's prices include it (Europe, GB, AU, JP) and sales tax excluded (US,
  CA). Plan revenue is the plan's units x the pair's average selling price over
  the PRICE_DAYS days up to the planning date (revenue_eur / units_sold of those
  days, same basis as the actuals); a pair without sales in that window takes
  the compliance plan's typical_unit_price_eur (its other markets' price,
  `price_basis` says for how many SKUs). Both are then netted with the
  compliance plan's own split of that pair's price (primary route:
  basket_goods_eur / (basket_units x typical_unit_price_eur), i.e. 1 / (1 + VAT)
  where prices include VAT, 1 where they do not). A pair the compliance plan
  does not split, as every pair of the catch-all market (it has no one
  border), takes its market's split as learned from the orders
  publish.order_landed_cost priced, each under its own country's rules, over
  the same PRICE_DAYS days: their goods net of VAT over what their shoppers
  paid (`price_basis` says for how many SKUs). Without any split, or without
  any price, the pair's revenue is unknown (left out of revenue and margin,
  named in `unknowns`), never guessed.
- **refunds_eur**, net of VAT/GST like the revenue: actual, what returns
  refunded in the month (fct_daily_demand `refunds_eur`, on the return's
  day); plan versions, the revenue x the share of revenue its family
  (category x market) refunded over the REFUND_DAYS up to the planning date,
  its market's share where the family sold nothing there, unknown where the
  market sold nothing. **net_revenue_eur** = revenue - refunds. A finance
  lead signs off net revenue: the demo refunds 4-14 % of a market's revenue.
- **landed_cost_eur**: units x the pair's landed_cost_eur_per_unit on its
  primary route (compliance plan: purchase cost, inbound freight, duty; VAT
  excluded) at today's rules, for actuals too. A pair without one falls back
  to its unit cost (`cost_basis` says for how many SKUs); without either its
  cost is unknown.
- **gross_margin_eur** = revenue - landed cost over the SKU x market x days
  where both are known, before returns (whether a returned unit is resold
  is not in the data); **margin_pct** = 100 x that margin / their revenue.
- **inventory_value_eur** (plan only): projected closing stock on the month's
  last projected day, clipped at 0 (a shortfall is not stock), x the SKU's
  unit cost at the node (inventory_plan.unit_cost_eur: purchase cost, not
  landed). A node serving several markets (reference.markets) splits each
  SKU's stock between them in proportion to the consensus demand of the month
  (of the whole horizon when the month has none there; evenly among the
  node's markets when the SKU has no demand at the node at all).
- **purchases_landing_eur** (plan only): open purchase-order units the
  projection books in the month, x unit cost; split like the stock.
- **cash_tied_up_eur** (plan only): money in goods at month end, at purchase
  cost: the stock (inventory_value_eur) plus the open purchase orders not yet
  landed by then (inventory_plan.on_order less the arrivals booked up to month
  end). Recommended orders not yet placed are not in it, nor freight or duty;
  where suppliers are paid on receipt, the on-order part is committed rather
  than paid. The orders the plan recommends are the next column.
- **purchases_to_place_eur** (plan only): the purchases the plan recommends
  and nobody has placed yet (inventory_plan.purchase_after_transfers: what
  is still bought after the recommended transfers in), x unit cost, in the
  month of their order-by date; split like the stock. A purchase is
  recommended only when it is due now (its order-by date is the planning
  date), so they fall in the plan's first month; a plan made on a month's
  last day has no day of that month, and books them in the next one.
- **fill_rate** (plan only), the service level: 1 - unserved / demanded units
  in the projection. A day's unserved units at a node are the demand its stock
  could not serve that day, max(0, -closing) - max(0, -(opening + arrivals)),
  split between the node's markets in proportion to their consensus that day.
  The actuals cannot tell (lost sales are not in the orders): null.

Where a node has no inventory snapshot (stock unknown, not zero) its markets'
stock, purchases, cash and fill rate are null and `unknowns` names the node.
`days_covered` with `from_date` and `to_date` say which days of the month a row
holds: a month the horizon or the actuals only touch is partial.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crossdock.frames import require_columns
from crossdock.plan_labels import MONTHLY_VERSIONS

VERSIONS: tuple[str, ...] = MONTHLY_VERSIONS
PLAN, LAST_PLAN, ACTUAL = VERSIONS
PRICE_DAYS = 90  # the selling-price window, the compliance plan's basket window
# the refund-rate window: returns come weeks after their sales, so a quarter would set one season's returns
# against the next one's sales
REFUND_DAYS = 365
KNOWN_STOCK = "inventory snapshot"  # inventory_plan.stock_basis of a node whose stock is known

PLAN_COLUMNS: tuple[str, ...] = ("cycle", "sku", "market", "category", "demand_date", "mean")
ACTUAL_COLUMNS: tuple[str, ...] = ("sku", "market", "category", "demand_date", "units_sold", "revenue_eur",
                                   "refunds_eur")
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "sku", "market", "is_primary_route", "typical_unit_price_eur", "basket_units", "basket_goods_eur",
    "unit_cost_eur", "landed_cost_eur_per_unit",
)
ORDER_COLUMNS: tuple[str, ...] = ("order_id", "order_date", "market", "goods_value_eur")  # publish.order_landed_cost
ORDER_VALUE_COLUMNS: tuple[str, ...] = ("order_id", "sale_value_eur")  # what each order's shopper paid, EUR
LEARNED_SPLIT = "market orders"  # a pair's net_basis when its VAT split is its market's, learned from the orders
INVENTORY_COLUMNS: tuple[str, ...] = (
    "sku", "node", "category", "unit_cost_eur", "on_order", "stock_basis", "purchase_after_transfers", "order_by_date",
)
PROJECTION_COLUMNS: tuple[str, ...] = ("sku", "node", "date", "opening_on_hand", "arrivals", "demand", "closing_on_hand")
MARKET_COLUMNS: tuple[str, ...] = ("market", "node")
GROUP = ["category", "market", "month", "version"]
RESULT_COLUMNS: list[str] = [
    "as_of", "cycle", *GROUP, "from_date", "to_date", "days_covered", "days_in_month", "sales_units", "revenue_eur",
    "refunds_eur", "net_revenue_eur", "landed_cost_eur", "gross_margin_eur", "margin_pct", "inventory_value_eur",
    "purchases_landing_eur", "cash_tied_up_eur", "unserved_units", "fill_rate", "price_basis", "cost_basis", "unknowns",
    "purchases_to_place_eur",  # last: a BI query reading columns by position still finds the others
]


def previous_cycle(cycles: pd.Series, cycle: str) -> str | None:
    """The latest stored cycle before `cycle` (cycles are 'YYYY-MM', so text order is time order); None if none."""
    earlier = sorted(c for c in cycles.dropna().unique() if c < cycle)
    return earlier[-1] if earlier else None


def _month(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp()


def _in_window(dates: pd.Series, as_of: dt.date, days: int = PRICE_DAYS) -> pd.Series:
    """Whether each date is one of the `days` days up to `as_of` (PRICE_DAYS: the window prices and VAT splits are
    taken over)."""
    day = pd.to_datetime(dates)
    return (day > pd.Timestamp(as_of) - pd.Timedelta(days=days)) & (day <= pd.Timestamp(as_of))


def refund_shares(actuals: pd.DataFrame, as_of: dt.date) -> tuple[pd.Series, pd.Series]:
    """The share of revenue refunded over the REFUND_DAYS up to `as_of`: per category x market, and per market
    (for a family that sold nothing there). Only where revenue was taken: no share is guessed for the rest.

    None at all when not one day of those had a refund: an orders feed without return lines (a Shopify export
    carries refunds as order amounts, which its mapping does not read) says nothing of refunds, and a share of 0
    published plan net revenue as gross, unsaid. The plan's refunds are then unknown and `unknowns` says so."""
    recent = actuals[_in_window(actuals["demand_date"], as_of, REFUND_DAYS)]
    if not (pd.to_numeric(recent["refunds_eur"]).fillna(0) > 0).any():
        recent = recent.iloc[:0]

    def share(keys: list[str]) -> pd.Series:
        sums = recent.groupby(keys)[["revenue_eur", "refunds_eur"]].sum()
        return (sums["refunds_eur"] / sums["revenue_eur"].where(sums["revenue_eur"] > 0)).dropna()

    return share(["category", "market"]).rename("family_share"), share(["market"]).rename("market_share")


def market_net_shares(orders: pd.DataFrame, order_values: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Per market: the share of what its shoppers paid that is net of VAT, over the PRICE_DAYS days' priced orders.

    The compliance plan splits a pair's price at its market's one border; a
    catch-all market has none, so its pairs' revenue was unknown (27 % of the
    messy merchant's units). publish.order_landed_cost prices each of its
    orders under its own ship-to country's rules, so those orders say what
    share of the market's takings is VAT, country mix included. Orders whose
    VAT rate is unknown (goods_value_eur null) are left out of both sums, so
    the share is that of the countries whose VAT is known; a SKU at a reduced
    or zero rate takes the market's average.
    """
    require_columns(orders, ORDER_COLUMNS, "order_landed_cost")
    require_columns(order_values, ORDER_VALUE_COLUMNS, "int_order_lines_eur")
    recent = orders[_in_window(orders["order_date"], as_of) & orders["goods_value_eur"].notna()]
    paid = recent.merge(order_values, on="order_id", how="inner")
    paid = paid[paid["sale_value_eur"] > 0]
    sums = paid.groupby("market")[["goods_value_eur", "sale_value_eur"]].sum()
    return (sums["goods_value_eur"] / sums["sale_value_eur"]).rename("net_share")


def pair_economics(actuals: pd.DataFrame, compliance: pd.DataFrame, as_of: dt.date,
                   market_shares: pd.Series | None = None) -> pd.DataFrame:
    """Per SKU x market: gross price (EUR per unit, as charged), its basis, the net-of-VAT share of it with its
    basis, and the cost per unit with its basis (see the module's docstring). `market_shares`: market_net_shares."""
    require_columns(actuals, ACTUAL_COLUMNS, "fct_daily_demand")
    require_columns(compliance, COMPLIANCE_COLUMNS, "compliance_plan")
    recent = actuals[_in_window(actuals["demand_date"], as_of) & actuals["revenue_eur"].notna()]
    sold = recent.groupby(["sku", "market"])[["revenue_eur", "units_sold"]].sum()
    sold = sold[sold["units_sold"] > 0]
    sales_price = (sold["revenue_eur"] / sold["units_sold"]).rename("sales_price")
    route = compliance[compliance["is_primary_route"].astype(bool)].set_index(["sku", "market"])
    gross = route["basket_units"] * route["typical_unit_price_eur"]
    pairs = pd.DataFrame({
        "plan_price": route["typical_unit_price_eur"],
        "net_share": (route["basket_goods_eur"] / gross).where(gross > 0),
        "landed": route["landed_cost_eur_per_unit"],
        "unit_cost": route["unit_cost_eur"],
    }).join(sales_price, how="outer")
    pairs["price_eur"] = pairs["sales_price"].fillna(pairs["plan_price"])
    pairs["price_basis"] = np.where(pairs["sales_price"].notna(), "recent sales",
                                    np.where(pairs["plan_price"].notna(), "other markets", None))
    learned = pd.Series(pairs.index.get_level_values("market"), index=pairs.index).map(
        market_shares if market_shares is not None else {}).astype("float64")
    pairs["net_basis"] = np.where(pairs["net_share"].notna(), "route", np.where(learned.notna(), LEARNED_SPLIT, None))
    pairs["net_share"] = pairs["net_share"].fillna(learned)
    pairs["cost_eur"] = pairs["landed"].fillna(pairs["unit_cost"])
    pairs["cost_basis"] = np.where(pairs["landed"].notna(), "landed",
                                   np.where(pairs["unit_cost"].notna(), "unit cost", None))
    return pairs[["price_eur", "price_basis", "net_share", "net_basis", "cost_eur", "cost_basis"]].rename_axis(
        ["sku", "market"]).reset_index()


def _priced(days: pd.DataFrame, pairs: pd.DataFrame, version: str,
            refunds: tuple[pd.Series, pd.Series]) -> pd.DataFrame:
    """SKU x market x day rows of one version with units, net revenue, refunds and landed cost (NaN where unknown).
    `refunds`: refund_shares, for the plan versions' expected refunds."""
    out = days.merge(pairs, on=["sku", "market"], how="left")
    gross = out["revenue_eur"] if version == ACTUAL else out["units"] * out["price_eur"]
    out["revenue_eur"] = gross * out["net_share"]
    if version == ACTUAL:
        out["refunds_eur"] = out["refunds_eur"] * out["net_share"]
    else:
        family, market = refunds
        share = out.join(family, on=["category", "market"])["family_share"].fillna(out["market"].map(market))
        out["refunds_eur"] = out["revenue_eur"] * share.astype("float64")
    out["net_revenue_eur"] = out["revenue_eur"] - out["refunds_eur"]
    out["landed_cost_eur"] = out["units"] * out["cost_eur"]
    both = out["revenue_eur"].notna() & out["landed_cost_eur"].notna()
    out["margin_eur"] = (out["revenue_eur"] - out["landed_cost_eur"]).where(both)
    out["margin_revenue_eur"] = out["revenue_eur"].where(both)
    if version == ACTUAL:
        out["price_basis"] = "sold"
    out["month"] = _month(out["demand_date"])
    out["version"] = version
    return out


def _skus_with(frame: pd.DataFrame, mask: pd.Series) -> pd.Series:
    return frame[mask].groupby(GROUP)["sku"].nunique()


def _money(days: pd.DataFrame) -> pd.DataFrame:
    """Units, revenue, cost and margin per category x market x month x version, with the bases and what is unknown."""
    grouped = days.groupby(GROUP)
    out = grouped[["units"]].sum()
    for column in ("revenue_eur", "refunds_eur", "net_revenue_eur", "landed_cost_eur", "margin_eur", "margin_revenue_eur"):
        out[column] = grouped[column].sum(min_count=1)
    out["margin_pct"] = 100 * out["margin_eur"] / out["margin_revenue_eur"].where(out["margin_revenue_eur"] != 0)
    skus = grouped["sku"].nunique()
    other = _skus_with(days, days["price_basis"] == "other markets").reindex(out.index, fill_value=0)
    fallback = _skus_with(days, days["cost_basis"] == "unit cost").reindex(out.index, fill_value=0)
    no_price = _skus_with(days, days["revenue_eur"].isna()).reindex(out.index, fill_value=0)
    no_cost = _skus_with(days, days["cost_eur"].isna()).reindex(out.index, fill_value=0)
    no_refunds = _skus_with(days, days["revenue_eur"].notna() & days["refunds_eur"].isna()).reindex(
        out.index, fill_value=0)
    split = _skus_with(days, days["net_basis"] == LEARNED_SPLIT).reindex(out.index, fill_value=0)
    actual = grouped["price_basis"].agg(lambda bases: bool((bases == "sold").any()))
    out["price_basis"] = [
        ("sold" if sold else "recent sales" if n == 0 else "other markets' price" if n == m
         else f"recent sales; other markets' price for {n} of {m} SKUs")
        + ("" if k == 0 else "; VAT split of the market's priced orders" + ("" if k == m else f" for {k} of {m} SKUs"))
        for sold, n, k, m in zip(actual, other, split, skus)
    ]
    out["cost_basis"] = [
        "landed cost" if n == 0 else "unit cost" if n == m else f"landed cost; unit cost for {n} of {m} SKUs"
        for n, m in zip(fallback, skus)
    ]
    out["unknowns"] = [
        _join([f"revenue of {_skus(p)}" if p else "", f"refunds of {_skus(r)}" if r else "",
               f"cost of {_skus(c)}" if c else ""])
        for p, r, c in zip(no_price, no_refunds, no_cost)
    ]
    return out.drop(columns=["margin_eur", "margin_revenue_eur"]).assign(
        gross_margin_eur=out["margin_eur"]).reset_index()


def _skus(n: int) -> str:
    return f"{n} SKU" if n == 1 else f"{n} SKUs"


def _join(parts: list[str]) -> str | None:
    kept = [p for p in parts if p]
    return ", ".join(kept) if kept else None


def _node_shares(plan: pd.DataFrame, markets: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each market's share of its node's consensus per SKU: by day (for unserved units) and by month (for stock)."""
    demand = plan.merge(markets, on="market", how="inner").assign(month=lambda f: _month(f["demand_date"]))
    demand["date"] = pd.to_datetime(demand["demand_date"])
    daily = demand.groupby(["sku", "node", "date", "market", "category"], as_index=False)["mean"].sum()
    daily["share"] = daily["mean"] / daily.groupby(["sku", "node", "date"])["mean"].transform("sum")
    monthly = demand.groupby(["sku", "node", "month", "market"], as_index=False)["mean"].sum()
    horizon = demand.groupby(["sku", "node", "market"], as_index=False)["mean"].sum()
    monthly = monthly.merge(horizon.rename(columns={"mean": "horizon"}), on=["sku", "node", "market"])
    by_month = monthly.groupby(["sku", "node", "month"])["mean"].transform("sum")
    by_horizon = monthly.groupby(["sku", "node", "month"])["horizon"].transform("sum")
    monthly["share"] = np.where(by_month > 0, monthly["mean"] / by_month.where(by_month > 0),
                                monthly["horizon"] / by_horizon.where(by_horizon > 0))
    return daily.fillna({"share": 0.0}), monthly[["sku", "node", "month", "market", "share"]]


def _stock(plan: pd.DataFrame, inventory: pd.DataFrame, projection: pd.DataFrame, markets: pd.DataFrame) -> pd.DataFrame:
    """The plan version's stock, purchases, cash and service per category x market x month."""
    projection = projection.assign(date=pd.to_datetime(projection["date"]))
    projection["month"] = _month(projection["date"])
    daily_share, month_share = _node_shares(plan, markets)

    reach = projection["opening_on_hand"] + projection["arrivals"]
    projection["unserved"] = np.maximum(0.0, -projection["closing_on_hand"]) - np.maximum(0.0, -reach)
    served = projection.merge(daily_share, on=["sku", "node", "date"], how="inner")
    served["unserved_units"] = served["unserved"] * served["share"]
    service = served.assign(month=_month(served["date"])).groupby(["category", "market", "month"])[
        ["unserved_units", "mean"]].sum()

    projection = projection.sort_values(["sku", "node", "date"])
    projection["arrived"] = projection.groupby(["sku", "node"])["arrivals"].cumsum()
    ends = projection.groupby(["sku", "node", "month"]).agg(
        closing=("closing_on_hand", "last"), arrived=("arrived", "last"), landing=("arrivals", "sum")).reset_index()
    ends = ends.merge(inventory[["sku", "node", "category", "unit_cost_eur", "on_order"]], on=["sku", "node"], how="left")
    first_day = pd.to_datetime(plan["demand_date"]).min()
    ends = ends.merge(_to_place(inventory, first_day), on=["sku", "node", "month"], how="left").fillna({"to_place": 0.0})
    ends["purchases_to_place_eur"] = ends["to_place"] * ends["unit_cost_eur"]
    ends["inventory_value_eur"] = np.maximum(ends["closing"], 0.0) * ends["unit_cost_eur"]
    ends["purchases_landing_eur"] = ends["landing"] * ends["unit_cost_eur"]
    on_order_after = np.maximum(ends["on_order"].fillna(0.0) - ends["arrived"], 0.0)
    ends["cash_tied_up_eur"] = ends["inventory_value_eur"] + on_order_after * ends["unit_cost_eur"]

    split = ends.merge(month_share, on=["sku", "node", "month"], how="left")
    unshared = split["share"].isna()
    evenly = split[unshared].drop(columns=["market", "share"]).drop_duplicates(["sku", "node", "month"])
    evenly = evenly.merge(markets, on="node", how="inner")
    evenly["share"] = 1.0 / evenly.groupby(["sku", "node", "month"])["market"].transform("count")
    split = pd.concat([split[~unshared], evenly], ignore_index=True)
    values = ["inventory_value_eur", "purchases_landing_eur", "cash_tied_up_eur", "purchases_to_place_eur"]
    for column in values:
        split[column] = split[column] * split["share"]
    grouped = split.groupby(["category", "market", "month"])
    stock = grouped[values].sum(min_count=1)
    stock["no_unit_cost"] = split[split["unit_cost_eur"].isna()].groupby(["category", "market", "month"])["sku"].nunique()
    out = stock.join(service, how="outer")
    # to a millionth: 1 - 96.93 / 96.93 in floats is 2.5e-09, a fill rate nobody has
    out["fill_rate"] = (1 - out["unserved_units"] / out["mean"].where(out["mean"] > 0)).round(6)
    return out.drop(columns="mean").reset_index().assign(version=PLAN)


def _to_place(inventory: pd.DataFrame, first_day: pd.Timestamp) -> pd.DataFrame:
    """Units the plan recommends buying per SKU x node, in the month of their order-by date, or of the plan's
    `first_day` when that date is before it (the planning date itself: the plan starts the day after, and a
    month-end plan has no row for the planning date's month) (sku, node, month, to_place)."""
    rows = inventory[inventory["purchase_after_transfers"].fillna(0).astype(float) > 0]
    due = pd.to_datetime(rows["order_by_date"]).clip(lower=first_day)
    units = rows.assign(month=_month(due), to_place=rows["purchase_after_transfers"].astype(float))
    return units.groupby(["sku", "node", "month"], as_index=False)["to_place"].sum()


def _calendar(days: pd.DataFrame, version: str) -> pd.DataFrame:
    """Per month of a version: the first and last day it holds and how many."""
    dates = pd.Series(pd.to_datetime(days["demand_date"]).unique())
    cal = pd.DataFrame({"date": dates, "month": _month(dates)}).groupby("month")["date"].agg(["min", "max", "nunique"])
    cal.columns = ["from_date", "to_date", "days_covered"]
    return cal.reset_index().assign(version=version)


def monthly_view(
    plans: pd.DataFrame,
    cycle: str,
    actuals: pd.DataFrame,
    compliance: pd.DataFrame,
    inventory: pd.DataFrame,
    projection: pd.DataFrame,
    markets: pd.DataFrame,
    as_of: dt.date,
    orders: pd.DataFrame | None = None,
    order_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The monthly S&OP view of `cycle` (RESULT_COLUMNS), one row per category x market x month x version.

    `plans`: the stored cycles' demand plans (PLAN_COLUMNS); `actuals`: fct_daily_demand; `compliance`: the
    compliance plan; `inventory` and `projection`: the plan's inventory_plan and inventory_projection;
    `markets`: market -> serving node; `as_of`: the planning date, the last day of actuals; `orders` and
    `order_values`: the priced orders (ORDER_COLUMNS) and what their shoppers paid (ORDER_VALUE_COLUMNS), which
    split the price of the pairs the compliance plan does not (market_net_shares); without them those pairs'
    revenue is unknown.
    """
    for frame, columns, name in ((plans, PLAN_COLUMNS, "demand_plan"), (inventory, INVENTORY_COLUMNS, "inventory_plan"),
                                 (projection, PROJECTION_COLUMNS, "inventory_projection"), (markets, MARKET_COLUMNS, "markets")):
        require_columns(frame, columns, name)
    current = plans[plans["cycle"] == cycle]
    if current.empty:
        raise ValueError(f"no demand plan for cycle {cycle}")
    months = set(_month(current["demand_date"])) | {pd.Timestamp(as_of).to_period("M").to_timestamp()}
    last_cycle = previous_cycle(plans["cycle"], cycle)
    last = plans[(plans["cycle"] == last_cycle) & _month(plans["demand_date"]).isin(months)]
    day = pd.to_datetime(actuals["demand_date"])
    sold = actuals[(day <= pd.Timestamp(as_of)) & _month(actuals["demand_date"]).isin(months)]
    first_actual_day = max(min(months), pd.to_datetime(actuals["demand_date"]).min()) if len(actuals) else None
    actual_days = pd.DataFrame({"demand_date": pd.date_range(first_actual_day, pd.Timestamp(as_of))}) \
        if first_actual_day is not None else pd.DataFrame({"demand_date": pd.Series(dtype="datetime64[ns]")})

    shares = market_net_shares(orders, order_values, as_of) if orders is not None and order_values is not None else None
    pairs = pair_economics(actuals, compliance, as_of, shares)
    refunds = refund_shares(actuals, as_of)
    days = pd.concat([
        _priced(current.rename(columns={"mean": "units"}).assign(revenue_eur=np.nan), pairs, PLAN, refunds),
        _priced(last.rename(columns={"mean": "units"}).assign(revenue_eur=np.nan), pairs, LAST_PLAN, refunds),
        _priced(sold.rename(columns={"units_sold": "units"}).astype({"units": float}), pairs, ACTUAL, refunds),
    ], ignore_index=True)
    money = _money(days)

    stock = _stock(current, inventory, projection, markets)
    # every family x market the plan or the stock has gets a row per version that has days in the month
    families = pd.concat([money[["category", "market"]], stock[["category", "market"]]]).drop_duplicates()
    calendars = [_calendar(current, PLAN), _calendar(last, LAST_PLAN), _calendar(actual_days, ACTUAL)]
    calendar = pd.concat([c for c in calendars if len(c)] or calendars[:1])  # no last cycle yet: no empty frame
    rows = families.merge(calendar, how="cross")
    out = rows.merge(money, on=GROUP, how="left").merge(stock, on=GROUP, how="left")
    zero = out["units"].isna()
    out["units"] = out["units"].fillna(0.0)
    for column in ("revenue_eur", "refunds_eur", "net_revenue_eur", "landed_cost_eur", "gross_margin_eur"):
        out[column] = out[column].where(~zero, 0.0)
    out["price_basis"] = out["price_basis"].where(~zero, np.where(out["version"] == ACTUAL, "sold", None))
    out["cost_basis"] = out["cost_basis"].where(~zero, None)

    unknown_nodes = inventory.loc[inventory["stock_basis"] != KNOWN_STOCK, "node"].unique()
    blind = markets[markets["node"].isin(unknown_nodes)].set_index("market")["node"]
    is_blind = (out["version"] == PLAN) & out["market"].isin(blind.index)
    stock_columns = ["inventory_value_eur", "purchases_landing_eur", "cash_tied_up_eur", "unserved_units", "fill_rate",
                     "purchases_to_place_eur"]
    out.loc[is_blind, stock_columns] = np.nan
    no_cost = out.get("no_unit_cost", pd.Series(np.nan, index=out.index))
    out["unknowns"] = [
        _join([u if isinstance(u, str) else "",
               f"stock at {blind[m]}" if b else "",
               f"unit cost at the node of {_skus(int(n))}" if pd.notna(n) and n > 0 and not b else ""])
        for u, m, b, n in zip(out["unknowns"], out["market"], is_blind, no_cost)
    ]
    out["cycle"] = np.where(out["version"] == PLAN, cycle, np.where(out["version"] == LAST_PLAN, last_cycle, None))
    out["as_of"] = pd.Timestamp(as_of)
    out["days_in_month"] = out["month"].dt.days_in_month
    order = {v: i for i, v in enumerate(VERSIONS)}
    out = out.sort_values(["category", "market", "month", "version"], key=lambda s: s.map(order) if s.name == "version" else s)
    return out.rename(columns={"units": "sales_units"})[RESULT_COLUMNS].reset_index(drop=True)
