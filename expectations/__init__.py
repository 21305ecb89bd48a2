"""Great Expectations 1.x suites and the runner behind the forecast's quality gate.

- `expectations.suites`: the suites as code (`training_data_rows`,
  `training_data_market_days`), built from the caller's expected markets.
- `expectations.market_days`: the derived market-day frame (pure pandas).
- `expectations.gate`: `validate_training_data(df, expected_markets) -> GateResult`,
  called by the blocking Dagster asset check on `marts.fct_daily_demand`.

No Dagster imports here: the asset check turns a `GateResult` into an
`AssetCheckResult`.
"""
from __future__ import annotations

import os

# Set before anything imports great_expectations, so nothing waits on the network.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

__all__ = ["GateResult", "validate_training_data"]


def __getattr__(name: str):
    # Lazy: importing great_expectations costs seconds, and `market_days` needs only pandas.
    if name in __all__:
        from expectations import gate

        return getattr(gate, name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
