"""The merchant's markets as Dagster partitions of the forecast, and the run tags that cover them all.

On one machine the daily run forecasts every market in one step, with one
model that learns from all of them (pooled, it forecasts better: docs/spark.md
gives the figures). On a cluster each market can be its own run, trained and
staged on its own, so markets run in parallel. Dagster partitions say which:
a run's partition key range is its markets, and one run over the whole range
is the daily case (`BackfillPolicy.single_run`).

The partitions are dynamic, named after crossdock.yaml's markets at run time,
because the markets are the merchant's configuration, not code: whoever
launches a planning run (the command line, the schedule, the merchant-network
asset for the UI) first makes the instance's partitions the file's markets.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from crossdock.merchant_config import load_config

MARKET_PARTITIONS_NAME = "market"
MARKET_PARTITIONS = dg.DynamicPartitionsDefinition(name=MARKET_PARTITIONS_NAME)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
# Set by every_market_tags: the run covers every market, whatever partitions are added or taken out while it
# runs (its merchant-network step syncs them to a crossdock.yaml that may have changed since the launch).
EVERY_MARKET_TAG = "crossdock/markets"
EVERY_MARKET = "every"


def sync_market_partitions(instance: dg.DagsterInstance, markets: Sequence[str]) -> list[str]:
    """Make the instance's market partitions `markets` (adds the new, deletes the dropped); the keys in order."""
    existing = instance.get_dynamic_partitions(MARKET_PARTITIONS_NAME)
    for gone in (key for key in existing if key not in markets):
        instance.delete_dynamic_partition(MARKET_PARTITIONS_NAME, gone)
    new = [market for market in dict.fromkeys(markets) if market not in existing]
    if new:
        instance.add_dynamic_partitions(MARKET_PARTITIONS_NAME, new)
    return instance.get_dynamic_partitions(MARKET_PARTITIONS_NAME)


def every_market_tags(instance: dg.DagsterInstance, config_file: Path) -> dict[str, str]:
    """Run tags that cover every market of `config_file` in one run (after syncing the partitions to it).

    No tags while there is no file yet or it names no market: such a run
    forecasts whatever markets the history holds, unpartitioned, and its
    merchant-network step fails first anyway, naming the missing file.
    """
    if not config_file.is_file():
        return {}
    try:
        markets = load_config(config_file).market_codes
    except ValueError:  # a wrong file: the merchant-network step fails on it with the place to fix
        return {}
    keys = sync_market_partitions(instance, markets)
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1], EVERY_MARKET_TAG: EVERY_MARKET} if keys else {}


FORECAST_RUNS = {
    "pooled": dg.BackfillPolicy.single_run(),  # one run, one model: the most accurate on one machine
    "per_market": dg.BackfillPolicy.multi_run(max_partitions_per_run=1),  # a run each: parallel on a cluster
}


def with_forecast_runs(assets: dg.AssetsDefinition, runs: str) -> dg.AssetsDefinition:
    """`assets` (market-partitioned) with the backfill policy CROSSDOCK_FORECAST_RUNS names."""
    if runs not in FORECAST_RUNS:
        raise ValueError(f"CROSSDOCK_FORECAST_RUNS={runs!r}: choose one of {', '.join(FORECAST_RUNS)}")
    return assets.with_attributes(backfill_policy=FORECAST_RUNS[runs])


@dataclass(frozen=True)
class MarketScope:
    """The markets one run of a market-partitioned asset covers.

    every: the run covers every market partition (or was launched without
    partitions): one model for all markets, tables replaced whole. Otherwise
    the run trains and stages its `markets` only.
    """

    markets: tuple[str, ...]
    every: bool
    known: tuple[str, ...] = ()  # every market partition when the run started its step

    def describe(self) -> str:
        return "every market" if self.every else f"market{'s' if len(self.markets) > 1 else ''} {', '.join(self.markets)}"


def scope_of_run(instance: dg.DagsterInstance, tags: Mapping[str, str]) -> MarketScope:
    """The markets of a run with these tags: its partition (key or key range); every market when it has none or
    was launched with `every_market_tags`. A key that is not a partition is a ValueError.

    From the tags rather than an asset's context, so an asset check of the
    run, which has no partition of its own, judges the same markets.
    """
    known = tuple(instance.get_dynamic_partitions(MARKET_PARTITIONS_NAME))
    if tags.get(EVERY_MARKET_TAG) == EVERY_MARKET or not (PARTITION_TAG in tags or RANGE_START_TAG in tags):
        return MarketScope(known, every=True, known=known)
    if PARTITION_TAG in tags:
        start = end = tags[PARTITION_TAG]
    else:
        start, end = tags[RANGE_START_TAG], tags.get(RANGE_END_TAG, tags[RANGE_START_TAG])
    unknown = [key for key in (start, end) if key not in known]
    if unknown:
        raise ValueError(f"the run's markets {start}..{end} name {unknown}, not a market partition "
                         f"(the partitions are {list(known)}: crossdock.yaml's markets)")
    keys = known[known.index(start):known.index(end) + 1]  # a range of dynamic keys is in their order
    if not keys:
        raise ValueError(f"the run's market range {start}..{end} is empty (the partitions are {list(known)})")
    return MarketScope(keys, every=set(known) <= set(keys), known=known)
