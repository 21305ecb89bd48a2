"""Forecast charts per market, as PNG bytes for the Dagster UI.

A planner should be able to tell at a glance whether a forecast is plausible:
does the forecast total continue the recent level and weekly pattern, how
well did the model track the last backtest window it never saw, and do the
bands of the biggest SKUs look sane. Tables of quantiles do not show that;
a picture on the materialization does.

Only matplotlib's object API with the Agg canvas is used (no pyplot, no
`matplotlib.use`, no rcParams changes): pyplot keeps global figure state that
is not thread-safe, and Dagster may run assets in threads of one process on a
machine without a display.
"""
from __future__ import annotations

import base64
import io
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

FIG_SIZE_IN = (11.25, 8.75)  # 900 x 700 px at the default 80 dpi; dpi scales pixels, not layout
TOP_SKU_WINDOW_DAYS = 28

C_ACTUAL = "#3a3a3a"
C_FORECAST = "#1f77b4"
C_BACKTEST = "#d62728"
C_ASOF = "#9a9a9a"

PALETTE_COLORS = 256
PNG_COMPRESS_LEVEL = 6

TOTAL_NOTE = (
    "Sum of SKU means. Sums of SKU p10/p50/p90 are not quantiles of the total, so no band here "
    "(and a sum of medians under-states the total)."
)


def _naive_days(values: pd.Series) -> pd.Series:
    """Day-resolution, tz-naive timestamps: the mart and the forecast may disagree on tz and time of day."""
    s = pd.to_datetime(values)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.dt.normalize()


def _as_of(forecast: pd.DataFrame) -> pd.Timestamp:
    """The origin, recovered from the frame so callers cannot pass one that disagrees with it."""
    dates = _naive_days(forecast["forecast_date"])
    if "horizon" in forecast:
        return (dates - pd.to_timedelta(forecast["horizon"].to_numpy(), unit="D")).min()
    return dates.min() - pd.Timedelta(days=1)


def _dense(s: pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """Daily values over `index`, a missing day being 0 (the mart is sparse)."""
    return s.reindex(index, fill_value=0.0).to_numpy(dtype=float)


def _style(ax, fontsize: float = 8) -> None:
    """Light axes: the data, not the frame, should carry the eye."""
    ax.grid(True, color="#e3e3e3", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=fontsize, length=3)
    ax.set_ylim(bottom=0)
    # The axes have no labels; placing them by hand stops each draw from measuring
    # every tick label only to place an empty one (~10% of a draw).
    ax.xaxis.set_label_coords(0.5, -0.1)
    ax.yaxis.set_label_coords(-0.1, 0.5)
    loc = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))


def _fmt_units(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}"


