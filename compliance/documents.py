"""Flags, the documents a shipment needs, and the action text a planner reads.

Each flag has one sentence that says what to do; the plan's `action` joins
the sentences of its flags in priority order, so the first thing to fix
comes first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from compliance.unknowns import split_unknowns
from crossdock.hs_codes import UNKNOWN_CHAPTER

# The origin proof each agreement accepts (certificate, statement or certification of origin).
ORIGIN_PROOF: dict[str, str] = {
    "CUSMA": "CUSMA certification of origin (nine minimum data elements)",
    "USMCA": "USMCA certification of origin (nine minimum data elements)",
    "EU-UK TCA": "statement on origin on the invoice (EU-UK TCA) or importer's knowledge",
    "EU-Japan EPA": "statement on origin (EU-Japan EPA) or importer's knowledge",
    "UK-Japan CEPA": "statement on origin (UK-Japan CEPA) or importer's knowledge",
    "CPTPP": "certification of origin (CPTPP)",
    "EU GSP EBA": "statement on origin by a REX-registered exporter (EU GSP)",
    "UK DCTS": "statement on origin (UK DCTS)",
}

REGISTRATION_ACTION: dict[str, str] = {
    "IOSS": "Register for IOSS (or use a marketplace that has it): without it the shopper pays import VAT, "
    "and usually a carrier fee, when the parcel arrives.",
    "GB_VAT": "Register for UK VAT: sellers of parcels of GBP 135 or less to UK shoppers must charge UK VAT at sale.",
    "VOEC": "Register for VOEC: Norwegian VAT must be charged at sale on items under NOK 3,000.",
    "AU_GST": "Register for Australian GST: GST on goods of AUD 1,000 or less is charged at sale by the seller.",
    "CH_VAT": "Check the Swiss mail-order rule: above CHF 100,000 a year of small consignments you must register for Swiss VAT.",
}

SCHEME_DOCUMENT: dict[str, str] = {
    "IOSS": "IOSS number on the customs declaration",
    "GB_VAT": "UK VAT number on the invoice",
    "VOEC": "VOEC number on the parcel's declaration",
    "AU_GST": "ABN or ARN and 'GST paid' on the invoice",
}

PARCEL_SCHEME: dict[str, str] = {"EU": "IOSS", "GB": "GB_VAT", "NO": "VOEC", "AU": "AU_GST"}
FLAG_SEPARATOR = "; "  # between flags; a flag's own detail ("restricted: cosmetics, flammable") uses commas


@dataclass(frozen=True)
class Flag:
    code: str
    action: str


def origin_proof(agreement: str) -> str:
    return ORIGIN_PROOF.get(agreement, f"certificate or statement of origin ({agreement})")


def rules_unknown_flag(market: str, unknowns: str | None, day: date) -> list[Flag]:
    """The market's border rules the seeds do not know on `day`: the row is not (fully) priced."""
    names = split_unknowns(unknowns)
    if "customs_territory" in names:
        return [Flag("rules_unknown: customs_territory",
                     f"{market} groups many countries with different borders, so it is not priced as one: "
                     "publish.order_landed_cost prices each of its orders under its own country's rules; "
                     "give a country with many orders its own market in crossdock.yaml.")]
    missing = [n for n in ("vat_rate", "low_value_regime") if n in names]
    if not missing:
        return []
    what = {"vat_rate": ("VAT rate", "vat_rates"), "low_value_regime": ("low-value regime", "de_minimis")}
    return [Flag(f"rules_unknown: {', '.join(missing)}",
                 f"No {' or '.join(what[n][0] for n in missing)} for {market} on {day}: add "
                 + " and ".join(f"its {what[n][0]} to the {what[n][1]} seed" for n in missing)
                 + " to price the market's landed cost.")]


def unit_cost_flag(unknowns: str | None) -> list[Flag]:
    if "unit_cost" not in split_unknowns(unknowns):
        return []
    return [Flag("missing_unit_cost", "Add the SKU's purchase cost to the supplier catalogue: "
                                      "its landed cost per unit and bulk duty cannot be priced without it.")]


