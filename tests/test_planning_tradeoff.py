"""The service-level trade-off curve: priced with the plan's own method, convex, target marked."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from planning.tradeoff import DEFAULT_LEVELS, service_level_tradeoff


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "abc": ["A", "A", "C"],
            "pattern": ["smooth", "smooth", "lumpy"],
            "unit_cost_eur": [10.0, 20.0, 5.0],
            "target_service_level": [0.98, 0.98, 0.92],
            "sigma_ltd": [10.0, 5.0, 8.0],  # units: SS = z * sigma_ltd in the normal case
        }
    )


def test_normal_rows_are_priced_at_z_times_sigma_and_the_curve_is_convex():
    rows = _rows()
    table = service_level_tradeoff(rows, lambda sl: norm.ppf(sl) * rows["sigma_ltd"].to_numpy()[:, None], 0.25)
    a = table[table["abc"] == "A"].set_index("service_level")
    assert list(a.index) == sorted(DEFAULT_LEVELS)  # 0.98 is on the ladder already
    z95 = norm.ppf(0.95)
    assert a.loc[0.95, "safety_stock_units"] == pytest.approx(z95 * 15.0)
    assert a.loc[0.95, "safety_stock_value_eur"] == pytest.approx(z95 * (10 * 10 + 5 * 20))
    assert a.loc[0.95, "carrying_cost_eur_per_year"] == pytest.approx(0.25 * z95 * 200)
    assert a["is_target"].tolist() == [lvl == 0.98 for lvl in a.index]
    per_point = a["extra_cost_per_point_eur"].dropna().to_numpy()
    assert (np.diff(per_point) > 0).all()  # each further point costs more
    c = table[table["abc"] == "C"]
    assert 0.92 in set(c["service_level"]) and c.loc[c["service_level"] == 0.92, "is_target"].item()
    assert 0.92 not in set(a.index)  # another class's target is not an option for A


def test_bad_levels_and_missing_columns_are_named():
    rows = _rows()
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        service_level_tradeoff(rows, lambda sl: sl, 0.25, levels=(0.9, 1.0))
    with pytest.raises(ValueError, match="missing columns \\['abc'\\]"):
        service_level_tradeoff(rows.drop(columns="abc"), lambda sl: sl, 0.25)


def test_the_ladder_is_priced_in_one_call_with_a_level_per_row_and_column():
    """One call for the whole ladder: a simulated row is simulated once, not once per level."""
    rows, calls = _rows(), []

    def safety_stock_at(levels: np.ndarray) -> np.ndarray:
        calls.append(levels.shape)
        return norm.ppf(levels) * rows["sigma_ltd"].to_numpy()[:, None]

    table = service_level_tradeoff(rows, safety_stock_at, 0.25)
    ladder = sorted(set(DEFAULT_LEVELS) | {0.92})
    assert calls == [(len(rows), len(ladder))]
    assert table["service_level"].nunique() == len(ladder)
