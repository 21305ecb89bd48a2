"""A run's compliance tables from their sources: the plan per SKU x market x route and the landed cost per order.

Both price under the same rulebook and policy, and the orders need the nodes'
and countries' customs territories as lookups: that composition is compliance
knowledge, so it lives here and not in the Dagster asset, which only reads
`ComplianceSources` (compliance/facts.py), calls `build_compliance`, writes
`ComplianceOutputs` and reports. It is tested without Dagster.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from compliance.facts import ComplianceSources
from compliance.orders import order_landed_costs
from compliance.plan import build_compliance_plan
from compliance.policy import CompliancePolicy


@dataclass(frozen=True)
class ComplianceOutputs:
    """The two published compliance tables of a run.

    Attributes:
        plan: publish.compliance_plan, one row per SKU x market x route.
        orders: publish.order_landed_cost, one row per order.
    """

    plan: pd.DataFrame
    orders: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The published tables by name (crossdock.published), in the order they are staged."""
        return {"compliance_plan": self.plan, "order_landed_cost": self.orders}


def node_territories(nodes: pd.DataFrame) -> dict[str, tuple[str, str | None]]:
    """node_code -> (country, customs territory): where a parcel from the node crosses a border."""
    return {r.node_code: (r.country, r.customs_territory) for r in nodes.itertuples(index=False)}


def build_compliance(sources: ComplianceSources, policy: CompliancePolicy) -> ComplianceOutputs:
    """The compliance plan on the planning date and every order's landed cost on its own day."""
    plan = build_compliance_plan(
        sources.facts, sources.routes, sources.baskets, sources.rules, policy, sources.as_of, sources.customs_risk
    )
    orders = order_landed_costs(
        sources.lines, sources.facts, node_territories(sources.nodes), sources.rules, policy,
        dict(zip(sources.countries["alpha_2"], sources.countries["customs_territory"])), sources.duty_rates,
    )
    return ComplianceOutputs(plan=plan, orders=orders)
