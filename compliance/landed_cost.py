"""Landed cost of one cross-border parcel under the low-value regime in force on its day.

A parcel is what customs sees: the items, their value, the shipping and who
ships it. `parcel_landed_cost` decides, item by item, how duty and VAT are
assessed (relief, tariff, the EU's flat duty, VAT at sale or at import, or
exempt), then prices them:

    goods value      shopper prices net of any VAT the checkout charged
    customs value    goods + shipping where the territory values CIF, goods only where FOB
    duty             rate x customs value (preferential rate when its origin proof is on file)
    VAT              at sale: rate x (goods + shipping); at import: rate x (goods + shipping + duty),
                     Canada: rate x (value for duty + duty)
    fees             import_fees rows that apply to the way the parcel clears
    landed cost      goods + shipping + duty + VAT + fees

Prices in the orders feed are what the shopper paid, "tax included" as the
market shows prices: consumer prices include VAT/GST in Europe, Australia and
Japan (price-indication law), and exclude sales tax in the US and Canada
(`Parcel.prices_include_vat`). So the goods value is the price net of the
destination's VAT where prices include it; an item that ends up exempt from
VAT keeps its full price (the seller keeps what would have been the tax).

Amounts are in the regime's currency (the destination's), with EUR beside.
Each regime's mechanics are a small function below; its thresholds and dates
come from the de_minimis seed, so a user can move a threshold without code.

A parcel whose regime or VAT rate the seeds do not know on its day (a country
they do not list, a day before a rule's first known date, a destination with
no single customs territory) is not priced: its customs value, duty, VAT and
fees are None, `unknowns` names what was missing, and `reasons` says why.

A parcel whose regime is known but one of whose dutiable items has no duty
rate is assessed (thresholds, treatments, customs value) but its duty is None,
and so is every amount built on it: the import VAT of that item, the fees that
depend on whether anything is collected at the border, the landed cost and
what the shopper pays at the door (`unknowns` = duty_rate). An item that pays
no duty (relief under a threshold, the EU's flat duty, Swiss industrial goods)
does not need a rate, so a parcel of them stays priced.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from compliance.parcel_fees import border_fees, seller_levies
from compliance.rulebook import Regime, Rulebook

# Territories that value imports FOB (goods only); the others value CIF.
FOB_TERRITORIES: frozenset[str] = frozenset({"US", "CA", "AU"})
# Japan values goods imported for personal use at 60% of the overseas retail price.
PERSONAL_USE_VALUE_SHARE: dict[str, float] = {"JP": 0.6}
# Canada's GST on imports is on the value for duty (FOB) plus duty, without transport.
IMPORT_TAX_WITHOUT_SHIPPING: frozenset[str] = frozenset({"CA"})
# The registration that lets a seller charge the destination's VAT at checkout.
SALE_SCHEME: dict[str, str] = {"EU": "IOSS", "GB": "GB_VAT", "NO": "VOEC", "AU": "AU_GST", "CH": "CH_VAT"}
# Where charging VAT at sale is the law for low-value goods (the seller must register), not an option.
MANDATORY_SALE_SCHEME: frozenset[str] = frozenset({"GB", "NO", "AU"})
# Switzerland abolished duty on industrial goods (HS chapters 25-97) on 2024-01-01.
CH_INDUSTRIAL_TARIFF_END = date(2024, 1, 1)
# Swiss import VAT is not collected when it amounts to CHF 5 or less.
CH_TAX_MINIMUM = 5.0


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


def _chapter(hs_code: str | None) -> int | None:
    return int(hs_code[:2]) if hs_code and hs_code[:2].isdigit() else None


def to_cents(amount: float) -> float:
    """An amount as customs compares it with a threshold: to the cent. A net price worked back from a gross one
    (5 x 35.70 / 1.19) carries float noise (150.00000000000003), which must not tip a parcel over EUR 150.00."""
    return round(amount, 2)


def _money(value: float, currency: str) -> str:
    return f"{currency} {value:,.2f}"


class _Context:
    """The facts a regime decides on, in the regime's currency."""

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

    def all_items(self, duty: str, vat: str) -> list[ItemTreatment]:
        return [ItemTreatment(duty, vat) for _ in self.parcel.items]

    def within(self, threshold: float | None) -> bool:
        return threshold is not None and to_cents(self.goods) <= threshold

    def money(self, value: float | None) -> str:
        return _money(value or 0.0, self.regime.currency)


