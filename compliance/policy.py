"""The merchant's compliance set-up and the cost assumptions, in one place a planner can tune.

Freight rates are assumptions until carriers' rate cards are ingested; they
are labelled as such in docs/compliance.md and carried in every output row's
basis, so nobody mistakes them for quotes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from compliance.parcel import Merchant

# Consumer prices exclude sales tax in these customs territories; elsewhere
# price-indication law makes shop prices VAT/GST-inclusive.
TAX_EXCLUSIVE_PRICE_TERRITORIES: frozenset[str] = frozenset({"US", "CA"})
# A merchant with stock in a country is VAT-registered there: the scheme that gives.
NODE_COUNTRY_REGISTRATION: dict[str, str] = {"GB": "GB_VAT", "AU": "AU_GST", "NO": "VOEC", "CH": "CH_VAT"}
# Shipping weight of a SKU whose catalogue line has none (an assumption, like the freight rates).
DEFAULT_WEIGHT_KG = 0.5


@dataclass(frozen=True)
class CompliancePolicy:
    """Tunable inputs of the compliance plan (Dagster config mirrors these)."""

    parcel_eur_per_kg: float = 3.0  # outbound parcel to the shopper (assumption)
    parcel_min_eur: float = 4.0  # cheapest parcel (assumption)
    inbound_eur_per_kg: float = 1.2  # supplier to node, consolidated (assumption)
    default_incoterm: str = "DDP"
    incoterms: Mapping[str, str] = field(default_factory=dict)  # market -> DDP | DAP
    registrations: frozenset[str] = frozenset()  # IOSS, GB_VAT, VOEC, AU_GST, CH_VAT held on top of the nodes'
    claimed_agreements: frozenset[str] = frozenset()  # agreements whose origin proof is on file
    customs_hold_flag_rate: float = 0.15  # flag a route whose parcels are held this often or more
    # carriers that clear as post (Canada's CUSMA courier thresholds do not apply to mail); others clear as courier
    postal_carriers: frozenset[str] = frozenset(
        {"USPS", "Royal Mail", "PostNL", "Australia Post", "Japan Post", "Canada Post", "Deutsche Post", "La Poste", "Swiss Post", "Posten"}
    )
    basket_days: int = 90  # days of orders the typical basket and the routes are taken from

    def incoterm(self, market: str) -> str:
        return self.incoterms.get(market, self.default_incoterm)

    def merchant(self, node_countries: Iterable[str]) -> Merchant:
        """The registrations held: the configured ones plus those that come with a node in the country."""
        held = set(self.registrations) | {NODE_COUNTRY_REGISTRATION[c] for c in node_countries if c in NODE_COUNTRY_REGISTRATION}
        return Merchant(registrations=frozenset(held), claimed_agreements=frozenset(self.claimed_agreements))

    def is_courier(self, carrier: str | None) -> bool:
        """Unknown carriers count as courier: the plan's routes assume courier clearance."""
        return carrier is None or carrier not in self.postal_carriers

    def parcel_shipping_eur(self, weight_kg: float) -> float:
        return max(self.parcel_min_eur, weight_kg * self.parcel_eur_per_kg)


def prices_include_vat(territory: str) -> bool:
    return territory not in TAX_EXCLUSIVE_PRICE_TERRITORIES
