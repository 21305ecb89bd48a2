"""The compliance assets: price every SKU x market x route and every order under the rules of its day.

Thin wiring: compliance/facts.py (over dbt's intermediate models) gathers the
facts, compliance/run.py applies the rules; this module reads, calls, stages
and reports. Both tables are written for any merchant (no catalogue, a
catch-all market, orders older than the reference data): what cannot be priced
is null and named in their `unknowns` column, never a failed step.

Orders are priced incrementally (compliance/order_store.py): only those new or
changed since the last run, or all of them when a rule, rate, node, the
catalogue, the policy or the code changed; the metadata says which and why.
"""

import datetime as dt

import dagster as dg
import pandas as pd

from compliance.documents import flag_counts
from compliance.facts import read_compliance_sources
from compliance.order_store import OrderPricing, OrderTableSummary, price_orders, summarize_orders
from compliance.policy import CompliancePolicy
from compliance.run import build_plan
from compliance.staleness import (
    DEFAULT_MAX_SOURCE_AGE_DAYS,
    ENDED,
    LOW_CONFIDENCE,
    OLD_SOURCE,
    RULE_SEEDS,
    SOURCE_ONLY_SEEDS,
    TARIFF_FILES,
    findings_frame,
    read_places_served,
    stale_rules,
    summary_line,
)
from compliance.unknowns import unknown_counts
from crossdock.merchant_settings import ComplianceSettings
from crossdock.publish import stage_table, staged
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import model_key, required_planning_date
from orchestration.lib.resources import WAREHOUSE_POOL, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

COMPLIANCE_PLAN = dg.AssetKey(["publish", "compliance_plan"])
RULES_CURRENT = "border_rules_are_current"
ORDER_LANDED_COST = dg.AssetKey(["publish", "order_landed_cost"])

INPUTS = [
    model_key("intermediate", "int_sku_market_compliance"),
    model_key("intermediate", "int_sku_duty_rates"),
    model_key("intermediate", "int_order_lines_eur"),
    model_key("intermediate", "int_sale_lines_shipped_from"),
    model_key("intermediate", "int_fx_daily"),
    model_key("intermediate", "int_planning_calendar"),
    model_key("publish", "customs_risk"),
    *(model_key("reference", seed) for seed in ("de_minimis", "vat_rates", "import_fees", "markets", "nodes", "countries")),
]


