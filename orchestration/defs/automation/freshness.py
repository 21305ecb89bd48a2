"""The freshness policy of the published tables.

There is no declarative automation of the plan: Dagster's automation
conditions judge one asset at a time, so after a landing they split the
downstream into several runs (the market-partitioned forecast can never share
a run with the unpartitioned models and plans around it) and start a run
while inputs further up are still being built by another one. A landing
instead starts one daily_planning run (sensors.py), which builds everything
in order and publishes once, at its end.
"""

from datetime import timedelta

import dagster as dg

# The feeds land daily: a published table older than a day and a bit is late.
PUBLISHED_FRESHNESS = dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=26), fail_window=timedelta(hours=36))


def with_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with the freshness policy when it is a published table."""
    freshness = PUBLISHED_FRESHNESS if spec.key.path[0] == "publish" else spec.freshness_policy
    return spec.replace_attributes(freshness_policy=freshness)
