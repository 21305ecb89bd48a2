"""Write the messy merchant's landing files (called by `demo.generate(..., profile="messy")`).

Only what such a merchant really sends: ten years of monthly orders exports
and, late, a supplier master and a catalogue covering part of the SKUs. No
purchase orders, no stock snapshots, no carrier tracking.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from crossdock.merchant_config import load_config
from demo.catalogue import SUPPLIER_COLUMNS, Catalogue, build_catalogue, catalogue_export
from demo.clock import Timeline
from demo.messy import MESSY_CONFIG
from demo.messy.shop import SkuLife
from demo.messy.simulate import ORDER_COLUMNS, Network, build_messy_orders
from demo.rng import stream
from demo.writers import write_by_month, write_csv

HISTORY_MONTHS = 119  # the end's month and the 118 before it: 2016-12-01 .. 2026-10-30 by default
SKUS_AT_SCALE_1 = 250
MIN_SKUS = 20
CATALOGUE_AGE_DAYS = 76  # the catalogue file is dated this long before the end (2026-08-15 by default)
CATALOGUE_MIN_AGE_DAYS = 120  # SKUs launched less than this before the catalogue date are not in it
CATALOGUE_COVERAGE = 0.85  # of the SKUs on sale at the catalogue date, the rest come from unlisted suppliers
TERMS_LEFT_BLANK = 0.15  # of the catalogue lines, those whose MOQ or pack size the supplier left blank (each)
GB_NODE_SINCE = date(2021, 1, 1)  # Brexit: GB is shipped from the UK 3PL from then on


def default_days(end: date) -> int:
    """Days from the first day of the month HISTORY_MONTHS - 1 months before `end`'s month, to `end`."""
    months = end.year * 12 + end.month - 1 - (HISTORY_MONTHS - 1)
    return (end - date(months // 12, months % 12 + 1, 1)).days + 1


def n_skus_for(scale: float) -> int:
    return max(MIN_SKUS, int(round(SKUS_AT_SCALE_1 * scale)))


def _network() -> Network:
    config = load_config(MESSY_CONFIG)
    gb = next(m for m in config.markets if m.code == "GB")
    return Network(home_node=config.catch_all.node, gb_node=gb.node, gb_node_since=GB_NODE_SINCE)


def _late_catalogue(catalogue: Catalogue, life: SkuLife, timeline: Timeline, rng: np.random.Generator,
                    ) -> tuple[pd.DataFrame, pd.DataFrame, date]:
    """The catalogue the suppliers sent late: SKUs on sale then (not the newest), most of them, some lines without
    a MOQ or a pack size."""
    day = max(timeline.days - 1 - CATALOGUE_AGE_DAYS, 0)
    on_sale = (life.launch <= day - CATALOGUE_MIN_AGE_DAYS) & (life.stop > day)
    listed = on_sale & (rng.random(catalogue.n_skus) < CATALOGUE_COVERAGE)
    skus = set(catalogue.skus["sku"].to_numpy()[listed].tolist())
    rows = catalogue.rows[catalogue.rows["sku"].isin(skus)].reset_index(drop=True)
    exported = catalogue_export(Catalogue(skus=catalogue.skus, suppliers=catalogue.suppliers, rows=rows))
    for column in ("moq", "pack_size"):
        exported[column] = exported[column].astype(object).where(rng.random(len(exported)) >= TERMS_LEFT_BLANK, "")
    suppliers = catalogue.suppliers[catalogue.suppliers["supplier_id"].isin(set(rows["supplier_id"]))]
    return exported, suppliers.reset_index(drop=True), timeline.start + timedelta(days=day)


def write_messy(landing: Path, scale: float, seed: int, end: date, days: int | None,
                say: Callable[[str], None]) -> tuple[dict[str, dict[str, int]], dict, dict]:
    """Write the files; returns (files {dataset: {file: rows}}, params, facts about the data)."""
    days = default_days(end) if days is None else int(days)
    timeline = Timeline(end=end, days=days)
    say(f"messy merchant: history {timeline.start} .. {timeline.end} ({days} days), scale {scale}, seed {seed}")
    n = n_skus_for(scale)
    catalogue = build_catalogue(n / 200.0, stream(seed, "messy_catalogue"))
    lines, life = build_messy_orders(
        catalogue, timeline, _network(), scale, stream(seed, "messy_orders"), stream(seed, "messy_pricing"),
        stream(seed, "messy_wholesale"), stream(seed, "messy_write_offs"), stream(seed, "messy_not_stocked"))
    kinds = lines["_kind"].value_counts().to_dict()
    exported, suppliers, dated = _late_catalogue(catalogue, life, timeline, stream(seed, "messy_supply"))
    goods = lines[lines["_kind"] != "not_stocked"]  # a gift card or shipping protection is no SKU to stock
    sold = set(goods["sku"])
    facts = {
        "order_lines": len(lines),
        "lines_by_kind": {k: int(kinds.get(k, 0)) for k in ("sale", "return", "cancellation", "wholesale", "write_off",
                                                             "not_stocked")},
        "countries": int(goods["ship_to_country"].nunique()),
        "currencies": sorted(set(lines["currency"])),
        "skus_sold": len(sold),
        "skus_in_catalogue": int(exported["sku"].nunique()),
        "skus_sold_not_in_catalogue": len(sold - set(exported["sku"])),
        "catalogue_dated": dated.isoformat(),
        "largest_line_units": int(lines["quantity"].max()),
    }
    say(f"orders: {len(lines):,} lines to {facts['countries']} countries, {facts['lines_by_kind']}")
    say(f"catalogue dated {dated}: {facts['skus_in_catalogue']} of {len(sold)} SKUs sold "
        f"({facts['skus_sold_not_in_catalogue']} missing); no purchase orders, stock or tracking")

    stamp = dated.isoformat()
    files = {
        "orders": write_by_month(lines, landing / "orders", "orders", ".csv", ORDER_COLUMNS),
        "suppliers": {f"suppliers_{stamp}.csv": write_csv(
            suppliers, landing / "suppliers" / f"suppliers_{stamp}.csv", SUPPLIER_COLUMNS)},
        "supplier_catalogue": {f"catalogue_{stamp}.csv": write_csv(
            exported, landing / "suppliers" / f"catalogue_{stamp}.csv", list(exported.columns))},
    }
    params = {"scale": scale, "seed": seed, "end": end.isoformat(), "days": days,
              "start": timeline.start.isoformat(), "profile": "messy"}
    return files, params, facts
