"""The worked examples of docs/compliance.md are priced by the code, so the page and the code cannot drift apart.

Each example in the doc's "Worked examples" section is one fenced `yaml` block:
the parcel, the seed rows it is priced under, the hand arithmetic and the
result. For every block this test

- prices the parcel with `compliance.landed_cost.parcel_landed_cost` under the
  shipped seeds (de_minimis, vat_rates, import_fees, read through `Rulebook`
  as tests/test_compliance_landed_cost.py does);
- checks each rule value the block quotes against its seed row (and that the
  row is, or is not, in force on the parcel's day), and each source it names
  against the row's `source`;
- redoes each step of the arithmetic (`name = expression = value`, or a
  comparison such as `80.00 <= 150`) and checks the stated value;
- checks each result, and each step whose name is a result, against the code.

Editing the doc without the code, or the code without the doc, fails here.
Below the blocks, the scope of the EU's EUR 3 duty is tested case by case.
"""
from __future__ import annotations

import ast
import math
import operator
import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from compliance.landed_cost import parcel_landed_cost
from compliance.parcel import Item, Merchant, Parcel, ParcelCost
from test_compliance_landed_cost import FEES, IOSS, SEEDS, lipstick, tshirt

DOC = Path(__file__).resolve().parents[1] / "docs" / "compliance.md"
SECTION = "## Worked examples"
# what every example must show (the brief of the section: duty, VAT/GST, fees, landed cost, collected at the door)
REQUIRED_RESULTS = {"regime", "duty", "vat", "fees", "landed_cost", "collected_at_door"}
# a figure in the doc is written to the cent: it may differ from the exact one by half a cent
CENT = 0.005 + 1e-9
# the seed that holds each kind of rule row, and the column a block names the row by
SEED_KEYS = {"de_minimis": "regime", "vat_rates": "country_code", "import_fees": "fee_code"}


def _section(text: str) -> str:
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end < 0 else text[start:end]


def _examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", _section(DOC.read_text(encoding="utf-8")), flags=re.S)
    return [yaml.safe_load(block) for block in blocks]


EXAMPLES = _examples()
SEED_FRAMES = {name: pd.read_csv(SEEDS / f"{name}.csv") for name in SEED_KEYS}


# --- the arithmetic of a step -------------------------------------------------------------------

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_CALLS = {"min": min, "max": max}


def _python(expression: str) -> str:
    """The doc's notation as Python: × is *, − is -, ≤ / ≥ are <= / >=, 12.5% is (12.5/100)."""
    text = expression.replace("×", "*").replace("−", "-").replace("≤", "<=").replace("≥", ">=")
    return re.sub(r"(\d+(?:\.\d+)?)%", r"(\1/100)", text)


