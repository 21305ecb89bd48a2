"""The dashboard's pages over the published plan (dashboard/data.py): the market overview, forecast vs actual,
stock-out risk with its what-if scenarios, the reorder list, landed cost with compliance flags, and one SKU x market
at a time."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, sop_data
from dashboard.widgets import connection, show_override_table, show_table


def overview_page() -> None:
    conn = connection()
    st.title("S&OP overview")
    st.caption(f"Plan as of {data.as_of(conn)}, from {data.plan_source(conn)}. "
               f"Demand is the next {data.RISK_HORIZON_DAYS} days of the published forecast.")
    overview = data.market_overview(conn)
    reorder = data.reorder_list(conn)
    risk = data.stockout_risk(conn)
    cols = st.columns(4)
    cols[0].metric("Forecast units, next 28 days", data.fmt_int(overview["forecast_units"].sum()))
    cols[1].metric("SKU × node to reorder", data.fmt_int(len(reorder)))
    cols[2].metric("At stock-out risk (28 days)", data.fmt_int(len(risk)))
    cols[3].metric("Compliance flags", data.fmt_int(overview["flags"].sum()))
    show_table(
        overview,
        {"forecast_units": data.fmt_int, "weekly_wape": data.fmt_pct, "weekly_wape_ratio_to_naive": lambda v: f"{v:.2f}",
         "landed_cost_eur_per_unit": data.fmt_eur, "orders": data.fmt_int, "flags": data.fmt_int},
        {"market": "Market", "forecast_units": "Forecast units (28 d)", "weekly_wape": "Backtest weekly WAPE",
         "weekly_wape_ratio_to_naive": "Weekly WAPE ÷ naive", "landed_cost_eur_per_unit": "Landed cost / unit",
         "orders": "Orders priced", "flags": "Compliance flags"},
        key="market_overview",
    )


def forecast_page() -> None:
    conn = connection()
    st.title("Forecast vs actual")
    if (source := data.forecast_source(conn)) is not None:
        st.warning(f"The plan's {source}. The backtest below scores the model against the baselines.")
    st.caption(
        "Backtest: the model forecast each window from its start date without seeing what followed. "
        "Weekly WAPE = Σ|actual − forecast| over each SKU's weeks ÷ Σ actual, with the expected units (a forecast of "
        "nothing scores 100 %); daily WAPE scores the p50 day by day. A ratio to naive below 1 beats repeating last week."
    )
    show_table(
        data.forecast_accuracy_by_market(conn),
        {"n_series": data.fmt_int, "actual_units": data.fmt_int, "weekly_wape": data.fmt_pct, "naive_weekly_wape": data.fmt_pct,
         "weekly_wape_ratio_to_naive": lambda v: f"{v:.2f}", "wape": data.fmt_pct, "naive_wape": data.fmt_pct,
         "wape_ratio_to_naive": lambda v: f"{v:.2f}", "bias": data.fmt_pct},
        {"market": "Market", "n_series": "Series", "actual_units": "Actual units", "weekly_wape": "Weekly WAPE (LightGBM)",
         "naive_weekly_wape": "Weekly WAPE (naive)", "weekly_wape_ratio_to_naive": "Weekly ratio to naive",
         "wape": "Daily p50 WAPE (LightGBM)", "naive_wape": "Daily WAPE (naive)", "wape_ratio_to_naive": "Daily ratio to naive",
         "bias": "Bias"},
        key="forecast_accuracy_by_market",
    )
    daily = data.forecast_vs_actual_daily(conn)
    markets = sorted(daily["market"].unique())
    if not markets:
        st.info("The backtest has no rows yet.")
        return
    market = st.selectbox("Market", markets)
    chart = daily[daily["market"] == market].set_index("day")[["actual_units", "forecast_units"]]
    # per-series p10/p90 do not add up to a band for the market total, so only the mean is drawn
    st.line_chart(chart.rename(columns={"actual_units": "actual units", "forecast_units": "forecast units (mean)"}))


def stockout_page() -> None:
    conn = connection()
    st.title("Stock-out risk")
    st.caption(
        f"SKU × node projected to run out within {data.RISK_HORIZON_DAYS} days (forecast demand against stock "
        "and open orders). 'Before lead time' means a purchase placed today arrives too late: transfer or expedite."
    )
    show_table(
        data.stockout_risk_by_node(conn),
        {"sku_nodes": data.fmt_int, "at_risk": data.fmt_int, "before_lead_time": data.fmt_int},
        {"node": "Node", "sku_nodes": "SKUs planned", "at_risk": "At risk", "before_lead_time": "Before lead time"},
        key="stockout_risk_by_node",
    )
    show_table(
        data.stockout_risk(conn),
        {"on_hand": data.fmt_int, "days_to_stockout": data.fmt_int, "lead_time_days": lambda v: f"{v:.0f}",
         "purchase_after_transfers": data.fmt_int},
        {"sku": "SKU", "node": "Node", "stockout_date": "Stock-out date", "days_to_stockout": "Days left",
         "lead_time_days": "Lead time (days)", "before_lead_time": "Before lead time", "on_hand": "On hand",
         "purchase_after_transfers": "Order now", "action": "Plan says"},
        key="stockout_risk",
    )
    st.subheader("What if")
    st.caption(
        "Each scenario the plan was stressed with (a supplier out, a node's lanes slowed, more demand in a market): the "
        "SKU × node that would stock out earlier than planned and what the cheapest fixes cost (publish.scenario_summary; "
        "the rows themselves are in publish.scenario_impact)."
    )
    outcomes = data.scenario_outcomes(conn)
    if outcomes.empty:
        st.info("No scenario summary in this snapshot: run the plan again to make one.")
        return
    counts = ("sku_nodes_earlier", "new_stockouts", "shortfall_units", "without_feasible_fix")
    show_table(
        outcomes, {**dict.fromkeys(counts, data.fmt_int), "contingency_cost_eur": data.fmt_eur},
        {"scenario": "Scenario", "outcome": "Outcome", "sku_nodes_earlier": "SKU × node earlier", "new_stockouts": "Newly",
         "shortfall_units": "Units short", "contingency_cost_eur": "Cheapest fixes", "without_feasible_fix": "No fix"},
        key="scenario_outcomes",
    )


def reorder_page() -> None:
    conn = connection()
    st.title("Reorder list")
    reorder = data.reorder_list(conn)
    cols = st.columns(3)
    cols[0].metric("Lines to order", data.fmt_int(len(reorder)))
    cols[1].metric("Units to order", data.fmt_int(reorder["purchase_after_transfers"].sum()))
    cols[2].metric("Order value", data.fmt_eur(reorder["order_value_eur"].sum()))
    st.caption("What is still to buy after the recommended transfers in (Before transfers: the plan's order "
               "without them), in whole packs of at least the MOQ, from the SKU's primary supplier. Terms assumed: "
               "no catalogue line names the MOQ or pack size, crossdock.yaml's assumptions stand in; ask the supplier.")
    show_table(
        reorder,
        {"purchase_after_transfers": data.fmt_int, "recommended_order_qty": data.fmt_int, "moq": data.fmt_int,
         "pack_size": data.fmt_int, "order_terms_assumed": lambda v: "assumed" if bool(v) else "",
         "order_value_eur": data.fmt_eur, "on_hand": data.fmt_int,
         "inventory_position": data.fmt_int, "reorder_point": data.fmt_int, "days_of_cover": lambda v: f"{v:.0f}"},
        {"sku": "SKU", "node": "Node", "action": "Plan says", "supplier_id": "Supplier", "order_by_date": "Order by",
         "purchase_after_transfers": "Quantity", "moq": "MOQ", "pack_size": "Pack", "order_terms_assumed": "Terms",
         "order_value_eur": "Value",
         "recommended_order_qty": "Before transfers", "on_hand": "On hand",
         "inventory_position": "Position", "reorder_point": "Reorder point", "days_of_cover": "Days of cover",
         "projected_stockout_date": "Stock-out date"},
        key="reorder_list",
    )


def compliance_page() -> None:
    conn = connection()
    st.title("Landed cost and compliance")
    st.caption("Per unit on each market's primary route (compliance plan); totals over every order priced. "
               "What could not be priced (an unknown rule or fact, see the plan's `unknowns`) is left out and counted.")
    show_table(
        data.landed_cost_by_market(conn),
        {c: data.fmt_eur for c in ("landed_cost_eur_per_unit", "duty_eur_per_unit", "vat_eur_per_unit",
                                    "goods_value_eur", "duty_eur", "vat_eur", "fees_eur", "landed_cost_eur")}
        | {c: data.fmt_int for c in ("orders", "skus_not_priced", "orders_not_priced")},
        {"market": "Market", "landed_cost_eur_per_unit": "Landed / unit", "duty_eur_per_unit": "Duty / unit",
         "vat_eur_per_unit": "VAT / unit", "skus_not_priced": "SKUs not priced", "orders": "Orders",
         "goods_value_eur": "Goods value", "duty_eur": "Duty", "vat_eur": "VAT", "fees_eur": "Fees",
         "landed_cost_eur": "Landed cost", "orders_not_priced": "Orders not priced"},
        key="landed_cost_by_market",
    )
    flags = data.compliance_flags_by_market(conn)
    st.subheader("Compliance flags by market")
    if flags.empty:
        st.info("No compliance flags.")
        return
    by_type = flags.pivot_table(index="market", columns="flag_type", values="flags", aggfunc="sum", fill_value=0)
    by_type["total"] = by_type.sum(axis=1)
    st.bar_chart(by_type.drop(columns="total"))
    show_table(by_type.reset_index(), {c: data.fmt_int for c in by_type.columns},
               {"market": "Market", **{c: c for c in by_type.columns}}, key="compliance_flags_by_market")


def sku_page() -> None:
    """One SKU x market: its sales and forecast band, and the stock of the node serving it, day by day.

    The pair comes from the address (`/sku?sku=...&market=...`), so a link or a
    bookmark opens it, or from the two pickers; the default is the most urgent
    pair of the plan.
    """
    conn = connection()
    st.title("SKU")
    pairs = data.sku_markets(conn)
    if pairs.empty:
        st.info("The forecast has no SKU yet.")
        return
    skus = sorted(pairs["sku"].unique())
    wanted = st.query_params.get("sku", pairs["sku"].iloc[0])
    sku = st.selectbox("SKU", skus, index=skus.index(wanted) if wanted in skus else 0)
    markets = sorted(pairs.loc[pairs["sku"] == sku, "market"])
    wanted = st.query_params.get("market", markets[0])
    market = st.selectbox("Market", markets, index=markets.index(wanted) if wanted in markets else 0)
    st.query_params.update({"sku": sku, "market": market})
    node = pairs.loc[(pairs["sku"] == sku) & (pairs["market"] == market), "node"].iloc[0]
    cycle = sop_data.current_cycle(conn) if data.has_tables(conn, "demand_plan", "forecast_overrides") else None
    st.caption(f"{sku} in {market}, served from {node if isinstance(node, str) else 'no node on record'}; "
               f"plan as of {data.as_of(conn)}"
               + (f", S&OP cycle {cycle}: the plan runs on the consensus (the forecast with the planners' overrides)."
                  if cycle else ". This snapshot has no consensus demand plan: the plan ran on the statistical forecast.")
               + (f" Note: {source}." if (source := data.forecast_source(conn)) else ""))

    demand = data.sku_demand(conn, sku, market).set_index("day")
    st.subheader("Sales and forecast")
    st.line_chart(demand.rename(columns={"actual_units": "sold", "mean": "forecast (mean)",
                                        "last_year_units": "sold 52 weeks before"})[
        ["sold", "p10", "forecast (mean)", "p90", "consensus", "sold 52 weeks before"]])
    ahead = demand.loc[demand["mean"].notna()].head(data.RISK_HORIZON_DAYS)
    cols = st.columns(4)
    cols[0].metric(f"Sold, last {data.SKU_HISTORY_DAYS} days", data.fmt_int(demand["actual_units"].sum()))
    if not ahead.empty:
        cols[1].metric(f"Forecast, next {len(ahead)} days", data.fmt_int(ahead["mean"].sum()))
        cols[2].metric("The same days last year", data.fmt_int(ahead["last_year_units"].sum()))
        cols[3].metric(f"p10 – p90 per day, next {len(ahead)} days", f"{ahead['p10'].mean():.1f} – {ahead['p90'].mean():.1f}")

    if cycle:
        overrides = sop_data.cycle_overrides(conn, cycle, sku, market)
        if overrides.empty:
            st.caption(f"No override in cycle {cycle} covers {sku} in {market}: the consensus is the forecast.")
        else:
            st.caption(f"Overrides of cycle {cycle} that cover {sku} in {market} (a market's or category's too):")
            show_override_table(overrides, key="sku_overrides")

    if not isinstance(node, str):
        return
    plan = data.sku_plan(conn, sku, node)
    st.subheader(f"Stock at {node}")
    if plan.empty:
        st.info(f"{node} has no plan row for {sku}.")
        return
    row = plan.iloc[0]
    formats = (
        {c: data.fmt_int for c in ("on_hand", "on_order", "safety_stock", "reorder_point", "purchase_after_transfers")}
        | {c: lambda v: pd.Timestamp(v).date().isoformat() for c in ("order_by_date", "projected_stockout_date")}
        | {"mean_daily_demand": lambda v: f"{v:.2f}", "lead_time_days": lambda v: f"{v:.0f}",
           "days_of_cover": lambda v: f"{v:.0f}", "contingency_cost_eur": data.fmt_eur}
    )
    labels = {"action": "Plan says", "on_hand": "On hand", "on_order": "On order", "mean_daily_demand": "Units / day",
              "lead_time_days": "Lead time (days)", "safety_stock": "Safety stock", "reorder_point": "Reorder point",
              "purchase_after_transfers": "Order now", "order_by_date": "Order by", "projected_stockout_date": "Stock-out date",
              "days_of_cover": "Days of cover", "contingency": "Cheapest fix", "contingency_detail": "Fix",
              "contingency_cost_eur": "Fix cost"}
    shown = [(label, "" if pd.isna(row[c]) else formats.get(c, str)(row[c])) for c, label in labels.items()]
    show_table(pd.DataFrame(shown, columns=["what", "value"]), {}, {"what": "Plan", "value": f"{sku} at {node}"},
               key="sku_plan")
    projection = data.sku_projection(conn, sku, node).set_index("day")
    if projection.empty:
        st.info(f"No stock projection for {sku} at {node} ({row['action']}).")
        return
    st.line_chart(projection[["closing_on_hand", "safety_stock", "reorder_point"]].rename(columns={
        "closing_on_hand": "closing stock", "safety_stock": "safety stock", "reorder_point": "reorder point"}))
    arrivals = projection.loc[projection["arrivals"] > 0, ["arrivals"]].reset_index()
    if arrivals.empty:
        st.caption("No purchase order lands within the horizon.")
    else:
        show_table(arrivals, {"arrivals": data.fmt_int}, {"day": "Arrives", "arrivals": "Units (open purchase orders)"},
                   key="sku_arrivals")
