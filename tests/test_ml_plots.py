"""ml.plots: one small, valid, deterministic PNG per market; file and markdown helpers."""
import base64
import io
import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ml.plots import market_forecast_pngs, markdown_image, write_pngs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AS_OF = pd.Timestamp("2025-06-30")
H = 28


def _frames(seed: int = 3, series=None, scale=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Sparse history, a forecast and a one-window backtest; by default for US (5 SKUs) and DE (1 SKU).

    `series` lists (sku, market, category); `scale` multiplies a market's demand.
    """
    rng = np.random.default_rng(seed)
    if series is None:
        series = [(f"SKU-{k}", "US", "home") for k in range(5)] + [("SKU-9", "DE", "gifts")]
    scale = scale or {}
    days = pd.date_range(end=AS_OF, periods=200, freq="D")
    hist, fc, bt = [], [], []
    origin = AS_OF - pd.Timedelta(days=H)
    for i, (sku, market, cat) in enumerate(series):
        level = (0.5 + 2.0 * i) * scale.get(market, 1.0)
        units = rng.poisson(level * rng.gamma(2.0, 0.5, len(days))).astype(float)
        keep = units > 0  # sparse like the mart: a missing day sold 0
        hist.append(pd.DataFrame({"sku": sku, "market": market, "category": cat,
                                  "demand_date": days[keep], "units_sold": units[keep]}))
        h = np.arange(1, H + 1)
        p50 = np.full(H, level * 0.8) + rng.normal(0, 0.05, H).clip(0)
        frame = {"sku": sku, "market": market, "category": cat, "horizon": h,
                 "p10": p50 * 0.2, "p50": p50, "p90": p50 * 2.5, "mean": p50 * 1.2}
        fc.append(pd.DataFrame({**frame, "forecast_date": AS_OF + pd.to_timedelta(h, unit="D")}))
        actual = units[-H:]
        bt.append(pd.DataFrame({**frame, "window": 1, "origin": origin,
                                "forecast_date": origin + pd.to_timedelta(h, unit="D"),
                                "actual": actual, "seasonal_naive_7": actual[::-1]}))
    return pd.concat(hist, ignore_index=True), pd.concat(fc, ignore_index=True), pd.concat(bt, ignore_index=True)


@lru_cache(maxsize=1)
def _pngs_with_backtest() -> dict[str, bytes]:
    history, forecast, backtest = _frames()
    return market_forecast_pngs(history, forecast, backtest_predictions=backtest)


def _image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def test_one_png_per_market_sorted_with_signature_and_plausible_size():
    pngs = _pngs_with_backtest()
    assert list(pngs) == ["DE", "US"]
    for png in pngs.values():
        assert png.startswith(PNG_SIGNATURE)
        assert 10_000 < len(png) < 120_000
        assert _image(png).size == (900, 700)


def test_works_without_backtest_and_with_a_single_sku_market():
    history, forecast, backtest = _frames()
    pngs = market_forecast_pngs(history, forecast)
    assert list(pngs) == ["DE", "US"]
    assert all(p.startswith(PNG_SIGNATURE) for p in pngs.values())
    # the backtest overlay draws something, so the US picture changes with it
    assert pngs["US"] != _pngs_with_backtest()["US"]
    de_only = market_forecast_pngs(history, forecast[forecast["market"] == "DE"], top_skus=4)
    assert list(de_only) == ["DE"] and de_only["DE"].startswith(PNG_SIGNATURE)


def test_market_without_history_and_empty_forecast():
    history, forecast, _ = _frames()
    pngs = market_forecast_pngs(history[history["market"] != "DE"], forecast, top_skus=0)
    assert set(pngs) == {"DE", "US"}
    assert market_forecast_pngs(history, forecast.iloc[:0]) == {}


def test_deterministic_bytes_also_across_threads():
    history, forecast, backtest = _frames()
    again = market_forecast_pngs(history, forecast, backtest_predictions=backtest)
    assert again == _pngs_with_backtest()
    # object API only: concurrent renders (Dagster threads) must not interfere
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: market_forecast_pngs(history, forecast, backtest_predictions=backtest), range(2)))
    assert all(r == again for r in runs)
    # a different input gives a different picture
    assert market_forecast_pngs(*_frames(seed=4)[:2]) != market_forecast_pngs(history, forecast)


def test_a_market_chart_does_not_depend_on_the_markets_drawn_before_it():
    # markets of one layout share a figure that is refilled for each: nothing of the
    # previous market (data, limits, titles, legend texts, tick count) may show through.
    # Levels far apart give each market other y ticks and legend numbers; BE is drawn
    # after a smaller market and CH after a bigger one.
    series = [(f"{m}-{k}", m, cat) for m, cat in (("AT", "home"), ("BE", "toys"), ("CH", "home")) for k in range(3)]
    history, forecast, backtest = _frames(seed=5, series=series, scale={"AT": 1.0, "BE": 40.0, "CH": 0.2})
    # CH forecasts 3 days: a shorter date range, where the date locator picks other x ticks
    forecast = forecast[(forecast["market"] != "CH") | (forecast["horizon"] <= 3)]
    together = market_forecast_pngs(history, forecast, backtest_predictions=backtest, top_skus=2)
    assert list(together) == ["AT", "BE", "CH"] and len(set(together.values())) == 3
    for market in together:
        alone = market_forecast_pngs(history, forecast[forecast["market"] == market],
                                     backtest_predictions=backtest, top_skus=2)
        assert alone[market] == together[market], market


def test_dpi_scales_pixels():
    history, forecast, _ = _frames()
    png = market_forecast_pngs(history, forecast[forecast["market"] == "DE"], dpi=40)["DE"]
    assert _image(png).size == (450, 350)


def test_write_pngs_writes_and_overwrites_atomically(tmp_path):
    folder = tmp_path / "charts" / "nested"
    paths = write_pngs({"US": b"old-us", "DE": b"old-de"}, folder)
    assert paths == [folder / "forecast_DE.png", folder / "forecast_US.png"]
    assert (folder / "forecast_US.png").read_bytes() == b"old-us"
    pngs = _pngs_with_backtest()
    paths = write_pngs(pngs, folder)
    for p in paths:
        market = re.fullmatch(r"forecast_(\w+)\.png", p.name).group(1)
        assert p.read_bytes() == pngs[market]
    assert sorted(x.name for x in folder.iterdir()) == ["forecast_DE.png", "forecast_US.png"]  # no temp files left
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in paths)  # readable by a BI tool running as another user
    (odd,) = write_pngs({"../x": b"1"}, folder, prefix="p_")  # a market code cannot escape the folder
    assert odd.parent == folder and odd.read_bytes() == b"1"


def test_markdown_image_round_trips_base64():
    png = _pngs_with_backtest()["DE"]
    md = markdown_image(png, "DE forecast")
    m = re.fullmatch(r"!\[DE forecast\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", md)
    assert m is not None
    assert base64.b64decode(m.group(1)) == png
    assert markdown_image(b"x", "a [b]").startswith(r"![a \[b\]](data:image/png;base64,")


def test_rejects_empty_history_window():
    history, forecast, _ = _frames()
    with pytest.raises(ValueError):
        market_forecast_pngs(history, forecast, history_days=0)
