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
Each regime's mechanics are a small function in `compliance.regime_rules`;
its thresholds and dates come from the de_minimis seed, so a user can move a
threshold without code. The parcel and its priced result are
`compliance.parcel`'s types.

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

from compliance.parcel import Item, ItemTreatment, Merchant, Parcel, ParcelCost, money_text, to_cents
from compliance.parcel_fees import border_fees, seller_levies
from compliance.regime_rules import PERSONAL_USE_VALUE_SHARE, RegimeContext, no_tariff_on, regime_rule
from compliance.rulebook import Regime, Rulebook

# Territories that value imports FOB (goods only); the others value CIF.
FOB_TERRITORIES: frozenset[str] = frozenset({"US", "CA", "AU"})
# Canada's GST on imports is on the value for duty (FOB) plus duty, without transport.
IMPORT_TAX_WITHOUT_SHIPPING: frozenset[str] = frozenset({"CA"})


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

    ctx = RegimeContext(parcel, regime, merchant, vat_rate, goods, shipping, unit_values)
    treatments = regime_rule(regime.code)(ctx)
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
        reasons.append(f"flat duty: {len(flat_subheadings)} tariff subheading(s) x {money_text(regime.flat_duty_per_item, currency)}")
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
        reasons.append(f"seller's levy {money_text(levies, currency)} (per distinct tariff subheading)")
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
        carrier_decided=ctx.carrier_decided,
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


# what prices a duty without a rate, said by a parcel's reasons and an order's (compliance/orders.py)
UNTIL_A_RATE = ("until a rate is added (duty_rates seed or `crossdock tariff load`), or at all where a loaded tariff "
                "sets the duty per kg, per item or compound (the compliance plan's action says which)")


def _no_rate_reason(items: list[Item], territory: str | None) -> str:
    what = ", ".join(f"{i.sku} (heading {i.hs_code[:4]})" if i.hs_code else f"{i.sku} (no HS code)" for i in items)
    return f"no duty rate into {territory} for {what}: its duty, the import VAT on it and the landed cost are not priced {UNTIL_A_RATE}"


def _formal_entry(regime: Regime, goods: float) -> bool:
    """Whether the parcel is a formal entry: above the formal-entry threshold (else the low-value ceiling)."""
    threshold = regime.formal_entry_threshold if regime.formal_entry_threshold is not None else regime.low_value_ceiling
    return threshold is not None and to_cents(goods) > threshold


def _subheading(item: Item) -> str:
    """The tariff subheading an item counts as for a per-subheading charge (its SKU's first six characters when it
    has no HS code: each such SKU counts once)."""
    return (item.hs_code or item.sku)[:6]
