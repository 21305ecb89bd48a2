"""crossdock's S&OP dashboard (Streamlit): `make dashboard`, then http://127.0.0.1:8501.

Nine pages over the BI snapshot of schema `publish` (see dashboard/data.py and dashboard/sop_data.py):
the market overview, forecast vs actual, stock-out risk, the reorder list,
landed cost with compliance flags, one SKU x market at a time, the S&OP
cycle (consensus, overrides, forecast value added) with a form that writes a
planner's override into landing/overrides/ (dashboard/override_entries.py),
and the plan's exceptions with a form that writes an owner's update into
landing/exceptions/ (dashboard/exception_updates.py), and the monthly S&OP view in money (family x market x
month, plan beside last plan and actuals); the snapshot stays read-only. Tables are rendered as HTML tables of
formatted text so a planner can copy from them and a browser test can read them.
"""
from __future__ import annotations

from collections.abc import Callable
import pandas as pd
import streamlit as st

from crossdock.plan_labels import EXCEPTION_STATUSES, EXCEPTION_TYPES, MONTHLY_VERSIONS
from crossdock.settings import load_settings
from crossdock.spreadsheet import spreadsheet_safe
from dashboard import data, sop_data
from dashboard.exception_updates import write_update
from dashboard.override_entries import BUCKETS, REASONS, write_override

MAX_TABLE_ROWS = 200  # longer lists are cut on the page; the download button has them all

st.set_page_config(page_title="crossdock S&OP", layout="wide")


def connection():
    """A fresh read-only connection per page view: the snapshot is replaced whole after each publish."""
    try:
        return data.connect(data.snapshot_path())
    except data.SnapshotMissing as error:
        st.error(str(error))
        st.stop()