class ComplianceConfig(dg.Config):
    default_incoterm: str = CompliancePolicy.default_incoterm  # DDP (seller pays duty and tax) or DAP (shopper pays at the door)
    incoterms: dict[str, str] = {}  # per market, e.g. {"CA": "DAP"}
    registrations: list[str] = []  # IOSS, GB_VAT, VOEC, AU_GST, CH_VAT held beyond those a node gives
    claimed_agreements: list[str] = []  # agreements whose origin proof is on file, e.g. ["CUSMA"]
    parcel_eur_per_kg: float = CompliancePolicy.parcel_eur_per_kg
    parcel_min_eur: float = CompliancePolicy.parcel_min_eur
    inbound_eur_per_kg: float = CompliancePolicy.inbound_eur_per_kg
    customs_hold_flag_rate: float = CompliancePolicy.customs_hold_flag_rate
    postal_carriers: list[str] = list(CompliancePolicy.postal_carriers)
    basket_days: int = CompliancePolicy.basket_days
    max_rule_age_days: int = DEFAULT_MAX_SOURCE_AGE_DAYS  # a rule source older than this on the planning date warns

    def policy(self, merchant: ComplianceSettings = ComplianceSettings()) -> CompliancePolicy:
        """The policy of crossdock.yaml's `compliance:` section (`merchant`), with this run config's on top: its
        incoterms win per market, its default incoterm wins when it is not DDP, and registrations and claimed
        agreements add up."""
        default = self.default_incoterm if self.default_incoterm != CompliancePolicy.default_incoterm else merchant.default_incoterm
        incoterms = {**merchant.incoterms, **self.incoterms}
        for market, term in {"default": default, **incoterms}.items():
            if term not in ("DDP", "DAP"):
                raise ValueError(f"incoterm for {market} is {term!r}: use DDP or DAP")
        return CompliancePolicy(
            parcel_eur_per_kg=self.parcel_eur_per_kg, parcel_min_eur=self.parcel_min_eur,
            inbound_eur_per_kg=self.inbound_eur_per_kg, default_incoterm=default,
            incoterms=incoterms, registrations=frozenset(self.registrations) | frozenset(merchant.registrations),
            claimed_agreements=frozenset(self.claimed_agreements) | frozenset(merchant.claimed_agreements),
            customs_hold_flag_rate=self.customs_hold_flag_rate, basket_days=self.basket_days,
            postal_carriers=frozenset(self.postal_carriers),
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            COMPLIANCE_PLAN, deps=INPUTS, group_name="compliance", kinds={"python", "duckdb"}, owners=["team:compliance"],
            metadata=documented_table("publish", "compliance_plan"),
            description="Per SKU x destination market x route (the node parcels leave from): HS code, duty (MFN or "
            "preferential), VAT, the de minimis regime in force and how it treats a typical basket, the basket's landed "
            "cost (goods, shipping, duty, VAT, fees; DDP or DAP), the merchant's landed cost per unit, customs-hold risk, "
            "flags, documents and the action to take.",
        ),
        dg.AssetSpec(
            ORDER_LANDED_COST, deps=INPUTS, group_name="compliance", kinds={"python", "duckdb"}, owners=["team:compliance"],
            metadata=documented_table("publish", "order_landed_cost"),
            description="Per order: the landed cost under the rules in force on the order's day (regime, duty, VAT and "
            "who collects it, fees, what the shopper pays at the door).",
        ),
    ],
    check_specs=[dg.AssetCheckSpec(
        RULES_CURRENT, asset=COMPLIANCE_PLAN, blocking=False,
        description="Warns when a border rule of a place the merchant ships to or from has aged on the planning date "
        "(compliance/staleness.py): a fee, regime or VAT rate whose last period ended with nothing after it (so it "
        "is no longer applied), a source older than max_rule_age_days (365), duty rows of confidence low. Never "
        "changes a price.",
    )],
    pool=WAREHOUSE_POOL,
)
def compliance_tables(context: dg.AssetExecutionContext, config: ComplianceConfig, warehouse: WarehouseResource,
                      merchant_config: MerchantConfigFile):
    policy = config.policy(merchant_config.compliance())
    with warehouse.open() as tables:
        as_of = required_planning_date(tables, "the compliance plan")
        sources = read_compliance_sources(tables, as_of, policy.basket_days, staged("customs_risk"), with_lines=False)
        _warn_unknown_agreements(context, policy, sources.facts)
        seeds = {name: tables.query(f"select * from reference.{name}") for name in SOURCE_ONLY_SEEDS}  # the rulebook has the others
        if tables.exists(f"reference.{TARIFF_FILES}"):
            seeds[TARIFF_FILES] = tables.query(f"select * from reference.{TARIFF_FILES}")
        places = read_places_served(tables)
        plan = build_plan(sources, policy)
        stage_table(tables, "compliance_plan", plan, context.run_id)
        pricing = price_orders(tables, sources, policy, context.run_id)  # stages order_landed_cost
        orders = summarize_orders(tables)
    context.log.info(f"compliance plan: {len(plan):,} SKU x market x route rows; {pricing.summary()}")
    _log_unknowns(context, "compliance plan rows", _unknown_counts(plan))
    _log_unknowns(context, "orders", orders.unknowns)
    yield dg.MaterializeResult(asset_key=COMPLIANCE_PLAN, metadata=_plan_metadata(plan))
    yield _rules_current(context, {**sources.rules.tables, **seeds}, sources.as_of, config.max_rule_age_days, places)
    yield dg.MaterializeResult(asset_key=ORDER_LANDED_COST, metadata=_order_metadata(orders, pricing))


