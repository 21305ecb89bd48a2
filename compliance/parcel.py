"""A cross-border parcel as customs sees it, and the priced result.

`compliance.landed_cost` prices a `Parcel` into a `ParcelCost`; the regime
rules (`compliance.regime_rules`) decide each item's `ItemTreatment`. The
types live here so that both, and the callers that build parcels
(`compliance.orders`, `compliance.plan`), share them without importing the
pricing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Item:
    """One line of a parcel. `unit_price` is what the shopper paid per unit, in the parcel's currency."""

    sku: str
    hs_code: str | None
    origin_country: str | None
    quantity: int
    unit_price: float
    mfn_rate: float | None = None
    preferential_agreement: str | None = None
    preferential_rate: float | None = None


@dataclass(frozen=True)
class Parcel:
    """A consignment to one shopper: `shipping` is the carriage charged, net of VAT, in `currency`."""

    parcel_id: str
    day: date
    destination: str
    territory: str | None  # None: no single customs territory (a catch-all market); the parcel is not priced
    shipper_country: str
    currency: str | None
    shipping: float
    items: tuple[Item, ...]
    incoterm: str = "DDP"
    courier: bool = True
    prices_include_vat: bool = False


@dataclass(frozen=True)
class Merchant:
    """What the seller holds: VAT-at-sale registrations and the origin proofs on file."""

    registrations: frozenset[str] = frozenset()
    claimed_agreements: frozenset[str] = frozenset()


@dataclass
class ItemTreatment:
    duty: str = "tariff"  # relief | tariff | flat | none
    vat: str = "at_import"  # at_sale | at_import | exempt | none


@dataclass
class ParcelCost:
    """The priced parcel. Amounts in `currency` (the regime's); `*_eur` at the day's ECB rate."""

    parcel_id: str
    day: date
    destination: str
    regime: str | None
    currency: str
    units_per_eur: float | None
    vat_rate: float | None
    goods_value: float | None
    shipping: float
    customs_value: float | None
    duty: float | None
    vat: float | None
    fees: float | None
    vat_collected: str | None
    duty_treatment: str | None
    incoterm: str
    collected_at_door: float | None
    registration_needed: str | None
    preference_unclaimed_saving: float | None
    missing_duty_rate: bool  # a dutiable item had no duty rate: duty and the amounts built on it are None
    reasons: list[str] = field(default_factory=list)
    unknowns: tuple[str, ...] = ()  # compliance.unknowns names of what the None amounts needed
    carrier_decided: bool = False  # courier or post clearance changed the regime's outcome (Parcel.courier)

    @property
    def assessed(self) -> bool:
        """The regime, VAT rate and FX of the day were known, so each item's treatment is (amounts may still
        be None for want of a duty rate)."""
        return self.duty_treatment is not None

    @property
    def landed_cost(self) -> float | None:
        parts = (self.goods_value, self.shipping, self.duty, self.vat, self.fees)
        return None if any(p is None for p in parts) else sum(parts)

    def eur(self, amount: float | None) -> float | None:
        return None if amount is None or self.units_per_eur is None else amount / self.units_per_eur


def to_cents(amount: float) -> float:
    """An amount as customs compares it with a threshold: to the cent. A net price worked back from a gross one
    (5 x 35.70 / 1.19) carries float noise (150.00000000000003), which must not tip a parcel over EUR 150.00."""
    return round(amount, 2)


def money_text(value: float, currency: str) -> str:
    """An amount as the reasons quote it: `EUR 1,234.50`."""
    return f"{currency} {value:,.2f}"