def _evaluate(node: ast.AST) -> Any:
    """Arithmetic only (numbers, + - * /, min, max, one comparison): a step is hand arithmetic, not code."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS:
        return _CALLS[node.func.id](*(_evaluate(a) for a in node.args))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        return _COMPARE[type(node.ops[0])](_evaluate(node.left), _evaluate(node.comparators[0]))
    raise ValueError(f"not hand arithmetic: {ast.dump(node)}")


def arithmetic(expression: str) -> Any:
    return _evaluate(ast.parse(_python(expression).strip(), mode="eval"))


def steps(example: dict[str, Any]) -> list[tuple[str | None, list[str], float | None]]:
    """(name, expressions, stated value) per step; a comparison step is (None, [comparison], None)."""
    out = []
    for step in example["steps"]:
        parts = [p.strip() for p in str(step).split(" = ")]
        if len(parts) == 1:
            out.append((None, parts, None))
        else:
            out.append((parts[0], parts[1:-1], arithmetic(parts[-1])))
    return out


def test_the_step_arithmetic_reads_the_doc_notation_and_rejects_anything_else():
    assert arithmetic("19% × (80.00 + 6.00)") == pytest.approx(16.34)
    assert arithmetic("min(16.00 + 3% × 110.00, 70.00)") == pytest.approx(19.30)
    assert arithmetic("(18% − 0%) × 90.00") == pytest.approx(16.20)
    assert arithmetic("8.91 > 5") is True and arithmetic("4000.00 < 3000") is False
    with pytest.raises(ValueError):
        arithmetic("__import__('os')")


# --- an example's parcel, rules and result ------------------------------------------------------

def _parcel(example: dict[str, Any]) -> tuple[Parcel, Merchant]:
    p = example["parcel"]
    items = tuple(
        Item(
            sku=str(i["sku"]), hs_code=str(i["hs"]), origin_country=str(i["origin"]), quantity=int(i["quantity"]),
            unit_price=float(i["unit_price"]), mfn_rate=i.get("duty_rate"),
            preferential_agreement=i.get("preference"), preferential_rate=i.get("preference_rate"),
        )
        for i in example["items"]
    )
    parcel = Parcel(
        parcel_id=example["example"], day=p["day"], destination=str(p["ship_to"]), territory=str(p["territory"]),
        shipper_country=str(p["from"]), currency=str(p["currency"]), shipping=float(p["shipping"]), items=items,
        incoterm=p["incoterm"], courier=p["carrier"] == "courier", prices_include_vat=bool(p["prices_include_vat"]),
    )
    m = example.get("merchant") or {}
    merchant = Merchant(registrations=frozenset(m.get("registrations") or ()),
                        claimed_agreements=frozenset(m.get("origin_proofs") or ()))
    return parcel, merchant


def priced(example: dict[str, Any]) -> ParcelCost:
    parcel, merchant = _parcel(example)
    return parcel_landed_cost(parcel, FEES, merchant)


def _in_force(row: pd.Series, day: date) -> bool:
    start = pd.Timestamp(row["effective_from"]).date()
    end = None if pd.isna(row["effective_to"]) else pd.Timestamp(row["effective_to"]).date()
    return start <= day and (end is None or day <= end)


def _same(stated: Any, seed_value: Any) -> bool:
    if stated is None:
        return pd.isna(seed_value)
    if isinstance(stated, date):
        return not pd.isna(seed_value) and pd.Timestamp(seed_value).date() == stated
    if isinstance(stated, (int, float)) and not isinstance(stated, bool):
        return not pd.isna(seed_value) and math.isclose(float(seed_value), stated, abs_tol=1e-9)
    return str(stated) == str(seed_value)


def seed_row(rule: dict[str, Any], territory: str, day: date) -> pd.Series:
    """The one seed row a rule entry names: by key and (for regimes and fees) territory; in force on the day,
    or, for an entry marked `in_force: false`, the row of the dates it quotes."""
    frame = SEED_FRAMES[rule["seed"]]
    rows = frame[frame[SEED_KEYS[rule["seed"]]].astype(str) == str(rule["row"])]
    if rule["seed"] != "vat_rates":
        rows = rows[rows["destination"] == territory]
    if rule.get("in_force", True):
        rows = rows[[_in_force(r, day) for _, r in rows.iterrows()]]
    else:
        for column in ("effective_from", "effective_to"):
            if column in rule:
                rows = rows[[_same(rule[column], v) for v in rows[column]]]
    assert len(rows) == 1, f"{rule['seed']} {rule['row']}: {len(rows)} rows match on {day}"
    return rows.iloc[0]


def _result(cost: ParcelCost, name: str) -> Any:
    value = getattr(cost, name)
    return list(value) if isinstance(value, tuple) else value


def _ids() -> list[str]:
    return [e["example"] for e in EXAMPLES]


def test_the_doc_has_a_worked_example_for_every_territory_the_seeds_cover():
    territories = {e["parcel"]["territory"] for e in EXAMPLES}
    assert set(SEED_FRAMES["de_minimis"]["destination"]) <= territories
    assert len(set(_ids())) == len(EXAMPLES), "example ids must be unique"


def test_the_eu_and_us_examples_straddle_the_2026_and_2025_changes_and_the_end_of_the_us_fee_rows():
    """EU: one before the flat duty's first day and one on or after it; US: one after 2025-08-29 with the MPF,
    and one after the last day of the seed's MPF rows."""
    seeds = SEED_FRAMES["de_minimis"]
    flat_from = pd.Timestamp(seeds.loc[seeds["regime"] == "eu_ioss_flat_duty", "effective_from"].iloc[0]).date()
    eu_days = [e["parcel"]["day"] for e in EXAMPLES if e["parcel"]["territory"] == "EU"]
    assert min(eu_days) < flat_from <= max(eu_days)
    fees = SEED_FRAMES["import_fees"]
    mpf_end = max(pd.Timestamp(d).date() for d in fees.loc[fees["fee_code"] == "us_mpf_informal", "effective_to"])
    suspended_from = pd.Timestamp(seeds.loc[seeds["regime"] == "us_de_minimis_suspended", "effective_from"].iloc[0]).date()
    us_days = [e["parcel"]["day"] for e in EXAMPLES if e["parcel"]["territory"] == "US"]
    assert all(d >= suspended_from for d in us_days)
    assert any(d <= mpf_end for d in us_days) and any(d > mpf_end for d in us_days)


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids())
def test_the_rule_rows_quoted_are_the_seed_rows_of_the_day(example):
    day, territory = example["parcel"]["day"], example["parcel"]["territory"]
    cost = priced(example)
    for rule in example["rules"]:
        row = seed_row(rule, territory, day)
        for column, stated in rule.items():
            if column in ("seed", "row", "in_force"):
                continue
            if column == "source":
                assert stated in row["source"], f"{rule['row']}: source {stated!r} is not in {row['source']!r}"
            else:
                assert _same(stated, row[column]), f"{rule['row']}.{column}: doc {stated!r}, seed {row[column]!r}"
    regimes = [r["row"] for r in example["rules"] if r["seed"] == "de_minimis" and r.get("in_force", True)]
    assert regimes == [cost.regime], "the block must quote the regime the parcel is priced under"
    rates = [r for r in example["rules"] if r["seed"] == "vat_rates"]
    assert [r["row"] for r in rates] == [example["parcel"]["ship_to"]]
    assert rates[0]["standard_rate"] == pytest.approx(cost.vat_rate)


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids())
def test_each_step_of_the_hand_arithmetic_holds(example):
    for name, expressions, stated in steps(example):
        for expression in expressions:
            if stated is None:
                assert arithmetic(expression) is True, f"{example['example']}: {expression} does not hold"
            else:
                assert arithmetic(expression) == pytest.approx(stated, abs=CENT), f"{example['example']}: {name} = {expression}"


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids())
def test_the_code_prices_the_parcel_as_the_doc_says(example):
    cost = priced(example)
    results = example["result"]
    assert REQUIRED_RESULTS <= set(results), f"{example['example']} must show {sorted(REQUIRED_RESULTS - set(results))}"
    for name, stated in results.items():
        actual = _result(cost, name)
        if isinstance(stated, (int, float)) and not isinstance(stated, bool):
            assert actual == pytest.approx(stated, abs=CENT), f"{example['example']}: {name} doc {stated}, code {actual}"
        else:
            assert actual == stated, f"{example['example']}: {name} doc {stated!r}, code {actual!r}"
    for name, _, stated in steps(example):
        if name is not None and hasattr(cost, name):
            assert results.get(name, stated) == pytest.approx(stated, abs=CENT), f"{name}: the step and the result differ"
            assert _result(cost, name) == pytest.approx(stated, abs=CENT), f"{example['example']}: step {name} vs code"


