"""crossdock's S&OP dashboard (Streamlit): `make dashboard`, then http://127.0.0.1:8501.

Nine pages over the BI snapshot of schema `publish`, read-only: six over the
plan (dashboard/plan_pages.py on dashboard/data.py) and three for the S&OP
cycle (dashboard/sop_pages.py on dashboard/sop_data.py), whose forms write a
planner's override or an owner's update as a file into the landing folder.
This script only lays them out; Streamlit runs it on every page view.
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="crossdock S&OP", layout="wide")  # before anything else Streamlit draws

from dashboard.plan_pages import (  # noqa: E402
    compliance_page,
    forecast_page,
    overview_page,
    reorder_page,
    sku_page,
    stockout_page,
)
from dashboard.sop_pages import exceptions_page, sop_cycle_page, sop_month_page  # noqa: E402

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
