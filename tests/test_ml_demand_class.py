"""Demand classes (Syntetos-Boylan-Croston) on hand-worked series."""
from __future__ import annotations

import numpy as np
import pytest

from ml.demand_class import classify, demand_statistics


def _one(series: list[float], first: int = 0, window: int = 364) -> tuple[float, float, int, str]:
    Y = np.array([series], dtype=float)
    adi, cv2, n = demand_statistics(Y, np.array([first]), len(series) - 1, window)
    return float(adi[0]), float(cv2[0]), int(n[0]), classify(Y, np.array([first]), len(series) - 1, window)[0]


def test_every_day_the_same_is_smooth() -> None:
    adi, cv2, n, cls = _one([3.0] * 20)
    assert (adi, cv2, n, cls) == (1.0, 0.0, 20, "smooth")


def test_every_day_with_one_big_order_is_erratic() -> None:
    # sizes 1 x 9 and 10: mean 1.9, population variance (9 * 0.81 + 65.61) / 10 = 7.29, CV2 = 7.29 / 3.61
    adi, cv2, n, cls = _one([1.0] * 9 + [10.0])
    assert adi == 1.0 and n == 10
    assert cv2 == pytest.approx(7.29 / 3.61)
    assert cls == "erratic"


def test_one_sale_in_three_days_of_equal_size_is_intermittent() -> None:
    adi, cv2, n, cls = _one([0.0, 0.0, 2.0] * 6)
    assert adi == pytest.approx(3.0) and cv2 == 0.0 and n == 6 and cls == "intermittent"


def test_rare_sales_of_very_different_sizes_are_lumpy() -> None:
    adi, cv2, n, cls = _one([0, 0, 1, 0, 0, 1, 0, 0, 20, 0, 0, 1, 0, 0, 1])
    assert adi == pytest.approx(3.0) and n == 5
    assert cv2 > 0.49 and cls == "lumpy"


def test_the_cutoffs_are_strict_where_the_paper_puts_them() -> None:
    # ADI exactly 1.32 is not frequent: 33 days, 25 with a sale
    series = [1.0] * 25 + [0.0] * 8
    adi, _, _, cls = _one(series)
    assert adi == pytest.approx(1.32) and cls == "intermittent"


def test_days_before_the_first_sale_do_not_count() -> None:
    # launched on day 10: 10 live days, all selling -> smooth, not intermittent
    adi, _, n, cls = _one([0.0] * 10 + [2.0] * 10, first=10)
    assert adi == 1.0 and n == 10 and cls == "smooth"


def test_only_the_window_up_to_the_origin_is_read() -> None:
    Y = np.array([[5.0] * 10 + [0.0, 0.0, 1.0] * 4 + [100.0] * 5], dtype=float)
    origin = 10 + 12 - 1  # the last day before the run of 100s
    adi, cv2, n = demand_statistics(Y, np.array([0]), origin, window=12)
    assert adi[0] == pytest.approx(3.0) and cv2[0] == 0.0 and n[0] == 4


def test_few_sales_are_new_and_none_dormant() -> None:
    Y = np.array([[0.0] * 17 + [4.0, 0.0, 1.0], [0.0] * 20], dtype=float)
    assert list(classify(Y, np.array([0, 0]), 19)) == ["new", "dormant"]
    adi, cv2, n = demand_statistics(Y, np.array([0, 0]), 19)
    assert np.isnan(adi[1]) and np.isnan(cv2[1]) and n[1] == 0


def test_an_origin_outside_the_history_is_refused() -> None:
    with pytest.raises(ValueError, match="origin"):
        classify(np.zeros((1, 5)), np.array([0]), 5)
