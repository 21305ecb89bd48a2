"""What every dashboard page is built of: a read-only connection to the snapshot and tables of formatted text.

Tables are rendered as HTML tables of formatted text, not Streamlit's data
grid, so a planner can copy from them and a browser test can read them; each
has a CSV download of every row.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from crossdock.spreadsheet import spreadsheet_safe
from dashboard import data


MAX_TABLE_ROWS = 200  # longer lists are cut on the page; the download button has them all


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