def _sale_vat(ctx: _Context, territory: str) -> str:
    """VAT at sale when the seller holds the scheme; else at import, noting the registration."""
    scheme = SALE_SCHEME[territory]
    if scheme in ctx.merchant.registrations:
        return "at_sale"
    ctx.registration_needed = scheme
    return "at_sale" if territory in MANDATORY_SALE_SCHEME else "at_import"


def _eu(ctx: _Context) -> list[ItemTreatment]:
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


def _sale_below_ceiling(territory: str, value: str, above: str, below: str) -> Callable[[_Context], list[ItemTreatment]]:
    """UK and Australia: at or below the ceiling no duty and VAT/GST charged at sale; above it, the border collects both."""

    def rule(ctx: _Context) -> list[ItemTreatment]:
        r = ctx.regime
        if not ctx.within(r.low_value_ceiling):
            ctx.reasons.append(f"{r.code}: {value} {ctx.money(ctx.goods)} > {ctx.money(r.low_value_ceiling)}: {above}")
            return ctx.all_items("tariff", "at_import")
        vat = _sale_vat(ctx, territory)
        ctx.reasons.append(f"{r.code}: {value} {ctx.money(ctx.goods)} <= {ctx.money(r.low_value_ceiling)}: {below}")
        return ctx.all_items("relief", vat)

    return rule


def _us(ctx: _Context) -> list[ItemTreatment]:
    r = ctx.regime
    under = ctx.within(r.duty_threshold) and (r.duty_threshold or 0) > 0
    treatments = []
    for item in ctx.parcel.items:
        excluded = (item.origin_country or "") in r.excluded_origins
        treatments.append(ItemTreatment("relief" if under and not excluded else "tariff", "none"))
    if r.duty_threshold == 0:
        ctx.reasons.append(f"{r.code}: no de minimis on {ctx.parcel.day}: duty on every shipment")
    elif under:
        ctx.reasons.append(f"{r.code}: value {ctx.money(ctx.goods)} <= {ctx.money(r.duty_threshold)}: duty-free"
                           + (f" except goods of {' '.join(sorted(r.excluded_origins))} origin" if r.excluded_origins else ""))
    else:
        ctx.reasons.append(f"{r.code}: value {ctx.money(ctx.goods)} > {ctx.money(r.duty_threshold)}: duty due")
    return treatments


def _ca(ctx: _Context) -> list[ItemTreatment]:
    r = ctx.regime
    fta = ctx.parcel.courier and ctx.parcel.shipper_country in r.courier_fta_origins
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


def _jp(ctx: _Context) -> list[ItemTreatment]:
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


def _ch(ctx: _Context) -> list[ItemTreatment]:
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


def _no(ctx: _Context) -> list[ItemTreatment]:
    r = ctx.regime
    treatments = []
    for value in ctx.unit_values:
        if value < (r.low_value_ceiling or 0):
            treatments.append(ItemTreatment("tariff", _sale_vat(ctx, "NO")))
        else:
            treatments.append(ItemTreatment("tariff", "at_import"))
    ctx.reasons.append(f"{r.code}: items under {ctx.money(r.low_value_ceiling)} carry VAT charged at sale (VOEC); dearer items pay import VAT")
    return treatments


REGIME_RULES: dict[str, Callable[[_Context], list[ItemTreatment]]] = {
    "eu_ioss": _eu,
    "eu_ioss_flat_duty": _eu,
    "uk_low_value": _sale_below_ceiling("GB", "consignment", "duty and import VAT at the border",
                                        "duty relief, VAT charged at sale by the seller"),
    "us_section_321": _us,
    "us_de_minimis_suspended": _us,
    "ca_cusma_courier": _ca,
    "au_low_value_gst": _sale_below_ceiling("AU", "customs value", "import declaration, duty and GST at the border",
                                            "no duty, GST charged at sale"),
    "jp_small_value": _jp,
    "ch_low_value": _ch,
    "no_voec": _no,
}


def _duty_rate(item: Item, merchant: Merchant) -> tuple[float | None, float]:
    """(rate applied, saving if an available preference were claimed)."""
    pref = item.preferential_rate if item.preferential_agreement else None
    if pref is not None and item.preferential_agreement in merchant.claimed_agreements:
        return pref, 0.0
    if item.mfn_rate is None:
        return None, 0.0
    return item.mfn_rate, (item.mfn_rate - pref) if pref is not None else 0.0