def hs_flags(hs_code: str | None, hs_code_valid: bool, has_rate: bool, heading_territory: str | None,
             rate_source: str | None = None) -> list[Flag]:
    """HS code problems; no_duty_rate only for a known territory (the catch-all's is flagged as rules_unknown).

    `rate_source` names the tariff whose row the heading met without a rate (a duty per kg, per item or compound):
    adding a rate cannot help there, as a loaded file's row wins over the seed's."""
    if hs_code is None or len(hs_code) < 4:
        return [Flag("missing_hs_code", "Add a 6-digit HS code to the catalogue: duty and restrictions cannot be assessed without it.")]
    flags = []
    if len(hs_code) < 6:  # a heading: the seed's duty rates are per heading, so its duty is priced; what it cannot tell is said
        flags.append(Flag("incomplete_hs_code", f"HS code {hs_code} names its heading {hs_code[:4]} only: its duty is priced at "
                                                "the heading's rate, but restricted goods and rates set per subheading cannot "
                                                "be checked; add the 6-digit subheading to the catalogue."))
    elif not hs_code_valid:
        flags.append(Flag("invalid_hs_code", f"HS code {hs_code} is not an HS 2022 subheading (invalid or retired): reclassify the SKU."))
    if not has_rate and heading_territory is not None and rate_source is not None:
        flags.append(Flag("no_duty_rate", f"The duty for HS code {hs_code} into {heading_territory} in {rate_source} "
                                          "is not a plain ad valorem rate (per kg, per item or compound), which crossdock "
                                          "does not price: where duty is due, its duty and landed cost are not priced; "
                                          "work them out from that tariff line."))
    elif not has_rate and heading_territory is not None:
        flags.append(Flag("no_duty_rate", f"No duty rate for heading {hs_code[:4]} into {heading_territory}: where duty is due, "
                                          "its duty and landed cost are not priced until a rate is added; add it to the "
                                          "duty_rates seed or load your tariff file with `crossdock tariff load`."))
    return flags


def restriction_flag(market: str, categories: str | None, documents: str | None) -> list[Flag]:
    if not categories:
        return []
    need = f" Keep ready: {documents}." if documents else ""
    return [Flag(f"restricted: {categories}", f"Check the {categories} rules for {market} before shipping.{need}")]


def preference_flag(origin: str, agreement: str | None, mfn: float | None, pref: float | None,
                    claimed: bool, saving_eur_per_unit: float) -> list[Flag]:
    if not agreement or pref is None or mfn is None or mfn <= pref or claimed or saving_eur_per_unit <= 0:
        return []
    return [Flag("preference_unclaimed", f"{origin} origin qualifies for {agreement} ({pref:.1%} instead of {mfn:.1%}): "
                                         f"keep a {origin_proof(agreement)} on file to save EUR {saving_eur_per_unit:.2f} per unit.")]


def registration_flag(scheme: str | None) -> list[Flag]:
    return [Flag(f"registration_needed: {scheme}", REGISTRATION_ACTION.get(scheme, f"Register for {scheme}."))] if scheme else []


def door_flag(incoterm: str, at_door_eur: float) -> list[Flag]:
    if incoterm != "DAP" or at_door_eur <= 0:
        return []
    return [Flag("collected_at_door", f"Shoppers pay about EUR {at_door_eur:.2f} of duty, tax and fees at the door (DAP): "
                                      "consider shipping DDP to avoid refused parcels.")]


def customs_hold_flag(lane: str, chapter: str, hold_rate: float | None, added_days: float | None, threshold: float) -> list[Flag]:
    if hold_rate is None or hold_rate < threshold:
        return []
    goods = "goods of no known HS chapter" if chapter == UNKNOWN_CHAPTER else f"chapter {chapter} goods"
    return [Flag("customs_hold_risk", f"{hold_rate:.0%} of {lane} parcels with {goods} are held at customs "
                                      f"(+{added_days or 0:.1f} days expected): promise the longer time and send complete documents.")]


def documents_required(import_flow: str, territory: str, vat_collected: str, formal_entry: bool,
                       agreement: str | None, restricted_documents: str | None) -> str:
    """The papers a shipment on this route needs, '; '-separated, most basic first."""
    docs = ["commercial invoice"]
    if import_flow == "domestic_goods":  # made inside the territory it is stocked and sold in: nothing crosses a border
        docs += ["packing list"]
    elif import_flow == "bulk_import_via_node":
        docs += ["packing list", "bill of lading or air waybill", "import declaration at the node's border"]
    else:
        docs.append("import declaration (formal entry)" if formal_entry else "postal CN22/CN23 or courier low-value declaration")
        scheme = PARCEL_SCHEME.get(territory)
        if scheme and "at_sale" in vat_collected:
            docs.append(SCHEME_DOCUMENT[scheme])
    if agreement:
        docs.append(origin_proof(agreement))
    if restricted_documents:
        docs.append(restricted_documents)
    return "; ".join(docs)


def join_flags(flags: list[Flag]) -> str | None:
    return FLAG_SEPARATOR.join(f.code for f in flags) or None


def flag_counts(plan: pd.DataFrame) -> pd.DataFrame:
    """How many plan rows carry each flag type (the part before ':'), most frequent first."""
    kinds = plan["flags"].dropna().str.split(FLAG_SEPARATOR).explode().str.replace(r":.*", "", regex=True)
    counts = kinds.value_counts().rename_axis("flag").reset_index(name="rows")
    return counts.sort_values(["rows", "flag"], ascending=[False, True]).reset_index(drop=True)
