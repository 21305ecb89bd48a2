"""Forecast charts per market, as PNG bytes for the Dagster UI.

A planner should be able to tell at a glance whether a forecast is plausible:
does the forecast total continue the recent level and weekly pattern, how
well did the model track the last backtest window it never saw, and do the
bands of the biggest SKUs look sane. Tables of quantiles do not show that;
a picture on the materialization does.

Only matplotlib's object API with the Agg canvas is used (no pyplot, no
`matplotlib.use`, no rcParams changes): pyplot keeps global figure state that
is not thread-safe, and Dagster may run assets in threads of one process on a
machine without a display. Each call draws on figures of its own (one per
layout, refilled for each of its markets: `_Chart`), so concurrent calls
share none.
"""
from __future__ import annotations

import base64
import io
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator
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
    # The axes have no labels; placing them by hand stops each draw from measuring
    # every tick label only to place an empty one (~10% of a draw).
    ax.xaxis.set_label_coords(0.5, -0.1)
    ax.yaxis.set_label_coords(-0.1, 0.5)


def _date_ticks(ax) -> tuple[float, float]:
    """Fix the x ticks and labels that AutoDateLocator and ConciseDateFormatter pick for the axes' range.

    Left in place, the two work the same ticks out again on every draw, and
    the range is the same for every market of a chart (~5% of a chart).
    Returns the range they were worked out for.
    """
    loc = mdates.AutoDateLocator(minticks=4, maxticks=8)
    loc.set_axis(ax.xaxis)
    ticks = loc()
    labels = mdates.ConciseDateFormatter(loc, show_offset=False).format_ticks(ticks)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter(labels))
    return ax.get_xlim()


