"""Hand-worked landed costs, one regime at a time, under the shipped de_minimis and vat_rates seeds.

Each test writes out its inputs, the rule and rates that apply on the day,
and the arithmetic, so a reviewer can check it with a pencil. Fees are left
out here (an empty fee table) and tested on their own below, so each number
has one reason. FX is a fixed hand table: amounts are in the destination's
currency and the EUR figures divide by the rate written in the test.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from compliance.landed_cost import parcel_landed_cost
from compliance.parcel import Item, Merchant, Parcel
from compliance.rulebook import Rulebook

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
FX = pd.DataFrame(
    [("2020-01-01", c, r) for c, r in {"GBP": 0.85, "USD": 1.10, "CAD": 1.50, "AUD": 1.65, "JPY": 160.0, "CHF": 0.95, "NOK": 11.5}.items()],
    columns=["calendar_date", "currency", "units_per_eur"],
)


def rulebook(fees: pd.DataFrame | None = None) -> Rulebook:
    return Rulebook(
        de_minimis=pd.read_csv(SEEDS / "de_minimis.csv"),
        vat_rates=pd.read_csv(SEEDS / "vat_rates.csv"),
        fees=fees,
        fx=FX,
    )


RULES = rulebook()
IOSS = Merchant(registrations=frozenset({"IOSS"}))


def tshirt(qty: int, price: float, **kw) -> Item:
    return Item("APP-1", "610910", kw.pop("origin", "BD"), qty, price, **{"mfn_rate": 0.12, **kw})


def lipstick(qty: int, price: float, **kw) -> Item:
    return Item("BEA-1", "330410", kw.pop("origin", "FR"), qty, price, **{"mfn_rate": 0.0, **kw})


def eu_parcel(day: date, merchant: Merchant = IOSS):
    """A UK warehouse ships to a shopper in Germany; German shop prices include 19% VAT.

    2 T-shirts (6109.10) at EUR 35.70 = 30.00 net each, 1 lipstick (3304.10) at EUR 23.80 = 20.00 net.
    Intrinsic value 2 x 30 + 20 = EUR 80.00 <= EUR 150. Shipping EUR 6.00.
    """
    parcel = Parcel("EU-1", day, "DE", "EU", "GB", "EUR", 6.0, (tshirt(2, 35.70), lipstick(1, 23.80)), prices_include_vat=True)
    return parcel_landed_cost(parcel, RULES, merchant)


def test_eu_order_under_150_via_ioss_before_the_flat_duty():
    """2026-06-15, regime eu_ioss: duty relief <= EUR 150; VAT at sale (IOSS) 19% on goods + shipping.

    VAT = 0.19 x (80 + 6) = 16.34. Landed = 80 + 6 + 0 + 16.34 = 102.34.
    """
    cost = eu_parcel(date(2026, 6, 15))
    assert cost.regime == "eu_ioss"
    assert cost.goods_value == pytest.approx(80.00)
    assert cost.duty == 0.0
    assert cost.vat_collected == "at_sale"
    assert cost.vat == pytest.approx(16.34)
    assert cost.landed_cost == pytest.approx(102.34)
    assert cost.collected_at_door == 0.0 and cost.registration_needed is None


def test_eu_order_under_150_via_ioss_from_2026_07_01_pays_3_eur_per_tariff_subheading():
    """2026-07-15, regime eu_ioss_flat_duty: EUR 3 per distinct subheading; 610910 and 330410 = 2 items.

    Duty = 2 x 3.00 = 6.00. VAT at sale unchanged 16.34. Landed = 80 + 6 + 6.00 + 16.34 = 108.34.
    """
    cost = eu_parcel(date(2026, 7, 15))
    assert cost.regime == "eu_ioss_flat_duty"
    assert cost.duty == pytest.approx(6.00)
    assert cost.vat == pytest.approx(16.34)
    assert cost.landed_cost == pytest.approx(108.34)


def test_eu_order_without_ioss_pays_import_vat_on_goods_shipping_and_duty():
    """Same parcel on 2026-07-15 from a seller without IOSS: VAT at import, base = CIF value + duty.

    VAT = 0.19 x (80 + 6 + 6) = 17.48; the missing registration is named.
    """
    cost = eu_parcel(date(2026, 7, 15), Merchant())
    assert cost.vat_collected == "at_import"
    assert cost.vat == pytest.approx(17.48)
    assert cost.registration_needed == "IOSS"


def test_eu_order_over_150_pays_the_tariff_on_the_cif_value():
    """2026-06-15, 5 T-shirts at EUR 35.70 (30.00 net) = EUR 150.00... plus 1 more = 6 x 30 = 180 > 150.

    CIF value = 180 + shipping 6 = 186; duty 12% = 22.32; import VAT 0.19 x (186 + 22.32) = 39.5808.
    Landed = 180 + 6 + 22.32 + 39.5808 = 247.9008.
    """
    parcel = Parcel("EU-2", date(2026, 6, 15), "DE", "EU", "GB", "EUR", 6.0, (tshirt(6, 35.70),), prices_include_vat=True)
    cost = parcel_landed_cost(parcel, RULES, IOSS)
    assert cost.duty_treatment == "tariff" and cost.vat_collected == "at_import"
    assert cost.customs_value == pytest.approx(186.0)
    assert cost.duty == pytest.approx(22.32)
    assert cost.vat == pytest.approx(39.5808)
    assert cost.landed_cost == pytest.approx(247.9008)


def gb_parcel(items: tuple[Item, ...]):
    """The EU hub ships to a UK shopper in GBP; UK prices include 20% VAT. Shipping GBP 5.00. Seller UK VAT registered."""
    parcel = Parcel("GB-1", date(2026, 3, 1), "GB", "GB", "NL", "GBP", 5.0, items, prices_include_vat=True)
    return parcel_landed_cost(parcel, RULES, Merchant(registrations=frozenset({"GB_VAT"})))


def test_uk_order_under_135_pays_vat_at_sale_and_no_duty():
    """1 jacket at GBP 96.00 incl. VAT = 80.00 net <= GBP 135: duty relief, VAT at sale 20% x (80 + 5) = 17.00.

    Landed = 80 + 5 + 17 = GBP 102.00 = EUR 120.00 at 0.85.
    """
    cost = gb_parcel((tshirt(1, 96.00),))
    assert cost.regime == "uk_low_value" and cost.currency == "GBP"
    assert cost.duty == 0.0 and cost.vat_collected == "at_sale"
    assert cost.vat == pytest.approx(17.00)
    assert cost.landed_cost == pytest.approx(102.00)
    assert cost.eur(cost.landed_cost) == pytest.approx(120.00)


def test_uk_order_over_135_pays_duty_and_import_vat_at_the_border():
    """2 T-shirts at GBP 96.00 (80.00 net) + 1 pair of shoes (6403.99, 8%) at GBP 48.00 (40.00 net) = GBP 200 > 135.

    Shipping 5 is split by value: 4.00 to the T-shirts (160/200), 1.00 to the shoes (40/200).
    Duty = 12% x (160 + 4) + 8% x (40 + 1) = 19.68 + 3.28 = 22.96.
    Import VAT = 20% x (200 + 5 + 22.96) = 45.592. Landed = 200 + 5 + 22.96 + 45.592 = 273.552.
    """
    shoes = Item("FTW-1", "640399", "VN", 1, 48.00, mfn_rate=0.08)
    cost = gb_parcel((tshirt(2, 96.00), shoes))
    assert cost.duty_treatment == "tariff" and cost.vat_collected == "at_import"
    assert cost.duty == pytest.approx(22.96)
    assert cost.vat == pytest.approx(45.592)
    assert cost.landed_cost == pytest.approx(273.552)


def test_uk_parcel_over_135_with_an_item_without_a_duty_rate_has_no_duty_import_vat_or_landed_cost():
    """The GBP 200 parcel above with no rate for the shoes (6403.99): 200 > 135, so they pay the tariff at a rate nobody
    knows. Duty = 19.68 + unknown, import VAT = 20% x (200 + 5 + duty): both unknown, and so is the landed cost. The goods
    (200) and the customs value (200 + 5 = 205) do not need the rate."""
    shoes = Item("FTW-1", "640399", "VN", 1, 48.00)
    cost = gb_parcel((tshirt(2, 96.00), shoes))
    assert cost.duty_treatment == "tariff" and cost.vat_collected == "at_import"
    assert cost.goods_value == pytest.approx(200.0) and cost.customs_value == pytest.approx(205.0)
    assert cost.duty is None and cost.vat is None and cost.landed_cost is None
    assert cost.unknowns == ("duty_rate",) and cost.missing_duty_rate
    assert any("no duty rate into GB for FTW-1 (heading 6403)" in reason for reason in cost.reasons)


def test_the_same_item_without_a_rate_in_a_uk_parcel_under_135_needs_none():
    """1 T-shirt at GBP 96.00 (80 net) + the shoes without a rate at GBP 48.00 (40 net) = GBP 120 <= 135: duty relief, so
    no rate is needed. VAT at sale 20% x (120 + 5) = 25.00; landed = 120 + 5 + 25 = GBP 150.00; nothing unknown."""
    cost = gb_parcel((tshirt(1, 96.00), Item("FTW-1", "640399", "VN", 1, 48.00)))
    assert cost.duty == 0.0 and cost.duty_treatment == "relief"
    assert cost.vat == pytest.approx(25.00) and cost.landed_cost == pytest.approx(150.00)
    assert cost.unknowns == () and not cost.missing_duty_rate


def us_parcel(day: date, origin: str = "VN"):
    """A UK warehouse ships 1 T-shirt (6109.10, US MFN 16.5%) at USD 60.00 to a US shopper; shipping USD 8.

    US prices exclude sales tax and the US has no import VAT. The US values FOB: duty on the goods only.
    """
    item = tshirt(1, 60.00, origin=origin, mfn_rate=0.165)
    parcel = Parcel("US-1", day, "US", "US", "GB", "USD", 8.0, (item,))
    return parcel_landed_cost(parcel, RULES)


def test_us_order_before_2025_08_29_is_duty_free_under_800():
    """2025-08-15, us_section_321 (CN/HK excluded from 2025-05-02): VN goods, USD 60 <= 800: duty-free.

    Landed = 60 + 8 = USD 68.00.
    """
    cost = us_parcel(date(2025, 8, 15))
    assert cost.regime == "us_section_321"
    assert cost.duty == 0.0 and cost.vat == 0.0 and cost.vat_collected == "none"
    assert cost.landed_cost == pytest.approx(68.00)


def test_us_order_from_2025_08_29_pays_duty_on_the_fob_value():
    """2025-09-15, us_de_minimis_suspended: duty = 16.5% x 60 (FOB, no shipping) = 9.90. Landed = 60 + 8 + 9.90 = 77.90."""
    cost = us_parcel(date(2025, 9, 15))
    assert cost.regime == "us_de_minimis_suspended"
    assert cost.customs_value == pytest.approx(60.00)
    assert cost.duty == pytest.approx(9.90)
    assert cost.landed_cost == pytest.approx(77.90)


def test_us_order_of_chinese_goods_lost_de_minimis_on_2025_05_02():
    """2025-06-01, us_section_321 with CN excluded: the same USD 60 T-shirt made in CN pays 9.90; a day before the cut-off it did not."""
    chinese = us_parcel(date(2025, 6, 1), origin="CN")
    assert chinese.duty == pytest.approx(9.90)
    # the reason names this parcel's excluded goods, not "duty-free" beside a duty
    assert any(reason.endswith("<= USD 800.00: no relief: its goods are of CN origin, which de minimis excludes; "
                               "the tariff applies") for reason in chinese.reasons), chinese.reasons
    assert any(reason.endswith("duty-free (goods of CN HK origin would not be)") for reason in us_parcel(date(2025, 6, 1)).reasons)
    mixed = Parcel("US-2", date(2025, 6, 1), "US", "US", "GB", "USD", 8.0,
                   (tshirt(1, 30.00, origin="CN", mfn_rate=0.165), tshirt(1, 30.00, origin="VN", mfn_rate=0.165)))
    cost = parcel_landed_cost(mixed, RULES)
    assert cost.duty == pytest.approx(0.165 * 30.00)  # the Chinese tee's only
    assert any(reason.endswith("duty-free but for its goods of CN origin, which de minimis excludes: the tariff applies "
                               "to them") for reason in cost.reasons), cost.reasons
    assert us_parcel(date(2025, 5, 1), origin="CN").duty == 0.0


def ca_parcel(courier: bool, merchant: Merchant = Merchant(claimed_agreements=frozenset({"CUSMA"}))):
    """US-EWR ships 2 hoodies (6110.20, made in the US: CA MFN 18%, CUSMA 0%) at CAD 45.00 to a Canadian shopper.

    Canadian prices exclude GST/HST. Value for duty (FOB) = 2 x 45 = CAD 90. Shipping CAD 12.
    """
    hoodie = Item("APP-2", "611020", "US", 2, 45.00, mfn_rate=0.18, preferential_agreement="CUSMA", preferential_rate=0.0)
    parcel = Parcel("CA-1", date(2026, 3, 1), "CA", "CA", "US", "CAD", 12.0, (hoodie,), courier=courier)
    return parcel_landed_cost(parcel, RULES, merchant)


def test_cusma_courier_shipment_to_canada_is_duty_free_and_pays_gst_above_40():
    """Courier from the US: CUSMA thresholds CAD 150 duty / CAD 40 tax. 90 <= 150: no duty; 90 > 40: GST 5%.

    GST base in Canada = value for duty + duty (no shipping) = 90 + 0; GST = 4.50. Landed = 90 + 12 + 0 + 4.50 = 106.50.
    """
    cost = ca_parcel(courier=True)
    assert cost.regime == "ca_cusma_courier"
    assert cost.duty == 0.0 and cost.vat_collected == "at_import"
    assert cost.vat == pytest.approx(4.50)
    assert cost.landed_cost == pytest.approx(106.50)


def test_canada_by_post_uses_cad_20_and_the_cusma_rate_only_with_origin_proof():
    """By post the thresholds are CAD 20: 90 > 20, so the tariff applies.

    With the CUSMA proof on file: 0% duty; without it: MFN 18% x 90 = 16.20, and 16.20 is the saving flagged.
    GST = 5% x (90 + 16.20) = 5.31 without the proof.
    """
    claimed = ca_parcel(courier=False)
    assert claimed.duty == 0.0 and claimed.preference_unclaimed_saving == 0.0
    unclaimed = ca_parcel(courier=False, merchant=Merchant())
    assert unclaimed.duty == pytest.approx(16.20)
    assert unclaimed.preference_unclaimed_saving == pytest.approx(16.20)
    assert unclaimed.vat == pytest.approx(5.31)


def test_only_a_rule_whose_outcome_courier_or_post_changes_says_the_carrier_decided():
    """A parcel from a CUSMA origin into Canada clears at CAD 150 by courier and CAD 20 by post: the carrier decided,
    whichever it was (the orders say so when no carrier is known and courier is assumed). From Germany, or into
    Australia, the same thresholds apply either way."""
    assert ca_parcel(courier=True).carrier_decided and ca_parcel(courier=False).carrier_decided
    hoodie = Item("APP-2", "611020", "DE", 2, 45.00, mfn_rate=0.18)
    from_germany = parcel_landed_cost(Parcel("CA-2", date(2026, 3, 1), "CA", "CA", "DE", "CAD", 12.0, (hoodie,)), RULES)
    assert from_germany.regime is not None and not from_germany.carrier_decided
    assert not au_parcel(110.0).carrier_decided


def au_parcel(price: float):
    """A UK warehouse ships to an Australian shopper; AU prices include 10% GST. Shipping AUD 15. Seller GST-registered."""
    parcel = Parcel("AU-1", date(2026, 3, 1), "AU", "AU", "GB", "AUD", 15.0, (tshirt(1, price, mfn_rate=0.05),), prices_include_vat=True)
    return parcel_landed_cost(parcel, RULES, Merchant(registrations=frozenset({"AU_GST"})))


def test_australian_order_under_1000_carries_gst_at_sale_and_no_duty():
    """AUD 110.00 incl. GST = 100.00 net <= AUD 1,000: no duty, GST at sale 10% x (100 + 15) = 11.50.

    Landed = 100 + 15 + 11.50 = AUD 126.50 = EUR 76.67 at 1.65.
    """
    cost = au_parcel(110.00)
    assert cost.regime == "au_low_value_gst"
    assert cost.duty == 0.0 and cost.vat_collected == "at_sale"
    assert cost.vat == pytest.approx(11.50)
    assert cost.landed_cost == pytest.approx(126.50)
    assert cost.eur(cost.landed_cost) == pytest.approx(76.6667, abs=1e-4)


def test_australian_order_over_1000_pays_duty_on_fob_and_gst_on_the_value_of_the_taxable_importation():
    """AUD 1,320 incl. GST = 1,200 net > 1,000. Duty 5% x 1,200 (FOB) = 60.

    GST base (VoTI) = customs value + duty + transport = 1,200 + 60 + 15 = 1,275; GST = 127.50.
    """
    cost = au_parcel(1320.00)
    assert cost.duty == pytest.approx(60.00)
    assert cost.vat_collected == "at_import"
    assert cost.vat == pytest.approx(127.50)


def test_japan_small_value_exemption_uses_60_percent_of_the_price_and_never_covers_knitwear():
    """JP prices include 10% consumption tax. A mug (6912.00) at JPY 11,000 = 10,000 net; 60% = 6,000 <= 10,000: exempt.

    Exempt items carry no tax, so the goods value is the full JPY 11,000. A knitted T-shirt (chapter 61) at the same
    price is never exempt. Its taxable value (CIF, personal use) = 60% x 10,000 + 1,000 shipping = 7,000;
    duty 10.9% x 7,000 = 763; consumption tax 10% x (7,000 + 763) = 776.30.
    """
    mug = Item("HOM-1", "691200", "CN", 1, 11000.0, mfn_rate=0.034)
    rules, day = RULES, date(2026, 3, 1)
    exempt = parcel_landed_cost(Parcel("JP-1", day, "JP", "JP", "GB", "JPY", 1000.0, (mug,), prices_include_vat=True), rules)
    assert exempt.regime == "jp_small_value"
    assert exempt.duty == 0.0 and exempt.vat == 0.0 and exempt.goods_value == pytest.approx(11000.0)
    knit = tshirt(1, 11000.0, mfn_rate=0.109)
    taxed = parcel_landed_cost(Parcel("JP-2", day, "JP", "JP", "GB", "JPY", 1000.0, (knit,), prices_include_vat=True), rules)
    assert taxed.customs_value == pytest.approx(7000.0)
    assert taxed.duty == pytest.approx(763.0)
    assert taxed.vat == pytest.approx(776.30)


def test_switzerland_collects_no_import_vat_of_chf_5_or_less_and_no_duty_on_industrial_goods():
    """CH 8.1% from 2024. CHF 54.05 incl. VAT = 50.00 net + CHF 10 shipping: VAT 8.1% x 60 = 4.86 <= 5: not collected.

    At CHF 108.10 (100 net): 8.1% x 110 = 8.91 > 5: collected at import. Chapter 61 is industrial: no duty since 2024.
    """
    def ch(price: float):
        parcel = Parcel("CH-1", date(2026, 3, 1), "CH", "CH", "DE", "CHF", 10.0, (tshirt(1, price),), prices_include_vat=True)
        return parcel_landed_cost(parcel, RULES)

    small, large = ch(54.05), ch(108.10)
    assert small.vat == 0.0 and small.vat_collected == "exempt" and small.duty == 0.0
    assert large.vat == pytest.approx(8.91) and large.duty == 0.0


def test_swiss_industrial_goods_need_no_duty_rate_from_2024_and_before_it_their_duty_is_unknown():
    """A T-shirt (chapter 61) without a Swiss rate at CHF 108.10 (100 net): since 2024-01-01 no duty on industrial goods,
    so no rate is needed: import VAT 8.1% x (100 + 10) = 8.91, landed 118.91. On 2023-12-31 it paid the tariff at an
    unknown rate: duty, import VAT (7.7% on a base with the duty) and landed cost unknown."""
    def ch(day: date):
        parcel = Parcel("CH-2", day, "CH", "CH", "DE", "CHF", 10.0, (tshirt(1, 108.10, mfn_rate=None),), prices_include_vat=True)
        return parcel_landed_cost(parcel, RULES)

    after, before = ch(date(2024, 1, 1)), ch(date(2023, 12, 31))
    assert after.duty == 0.0 and after.vat == pytest.approx(8.91) and after.landed_cost == pytest.approx(118.91)
    assert after.unknowns == ()
    assert before.duty is None and before.vat is None and before.landed_cost is None and before.unknowns == ("duty_rate",)


def test_norway_voec_charges_vat_at_sale_per_item_under_nok_3000():
    """NO 25%. Item at NOK 1,250 incl. VAT = 1,000 net < 3,000: VAT at sale 25% x (1,000 + 100 shipping) = 275 (VOEC)."""
    parcel = Parcel("NO-1", date(2026, 3, 1), "NO", "NO", "GB", "NOK", 100.0, (tshirt(1, 1250.0, mfn_rate=0.0),), prices_include_vat=True)
    cost = parcel_landed_cost(parcel, RULES, Merchant(registrations=frozenset({"VOEC"})))
    assert cost.regime == "no_voec" and cost.vat_collected == "at_sale"
    assert cost.vat == pytest.approx(275.0)
    unregistered = parcel_landed_cost(parcel, RULES)
    assert unregistered.registration_needed == "VOEC"


def test_a_day_with_two_overlapping_regimes_is_an_error_that_names_them():
    seed = pd.read_csv(SEEDS / "de_minimis.csv")
    eu = seed[seed["destination"] == "EU"].copy()
    eu.loc[eu["regime"] == "eu_ioss", "effective_to"] = "2026-12-31"
    with pytest.raises(ValueError, match="2 regimes for EU on 2026-08-01.*eu_ioss"):
        Rulebook(eu, pd.read_csv(SEEDS / "vat_rates.csv"), fx=FX).regime("EU", date(2026, 8, 1))


FEES = rulebook(pd.read_csv(SEEDS / "import_fees.csv"))


def test_us_informal_entry_pays_the_merchandise_processing_fee_of_its_fiscal_year():
    """USD 60 <= 2,500 is an informal entry; with duty due the MPF applies: FY2025 USD 2.62, FY2026 (from 2025-10-01) USD 2.69.

    2025-10-15: landed = 60 + 8 + 9.90 duty + 2.69 MPF = 80.59.
    """
    item = tshirt(1, 60.00, origin="VN", mfn_rate=0.165)
    def us(day: date):
        return parcel_landed_cost(Parcel("US-2", day, "US", "US", "GB", "USD", 8.0, (item,)), FEES)

    assert us(date(2025, 9, 15)).fees == pytest.approx(2.62)
    fy26 = us(date(2025, 10, 15))
    assert fy26.fees == pytest.approx(2.69)
    assert fy26.landed_cost == pytest.approx(80.59)
    assert us(date(2025, 8, 15)).fees == 0.0  # duty-free under USD 800: nothing collected, no entry fee


def test_a_us_parcel_without_a_duty_rate_cannot_tell_whether_the_processing_fee_is_due():
    """A USD 60 T-shirt without a US rate. 2025-10-15 (no de minimis): duty unknown, and with no US import VAT whether
    anything is collected at the border, hence the USD 2.69 informal-entry MPF, depends on the rate (0 is a rate too):
    fees unknown. 2025-08-15 (USD 60 <= 800, duty-free) needs no rate: no fee, landed 60 + 8 = 68."""
    item = tshirt(1, 60.00, origin="VN", mfn_rate=None)

    def us(day: date):
        return parcel_landed_cost(Parcel("US-3", day, "US", "US", "GB", "USD", 8.0, (item,)), FEES)

    suspended = us(date(2025, 10, 15))
    assert suspended.duty is None and suspended.vat == 0.0 and suspended.fees is None and suspended.landed_cost is None
    assert suspended.unknowns == ("duty_rate",)
    free = us(date(2025, 8, 15))
    assert free.fees == 0.0 and free.landed_cost == pytest.approx(68.00) and free.unknowns == ()


def test_uk_parcel_over_135_sent_dap_adds_the_carriers_handling_fee_at_the_door():
    """The GBP 200 parcel of the UK test, DAP: Royal Mail's GBP 8 handling fee joins duty 22.96 and VAT 45.592.

    The shopper pays 22.96 + 45.592 + 8 = 76.552 at the door; landed = 273.552 + 8 = 281.552.
    """
    shoes = Item("FTW-1", "640399", "VN", 1, 48.00, mfn_rate=0.08)
    parcel = Parcel("GB-2", date(2026, 3, 1), "GB", "GB", "NL", "GBP", 5.0, (tshirt(2, 96.00), shoes),
                    incoterm="DAP", prices_include_vat=True)
    cost = parcel_landed_cost(parcel, FEES, Merchant(registrations=frozenset({"GB_VAT"})))
    assert cost.fees == pytest.approx(8.0)
    assert cost.collected_at_door == pytest.approx(76.552)
    assert cost.landed_cost == pytest.approx(281.552)


def test_a_uk_dap_parcel_with_an_item_without_a_rate_keeps_the_fee_that_does_not_depend_on_it():
    """The GBP 200 DAP parcel above with no rate for the shoes: import VAT is collected at the border whatever the rate,
    so Royal Mail's GBP 8 handling fee is due and priced; the duty, and so what the shopper pays at the door and the
    landed cost, are unknown."""
    shoes = Item("FTW-1", "640399", "VN", 1, 48.00)
    parcel = Parcel("GB-3", date(2026, 3, 1), "GB", "GB", "NL", "GBP", 5.0, (tshirt(2, 96.00), shoes),
                    incoterm="DAP", prices_include_vat=True)
    cost = parcel_landed_cost(parcel, FEES, Merchant(registrations=frozenset({"GB_VAT"})))
    assert cost.fees == pytest.approx(8.0)
    assert cost.duty is None and cost.collected_at_door is None and cost.landed_cost is None


def test_australian_import_declaration_pays_the_processing_charge_and_the_biosecurity_charge_of_its_year():
    """AUD 1,200 customs value > 1,000: import declaration. IPC AUD 50 (band 1,000-10,000).

    2025-03-01 also pays the 2024-25 air biosecurity charge AUD 45 (= 95); the seed has no 2025-26 amount, so 2026-03-01 pays 50.
    """
    def au(day: date):
        item = tshirt(1, 1320.00, mfn_rate=0.05)
        parcel = Parcel("AU-2", day, "AU", "AU", "GB", "AUD", 15.0, (item,), prices_include_vat=True)
        return parcel_landed_cost(parcel, FEES, Merchant(registrations=frozenset({"AU_GST"})))

    assert au(date(2025, 3, 1)).fees == pytest.approx(95.0)
    assert au(date(2026, 3, 1)).fees == pytest.approx(50.0)


def test_a_parcel_to_italy_pays_its_national_eur_2_contribution_up_to_eur_150_from_2026():
    """Italy's contribution (Legge 199/2025 art. 1 c. 126-128): EUR 2 per consignment of customs value <= EUR 150
    from outside the EU, from 2026-01-01, on top of the EU's rules; a parcel to Germany does not pay it.

    The eu_parcel's goods to IT, shipped DAP from the UK without IOSS on 2026-03-02 (before the EUR 3 duty):
    Italian prices include 22% VAT, so 2 x 35.70 / 1.22 + 23.80 / 1.22 = 78.03 net; customs value 78.03 + 6 = 84.03
    <= 150: relief, import VAT 22% x 84.03 = 18.49, fees 2.00 (Italy) + 6.00 (the EU's default carrier fee at the
    door), all of it collected at the door.
    """
    def to(country: str, day: date, scale: float = 1.0):
        items = (tshirt(2, 35.70 * scale), lipstick(1, 23.80 * scale))
        return parcel_landed_cost(Parcel(f"{country}-1", day, country, "EU", "GB", "EUR", 6.0, items, incoterm="DAP",
                                         prices_include_vat=True), FEES, Merchant())

    italy = to("IT", date(2026, 3, 2))
    assert italy.goods_value == pytest.approx(78.03, abs=0.01) and italy.vat == pytest.approx(18.49, abs=0.01)
    assert italy.fees == pytest.approx(8.0)
    assert italy.collected_at_door == pytest.approx(italy.vat + 8.0)
    assert to("DE", date(2026, 3, 2)).fees == pytest.approx(6.0)  # Germany: the carrier's fee only
    assert to("IT", date(2025, 12, 31)).fees == pytest.approx(6.0)  # before the contribution
    dearer = to("IT", date(2026, 3, 2), scale=2.0)  # customs value 2 x 78.03 + 6 = 162.07 > 150
    assert dearer.fees == pytest.approx(6.0)


def test_a_parcel_to_france_carries_the_sellers_eur_2_per_category_levy_never_collected_at_the_door():
    """France's taxe sur les petits colis from 2026-03-01: EUR 2 per distinct customs category (6-digit subheading
    here) of a consignment up to EUR 150 from outside the EU, owed by the seller. The eu_parcel's goods (two
    T-shirts of one subheading, one lipstick) to FR, DAP without IOSS: 2 categories -> EUR 4 in the fees and the
    landed cost, not in what the shopper pays at the door (VAT 20% of the CIF value + the carrier's EUR 6)."""
    def to(country: str, day: date, scale: float = 1.0):
        items = (tshirt(2, 36.00 * scale), lipstick(1, 24.00 * scale))
        return parcel_landed_cost(Parcel(f"{country}-1", day, country, "EU", "GB", "EUR", 6.0, items, incoterm="DAP",
                                         prices_include_vat=True), FEES, Merchant())

    france = to("FR", date(2026, 3, 2))
    assert france.goods_value == pytest.approx(80.0) and france.vat == pytest.approx(17.20)  # 20% x (80 + 6)
    assert france.fees == pytest.approx(6.0 + 4.0)
    assert france.collected_at_door == pytest.approx(17.20 + 6.0)
    assert france.landed_cost == pytest.approx(80 + 6 + 17.20 + 10.0)
    assert to("MC", date(2026, 3, 2)).fees == pytest.approx(10.0)  # Monaco: the same tax
    assert to("FR", date(2026, 2, 28)).fees == pytest.approx(6.0)  # before it
    assert to("FR", date(2026, 3, 2), scale=2.0).fees == pytest.approx(6.0)  # customs value 166 > 150


def test_a_uk_row_ending_duty_relief_charges_duty_and_keeps_vat_at_sale():
    """The UK's announced end of duty relief on low-value imports, as a row from 2029-04-01 with duty_threshold 0 and
    the same ceiling: a GBP 80 net jacket pays 12% duty on 80 + 5 and VAT at sale; no code changes (the rule reads
    the duty threshold rather than taking the ceiling for it)."""
    seeds = pd.read_csv(SEEDS / "de_minimis.csv")
    current = seeds["regime"].eq("uk_low_value") & seeds["effective_to"].isna()
    seeds.loc[current, "effective_to"] = "2029-03-31"
    ended = seeds[current].assign(effective_from="2029-04-01", effective_to=None, duty_threshold=0)
    rules = Rulebook(de_minimis=pd.concat([seeds, ended], ignore_index=True), vat_rates=pd.read_csv(SEEDS / "vat_rates.csv"),
                     fees=None, fx=FX)
    parcel = Parcel("GB-9", date(2029, 5, 1), "GB", "GB", "NL", "GBP", 5.0, (tshirt(1, 96.00),), prices_include_vat=True)
    cost = parcel_landed_cost(parcel, rules, Merchant(registrations=frozenset({"GB_VAT"})))
    assert cost.regime == "uk_low_value" and cost.duty_treatment == "tariff" and cost.vat_collected == "at_sale"
    assert cost.duty == pytest.approx(0.12 * 85.0)
    assert any("no duty relief: tariff duty, VAT charged at sale" in reason for reason in cost.reasons)
    before = parcel_landed_cost(dataclasses.replace(parcel, day=date(2029, 3, 31)), rules,
                                Merchant(registrations=frozenset({"GB_VAT"})))
    assert before.duty == 0.0 and before.duty_treatment == "relief"
