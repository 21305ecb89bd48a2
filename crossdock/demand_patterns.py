"""Syntetos-Boylan-Croston (2005) demand patterns: the one rule the planning and the forecast share.

A series is placed by two statistics of its daily history: ADI, the average
inter-demand interval (days per day with a sale), and CV2, the squared
coefficient of variation of its sale sizes. Below 1.32 days it sells most
days, below 0.49 its sizes are steady:

    ADI < 1.32, CV2 < 0.49   smooth        ADI >= 1.32, CV2 < 0.49   intermittent
    ADI < 1.32, CV2 >= 0.49  erratic       ADI >= 1.32, CV2 >= 0.49  lumpy

The planning picks its safety-stock method and service level by pattern
(`planning.service_classes`, cut-offs configurable there) and the forecast's
backtest scores each pattern on its own (`ml.demand_class`): one rule, so a
series called intermittent on one page is not lumpy on the next. How each
measures ADI and CV2 (which days, which variance) is its own.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

ADI_CUTOFF: float = 1.32
CV2_CUTOFF: float = 0.49
PATTERNS: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy")


def demand_pattern(adi: ArrayLike, cv2: ArrayLike, adi_cutoff: float = ADI_CUTOFF, cv2_cutoff: float = CV2_CUTOFF
                   ) -> np.ndarray:
    """The pattern of each (ADI, CV2) pair, as an object array of `PATTERNS` names.

    A NaN CV2 (fewer than two sales: no size variation seen) counts as
    steady; a NaN ADI (no sale) as not frequent. Callers that treat such
    series apart (no demand, too few sales) do so before or after.
    """
    adi = np.asarray(adi, dtype=float)
    cv2 = np.asarray(cv2, dtype=float)
    frequent = adi < adi_cutoff
    steady = ~(cv2 >= cv2_cutoff)
    return np.where(frequent, np.where(steady, "smooth", "erratic"),
                    np.where(steady, "intermittent", "lumpy")).astype(object)
