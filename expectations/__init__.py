"""Great Expectations 1.x suites and the runner behind the two quality gates (training data, forecast).

- `expectations.suites`: the suites as code (`training_data_rows`,
  `training_data_market_days`), built from the caller's expected markets.
- `expectations.market_days`: the derived market-day frame and each market's
  own history (weekday pattern, quiet run, flip limits; pandas only).
- `expectations.gate`: `validate_training_data(df, expected_markets, thresholds) -> GateResult`,
  called by the blocking Dagster asset check on `marts.fct_daily_demand`.
- `expectations.thresholds`: `GateThresholds`, the numbers the market-day rules
  use, with defaults and overrides from the warehouse table `config.gates`.
- `expectations.forecast_suites`: the forecast's suites (`demand_forecast_rows`,
  `demand_forecast_series`) and the series frame the second runs on.
- `expectations.forecast_gate`: `validate_forecast(forecast, expected_series, horizon_days) -> GateResult`,
  called by the blocking Dagster asset check on `publish.demand_forecast`.
- `expectations.gx_runner`: what both gates share: `GateResult`, the ephemeral
  GX context, batches, the suite-ordered walk over results, message wording.

No Dagster imports here: the asset check turns a `GateResult` into an
`AssetCheckResult`.
"""
from __future__ import annotations

__all__ = ["GateResult", "GateThresholds", "validate_training_data"]


def __getattr__(name: str):
    # Lazy: importing great_expectations costs seconds, and `market_days` needs only pandas.
    if name in __all__:
        from expectations import gate

        return getattr(gate, name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
