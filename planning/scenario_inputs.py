"""What a scenario run reads: `PlanInputs`, the plan's inputs plus the frames the contingencies need.

One frame of open PO lines serves both the projection and the supplier
outage, so the lines a scenario delays cannot drift from the lines the plan
books; the scenario-only frames are checked here, the plan checks its own.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from crossdock.bulk_days import RegularSales
from planning.inputs import CUSTOMS_DAYS_COLUMNS, require_columns, require_unique
from planning.policy import PlanningPolicy
from planning.scenario_definitions import _whole_non_negative

ARRIVAL_COLUMNS: tuple[str, ...] = ("sku", "node", "supplier_id", "expected_arrival_date", "quantity")
PRIMARY_COLUMNS: tuple[str, ...] = ("sku", "supplier_id")
ALTERNATIVE_COLUMNS: tuple[str, ...] = ("sku", "supplier_id", "unit_cost_eur", "quoted_lead_time_days", "is_primary")


@dataclass(frozen=True)
class PlanInputs:
    """Everything `build_inventory_plan` needs, plus what the contingencies need.

    The first fields are `build_inventory_plan`'s arguments (same columns and
    units). The rest:

    Attributes:
        arrivals: open PO lines: sku, node, supplier_id, expected_arrival_date,
            quantity (intermediate.int_open_po_arrivals). One frame serves the
            projection and the supplier outage (the brief's `po_suppliers`,
            also available as the property of that name), so the lines a
            scenario delays cannot drift from the lines the plan books.
            A null supplier_id is allowed: no outage touches that line.
        primary_supplier: sku, supplier_id; one row per SKU (the supplier
            `lead_times` describes; marts.dim_sku.primary_supplier_id).
        alternatives: sku, supplier_id, unit_cost_eur, quoted_lead_time_days,
            is_primary (publish.supplier_risk): every catalogue offer for a
            SKU. The primary's row gives the cost an alternative's premium is
            measured from (skus.unit_cost_eur when it has none).
        skus: as for the plan, plus an optional weight_kg (kg/unit) for
            freight costs; without it expedite and reroute cannot be priced.
        node_extra_lead_time_days: node -> days added to the lead time of new
            orders into it (set by `apply_scenario` from lane delays; lead
            times are per SKU, so `run_plan` plans those nodes' rows with
            shifted lead times).
        seed: for the simulated safety stock, as in the plan.
        customs_days: sku, from_node, to_node, customs_days, customs_basis
            (`planning.transfers.customs_days` over every node pair): days a
            reroute across a customs border adds for the SKU's chapter. None,
            or a pair it lacks, adds nothing.
        stock_unknown_nodes: nodes with no inventory data, planned with
            targets only (see `build_inventory_plan`): no scenario can say
            when stock there runs out.
        held_back_pairs: SKU x node rows whose demand a market the
            training-data gate held back belongs to (`planning.run`): their
            stock is never spare for a reroute, its demand being unknown.

    Reroute needs no other frame: stock per SKU x node is `on_hand`, and a
    donor's spare comes from the scenario plan's reorder point.
    """

    forecast: pd.DataFrame
    on_hand: pd.DataFrame
    open_orders: pd.DataFrame
    lead_times: pd.DataFrame
    skus: pd.DataFrame
    market_nodes: pd.DataFrame
    as_of: dt.date
    arrivals: pd.DataFrame
    primary_supplier: pd.DataFrame
    alternatives: pd.DataFrame
    policy: PlanningPolicy = PlanningPolicy()
    classes: pd.DataFrame | None = None
    demand_history: pd.DataFrame | RegularSales | None = None
    node_extra_lead_time_days: Mapping[str, int] = field(default_factory=dict)
    seed: int = 7
    customs_days: pd.DataFrame | None = None
    stock_unknown_nodes: frozenset[str] = frozenset()
    held_back_pairs: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        # The plan checks its own frames; these are the scenario-only ones.
        require_columns(self.arrivals, ARRIVAL_COLUMNS, "arrivals")
        if self.customs_days is not None:
            require_columns(self.customs_days, CUSTOMS_DAYS_COLUMNS, "customs_days")
            require_unique(self.customs_days, ["sku", "from_node", "to_node"], "customs_days")
        require_columns(self.primary_supplier, PRIMARY_COLUMNS, "primary_supplier")
        require_unique(self.primary_supplier, ["sku"], "primary_supplier")
        require_columns(self.alternatives, ALTERNATIVE_COLUMNS, "alternatives")
        for node, days in self.node_extra_lead_time_days.items():
            if not _whole_non_negative(days):
                raise ValueError(f"node_extra_lead_time_days[{node!r}] must be whole days >= 0, got {days!r}")

    @property
    def po_suppliers(self) -> pd.DataFrame:
        """Open PO lines with their supplier: sku, node, supplier_id, expected_arrival_date, quantity."""
        return self.arrivals.loc[:, list(ARRIVAL_COLUMNS)]

    @property
    def markets(self) -> set[str]:
        return set(self.market_nodes["market"].astype(str))

    @property
    def nodes(self) -> set[str]:
        return set(self.market_nodes["node"].astype(str)) | set(self.on_hand["node"].astype(str)) | set(
            self.arrivals["node"].astype(str)
        )

    @property
    def suppliers(self) -> set[str]:
        ids = pd.concat(
            [self.arrivals["supplier_id"], self.primary_supplier["supplier_id"], self.alternatives["supplier_id"]]
        )
        return set(ids.dropna().astype(str))