# --- the scope of the EU's EUR 3 duty (Council Regulation (EU) 2026/382), case by case ------------

def eu(items: tuple[Item, ...], day: date = date(2026, 7, 15), merchant: Merchant = IOSS) -> ParcelCost:
    """A parcel from the UK to a German shopper (prices include 19% VAT), shipping EUR 6, priced under the seeds."""
    return parcel_landed_cost(Parcel("EU-S", day, "DE", "EU", "GB", "EUR", 6.0, items, prices_include_vat=True), FEES, merchant)


def test_units_and_lines_of_one_subheading_pay_the_eur_3_once():
    """2 T-shirts of 6109.10 on one line, or on two lines of two SKUs: one subheading, EUR 3."""
    assert eu((tshirt(2, 35.70),)).duty == pytest.approx(3.0)
    other_sku = Item("APP-9", "610910", "VN", 1, 35.70, mfn_rate=0.12)
    assert eu((tshirt(1, 35.70), other_sku)).duty == pytest.approx(3.0)


def test_two_subheadings_pay_eur_6_whatever_their_tariff_rate():
    """6109.10 (12%) and 3304.10 (0%): two subheadings, 2 x 3 = EUR 6; a 0% item alone still pays EUR 3."""
    assert eu((tshirt(1, 35.70), lipstick(1, 23.80))).duty == pytest.approx(6.0)
    assert eu((lipstick(1, 23.80),)).duty == pytest.approx(3.0)


