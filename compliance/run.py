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


def country_territories(countries: pd.DataFrame) -> dict[str, str]:
    """ISO country -> its customs territory (the countries seed)."""
    return dict(zip(countries["alpha_2"], countries["customs_territory"]))


def build_plan(sources: ComplianceSources, policy: CompliancePolicy) -> pd.DataFrame:
    """publish.compliance_plan: every SKU x market x route on the planning date."""
    return build_compliance_plan(
        sources.facts, sources.routes, sources.baskets, sources.rules, policy, sources.as_of, sources.customs_risk
    )


def price_order_lines(sources: ComplianceSources, policy: CompliancePolicy, lines: pd.DataFrame) -> pd.DataFrame:
    """The landed cost of the orders whose sale lines are `lines` (all of each order's lines), each on its own day.

    An order's price depends on its own lines and on the sources' rules, catalogue, duty rates, nodes and
    countries, never on another order: compliance/order_store.py prices only new or changed orders and keeps
    the rest, and fingerprints exactly these inputs (`order_store.pricing_inputs`); an input added here must
    be added there.
    """
    return order_landed_costs(
        lines, sources.facts, node_territories(sources.nodes), sources.rules, policy,
        country_territories(sources.countries), sources.duty_rates,
    )


def build_compliance(sources: ComplianceSources, policy: CompliancePolicy) -> ComplianceOutputs:
    """The compliance plan on the planning date and every order's landed cost on its own day (all orders priced)."""
    if sources.lines is None:
        raise ValueError("build_compliance prices every order: read the sources with their lines")
    return ComplianceOutputs(plan=build_plan(sources, policy), orders=price_order_lines(sources, policy, sources.lines))