def parcel_landed_cost(parcel: Parcel, rules: Rulebook, merchant: Merchant = Merchant()) -> ParcelCost:
    """Price `parcel` under the rules in force on its day (see the module docstring for the formula)."""
    regime = rules.regime(parcel.territory, parcel.day)
    vat_rate = rules.vat_rate(parcel.destination, parcel.day)
    upe = rules.find_units_per_eur(regime.currency, parcel.day) if regime else None
    parcel_upe = rules.find_units_per_eur(parcel.currency, parcel.day)
    if regime is None or vat_rate is None or upe is None or parcel_upe is None:
        return _unpriced(parcel, regime, vat_rate, rules, merchant)
    currency = regime.currency
    to_customs = upe / parcel_upe

    divisor = 1 + vat_rate if parcel.prices_include_vat else 1.0
    unit_values = [item.unit_price * to_customs / divisor for item in parcel.items]
    item_goods = [v * item.quantity for v, item in zip(unit_values, parcel.items)]
    goods = sum(item_goods)
    shipping = parcel.shipping * to_customs

    ctx = _Context(parcel, regime, merchant, vat_rate, goods, shipping, unit_values)
    treatments = REGIME_RULES[regime.code](ctx)
    reasons, registration = ctx.reasons, ctx.registration_needed
    if vat_rate == 0:
        for t in treatments:
            t.vat = "none"
    if divisor != 1.0:
        # an exempt item's price carried no tax: its goods value is the full price
        item_goods = [g * divisor if t.vat == "exempt" else g for g, t in zip(item_goods, treatments)]
        goods = sum(item_goods)

    cif = parcel.territory not in FOB_TERRITORIES
    shares = [g / goods if goods else 1 / len(parcel.items) for g in item_goods]
    value_share = PERSONAL_USE_VALUE_SHARE.get(parcel.territory, 1.0)
    customs_values = [value_share * g + (shipping * s if cif else 0.0) for g, s in zip(item_goods, shares)]

    # an item that pays the tariff without a known rate has an unknown duty (None), never 0: the rate may be anything
    duty_items: list[float | None] = []
    saving, unrated = 0.0, []
    flat_subheadings = {_subheading(item) for item, t in zip(parcel.items, treatments) if t.duty == "flat"}
    for item, t, value in zip(parcel.items, treatments, customs_values):
        if t.duty != "tariff":
            duty_items.append(0.0)
            continue
        rate, pref_gap = _duty_rate(item, merchant)
        if rate is None:
            unrated.append(item)
        duty_items.append(None if rate is None else rate * value)
        saving += pref_gap * value
    flat_duty = len(flat_subheadings) * (regime.flat_duty_per_item or 0.0)
    if flat_duty:
        reasons.append(f"flat duty: {len(flat_subheadings)} tariff subheading(s) x {_money(regime.flat_duty_per_item, currency)}")
    if unrated:
        reasons.append(_no_rate_reason(unrated, parcel.territory))
    duty = _total([*duty_items, flat_duty])

    def item_vat(t: ItemTreatment, g: float, s: float, d: float | None) -> float | None:
        if t.vat == "at_sale":
            return vat_rate * (g + shipping * s)
        if t.vat != "at_import":
            return 0.0
        if d is None:  # import VAT is charged on the duty too
            return None
        base = value_share * g + d + flat_duty * s + (0.0 if parcel.territory in IMPORT_TAX_WITHOUT_SHIPPING else shipping * s)
        return vat_rate * base

    vat_items = [item_vat(t, g, s, d) for t, g, s, d in zip(treatments, item_goods, shares, duty_items)]
    vat = _total(vat_items)
    modes = {t.vat for t in treatments}
    at_import = [t.vat == "at_import" for t in treatments]
    border_import_vat = _total([v for v, imported in zip(vat_items, at_import) if imported])

    collected_at_border: bool | None
    if duty is not None and border_import_vat is not None:
        collected_at_border = duty + border_import_vat > 0
    else:
        # with the unknown duties at their least (0): something is collected anyway, or it depends on the missing rate
        floor = sum(d for d in duty_items if d is not None) + flat_duty + sum(
            item_vat(t, g, s, d or 0.0) for t, g, s, d, imported in zip(treatments, item_goods, shares, duty_items, at_import)
            if imported)
        collected_at_border = True if floor > 0 else None
    customs_value = sum(customs_values)
    at_border = border_fees(parcel, rules, customs_value, _formal_entry(regime, goods), collected_at_border, upe)
    levies = seller_levies(parcel, rules, customs_value, len({_subheading(item) for item in parcel.items}), upe)
    if levies:
        reasons.append(f"seller's levy {_money(levies, currency)} (per distinct tariff subheading)")
    fees = None if at_border is None else at_border + levies
    if parcel.incoterm != "DAP" or collected_at_border is False:
        at_door: float | None = 0.0
    else:
        at_door = _total([duty, border_import_vat, at_border])  # the seller's levies are never collected there

    return ParcelCost(
        parcel_id=parcel.parcel_id,
        day=parcel.day,
        destination=parcel.destination,
        regime=regime.code,
        currency=currency,
        units_per_eur=upe,
        vat_rate=vat_rate,
        goods_value=goods,
        shipping=shipping,
        customs_value=customs_value,
        duty=duty,
        vat=vat,
        fees=fees,
        vat_collected="+".join(sorted(modes)),
        duty_treatment="+".join(sorted({t.duty for t in treatments})),
        incoterm=parcel.incoterm,
        collected_at_door=at_door,
        registration_needed=registration,
        preference_unclaimed_saving=saving,
        missing_duty_rate=bool(unrated),
        reasons=reasons,
        unknowns=("duty_rate",) if unrated else (),
    )