def show_table(frame: pd.DataFrame, formats: dict[str, Callable[[float], str]], labels: dict[str, str], key: str) -> None:
    """An HTML table of formatted text, cut at MAX_TABLE_ROWS, with a CSV download of every row."""
    shown = frame[list(labels)].copy()
    for column, formatter in formats.items():
        shown[column] = shown[column].map(lambda v, f=formatter: "" if pd.isna(v) else f(v))
    shown = shown.astype(str).replace({"NaT": "", "nan": "", "None": ""}).rename(columns=labels)
    if len(shown) > MAX_TABLE_ROWS:
        st.caption(f"Showing the first {MAX_TABLE_ROWS} of {len(shown):,} rows; the download has them all.")
    st.table(shown.head(MAX_TABLE_ROWS).set_index(shown.columns[0]))
    # a SKU or supplier name starting with = + - @ would run as a formula in the spreadsheet it is opened in
    csv = spreadsheet_safe(frame).to_csv(index=False)
    st.download_button("Download CSV", csv, file_name=f"{key}.csv", mime="text/csv", key=key)


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
         "recommended_order_qty": data.fmt_int},
        {"sku": "SKU", "node": "Node", "stockout_date": "Stock-out date", "days_to_stockout": "Days left",
         "lead_time_days": "Lead time (days)", "before_lead_time": "Before lead time", "on_hand": "On hand",
         "recommended_order_qty": "Order now", "action": "Plan says"},
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
    cols[1].metric("Units to order", data.fmt_int(reorder["recommended_order_qty"].sum()))
    cols[2].metric("Order value", data.fmt_eur(reorder["order_value_eur"].sum()))
    show_table(
        reorder,
        {"recommended_order_qty": data.fmt_int, "order_value_eur": data.fmt_eur, "on_hand": data.fmt_int,
         "inventory_position": data.fmt_int, "reorder_point": data.fmt_int, "days_of_cover": lambda v: f"{v:.0f}"},
        {"sku": "SKU", "node": "Node", "action": "Plan says", "order_by_date": "Order by",
         "recommended_order_qty": "Quantity", "order_value_eur": "Value", "on_hand": "On hand",
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
                  if cycle else ". This snapshot has no consensus demand plan: the plan ran on the model's forecast."))

    demand = data.sku_demand(conn, sku, market).set_index("day")
    st.subheader("Sales and forecast")
    st.line_chart(demand.rename(columns={"actual_units": "sold", "mean": "forecast (mean)"})[
        ["sold", "p10", "forecast (mean)", "p90", "consensus"]])
    ahead = demand.loc[demand["mean"].notna()].head(data.RISK_HORIZON_DAYS)
    cols = st.columns(3)
    cols[0].metric(f"Sold, last {data.SKU_HISTORY_DAYS} days", data.fmt_int(demand["actual_units"].sum()))
    if not ahead.empty:
        cols[1].metric(f"Forecast, next {len(ahead)} days", data.fmt_int(ahead["mean"].sum()))
        cols[2].metric(f"p10 – p90 per day, next {len(ahead)} days", f"{ahead['p10'].mean():.1f} – {ahead['p90'].mean():.1f}")

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
        {c: data.fmt_int for c in ("on_hand", "on_order", "safety_stock", "reorder_point", "recommended_order_qty")}
        | {c: lambda v: pd.Timestamp(v).date().isoformat() for c in ("order_by_date", "projected_stockout_date")}
        | {"mean_daily_demand": lambda v: f"{v:.2f}", "lead_time_days": lambda v: f"{v:.0f}",
           "days_of_cover": lambda v: f"{v:.0f}", "contingency_cost_eur": data.fmt_eur}
    )
    labels = {"action": "Plan says", "on_hand": "On hand", "on_order": "On order", "mean_daily_demand": "Units / day",
              "lead_time_days": "Lead time (days)", "safety_stock": "Safety stock", "reorder_point": "Reorder point",
              "recommended_order_qty": "Order now", "order_by_date": "Order by", "projected_stockout_date": "Stock-out date",
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


def show_override_table(overrides: pd.DataFrame, key: str) -> None:
    show_table(
        overrides,
        {"units_asked": data.fmt_int, "change_pct": lambda v: f"{v:+.0f}%", "units_statistical": data.fmt_int,
         "units_after": data.fmt_int, "period_start": lambda v: pd.Timestamp(v).date().isoformat()},
        {"override_id": "Override", "author": "Planner", "level": "Level", "market": "Market", "applies_to": "SKU / category",
         "bucket": "Bucket", "period_start": "From", "units_asked": "Units asked", "change_pct": "Change",
         "reason_code": "Reason", "status": "Status", "units_statistical": "Forecast units", "units_after": "Consensus units",
         "comment": "Comment"},
        key=key,
    )


def sop_cycle_page() -> None:
    """The S&OP cycle: the consensus against the statistical forecast, the overrides, forecast value added, and a
    form that enters an override as a file in the landing folder (never into the warehouse)."""
    conn = connection()
    st.title("S&OP cycle")
    if not data.has_tables(conn, "demand_plan", "forecast_overrides", "forecast_value_added"):
        st.info("This snapshot has no demand plan yet: the next run publishes one.")
        return
    cycle = sop_data.current_cycle(conn)
    st.caption(f"Cycle {cycle}, plan as of {data.as_of(conn)}, from {data.plan_source(conn)}. The inventory plan runs "
               "on the consensus: the statistical forecast with the planners' overrides (docs/sop.md).")
    markets = sop_data.cycle_by_market(conn, cycle)
    cols = st.columns(3)
    cols[0].metric("Statistical forecast, horizon", data.fmt_int(markets["statistical_units"].sum()))
    cols[1].metric("Consensus, horizon", data.fmt_int(markets["consensus_units"].sum()),
                   data.fmt_int(markets["change_units"].sum()))
    overrides = sop_data.cycle_overrides(conn, cycle)
    cols[2].metric("Overrides applied", f"{int((overrides['status'] == 'applied').sum())} of {len(overrides)}")
    st.line_chart(sop_data.cycle_by_day(conn, cycle).set_index("day"))
    show_table(markets, {"statistical_units": data.fmt_int, "consensus_units": data.fmt_int, "change_units": data.fmt_int,
                         "change_share": data.fmt_pct},
               {"market": "Market", "statistical_units": "Statistical", "consensus_units": "Consensus",
                "change_units": "Change (units)", "change_share": "Change"}, key="cycle_markets")
    st.subheader("Overrides")
    if overrides.empty:
        st.info("No override in this cycle: the consensus is the statistical forecast.")
    else:
        show_override_table(overrides, key="cycle_overrides")

    scored, scores = sop_data.value_added(conn)
    st.subheader("Forecast value added" + (f", cycle {scored}" if scored else ""))
    if scores.empty:
        st.info("No earlier cycle has actuals yet: value added shows once a stored cycle's horizon has sales.")
    else:
        first = scores.iloc[0]
        st.caption(f"Each stage scored on the same SKU x market x weeks: {first['days_scored']} of {first['horizon_days']} "
                   "days of the cycle's horizon have actuals. Value added = the previous stage's weekly WAPE minus this "
                   "one's: positive helped. Planner and reason: over the days their overrides moved.")
        show_table(scores, {"wape": lambda v: f"{v:.3f}", "bias": lambda v: f"{v:+.3f}", "value_added": lambda v: f"{v:+.3f}",
                            "actual_units": data.fmt_int, "forecast_units": data.fmt_int},
                   {"scope": "Scope", "scope_value": "Of", "stage": "Stage", "actual_units": "Sold",
                    "forecast_units": "Forecast", "wape": "Weekly WAPE", "bias": "Bias", "value_added": "Value added"},
                   key="value_added")

    st.subheader("Enter an override")
    st.caption("Saving writes a file into the landing folder's overrides/ (the overrides feed); the next run applies it "
               "to the consensus and lists it above with its status.")
    choices = sop_data.cycle_choices(conn)
    with st.form("override_entry", clear_on_submit=False):
        cols = st.columns(3)
        market = cols[0].selectbox("Market", choices["market"])
        category = cols[1].selectbox("Category (empty: the whole market)", ["", *choices["category"]])
        sku = cols[2].selectbox("SKU (empty: the category or market)", ["", *choices["sku"]])
        cols = st.columns(3)
        bucket = cols[0].selectbox("Bucket", BUCKETS)
        start = cols[1].date_input("Period start (a Monday, or the 1st)", value=None)
        kind = cols[2].radio("Amount", ["units", "change in percent"], horizontal=True)
        amount = st.number_input("Units for the period, or the change in percent", value=0.0, step=1.0)
        cols = st.columns(2)
        reason = cols[0].selectbox("Reason", REASONS)
        expires = cols[1].date_input("Expires on (optional)", value=None)
        comment = st.text_area("What do you know that the forecast does not?")
        author = st.text_input("Your name")
        saved = st.form_submit_button("Save override")
    if saved:
        try:
            if start is None:
                raise ValueError("give the period's first day")
            path = write_override(load_settings().landing, author, market, bucket, start, reason,
                                  units=amount if kind == "units" else None,
                                  change_pct=amount if kind != "units" else None, sku=sku, category=category,
                                  comment=comment, expires_on=expires)
        except ValueError as error:
            st.error(str(error))
        else:
            st.success(f"Saved {path.name} in {path.parent}. The next run applies it.")


def exceptions_page() -> None:
    """The plan's exceptions: counts per type, the list with owner and status, and a form to update one.

    The form writes a file into the landing folder (CROSSDOCK_LANDING/exceptions/), the road every feed
    takes; the page reads the snapshot, so the update shows after the next run has ingested it and published.
    """
    conn = connection()
    st.title("Exceptions")
    if not data.has_tables(conn, "exceptions"):
        st.info("This snapshot has no exceptions table yet: the next run publishes one.")
        return
    st.caption(f"Plan as of {data.as_of(conn)}, from {data.plan_source(conn)}. An exception is open while the plan "
               "raises it and its owner has not resolved or dismissed it.")
    counts = sop_data.exception_counts(conn)
    st.metric("Open exceptions", data.fmt_int(counts["open"].sum()))
    show_table(counts, {c: data.fmt_int for c in ("open", "raised", "closed", "ever_raised")},
               {"type": "Type", "open": "Open", "raised": "Raised by the plan", "closed": "Resolved or dismissed",
                "ever_raised": "Ever raised"}, key="exception_counts")
    cols = st.columns(3)
    kind = cols[0].selectbox("Type", ["all", *EXCEPTION_TYPES])
    owners = sorted(sop_data.exception_list(conn, everything=True)["owner"].dropna().unique())
    owner = cols[1].selectbox("Owner", ["all", *owners])
    everything = cols[2].checkbox("Include resolved, dismissed and no longer raised")
    rows = sop_data.exception_list(conn, None if kind == "all" else kind, None if owner == "all" else owner,
                               everything=everything)
    if rows.empty:
        st.info("No exception matches.")
    else:
        show_table(
            rows,
            {"value_eur": data.fmt_eur, "fix_cost_eur": data.fmt_eur, "units_affected": data.fmt_int,
             "first_raised_date": lambda v: pd.Timestamp(v).date().isoformat()},
            {"exception_id": "Exception", "owner": "Owner", "status": "Status", "problem": "What is wrong",
             "units_affected": "Units", "value_eur": "Value", "fix": "Fix", "fix_cost_eur": "Fix cost",
             "first_raised_date": "Raised since", "last_note": "Last note"},
            key="exceptions",
        )
        with_history = rows[rows["updates"] > 0]
        if not with_history.empty:
            with st.expander(f"History of the {len(with_history)} exceptions with updates"):
                show_table(with_history, {}, {"exception_id": "Exception", "history": "Updates, oldest first"},
                           key="exception_history")

    st.subheader("Update an exception")
    st.caption("Saving writes a file into the landing folder's exceptions/ (the exceptions feed); the update shows "
               "here after the next run ingests it.")
    ids = rows["exception_id"].tolist()
    with st.form("exception_update", clear_on_submit=False):
        chosen = st.selectbox("Exception", ids, index=None, placeholder="Pick one of the list above")
        status = st.selectbox("New status", EXCEPTION_STATUSES)
        new_owner = st.text_input("Owner (empty: unchanged)")
        note = st.text_area("Note")
        author = st.text_input("Your name")
        saved = st.form_submit_button("Save update")
    if saved:
        try:
            path = write_update(load_settings().landing, chosen or "", status, author, new_owner, note)
        except ValueError as error:
            st.error(str(error))
        else:
            st.success(f"Saved {path.name} in {path.parent}. It shows here after the next run ingests it.")


def _days(first: object, last: object) -> str:
    """'1-30', or '31' for one day: the days of a month a row holds."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    return f"{first.day}" if first == last else f"{first.day}–{last.day}"


def sop_month_page() -> None:
    """The monthly S&OP view a finance lead reads: per month, this cycle's plan beside the last cycle's and the
    actuals, in units and money, with the plan's stock, cash and fill rate; filtered to a family and a market."""
    conn = connection()
    st.title("S&OP month")
    if not data.has_tables(conn, "sop_monthly"):
        st.info("This snapshot has no monthly S&OP view yet: the next run publishes one.")
        return
    choices = sop_data.sop_monthly_choices(conn)
    cols = st.columns(2)
    family = cols[0].selectbox("Product family", ["all", *choices["category"]])
    market = cols[1].selectbox("Market", ["all", *choices["market"]])
    category, market = (None if family == "all" else family), (None if market == "all" else market)
    months = sop_data.sop_monthly(conn, category, market)
    if months.empty:
        st.info("No row for this family and market.")
        return
    cycles = months.dropna(subset=["cycle"]).drop_duplicates("version").set_index("version")["cycle"]
    last = f"the last cycle's ({cycles['last plan']})" if "last plan" in cycles else "no earlier cycle stored"
    st.caption(
        f"Cycle {cycles.get('plan', '?')}, plan as of {data.as_of(conn)}, from {data.plan_source(conn)}; beside it "
        f"{last} and the actuals up to the plan date. Revenue net of VAT at the recent selling price, gross margin after "
        "the landed cost of each market's primary route; stock and cash at purchase cost at month end, cash with the "
        "open purchase orders not yet landed; fill rate = projected units served ÷ planned (docs/sop.md).")
    partial = months[months["days_covered"] < months["days_in_month"]]
    if not partial.empty:
        st.caption("Partial months: " + "; ".join(
            f"{pd.Timestamp(r.month):%b %Y} {r.version} {_days(r.from_date, r.to_date)} "
            f"({r.days_covered} of {r.days_in_month} days)" for r in partial.itertuples()) + ".")
    plan = months[months["version"] == "plan"]
    cols = st.columns(4)
    cols[0].metric("Plan revenue, horizon", data.fmt_eur(plan["revenue_eur"].sum()))
    cols[1].metric("Plan gross margin, horizon", data.fmt_eur(plan["gross_margin_eur"].sum()))
    cols[2].metric("Cash tied up, end of horizon", data.fmt_eur(plan["cash_tied_up_eur"].iloc[-1]))
    base = plan["fill_base_units"].sum()
    cols[3].metric("Plan fill rate, horizon", data.fmt_pct(1 - plan["unserved_units"].sum() / base) if base else "–")
    shown = months.assign(month=months["month"].map(lambda v: f"{pd.Timestamp(v):%Y-%m}"))
    show_table(
        shown,
        {"sales_units": data.fmt_int, "days_covered": data.fmt_int, "margin_pct": lambda v: f"{v:.1f}%",
         "fill_rate": data.fmt_pct, "rows_with_unknowns": data.fmt_int}
        | {c: data.fmt_eur for c in ("revenue_eur", "landed_cost_eur", "gross_margin_eur", "inventory_value_eur",
                                      "cash_tied_up_eur")},
        {"month": "Month", "version": "Version", "days_covered": "Days", "sales_units": "Units", "revenue_eur": "Revenue",
         "landed_cost_eur": "Landed cost", "gross_margin_eur": "Gross margin", "margin_pct": "Margin",
         "inventory_value_eur": "Stock value", "cash_tied_up_eur": "Cash tied up", "fill_rate": "Fill rate",
         "rows_with_unknowns": "Rows with unknowns"},
        key="sop_month",
    )
    for measure, title in (("sales_units", "Units by month"), ("gross_margin_eur", "Gross margin by month, EUR")):
        st.subheader(title)
        chart = shown.pivot(index="month", columns="version", values=measure)
        st.bar_chart(chart[[v for v in MONTHLY_VERSIONS if v in chart.columns]], stack=False)
    unknowns = sop_data.sop_monthly_unknowns(conn, category, market)
    if not unknowns.empty:
        with st.expander(f"{len(unknowns)} rows leave something out"):
            show_table(unknowns.assign(month=unknowns["month"].map(lambda v: f"{pd.Timestamp(v):%Y-%m}")), {},
                       {"category": "Family", "market": "Market", "month": "Month", "version": "Version",
                        "unknowns": "Left out", "cost_basis": "Cost basis", "price_basis": "Price basis"},
                       key="sop_month_unknowns")


PAGES = [
    st.Page(overview_page, title="Overview", url_path="overview", default=True),
    st.Page(forecast_page, title="Forecast vs actual", url_path="forecast"),
    st.Page(stockout_page, title="Stock-out risk", url_path="stockout-risk"),
    st.Page(reorder_page, title="Reorder list", url_path="reorder"),
    st.Page(compliance_page, title="Landed cost & compliance", url_path="compliance"),
    st.Page(sku_page, title="SKU", url_path="sku"),
    st.Page(sop_cycle_page, title="S&OP cycle", url_path="sop-cycle"),
    st.Page(exceptions_page, title="Exceptions", url_path="exceptions"),
    st.Page(sop_month_page, title="S&OP month", url_path="sop-month"),
]

st.navigation(PAGES).run()
