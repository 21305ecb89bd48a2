"""Demand pattern per series: smooth, erratic, intermittent, lumpy (Syntetos, Boylan & Croston 2005).

Intermittent demand is judged wrongly by one overall figure: a model can be
calibrated on the fast movers that carry the units and badly off on the
thousands of slow ones a planner also stocks. So the backtest scores every
class on its own (`ml.backtest`, scope `demand_class`), and a planner can read
which kind of series a number is about.

The classification is the standard one, on the dense zero-filled history of
the `window` days up to the origin (only days since the series' first sale):

- ADI, the average inter-demand interval = days / days with a sale;
- CV2, the squared coefficient of variation of the sizes of those sales;
- smooth ADI < 1.32 and CV2 < 0.49, erratic ADI < 1.32 and CV2 >= 0.49,
  intermittent ADI >= 1.32 and CV2 < 0.49, lumpy ADI >= 1.32 and CV2 >= 0.49;
- `new` when fewer than `MIN_SALE_DAYS` days sold in the window (ADI and CV2
  mean little on two or three sales) and `dormant` when none did.

The quadrant rule is the platform's one (`crossdock.demand_patterns`, which
the planning's service classes use too); none of the installed forecasting
packages (statsforecast, utilsforecast) ships it. Tests check it against
hand-worked series.
"""
from __future__ import annotations

import numpy as np

from crossdock.demand_patterns import PATTERNS, demand_pattern

WINDOW_DAYS = 364
MIN_SALE_DAYS = 4
CLASSES: tuple[str, ...] = (*PATTERNS, "new", "dormant")


def demand_statistics(Y: np.ndarray, first: np.ndarray, origin: int, window: int = WINDOW_DAYS
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ADI, CV2 and the number of days with a sale per series, over the `window` days up to `origin`.

    `Y[series, day]` is units per day (zero-filled), `first` each series' first
    day with a sale (its index in `Y`; days before it are not part of the
    series). ADI is NaN for a series without a sale in the window, CV2 NaN for
    one with fewer than two.
    """
    if origin < 0 or origin >= Y.shape[1]:
        raise ValueError("origin outside the history")
    lo = max(origin - window + 1, 0)
    W = Y[:, lo : origin + 1].astype(np.float64)
    days = np.arange(lo, origin + 1)
    live = days[None, :] >= np.asarray(first)[:, None]
    sold = (W > 0) & live
    n_sold = sold.sum(axis=1)
    n_days = live.sum(axis=1)
    sizes = np.where(sold, W, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(n_sold > 0, n_days / n_sold, np.nan)
        mean = sizes.sum(axis=1) / n_sold
        var = (np.where(sold, (W - mean[:, None]) ** 2, 0.0)).sum(axis=1) / n_sold  # population variance
        cv2 = np.where(n_sold >= 2, var / mean**2, np.nan)
    return adi, cv2, n_sold


def classify(Y: np.ndarray, first: np.ndarray, origin: int, window: int = WINDOW_DAYS) -> np.ndarray:
    """The demand class of every series at `origin` (an object array of `CLASSES` names)."""
    adi, cv2, n_sold = demand_statistics(Y, first, origin, window)
    out = np.where(n_sold < MIN_SALE_DAYS, "new", demand_pattern(adi, cv2))
    return np.where(n_sold == 0, "dormant", out).astype(object)
