"""How each low-value regime treats a parcel's items: duty relief, tariff or flat duty; VAT at sale, at import
or exempt.

`compliance.landed_cost` looks up the regime in force on the parcel's day
(`compliance.rulebook`), hands its rule in `REGIME_RULES` a `RegimeContext`
(the parcel's facts in the regime's currency) and prices the treatments the
rule returns. Each rule is a small function; its thresholds and dates come
from the de_minimis seed, so a user can move a threshold without code. A
regime code that needs a treatment of its own is a function here, registered
in `REGIME_RULES` (a code without an entry fails at the first parcel priced
under it, saying so; tests/test_reference_seeds.py fails first).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from compliance.parcel import ItemTreatment, Merchant, Parcel, money_text, to_cents
from compliance.rulebook import Regime

# Japan values goods imported for personal use at 60% of the overseas retail price.
PERSONAL_USE_VALUE_SHARE: dict[str, float] = {"JP": 0.6}
# The registration that lets a seller charge the destination's VAT at checkout.
SALE_SCHEME: dict[str, str] = {"EU": "IOSS", "GB": "GB_VAT", "NO": "VOEC", "AU": "AU_GST", "CH": "CH_VAT"}
# Where charging VAT at sale is the law for low-value goods (the seller must register), not an option.
MANDATORY_SALE_SCHEME: frozenset[str] = frozenset({"GB", "NO", "AU"})
# Switzerland abolished duty on industrial goods (HS chapters 25-97) on 2024-01-01.
CH_INDUSTRIAL_TARIFF_END = date(2024, 1, 1)
# Swiss import VAT is not collected when it amounts to CHF 5 or less.
CH_TAX_MINIMUM = 5.0


def _chapter(hs_code: str | None) -> int | None:
    return int(hs_code[:2]) if hs_code and hs_code[:2].isdigit() else None



class RegimeContext:
    """The facts a regime decides on, in the regime's currency; a rule notes its reasons and a registration the
    seller lacks here."""

    def __init__(self, parcel: Parcel, regime: Regime, merchant: Merchant, vat_rate: float, goods: float,
                 shipping: float, unit_values: list[float]):
        self.parcel = parcel
        self.shipping = shipping
        self.regime = regime
        self.merchant = merchant
        self.vat_rate = vat_rate
        self.goods = goods
        self.unit_values = unit_values
        self.reasons: list[str] = []
        self.registration_needed: str | None = None
        self.carrier_decided = False  # a rule whose outcome depends on courier or post clearance sets it

    def all_items(self, duty: str, vat: str) -> list[ItemTreatment]:
        return [ItemTreatment(duty, vat) for _ in self.parcel.items]

    def within(self, threshold: float | None) -> bool:
        return threshold is not None and to_cents(self.goods) <= threshold

    def money(self, value: float | None) -> str:
        return money_text(value or 0.0, self.regime.currency)


def _sale_vat(ctx: RegimeContext, territory: str) -> str:
    """VAT at sale when the seller holds the scheme; else at import, noting the registration."""
    scheme = SALE_SCHEME[territory]
    if scheme in ctx.merchant.registrations:
        return "at_sale"
    ctx.registration_needed = scheme
    return "at_sale" if territory in MANDATORY_SALE_SCHEME else "at_import"


def _eu(ctx: RegimeContext) -> list[ItemTreatment]:
    r = ctx.regime
    if not ctx.within(r.low_value_ceiling):
        ctx.reasons.append(f"{r.code}: intrinsic value {ctx.money(ctx.goods)} > {ctx.money(r.low_value_ceiling)}: tariff duty and import VAT")
        return ctx.all_items("tariff", "at_import")
    vat = _sale_vat(ctx, "EU")
    duty = "flat" if r.flat_duty_per_item else "relief"
    ctx.reasons.append(
        f"{r.code}: intrinsic value {ctx.money(ctx.goods)} <= {ctx.money(r.low_value_ceiling)}: "
        + ("VAT charged at sale (IOSS)" if vat == "at_sale" else "no IOSS number, so VAT is collected at import")
        + ("; flat duty " + ctx.money(r.flat_duty_per_item) + " per tariff subheading" if duty == "flat" else "; duty relief")
    )
    return ctx.all_items(duty, vat)


def _sale_below_ceiling(territory: str, value: str, above: str, tax_at_sale: str) -> Callable[[RegimeContext], list[ItemTreatment]]:
    """UK and Australia: at or below the ceiling VAT/GST charged at sale, and no duty up to the duty threshold
    (the ceiling when the row gives none); above the ceiling, the border collects both.

    The duty threshold is read, not assumed equal to the ceiling: the UK has
    said its duty relief on low-value imports will end while VAT stays
    charged at sale, which is a row with duty_threshold 0, not new code.
    """

    def rule(ctx: RegimeContext) -> list[ItemTreatment]:
        r = ctx.regime
        if not ctx.within(r.low_value_ceiling):
            ctx.reasons.append(f"{r.code}: {value} {ctx.money(ctx.goods)} > {ctx.money(r.low_value_ceiling)}: {above}")
            return ctx.all_items("tariff", "at_import")
        vat = _sale_vat(ctx, territory)
        duty_free_to = r.low_value_ceiling if r.duty_threshold is None else r.duty_threshold
        relief = duty_free_to > 0 and ctx.within(duty_free_to)
        duty = ("duty relief" if relief else "no duty relief: tariff duty" if duty_free_to <= 0
                else f"over the duty threshold {ctx.money(duty_free_to)}: tariff duty")
        ctx.reasons.append(f"{r.code}: {value} {ctx.money(ctx.goods)} <= {ctx.money(r.low_value_ceiling)}: {duty}, {tax_at_sale}")
        return ctx.all_items("relief" if relief else "tariff", vat)

    return rule


def _us(ctx: RegimeContext) -> list[ItemTreatment]:
    r = ctx.regime
    under = ctx.within(r.duty_threshold) and (r.duty_threshold or 0) > 0
    treatments = []
    for item in ctx.parcel.items:
        excluded = (item.origin_country or "") in r.excluded_origins
        treatments.append(ItemTreatment("relief" if under and not excluded else "tariff", "none"))
    if r.duty_threshold == 0:
        ctx.reasons.append(f"{r.code}: no de minimis on {ctx.parcel.day}: duty on every shipment")
    elif under:
        barred = sorted({item.origin_country for item in ctx.parcel.items if (item.origin_country or "") in r.excluded_origins})
        if barred and all(t.duty == "tariff" for t in treatments):  # the parcel's own excluded goods, not every origin
            outcome = f"no relief: its goods are of {' '.join(barred)} origin, which de minimis excludes; the tariff applies"
        elif barred:
            outcome = f"duty-free but for its goods of {' '.join(barred)} origin, which de minimis excludes: the tariff applies to them"
        else:
            outcome = "duty-free" + (f" (goods of {' '.join(sorted(r.excluded_origins))} origin would not be)"
                                     if r.excluded_origins else "")
        ctx.reasons.append(f"{r.code}: value {ctx.money(ctx.goods)} <= {ctx.money(r.duty_threshold)}: {outcome}")
    else:
        ctx.reasons.append(f"{r.code}: value {ctx.money(ctx.goods)} > {ctx.money(r.duty_threshold)}: duty due")
    return treatments


def _ca(ctx: RegimeContext) -> list[ItemTreatment]:
    r = ctx.regime
    ctx.carrier_decided = ctx.parcel.shipper_country in r.courier_fta_origins  # by post, the general thresholds
    fta = ctx.parcel.courier and ctx.carrier_decided
    duty_threshold = r.courier_fta_duty_threshold if fta else r.duty_threshold
    tax_threshold = r.courier_fta_vat_threshold if fta else r.vat_threshold
    duty = "relief" if ctx.within(duty_threshold) else "tariff"
    vat = "exempt" if ctx.within(tax_threshold) else "at_import"
    route = f"courier from {ctx.parcel.shipper_country} (CUSMA thresholds)" if fta else "postal / non-CUSMA"
    ctx.reasons.append(
        f"{r.code}: {route}, value for duty {ctx.money(ctx.goods)}: duty "
        + ("free" if duty == "relief" else "due") + f" (threshold {ctx.money(duty_threshold)}), GST/HST "
        + ("free" if vat == "exempt" else "due") + f" (threshold {ctx.money(tax_threshold)})"
    )
    return ctx.all_items(duty, vat)


def _jp(ctx: RegimeContext) -> list[ItemTreatment]:
    r = ctx.regime
    taxable = PERSONAL_USE_VALUE_SHARE["JP"] * ctx.goods
    if to_cents(taxable) > (r.duty_threshold or 0):
        ctx.reasons.append(f"{r.code}: taxable value 60% x {ctx.money(ctx.goods)} = {ctx.money(taxable)} > {ctx.money(r.duty_threshold)}: duty and consumption tax")
        return ctx.all_items("tariff", "at_import")
    treatments = []
    for item in ctx.parcel.items:
        excluded = any((item.hs_code or "").startswith(p) for p in r.duty_exclusion_hs_prefixes)
        treatments.append(ItemTreatment("tariff", "at_import") if excluded else ItemTreatment("relief", "exempt"))
    ctx.reasons.append(f"{r.code}: taxable value {ctx.money(taxable)} <= {ctx.money(r.duty_threshold)}: exempt"
                       + (" except goods that are never exempt" if any(t.duty == "tariff" for t in treatments) else ""))
    return treatments


def duty_free_from(territory: str | None, hs_code: str | None) -> date | None:
    """The day from which the territory charges no duty at all on these goods, whatever their heading's rate, so
    that no duty rate is needed: Swiss industrial goods (chapters 25-97) from 2024-01-01. None: duty is charged."""
    chapter = _chapter(hs_code)
    return CH_INDUSTRIAL_TARIFF_END if territory == "CH" and chapter is not None and chapter >= 25 else None


def no_tariff_on(territory: str | None, hs_code: str | None, day: date) -> bool:
    """Whether the territory charges no duty on these goods on `day` (duty_free_from); parcels and pallets alike."""
    start = duty_free_from(territory, hs_code)
    return start is not None and day >= start


def _ch(ctx: RegimeContext) -> list[ItemTreatment]:
    r = ctx.regime
    treatments = [ItemTreatment("none" if no_tariff_on("CH", item.hs_code, ctx.parcel.day) else "tariff", "at_import")
                  for item in ctx.parcel.items]
    if SALE_SCHEME["CH"] in ctx.merchant.registrations:
        ctx.reasons.append(f"{r.code}: seller registered for Swiss VAT (mail-order rule): VAT charged at sale")
        for t in treatments:
            t.vat = "at_sale"
        return treatments
    # import VAT is not collected when it would be CHF 5 or less (duty-free industrial goods: VAT on value + shipping)
    tax = ctx.vat_rate * (ctx.goods + ctx.shipping)
    if to_cents(tax) <= CH_TAX_MINIMUM:
        ctx.reasons.append(f"{r.code}: import VAT {ctx.money(tax)} <= {ctx.money(CH_TAX_MINIMUM)}: not collected")
        for t in treatments:
            t.vat = "exempt"
    else:
        ctx.reasons.append(f"{r.code}: import VAT {ctx.money(tax)} > {ctx.money(CH_TAX_MINIMUM)}: collected at import")
    return treatments


def _no(ctx: RegimeContext) -> list[ItemTreatment]:
    r = ctx.regime
    treatments = []
    for value in ctx.unit_values:
        if value < (r.low_value_ceiling or 0):
            treatments.append(ItemTreatment("tariff", _sale_vat(ctx, "NO")))
        else:
            treatments.append(ItemTreatment("tariff", "at_import"))
    ctx.reasons.append(f"{r.code}: items under {ctx.money(r.low_value_ceiling)} carry VAT charged at sale (VOEC); dearer items pay import VAT")
    return treatments


REGIME_RULES: dict[str, Callable[[RegimeContext], list[ItemTreatment]]] = {
    "eu_ioss": _eu,
    "eu_ioss_flat_duty": _eu,
    "uk_low_value": _sale_below_ceiling("GB", "consignment", "duty and import VAT at the border",
                                        "VAT charged at sale by the seller"),
    "us_section_321": _us,
    "us_de_minimis_suspended": _us,
    "ca_cusma_courier": _ca,
    "au_low_value_gst": _sale_below_ceiling("AU", "customs value", "import declaration, duty and GST at the border",
                                            "GST charged at sale"),
    "jp_small_value": _jp,
    "ch_low_value": _ch,
    "no_voec": _no,
}


def regime_rule(code: str) -> Callable[[RegimeContext], list[ItemTreatment]]:
    """The rule of a regime code, or an error naming what to add: a code with a row in de_minimis.csv and no
    treatment here would price nothing from its first day."""
    try:
        return REGIME_RULES[code]
    except KeyError:
        raise LookupError(
            f"regime {code!r} (dbt_project/seeds/de_minimis.csv) has no treatment in compliance/regime_rules.py: "
            f"register one in REGIME_RULES, or give the row one of its codes ({', '.join(sorted(REGIME_RULES))})"
        ) from None
