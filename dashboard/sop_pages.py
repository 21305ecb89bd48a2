"""The dashboard's S&OP pages (dashboard/sop_data.py): the cycle (consensus, overrides, forecast value added) with
a form that writes a planner's override into landing/overrides/, the plan's exceptions with a form that writes an
owner's update into landing/exceptions/, and the monthly view in money (family x market x month, plan beside the
last plan and the actuals). The forms write files for the next run to ingest; the snapshot stays read-only."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from crossdock.plan_labels import EXCEPTION_STATUSES, EXCEPTION_TYPES, MONTHLY_VERSIONS
from crossdock.settings import load_settings
from dashboard import data, sop_data
from dashboard.exception_updates import write_update
from dashboard.override_entries import BUCKETS, REASONS, write_override
from dashboard.widgets import connection, show_override_table, show_table


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
                                  comment=comment, expires_on=expires, markets=choices["market"])
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
        f"{last} and the actuals up to the plan date. Revenue net of VAT at the recent selling price (before returns; "
        "net revenue after the refunds), gross margin after "
        "the landed cost of each market's primary route; stock and cash at purchase cost at month end, cash with the "
        "open purchase orders not yet landed; purchases to place: the plan's recommended orders not yet placed, in "
        "the month they are due; fill rate = projected units served ÷ planned (docs/sop.md).")
    partial = months[months["days_covered"] < months["days_in_month"]]
    if not partial.empty:
        st.caption("Partial months: " + "; ".join(
            f"{pd.Timestamp(r.month):%b %Y} {r.version} {_days(r.from_date, r.to_date)} "
            f"({r.days_covered} of {r.days_in_month} days)" for r in partial.itertuples()) + ".")
    plan = months[months["version"] == "plan"]
    cols = st.columns(4)
    cols[0].metric("Plan net revenue, horizon", data.fmt_eur(plan["net_revenue_eur"].sum()),
                   help="Revenue net of VAT, less the refunds expected at each family's refund share of the last year")
    cols[1].metric("Plan gross margin, horizon", data.fmt_eur(plan["gross_margin_eur"].sum()))
    cols[2].metric("Cash tied up, end of horizon", data.fmt_eur(plan["cash_tied_up_eur"].iloc[-1]))
    base = plan["fill_base_units"].sum()
    cols[3].metric("Plan fill rate, horizon", data.fmt_pct(1 - plan["unserved_units"].sum() / base) if base else "–")
    if unknown := int(plan["rows_refunds_unknown"].sum()):  # a market that sold nothing in the year: no refund share
        st.caption(f"Plan net revenue leaves out {unknown} family x market month(s) whose refunds are unknown (a "
                   "market without a sale in the last year); their revenue before returns is in the table.")
    shown = months.assign(month=months["month"].map(lambda v: f"{pd.Timestamp(v):%Y-%m}"))
    show_table(
        shown,
        {"sales_units": data.fmt_int, "days_covered": data.fmt_int, "margin_pct": lambda v: f"{v:.1f}%",
         "fill_rate": data.fmt_pct, "rows_with_unknowns": data.fmt_int}
        | {c: data.fmt_eur for c in ("revenue_eur", "refunds_eur", "net_revenue_eur", "landed_cost_eur", "gross_margin_eur",
                                      "inventory_value_eur", "cash_tied_up_eur", "purchases_to_place_eur")},
        {"month": "Month", "version": "Version", "days_covered": "Days", "sales_units": "Units",
         "revenue_eur": "Revenue before returns", "refunds_eur": "Refunds", "net_revenue_eur": "Net revenue",
         "landed_cost_eur": "Landed cost", "gross_margin_eur": "Gross margin", "margin_pct": "Margin",
         "inventory_value_eur": "Stock value", "cash_tied_up_eur": "Cash tied up",
         "purchases_to_place_eur": "Purchases to place", "fill_rate": "Fill rate",
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
