"""The fees a cross-border parcel pays: the clearance fees of its border, and the seller's per-subheading levies.

Kept apart from landed_cost.py, which decides the parcel's regime, duty and
VAT: a fee turns on three facts that module has worked out (whether the
parcel is a formal entry, whether anything is collected at the border, how
many tariff subheadings it holds) and on the import_fees rows in force. A fee
row whose destination is one country of a territory of several (IT, FR, MC
inside the EU) is a national charge, paid by the parcels shipped there.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from compliance.rulebook import Fee, Rulebook

if TYPE_CHECKING:
    from compliance.parcel import Parcel

SELLER_PER_SUBHEADING = "seller_per_subheading"  # import_fees.applies_when of a levy the seller owes per subheading


def border_fees(parcel: Parcel, rules: Rulebook, customs_value: float, formal: bool,
                collected_at_border: bool | None, upe: float) -> float | None:
    """The clearance fees and the carrier's fee for collecting at the door (DAP). When whether anything is collected
    at the border is unknown (a missing duty rate), the fees that are the same either way, else None."""
    def fees(border: bool) -> float:
        return _clearance_fees(parcel, rules, customs_value, formal, border, parcel.incoterm == "DAP" and border, upe)

    if collected_at_border is not None:
        return fees(collected_at_border)
    charged, not_charged = fees(True), fees(False)
    return charged if charged == not_charged else None


def seller_levies(parcel: Parcel, rules: Rulebook, customs_value: float, subheadings: int, upe: float) -> float:
    """Charges the seller owes per distinct tariff subheading of a low-value parcel (France's taxe sur les petits
    colis): part of the landed cost whatever the incoterm, never collected from the shopper at the door."""
    total = 0.0
    for fee in _in_force(parcel, rules):
        to_fee = rules.units_per_eur(fee.currency, parcel.day) / upe
        if fee.applies_when == SELLER_PER_SUBHEADING and fee.covers(customs_value * to_fee):
            total += subheadings * fee.charge(customs_value * to_fee) / to_fee
    return total


def _in_force(parcel: Parcel, rules: Rulebook) -> list[Fee]:
    """The territory's fees, plus a national charge of the ship-to country when it is one country of a territory
    of several (Italy's contribution on low-value consignments inside the EU customs territory)."""
    national = rules.fees(parcel.destination, parcel.day) if parcel.destination != parcel.territory else []
    return [*rules.fees(parcel.territory, parcel.day), *national]


def _clearance_fees(parcel: Parcel, rules: Rulebook, customs_value: float, formal: bool, collected_at_border: bool,
                    collected_at_door: bool, upe: float) -> float:
    """The fees of the clearance the parcel goes through, and the carrier's fee for collecting at the door (DAP)."""
    total = 0.0
    for fee in _in_force(parcel, rules):
        clearance = (
            fee.applies_when == "always"
            or (fee.applies_when == "formal_entry" and formal)
            or (fee.applies_when == "informal_entry" and collected_at_border and not formal)
        )
        at_door = fee.applies_when == "dap_collection" and collected_at_door
        to_fee = rules.units_per_eur(fee.currency, parcel.day) / upe
        if (clearance or at_door) and fee.covers(customs_value * to_fee):
            total += fee.charge(customs_value * to_fee) / to_fee
    return total
