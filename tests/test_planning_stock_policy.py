"""stock_targets: each row gets the method its class names, and a simulated safety stock is never negative."""
import numpy as np
import pytest
from scipy.stats import norm

from planning.lead_time_demand import simulated_reorder_point
from planning.safety_stock import reorder_point, safety_stock
from planning.stock_policy import stock_targets


def _inputs():
    rng = np.random.default_rng(3)
    lumpy = np.where(rng.random((3, 364)) < 0.1, rng.integers(1, 40, (3, 364)), 0).astype(float)
    return dict(
        mean_daily_demand=np.array([2.0, 2.0, 0.5]),
        demand_std_daily=np.array([1.0, 1.0, 3.0]),
        lead_time_days=np.array([14.0, 14.0, 20.0]),
        lead_time_std_days=np.array([3.0, 3.0, 5.0]),
        review_period_days=0.0,
        demand_samples=lumpy,
    )


def test_normal_rows_use_the_formula_and_simulated_rows_the_quantile():
    x = _inputs()
    ss, rop = stock_targets(["normal", "simulated", "simulated"], [0.95, 0.95, 0.2], **x)
    ss_n = safety_stock(norm.ppf(0.95), 14.0, 1.0, 2.0, 3.0, 0.0)
    assert ss[0] == pytest.approx(ss_n) and rop[0] == pytest.approx(reorder_point(2.0, 14.0, ss_n, 0.0))
    rop_sim, ss_sim = simulated_reorder_point(
        x["demand_samples"][1:], x["mean_daily_demand"][1:], x["lead_time_days"][1:], x["lead_time_std_days"][1:], [0.95, 0.2]
    )
    assert rop[1] == pytest.approx(rop_sim[0]) and ss[1] == pytest.approx(ss_sim[0])
    # a lumpy series at a low target can sit below its mean lead-time demand: floored
    assert ss_sim[1] < 0
    assert ss[2] == 0 and rop[2] == pytest.approx(0.5 * 20.0)


def test_without_history_every_row_falls_back_to_the_normal_formula_and_bad_input_is_named():
    x = _inputs() | {"demand_samples": None}
    ss, _ = stock_targets(["simulated"] * 3, [0.95] * 3, **x)
    assert ss[1] == pytest.approx(safety_stock(norm.ppf(0.95), 14.0, 1.0, 2.0, 3.0, 0.0))
    with pytest.raises(ValueError, match="unknown safety-stock methods \\['magic'\\]"):
        stock_targets(["magic", "normal", "normal"], [0.9] * 3, **_inputs())
    with pytest.raises(ValueError, match="service levels"):
        stock_targets(["normal"] * 3, [0.9, 1.0, 0.9], **_inputs())


def test_a_matrix_of_levels_gives_each_column_what_one_call_per_level_gives():
    x, methods, levels = _inputs(), ["normal", "simulated", "simulated"], [0.8, 0.95, 0.99]
    ss, rop = stock_targets(methods, np.tile(levels, (3, 1)), **x)
    assert ss.shape == rop.shape == (3, 3)
    for j, level in enumerate(levels):
        one_ss, one_rop = stock_targets(methods, np.full(3, level), **x)
        np.testing.assert_allclose(ss[:, j], one_ss)
        np.testing.assert_allclose(rop[:, j], one_rop)
