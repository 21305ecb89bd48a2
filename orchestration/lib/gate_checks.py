"""What every blocking quality gate of the run shares: how it is declared and how it reports.

A gate (the training-data and forecast Great Expectations suites) is an asset
check with blocking=True, so a failure stops everything downstream of its
asset in that run; it reads the warehouse, so it queues in the writers' pool
like them; and it reports a failure at ERROR severity, the level that blocks.
A warning check (the model against its baselines, whose loss the forecast
answers with the best baseline's forecast) reports at WARN and stops nothing.
"""
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from orchestration.lib.resources import WAREHOUSE_POOL


def blocking_gate(asset: dg.AssetKey, name: str, description: str) -> Callable[..., Any]:
    """`@dg.asset_check` for a gate on `asset`: blocking, and queued with the warehouse writers (it opens the warehouse)."""
    return dg.asset_check(asset=asset, name=name, blocking=True, pool=WAREHOUSE_POOL, description=description)


WHAT_TO_DO = "what_to_do"
"""The metadata key of a failed check's advice in plain words, which `crossdock run` prints under the failure."""


def gate_result(passed: bool, description: str, metadata: Mapping[str, Any]) -> dg.AssetCheckResult:
    """A gate's verdict: a failure is an ERROR, which with blocking=True stops everything downstream in the run."""
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR, description=description, metadata=metadata)


def warning_check(asset: dg.AssetKey, name: str, description: str) -> Callable[..., Any]:
    """`@dg.asset_check` that says, without stopping anything downstream, what a gate does not yet require."""
    return dg.asset_check(asset=asset, name=name, blocking=False, pool=WAREHOUSE_POOL, description=description)


def warning_result(passed: bool, description: str, metadata: Mapping[str, Any]) -> dg.AssetCheckResult:
    """A warning check's verdict: a failure is a WARN, shown in the UI and the logs; the run goes on."""
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, description=description, metadata=metadata)
