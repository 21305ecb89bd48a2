"""Declarative automation of everything downstream of ingest: the refresh condition, the freshness policy, their sensor."""

from datetime import timedelta

import dagster as dg

# Downstream assets refresh when an input changed, and only then. eager() also
# waits for every input to exist; that part is dropped so a table still
# refreshes when an optional input (say, a feed the merchant does not send)
# has never been materialized.
REFRESH_WHEN_INPUTS_CHANGE = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
# The feeds land daily: a published table older than a day and a bit is late.
PUBLISHED_FRESHNESS = dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=26), fail_window=timedelta(hours=36))


def automated(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with the refresh condition, and the freshness policy when it is a published table."""
    freshness = PUBLISHED_FRESHNESS if spec.key.path[0] == "publish" else spec.freshness_policy
    return spec.replace_attributes(automation_condition=REFRESH_WHEN_INPUTS_CHANGE, freshness_policy=freshness)


downstream_refresh_sensor = dg.AutomationConditionSensorDefinition(
    "downstream_refresh",
    target=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest", "merchant_config"),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    description="Declarative automation: after the landing sensor's ingest run loads new files, refreshes the dbt "
    "models, forecast, plans, compliance tables and BI copies that depend on what changed, and nothing else "
    "(turn on in the UI with the landing sensor).",
)