def _render(fig: Figure) -> bytes:
    """PNG bytes via an explicit Agg canvas (no pyplot), small and byte-identical for the same figure."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    # A palette PNG is a third of the size of the RGB one (118 kB -> 40 kB measured) and
    # reads the same; octree quantising is deterministic and keeps thin coloured lines
    # (median cut merged the red backtest line into brown), and PIL writes no
    # time or version chunk, so equal figures give equal bytes.
    img = rgb.quantize(colors=PALETTE_COLORS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    # zlib's default level, not optimize=True (level 9): the same pixels, 8% more bytes
    # (44 -> 48 kB a chart), 6x less time (63 -> 10 ms a chart, measured).
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def _market_figure(
    market: str,
    as_of: pd.Timestamp,
    hist_m: pd.DataFrame,
    fc_m: pd.DataFrame,
    bt_m: pd.DataFrame | None,
    history_days: int,
    top_skus: int,
    dpi: int,
) -> Figure:
    """One market's figure; inputs are already restricted to the market and cleaned."""
    hist_idx = pd.date_range(end=as_of, periods=history_days, freq="D")
    fc_idx = pd.DatetimeIndex(np.sort(fc_m["forecast_date"].unique()))
    n_series = int(fc_m[["sku"]].drop_duplicates().shape[0])
    horizon = len(fc_idx)
    has_mean = "mean" in fc_m

    # top SKUs: units in the last 28 days of history, then forecast volume (new SKUs), then code
    recent = hist_m[hist_m["demand_date"] > as_of - pd.Timedelta(days=TOP_SKU_WINDOW_DAYS)]
    sold28 = recent.groupby("sku")["units_sold"].sum()
    volume = fc_m.groupby("sku")["mean" if has_mean else "p50"].sum()
    rank = pd.DataFrame({"sold28": sold28.reindex(volume.index, fill_value=0.0), "volume": volume})
    rank = rank.rename_axis("sku").reset_index().sort_values(
        ["sold28", "volume", "sku"], ascending=[False, False, True], kind="mergesort"
    )
    chosen = rank.head(max(int(top_skus), 0))

    n_small = len(chosen)
    ncols = 2 if n_small > 1 else 1
    nrows = math.ceil(n_small / ncols) if n_small else 0
    fig = Figure(figsize=FIG_SIZE_IN, dpi=dpi, facecolor="white")
    gs = fig.add_gridspec(
        1 + nrows, ncols, height_ratios=[1.5] + [1.0] * nrows,
        left=0.07, right=0.985, top=0.895, bottom=0.05, hspace=0.42, wspace=0.14,
    )

    version = ""
    if "model_version" in fc_m and fc_m["model_version"].notna().any():
        version = f"  ·  {fc_m['model_version'].dropna().iloc[0]}"
    fig.suptitle(
        f"{market}  ·  forecast as of {as_of:%Y-%m-%d}  ·  {n_series} series  ·  {horizon} days ahead",
        fontsize=12, fontweight="bold", x=0.07, ha="left", y=0.985,
    )
    fig.text(0.07, 0.938, f"units sold per day{version}", fontsize=8, color="#666666", ha="left")

    # --- top panel: market total
    ax = fig.add_subplot(gs[0, :])
    daily = hist_m.groupby("demand_date")["units_sold"].sum()
    act = _dense(daily, hist_idx)
    ax.plot(hist_idx, act, color=C_ACTUAL, linewidth=1.0, label=f"actual (last {history_days} d)")
    total_col = "mean" if has_mean else "p50"
    fc_total = fc_m.groupby("forecast_date")[total_col].sum().reindex(fc_idx)
    ax.plot(
        fc_idx, fc_total.to_numpy(),
        color=C_FORECAST, linewidth=1.6,
        label=f"forecast {total_col} (next {horizon} d: {_fmt_units(float(fc_total.sum()))} units)",
    )
    if bt_m is not None and len(bt_m):
        bt_col = "mean" if "mean" in bt_m else "p50"
        g = bt_m.groupby("forecast_date")[[bt_col, "actual"]].sum().sort_index()
        g = g[g.index > hist_idx[0]]
        if len(g):
            pred_sum, act_sum = float(g[bt_col].sum()), float(g["actual"].sum())
            bias = f", bias {pred_sum / act_sum - 1:+.0%}" if act_sum > 0 else ""
            origin = pd.Timestamp(bt_m["origin"].iloc[0])
            ax.plot(
                g.index, g[bt_col].to_numpy(), color=C_BACKTEST, linewidth=1.3, linestyle=(0, (4, 2)),
                label=(
                    f"backtest {bt_col}, origin {origin:%Y-%m-%d} "
                    f"({_fmt_units(pred_sum)} vs {_fmt_units(act_sum)} actual{bias})"
                ),
            )
    ax.axvline(as_of, color=C_ASOF, linewidth=0.8, linestyle=":")
    _style(ax, 8)
    ax.set_xlim(hist_idx[0], fc_idx[-1] + pd.Timedelta(days=1))
    # y given: left to itself, matplotlib measures every tick label on each draw to
    # lift a title above top tick labels, and there are none (~15% of a draw)
    ax.set_title(f"{market} total", fontsize=10, loc="left", fontweight="bold", y=1.0)
    ax.annotate(  # offset in points, so it sits under the tick labels whatever the panel height
        TOTAL_NOTE, xy=(0, 0), xycoords="axes fraction", xytext=(0, -20), textcoords="offset points",
        fontsize=7.5, color="#666666", ha="left", va="top",
    )
    ax.legend(loc="upper left", fontsize=7.5, frameon=True, framealpha=0.85, edgecolor="none", ncols=1)
    top = max(np.nanmax(act) if len(act) else 0.0, float(np.nanmax(fc_total.to_numpy())), 1.0)
    ax.set_ylim(0, top * 1.45)  # head-room for the legend

    # --- small panels: top SKUs; 8 weeks of daily actuals at most, more is a blur at this width
    x_first = as_of - pd.Timedelta(days=min(history_days, 56) - 1)
    small_idx = pd.date_range(x_first, as_of, freq="D")
    for i, row in enumerate(chosen.itertuples(index=False)):
        sax = fig.add_subplot(gs[1 + i // ncols, i % ncols])
        h = hist_m[hist_m["sku"] == row.sku].groupby("demand_date")["units_sold"].sum()
        a = _dense(h, small_idx)
        f = fc_m[fc_m["sku"] == row.sku].sort_values("forecast_date")
        fd = f["forecast_date"].to_numpy()
        sax.fill_between(fd, f["p10"].to_numpy(), f["p90"].to_numpy(), color=C_FORECAST, alpha=0.22,
                         linewidth=0, label="p10–p90")
        sax.plot(small_idx, a, color=C_ACTUAL, linewidth=0.9, label="actual")
        sax.plot(fd, f["p50"].to_numpy(), color=C_FORECAST, linewidth=1.3, label="p50")
        if "mean" in f:  # shows why p50 sits below the actuals' level on skewed demand
            sax.plot(fd, f["mean"].to_numpy(), color=C_FORECAST, linewidth=0.9, linestyle=(0, (2, 1.5)),
                     label="mean")
        sax.axvline(as_of, color=C_ASOF, linewidth=0.8, linestyle=":")
        _style(sax, 7.5)
        sax.set_xlim(small_idx[0], fd[-1] + np.timedelta64(1, "D"))
        peak = max(float(a.max()) if len(a) else 0.0, float(f["p90"].max()), 1.0)
        sax.set_ylim(0, peak * 1.12)
        cat = ""
        if "category" in f and len(f):
            cat = f" ({f['category'].iloc[0]})"
        sax.set_title(
            f"{row.sku}{cat}  ·  last {TOP_SKU_WINDOW_DAYS} d: {_fmt_units(float(row.sold28))} units",
            fontsize=8.5, loc="left", y=1.0,
        )
        if i == 0:
            sax.legend(loc="upper left", fontsize=7, frameon=True, framealpha=0.85, edgecolor="none", ncols=4)
    return fig


def market_forecast_pngs(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    backtest_predictions: pd.DataFrame | None = None,
    history_days: int = 112,
    top_skus: int = 4,
    dpi: int = 80,
) -> dict[str, bytes]:
    """One PNG per market in `forecast`, keyed by market code (sorted).

    The top panel sums units over the market because a planner judges a
    forecast by its level and shape against recent actuals; it uses `mean`
    because sums of per-SKU quantiles are not quantiles of the total. The last
    backtest window (latest origin) is overlaid when given, since fit on days
    the model never saw is the honest plausibility check. Below, the biggest
    SKUs by the last 28 days show the bands a replenishment order would use.
    Bytes are deterministic for the same input.
    """
    if history_days < 1:
        raise ValueError("history_days must be >= 1")
    if forecast is None or forecast.empty:
        return {}
    fc = forecast.copy()
    fc["forecast_date"] = _naive_days(fc["forecast_date"])
    as_of = _as_of(fc)
    start = as_of - pd.Timedelta(days=max(history_days, TOP_SKU_WINDOW_DAYS) - 1)

    h = history[["sku", "market", "demand_date", "units_sold"]].copy()
    h["demand_date"] = _naive_days(h["demand_date"])
    h = h[(h["demand_date"] >= start) & (h["demand_date"] <= as_of)]
    h["units_sold"] = h["units_sold"].astype(float)

    bt = None
    if backtest_predictions is not None and len(backtest_predictions):
        bt = backtest_predictions.copy()
        bt["origin"] = _naive_days(bt["origin"])
        bt["forecast_date"] = _naive_days(bt["forecast_date"])
        bt = bt[bt["origin"] == bt["origin"].max()]

    out: dict[str, bytes] = {}
    for market in sorted(fc["market"].astype(str).unique()):
        fig = _market_figure(
            market,
            as_of,
            h[h["market"].astype(str) == market],
            fc[fc["market"].astype(str) == market],
            None if bt is None else bt[bt["market"].astype(str) == market],
            history_days,
            top_skus,
            dpi,
        )
        out[market] = _render(fig)
    return out


def _safe_name(market: str) -> str:
    """Market codes become file names; anything odd must not escape the folder."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", market).lstrip(".") or "_"


def write_pngs(pngs: dict[str, bytes], folder: Path, prefix: str = "forecast_") -> list[Path]:
    """Write `<prefix><market>.png` files, each replaced atomically.

    A reader (the UI, a file sync) may open a chart while a run rewrites it;
    writing a temp file in the same folder and `os.replace`-ing it means it
    sees the old or the new image, never half of one. Charts of markets not in
    `pngs` are left alone.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for market in sorted(pngs):
        target = folder / f"{prefix}{_safe_name(market)}.png"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pngs[market])
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a BI tool may read as another user
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        paths.append(target)
    return paths


def markdown_image(png: bytes, alt: str) -> str:
    """Markdown with the PNG inlined as a data URI.

    Dagster renders markdown metadata and accepts data-URI images, so the
    chart travels with the materialization instead of depending on a file
    the webserver may not be able to reach.
    """
    safe_alt = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace("\n", " ")
    return f"![{safe_alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