def _unpriced(parcel: Parcel, regime: Regime | None, vat_rate: float | None, rules: Rulebook, merchant: Merchant) -> ParcelCost:
    """A parcel the seeds cannot price on its day: what is known (goods where VAT allows, shipping), None for the rest."""
    unknowns, reasons = [], []
    if parcel.territory is None:
        unknowns.append("customs_territory")
        reasons.append(f"{parcel.destination} has no single customs territory: its border cannot be priced")
    elif regime is None:
        unknowns.append("low_value_regime")
        reasons.append(f"no low-value regime for {parcel.territory} on {parcel.day} in the de_minimis seed: duty, tax and fees unknown")
    if vat_rate is None:
        unknowns.append("vat_rate")
        reasons.append(f"no VAT rate for {parcel.destination} on {parcel.day} in the vat_rates seed")
    upe = rules.find_units_per_eur(parcel.currency, parcel.day)
    if upe is None or (regime is not None and rules.find_units_per_eur(regime.currency, parcel.day) is None):
        unknowns.append("currency" if parcel.currency is None else "fx_rate")
        reasons.append(f"no ECB rate for {parcel.currency or 'the market (no currency declared)'} on {parcel.day}")
    gross = sum(item.unit_price * item.quantity for item in parcel.items)
    if not parcel.prices_include_vat:
        goods = gross
    else:
        goods = None if vat_rate is None else gross / (1 + vat_rate)
    # without its regime, whether an item would pay the tariff is unknown: one without a rate is named too
    missing_rate = any(_duty_rate(item, merchant)[0] is None and not no_tariff_on(parcel.territory, item.hs_code, parcel.day)
                       for item in parcel.items)
    if missing_rate:
        unknowns.append("duty_rate")
    return ParcelCost(
        parcel_id=parcel.parcel_id, day=parcel.day, destination=parcel.destination, regime=regime.code if regime else None,
        currency=parcel.currency, units_per_eur=upe, vat_rate=vat_rate, goods_value=goods, shipping=parcel.shipping,
        customs_value=None, duty=None, vat=None, fees=None, vat_collected=None, duty_treatment=None, incoterm=parcel.incoterm,
        collected_at_door=None, registration_needed=None, preference_unclaimed_saving=None, missing_duty_rate=missing_rate,
        reasons=["not priced: " + "; ".join(reasons)], unknowns=tuple(unknowns),
    )


def _total(parts: list[float | None]) -> float | None:
    """The sum, or None when a part is unknown (a partial sum would understate it)."""
    return None if any(p is None for p in parts) else sum(parts)


def _no_rate_reason(items: list[Item], territory: str | None) -> str:
    what = ", ".join(f"{i.sku} (heading {i.hs_code[:4]})" if i.hs_code else f"{i.sku} (no HS code)" for i in items)
    return (f"no duty rate into {territory} for {what}: its duty, the import VAT on it and the landed cost are not priced "
            "until a rate is added (duty_rates seed or `crossdock tariff load`)")


def _formal_entry(regime: Regime, goods: float) -> bool:
    """Whether the parcel is a formal entry: above the formal-entry threshold (else the low-value ceiling)."""
    threshold = regime.formal_entry_threshold if regime.formal_entry_threshold is not None else regime.low_value_ceiling
    return threshold is not None and to_cents(goods) > threshold


def _subheading(item: Item) -> str:
    """The tariff subheading an item counts as for a per-subheading charge (its SKU's first six characters when it
    has no HS code: each such SKU counts once)."""
    return (item.hs_code or item.sku)[:6]