def _by_market(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frame's rows per market code (as text, as the charts are keyed)."""
    return {str(k): g for k, g in frame.groupby(frame["market"].astype(str), sort=False)}


def _fmt_units(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}"


def _png(canvas: FigureCanvasAgg) -> bytes:
    """PNG bytes of a drawn Agg canvas, small and byte-identical for the same picture."""
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


@dataclass(frozen=True)
class _SkuPanel:
    """What one top SKU's small panel shows."""

    title: str
    actual: np.ndarray  # units per day over the view's small_idx
    days: np.ndarray  # forecast dates
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    mean: np.ndarray | None
    top: float  # y limit


@dataclass(frozen=True)
class _MarketView:
    """What one market's chart shows, as numbers and text, worked out before anything is drawn.

    Keeping it apart from the figure lets one figure show market after
    market (see `_Chart`): every value a chart depends on is here.
    """

    suptitle: str
    subtitle: str
    title: str
    hist_idx: pd.DatetimeIndex
    actual: np.ndarray
    fc_idx: pd.DatetimeIndex
    fc_total: np.ndarray
    fc_label: str
    backtest: tuple[pd.DatetimeIndex, np.ndarray, str] | None  # dates, values, legend label
    top: float  # y limit of the total panel
    as_of: pd.Timestamp
    small_idx: pd.DatetimeIndex
    panels: tuple[_SkuPanel, ...]

    @property
    def layout(self) -> tuple[int, bool, bool]:
        """What decides the figure's artists: SKU panels, a backtest line, a mean line."""
        return len(self.panels), self.backtest is not None, bool(self.panels) and self.panels[0].mean is not None


def _market_view(
    market: str,
    as_of: pd.Timestamp,
    hist_m: pd.DataFrame,
    fc_m: pd.DataFrame,
    bt_m: pd.DataFrame | None,
    history_days: int,
    top_skus: int,
) -> _MarketView:
    """One market's view; inputs are already restricted to the market and cleaned."""
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

    version = ""
    if "model_version" in fc_m and fc_m["model_version"].notna().any():
        version = f"  ·  {fc_m['model_version'].dropna().iloc[0]}"

    daily = hist_m.groupby("demand_date")["units_sold"].sum()
    act = _dense(daily, hist_idx)
    total_col = "mean" if has_mean else "p50"
    fc_total = fc_m.groupby("forecast_date")[total_col].sum().reindex(fc_idx).to_numpy()
    backtest = None
    if bt_m is not None and len(bt_m):
        bt_col = "mean" if "mean" in bt_m else "p50"
        g = bt_m.groupby("forecast_date")[[bt_col, "actual"]].sum().sort_index()
        g = g[g.index > hist_idx[0]]
        if len(g):
            pred_sum, act_sum = float(g[bt_col].sum()), float(g["actual"].sum())
            bias = f", bias {pred_sum / act_sum - 1:+.0%}" if act_sum > 0 else ""
            origin = pd.Timestamp(bt_m["origin"].iloc[0])
            backtest = (
                pd.DatetimeIndex(g.index),
                g[bt_col].to_numpy(),
                f"backtest {bt_col}, origin {origin:%Y-%m-%d} ({_fmt_units(pred_sum)} vs {_fmt_units(act_sum)} actual{bias})",
            )
    top = max(np.nanmax(act) if len(act) else 0.0, float(np.nanmax(fc_total)), 1.0)

    # small panels: top SKUs; 8 weeks of daily actuals at most, more is a blur at this width
    x_first = as_of - pd.Timedelta(days=min(history_days, 56) - 1)
    small_idx = pd.date_range(x_first, as_of, freq="D")
    panels = []
    for row in chosen.itertuples(index=False):
        h = hist_m[hist_m["sku"] == row.sku].groupby("demand_date")["units_sold"].sum()
        a = _dense(h, small_idx)
        f = fc_m[fc_m["sku"] == row.sku].sort_values("forecast_date")
        cat = f" ({f['category'].iloc[0]})" if "category" in f and len(f) else ""
        panels.append(
            _SkuPanel(
                title=f"{row.sku}{cat}  ·  last {TOP_SKU_WINDOW_DAYS} d: {_fmt_units(float(row.sold28))} units",
                actual=a,
                days=f["forecast_date"].to_numpy(),
                p10=f["p10"].to_numpy(),
                p50=f["p50"].to_numpy(),
                p90=f["p90"].to_numpy(),
                # shows why p50 sits below the actuals' level on skewed demand
                mean=f["mean"].to_numpy() if "mean" in f else None,
                top=max(float(a.max()) if len(a) else 0.0, float(f["p90"].max()), 1.0),
            )
        )
    return _MarketView(
        suptitle=f"{market}  ·  forecast as of {as_of:%Y-%m-%d}  ·  {n_series} series  ·  {horizon} days ahead",
        subtitle=f"units sold per day{version}",
        title=f"{market} total",
        hist_idx=hist_idx,
        actual=act,
        fc_idx=fc_idx,
        fc_total=fc_total,
        fc_label=f"forecast {total_col} (next {horizon} d: {_fmt_units(float(np.nansum(fc_total)))} units)",
        backtest=backtest,
        top=top,
        as_of=as_of,
        small_idx=small_idx,
        panels=tuple(panels),
    )


class _Chart:
    """A market figure built once per layout and refilled for each market that has it.

    Building the axes, ticks and legends was a quarter of a chart's time and
    is the same for every market of one layout (SKU panels, backtest line,
    mean line); one canvas also lets matplotlib reuse its text metrics, which
    it caches per renderer. `show` sets everything that depends on the
    market (data, limits, texts), so a chart's bytes do not depend on which
    market the figure showed before (tests/test_ml_plots.py checks it).
    """

    def __init__(self, view: _MarketView, history_days: int, dpi: int):
        n_small, has_backtest, has_mean = view.layout
        ncols = 2 if n_small > 1 else 1
        nrows = math.ceil(n_small / ncols) if n_small else 0
        self.date_ticks_for: dict[object, tuple[float, float]] = {}  # axes -> x range its ticks are fixed for
        self.fig = fig = Figure(figsize=FIG_SIZE_IN, dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        gs = fig.add_gridspec(
            1 + nrows, ncols, height_ratios=[1.5] + [1.0] * nrows,
            left=0.07, right=0.985, top=0.895, bottom=0.05, hspace=0.42, wspace=0.14,
        )
        self.suptitle = fig.suptitle(view.suptitle, fontsize=12, fontweight="bold", x=0.07, ha="left", y=0.985)
        self.subtitle = fig.text(0.07, 0.938, view.subtitle, fontsize=8, color="#666666", ha="left")

        # --- top panel: market total
        self.ax = ax = fig.add_subplot(gs[0, :])
        (self.actual,) = ax.plot(view.hist_idx, view.actual, color=C_ACTUAL, linewidth=1.0,
                                 label=f"actual (last {history_days} d)")
        (self.forecast,) = ax.plot(view.fc_idx, view.fc_total, color=C_FORECAST, linewidth=1.6, label=view.fc_label)
        self.backtest = None
        if has_backtest:
            dates, values, label = view.backtest
            (self.backtest,) = ax.plot(dates, values, color=C_BACKTEST, linewidth=1.3, linestyle=(0, (4, 2)),
                                       label=label)
        self.as_of = ax.axvline(view.as_of, color=C_ASOF, linewidth=0.8, linestyle=":")
        _style(ax, 8)
        # y given: left to itself, matplotlib measures every tick label on each draw to
        # lift a title above top tick labels, and there are none (~15% of a draw)
        self.title = ax.set_title(view.title, fontsize=10, loc="left", fontweight="bold", y=1.0)
        ax.annotate(  # offset in points, so it sits under the tick labels whatever the panel height
            TOTAL_NOTE, xy=(0, 0), xycoords="axes fraction", xytext=(0, -20), textcoords="offset points",
            fontsize=7.5, color="#666666", ha="left", va="top",
        )
        legend = ax.legend(loc="upper left", fontsize=7.5, frameon=True, framealpha=0.85, edgecolor="none", ncols=1)
        self.legend_texts = legend.get_texts()

        # --- small panels: top SKUs
        self.small = []
        for i in range(n_small):
            sax = fig.add_subplot(gs[1 + i // ncols, i % ncols])
            p = view.panels[i]
            band = sax.fill_between(p.days, p.p10, p.p90, color=C_FORECAST, alpha=0.22, linewidth=0, label="p10–p90")
            (actual,) = sax.plot(view.small_idx, p.actual, color=C_ACTUAL, linewidth=0.9, label="actual")
            (p50,) = sax.plot(p.days, p.p50, color=C_FORECAST, linewidth=1.3, label="p50")
            mean = None
            if has_mean:
                (mean,) = sax.plot(p.days, p.mean, color=C_FORECAST, linewidth=0.9, linestyle=(0, (2, 1.5)),
                                   label="mean")
            as_of = sax.axvline(view.as_of, color=C_ASOF, linewidth=0.8, linestyle=":")
            _style(sax, 7.5)
            title = sax.set_title(p.title, fontsize=8.5, loc="left", y=1.0)
            if i == 0:
                sax.legend(loc="upper left", fontsize=7, frameon=True, framealpha=0.85, edgecolor="none", ncols=4)
            self.small.append((sax, band, actual, p50, mean, as_of, title))

    def show(self, view: _MarketView) -> None:
        """Put `view`'s data, limits and texts on the figure."""
        self.suptitle.set_text(view.suptitle)
        self.subtitle.set_text(view.subtitle)
        self.title.set_text(view.title)
        self.actual.set_data(view.hist_idx, view.actual)
        self.forecast.set_data(view.fc_idx, view.fc_total)
        labels = [self.actual.get_label(), view.fc_label]
        if self.backtest is not None:
            dates, values, label = view.backtest
            self.backtest.set_data(dates, values)
            labels.append(label)
        for text, label in zip(self.legend_texts, labels, strict=True):
            text.set_text(label)
        self.as_of.set_xdata([view.as_of, view.as_of])
        self.ax.set_xlim(view.hist_idx[0], view.fc_idx[-1] + pd.Timedelta(days=1))
        self.ax.set_ylim(0, view.top * 1.45)  # head-room for the legend
        for (sax, band, actual, p50, mean, as_of, title), p in zip(self.small, view.panels, strict=True):
            band.set_data(p.days, p.p10, p.p90)
            actual.set_data(view.small_idx, p.actual)
            p50.set_data(p.days, p.p50)
            if mean is not None:
                mean.set_data(p.days, p.mean)
            as_of.set_xdata([view.as_of, view.as_of])
            sax.set_xlim(view.small_idx[0], p.days[-1] + np.timedelta64(1, "D"))
            sax.set_ylim(0, p.top * 1.12)
            title.set_text(p.title)
        for axes in (self.ax, *(panel[0] for panel in self.small)):
            if self.date_ticks_for.get(axes) != axes.get_xlim():
                self.date_ticks_for[axes] = _date_ticks(axes)

    def png(self) -> bytes:
        """PNG bytes via the Agg canvas (no pyplot), small and byte-identical for the same figure."""
        self.canvas.draw()
        return _png(self.canvas)


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
    Bytes are deterministic for the same input, and a market's chart does not
    depend on the other markets in the call.
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

    # split once: a mask per market scans every row once per market
    hist_by, bt_by = _by_market(h), ({} if bt is None else _by_market(bt))
    charts: dict[tuple[int, bool, bool], _Chart] = {}
    out: dict[str, bytes] = {}
    for market, fc_m in sorted(_by_market(fc).items()):
        view = _market_view(
            market,
            as_of,
            hist_by.get(market, h.iloc[:0]),
            fc_m,
            None if bt is None else bt_by.get(market, bt.iloc[:0]),
            history_days,
            top_skus,
        )
        chart = charts.get(view.layout)
        if chart is None:
            chart = charts[view.layout] = _Chart(view, history_days, dpi)
        chart.show(view)
        out[market] = chart.png()
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