def test_an_origin_proof_on_file_does_not_lift_the_eur_3():
    """crossdock's reading: a GB-origin T-shirt with the EU-UK TCA proof on file (0%) still pays EUR 3 (docs/compliance.md,
    Limits: in a full declaration a preferential origin may pay its preferential rate instead; not modelled)."""
    item = tshirt(1, 35.70, origin="GB", preferential_agreement="EU-UK TCA", preferential_rate=0.0)
    merchant = Merchant(registrations=frozenset({"IOSS"}), claimed_agreements=frozenset({"EU-UK TCA"}))
    assert eu((item,), merchant=merchant).duty == pytest.approx(3.0)


def test_the_eur_3_applies_up_to_an_intrinsic_value_of_eur_150_and_the_tariff_above_it():
    """1 item at EUR 178.50 = 150.00 net: flat EUR 3. At 178.51 (150.01 net) and 6 T-shirts at 35.70 (180.00 net), over
    150: the tariff, 12% of the CIF value (180 + 6 = 186: 22.32), no flat duty."""
    at_ceiling = eu((tshirt(1, 178.50),))
    assert at_ceiling.goods_value == pytest.approx(150.0)
    assert at_ceiling.duty_treatment == "flat" and at_ceiling.duty == pytest.approx(3.0)
    assert eu((tshirt(1, 178.51),)).duty_treatment == "tariff"
    over = eu((tshirt(6, 35.70),))
    assert over.duty_treatment == "tariff" and over.duty == pytest.approx(22.32)


def test_a_parcel_of_exactly_eur_150_to_the_cent_is_a_low_value_consignment():
    """5 T-shirts at EUR 35.70 (30.00 net each) = EUR 150.00: within the ceiling, so EUR 3, not 12% of 156."""
    cost = eu((tshirt(5, 35.70),))
    assert cost.duty_treatment == "flat" and cost.duty == pytest.approx(3.0)


def test_the_eur_3_starts_on_2026_07_01_and_ends_with_the_seed_row():
    """2026-06-30: duty relief (eu_ioss), nothing to pay. 2026-07-01 and the row's last day 2028-07-01: EUR 6.
    2028-07-02: no EU regime in the seed, so the parcel is not priced (unknown), never priced at EUR 0."""
    parcel = (tshirt(2, 35.70), lipstick(1, 23.80))
    before = eu(parcel, date(2026, 6, 30))
    assert before.regime == "eu_ioss" and before.duty == 0.0
    assert eu(parcel, date(2026, 7, 1)).duty == pytest.approx(6.0)
    assert eu(parcel, date(2028, 7, 1)).duty == pytest.approx(6.0)
    after = eu(parcel, date(2028, 7, 2))
    assert after.duty is None and "low_value_regime" in after.unknowns


def test_the_eur_3_is_charged_without_ioss_too_and_enters_the_import_vat_base():
    """The cautious reading: a seller without IOSS pays the EUR 6 as well; at import VAT is 19% x (80 + 6 + 6) = 17.48."""
    cost = eu((tshirt(2, 35.70), lipstick(1, 23.80)), merchant=Merchant())
    assert cost.duty == pytest.approx(6.0) and cost.vat_collected == "at_import"
    assert cost.vat == pytest.approx(17.48)