def _warn_unknown_agreements(context: dg.AssetExecutionContext, policy: CompliancePolicy, facts: pd.DataFrame) -> None:
    """A claimed agreement no duty rate names claims nothing: most likely a name written another way."""
    named = set(facts["preferential_agreement"].dropna())
    unknown = sorted(set(policy.claimed_agreements) - named)
    if unknown:
        context.log.warning(
            f"claimed agreements that no preferential rate names, so they claim nothing: {', '.join(unknown)} "
            f"(the names in use: {', '.join(sorted(named)) or 'none'})")


def _rules_current(context: dg.AssetExecutionContext, seeds: dict[str, pd.DataFrame], as_of: dt.date, max_age_days: int,
                   places: frozenset[str]) -> dg.AssetCheckResult:
    """The warning check border_rules_are_current: what aged among the rules of the places served on the planning date."""
    found = stale_rules({name: seeds.get(name) for name in (*RULE_SEEDS, TARIFF_FILES)}, as_of, max_age_days, places)
    line = summary_line(found, as_of)
    if found:
        context.log.warning(line)
    frame = findings_frame(found)
    return dg.AssetCheckResult(
        check_name=RULES_CURRENT, asset_key=COMPLIANCE_PLAN, passed=not found, severity=dg.AssetCheckSeverity.WARN,
        description=line,
        metadata={**{kind: int((frame["kind"] == kind).sum()) for kind in (ENDED, OLD_SOURCE, LOW_CONFIDENCE)},
                  "findings": dg.MetadataValue.md(frame.to_markdown(index=False) if len(frame) else "none"),
                  "planning_date": str(as_of), "max_rule_age_days": max_age_days,
                  "places_served": ", ".join(sorted(places))},
    )


def _unknown_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows per unknown (a row with several counts once under each) and the markets they are in."""
    names = frame.loc[frame["unknowns"].notna(), ["unknowns", "market"]]
    names = names.assign(unknown=names["unknowns"].str.split(",")).explode("unknown")
    return unknown_counts(names.groupby(["unknown", "market"], dropna=False).size().reset_index(name="rows"))


def _log_unknowns(context: dg.AssetExecutionContext, name: str, counts: pd.DataFrame) -> None:
    if len(counts):
        context.log.warning(f"{name} not fully priced: " + "; ".join(
            f"{r.unknown} unknown in {r.rows:,} ({r.markets})" for r in counts.itertuples()))


def _plan_metadata(plan: pd.DataFrame) -> dict:
    by_market = plan.groupby(["market", "import_flow"], dropna=False).agg(
        rows=("sku", "size"), flagged=("flag_count", lambda s: int((s > 0).sum())),
        landed_eur_per_unit=("landed_cost_eur_per_unit", "mean"), basket_duty_eur=("basket_duty_eur", "mean"),
    ).reset_index()
    return {
        "dagster/row_count": len(plan),
        "as_of": str(plan["as_of"].iloc[0]) if len(plan) else "",
        "flags_by_type": dg.MetadataValue.md(flag_counts(plan).to_markdown(index=False)),
        "unknowns": dg.MetadataValue.md(_unknown_counts(plan).to_markdown(index=False)),
        "rows_with_unknowns": int(plan["unknowns"].notna().sum()),
        "by_market_and_route": dg.MetadataValue.md(by_market.round(2).to_markdown(index=False)),
    }


def _order_metadata(orders: OrderTableSummary, pricing: OrderPricing) -> dict:
    return {
        "dagster/row_count": orders.rows,
        "order_pricing": pricing.summary(),
        "orders_priced": pricing.priced,
        "orders_removed": pricing.removed,
        "repriced_all": pricing.repriced_all,
        "by_market_and_regime": dg.MetadataValue.md(orders.by_market_and_regime.round(0).to_markdown(index=False)),
        "unknowns": dg.MetadataValue.md(orders.unknowns.to_markdown(index=False)),
        "orders_with_unknowns": orders.orders_with_unknowns,
    }
