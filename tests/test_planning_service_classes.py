"""Service classes: ABC, Syntetos-Boylan-Croston pattern and target CSL on hand-worked series."""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.resources
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from planning.service_classes import (
    CLASS_COLUMNS,
    DEFAULT_CONFIG_PATH,
    NODE_TARGET_COLUMNS,
    classify_series,
    load_service_level_config,
    node_targets,
)

AS_OF = dt.date(2025, 6, 30)
CONFIG = load_service_level_config()

EXPECTED_TARGETS = {
    ("A", "smooth"): 0.98, ("A", "erratic"): 0.97, ("A", "intermittent"): 0.95, ("A", "lumpy"): 0.95,
    ("B", "smooth"): 0.95, ("B", "erratic"): 0.95, ("B", "intermittent"): 0.93, ("B", "lumpy"): 0.92,
    ("C", "smooth"): 0.92, ("C", "erratic"): 0.90, ("C", "intermittent"): 0.90, ("C", "lumpy"): 0.90,
}  # fmt: skip


def series(
    sku: str, sales: dict[int, float], market: str = "DE", price: float = 10.0, category: str = "toys"
) -> pd.DataFrame:
    """Rows of fct_daily_demand; `sales` maps days before AS_OF (0 = AS_OF) to units sold."""
    days = sorted(sales)
    return pd.DataFrame(
        {
            "sku": sku,
            "market": market,
            "category": category,
            "demand_date": [AS_OF - dt.timedelta(days=d) for d in days],
            "units_sold": [sales[d] for d in days],
            "revenue_eur": [sales[d] * price for d in days],
        },
        columns=["sku", "market", "category", "demand_date", "units_sold", "revenue_eur"],
    )


def revenues(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """One sale day per (sku, market, revenue): enough for ABC, which sees only revenue."""
    return pd.concat([series(sku, {0: 1}, market=market, price=rev) for sku, market, rev in rows], ignore_index=True)


def row(classes: pd.DataFrame, sku: str, market: str = "DE") -> pd.Series:
    hit = classes[(classes["sku"] == sku) & (classes["market"] == market)]
    assert len(hit) == 1, f"{sku}/{market}: {len(hit)} rows"
    return hit.iloc[0]


def write_config(tmp_path: Path, **changes: object) -> Path:
    """The packaged YAML with top-level keys replaced (None deletes the key)."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    path = tmp_path / "service_levels.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# --- demand pattern -------------------------------------------------------------------


def test_four_quadrants_hand_worked() -> None:
    history = pd.concat(
        [
            # every day for 4 days, equal sizes: ADI 4/4 = 1, CV² 0
            series("smooth", {3: 10, 2: 10, 1: 10, 0: 10}),
            # every day, sizes 1,1,1,9: mean 3, Σ(x - 3)² = 4+4+4+36 = 48, s² = 48/3 = 16, CV² = 16/9
            series("erratic", {3: 1, 2: 1, 1: 9, 0: 1}),
            # every other day from day -7: 8 window days / 4 demand days = ADI 2;
            # sizes 4,6,4,6: s² = 4/3, CV² = (4/3)/25 = 0.05333
            series("intermittent", {7: 4, 5: 6, 3: 4, 1: 6}),
            # the same timing with sizes 1,1,9,1: ADI 2, CV² 16/9
            series("lumpy", {7: 1, 5: 1, 3: 9, 1: 1}),
        ],
        ignore_index=True,
    )
    c = classify_series(history, AS_OF, CONFIG)
    expected = {
        "smooth": (4, 1.0, 0.0),
        "erratic": (4, 1.0, 16 / 9),
        "intermittent": (4, 2.0, (4 / 3) / 25),
        "lumpy": (4, 2.0, 16 / 9),
    }
    for sku, (days, adi, cv2) in expected.items():
        r = row(c, sku)
        assert r["pattern"] == sku
        assert r["demand_days"] == days
        assert r["adi"] == pytest.approx(adi)
        assert r["cv2"] == pytest.approx(cv2)
        assert not r["sparse_history"]
        assert r["target_service_level"] == CONFIG.target(r["abc"], sku)
    assert row(c, "smooth")["ss_method"] == "simulated"  # measured: the normal formula misses by > 2 points
    assert row(c, "erratic")["ss_method"] == "simulated"
    assert row(c, "intermittent")["ss_method"] == "simulated"
    assert row(c, "lumpy")["ss_method"] == "simulated"


def test_adi_over_the_whole_window_for_an_old_series() -> None:
    # Sells 2 units every 5th day for two years: only the 365 window days count,
    # with 73 sale days in them (days 0, 5, ..., 360): ADI = 365 / 73 = 5. The window's first sale
    # (day 360) is not the series' first sale, so the 4 quiet days opening the window count.
    history = series("old", {d: 2 for d in range(0, 730, 5)})
    r = row(classify_series(history, AS_OF, CONFIG), "old")
    assert r["demand_days"] == 73
    assert r["adi"] == pytest.approx(5.0)
    assert r["cv2"] == 0.0
    assert r["pattern"] == "intermittent"
    assert r["annual_units"] == 146.0


def test_adi_cutoff_is_inclusive() -> None:
    # First sale 32 days before as_of: 33 window days, 25 of them with a sale:
    # ADI = 33 / 25 = 1.32 exactly, which is intermittent (ADI >= 1.32).
    sale_days = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 15, 17, 18, 19, 20, 22, 23, 24, 25, 27, 29, 32]
    assert len(sale_days) == 25
    r = row(classify_series(series("edge", {d: 3 for d in sale_days}), AS_OF, CONFIG), "edge")
    assert r["adi"] == 1.32
    assert r["pattern"] == "intermittent"
    # one more sale day: 33 / 26 = 1.269 -> smooth
    r = row(classify_series(series("edge", {d: 3 for d in [*sale_days, 30]}), AS_OF, CONFIG), "edge")
    assert r["pattern"] == "smooth"


def test_cv2_cutoff_is_inclusive() -> None:
    history = series("e", {3: 1, 2: 1, 1: 9, 0: 1})  # CV² = 16/9
    at_cutoff = dataclasses.replace(CONFIG, cv2_cutoff=16 / 9)
    assert row(classify_series(history, AS_OF, at_cutoff), "e")["pattern"] == "erratic"
    above = dataclasses.replace(CONFIG, cv2_cutoff=1.8)
    assert row(classify_series(history, AS_OF, above), "e")["pattern"] == "smooth"


def test_sparse_history_is_lumpy_and_flagged() -> None:
    # 3 selling days < min_demand_days = 4: too little to tell, so lumpy (the cautious choice)
    history = series("few", {2: 5, 1: 5, 0: 5})
    r = row(classify_series(history, AS_OF, CONFIG), "few")
    assert (r["pattern"], bool(r["sparse_history"]), r["ss_method"]) == ("lumpy", True, "simulated")
    assert r["adi"] == 1.0 and r["cv2"] == 0.0  # still reported; the flag says not to trust them
    # with min_demand_days = 3 the same series is classed on its numbers
    relaxed = dataclasses.replace(CONFIG, min_demand_days=3)
    r = row(classify_series(history, AS_OF, relaxed), "few")
    assert (r["pattern"], bool(r["sparse_history"])) == ("smooth", False)
    # a single sale: CV² undefined with the sample variance, still lumpy and flagged
    r = row(classify_series(series("one", {0: 5}), AS_OF, CONFIG), "one")
    assert (r["pattern"], bool(r["sparse_history"])) == ("lumpy", True)
    assert math.isnan(r["cv2"])


def test_no_sales_in_window_is_c_no_demand() -> None:
    history = pd.concat(
        [
            series("top", {0: 100, 1: 100, 2: 100, 3: 100}),
            series("dead", {400: 50}),  # sold, but before the window
            series("zeros", {3: 0, 1: 0}),  # rows that sold nothing (returns only)
        ],
        ignore_index=True,
    )
    c = classify_series(history, AS_OF, CONFIG)
    for sku in ("dead", "zeros"):
        r = row(c, sku)
        assert (r["abc"], r["pattern"], bool(r["sparse_history"])) == ("C", "no_demand", False)
        assert r["demand_days"] == 0 and r["annual_units"] == 0.0 and r["annual_revenue_eur"] == 0.0
        assert math.isnan(r["adi"]) and math.isnan(r["cv2"])
        assert r["target_service_level"] == CONFIG.no_demand_target
        assert r["ss_method"] == CONFIG.methods["no_demand"]


# --- ABC ------------------------------------------------------------------------------


def test_abc_pareto_hand_worked() -> None:
    # shares .50 .30 .15 .05; share before: 0, .50, .80, .95 -> A, A, B, C
    # (.80 is not < .80, .95 is not < .95)
    c = classify_series(revenues(("s1", "DE", 50), ("s2", "DE", 30), ("s3", "DE", 15), ("s4", "DE", 5)), AS_OF, CONFIG)
    assert list(c["sku"]) == ["s1", "s2", "s3", "s4"]
    assert list(c["abc"]) == ["A", "A", "B", "C"]
    np.testing.assert_allclose(c["revenue_share"], [0.50, 0.30, 0.15, 0.05])
    np.testing.assert_allclose(c["cumulative_share"], [0.50, 0.80, 0.95, 1.00])
    np.testing.assert_allclose(c["annual_revenue_eur"], [50, 30, 15, 5])


def test_abc_top_item_over_the_a_threshold_is_still_a() -> None:
    # 90 % alone: A; the next starts at .90 (< .95) -> B; then .96, .99 -> C
    c = classify_series(revenues(("big", "DE", 90), ("b", "DE", 6), ("c", "DE", 3), ("d", "DE", 1)), AS_OF, CONFIG)
    assert list(c["abc"]) == ["A", "B", "C", "C"]
    assert c["cumulative_share"].iloc[0] == pytest.approx(0.90)


def test_abc_ties_broken_by_sku_then_market() -> None:
    # x takes 70 %; three items tie at 10 %. Share before: x 0, a/DE .70, a/FR .80, b .90 -> A, A, B, B.
    # The tie straddles the A/B boundary: whatever the input order, a/DE is A and a/FR is B.
    rows = [("x", "DE", 70), ("b", "DE", 10), ("a", "FR", 10), ("a", "DE", 10)]
    for ordering in (rows, rows[::-1]):
        c = classify_series(revenues(*ordering), AS_OF, CONFIG)
        assert list(zip(c["sku"], c["market"], c["abc"])) == [
            ("x", "DE", "A"), ("a", "DE", "A"), ("a", "FR", "B"), ("b", "DE", "B"),
        ]  # fmt: skip


def test_zero_revenue_with_sales_is_c() -> None:
    history = pd.concat([revenues(("paid", "DE", 10)), series("free", {0: 3}, price=0.0)], ignore_index=True)
    c = classify_series(history, AS_OF, CONFIG)
    assert row(c, "paid")["abc"] == "A"
    assert row(c, "free")["abc"] == "C"
    assert row(c, "free")["pattern"] == "lumpy"  # it did sell, just for nothing


def test_a_day_sold_in_a_currency_without_an_ecb_rate_counts_its_units_and_no_revenue() -> None:
    """The mart's revenue_eur is null on a day whose every sale had no ECB rate (a Shopify merchant's dirhams):
    refused, it stopped every SKU's plan."""
    unpriced = series("dirham", {0: 2, 1: 3})
    unpriced.loc[0, "revenue_eur"] = np.nan
    history = pd.concat([revenues(("paid", "DE", 10)), unpriced], ignore_index=True)
    c = classify_series(history, AS_OF, CONFIG)
    assert row(c, "dirham")["annual_units"] == 5 and row(c, "dirham")["annual_revenue_eur"] == 30.0
    assert row(c, "paid")["abc"] == "A"


# --- window and output ----------------------------------------------------------------


def test_window_is_the_365_days_up_to_as_of() -> None:
    # day 365 before as_of is outside (as_of - 365, as_of]; day 364 inside; after as_of outside
    history = series("w", {365: 1000, 364: 1, 100: 2, 0: 4, -1: 1000})
    r = row(classify_series(history, AS_OF, CONFIG), "w")
    assert r["annual_units"] == 7.0
    assert r["annual_revenue_eur"] == 70.0
    assert r["demand_days"] == 3
    assert r["adi"] == pytest.approx(365 / 3)


def test_as_of_accepts_timestamps_and_dates_of_any_type() -> None:
    history = series("t", {0: 1, 1: 2, 2: 3, 3: 4})
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    a = classify_series(history, AS_OF, CONFIG)
    b = classify_series(history, pd.Timestamp(AS_OF), CONFIG)
    pd.testing.assert_frame_equal(a, b)


def test_output_columns_category_and_duplicate_days() -> None:
    history = pd.concat(
        [series("s", {1: 2, 0: 3}, category="old"), series("s", {0: 5}, category="games")], ignore_index=True
    )
    c = classify_series(history, AS_OF, CONFIG)
    assert tuple(c.columns) == CLASS_COLUMNS
    r = row(c, "s")
    assert r["category"] == "games"
    assert r["demand_days"] == 2  # the two rows of day 0 are one day of 8 units
    assert r["annual_units"] == 10.0


def test_empty_history_gives_empty_frame() -> None:
    c = classify_series(series("x", {}), AS_OF, CONFIG)
    assert c.empty
    assert tuple(c.columns) == CLASS_COLUMNS


def test_missing_history_columns_are_named() -> None:
    history = series("s", {0: 1}).drop(columns=["revenue_eur", "category"])
    with pytest.raises(ValueError, match=r"`history` is missing columns \['category', 'revenue_eur'\]"):
        classify_series(history, AS_OF, CONFIG)


def test_negative_units_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"units_sold.*\[bad\]"):
        classify_series(series("bad", {0: -1}), AS_OF, CONFIG)


# --- config ---------------------------------------------------------------------------


def test_packaged_yaml_has_all_cells() -> None:
    assert importlib.resources.files("planning").joinpath("service_levels.yaml").is_file()
    assert CONFIG.targets == EXPECTED_TARGETS
    assert CONFIG.abc_thresholds == (0.80, 0.95)
    assert (CONFIG.adi_cutoff, CONFIG.cv2_cutoff, CONFIG.min_demand_days) == (1.32, 0.49, 4)
    assert CONFIG.no_demand_target == 0.90
    assert CONFIG.methods == {
        "smooth": "simulated", "erratic": "simulated", "intermittent": "simulated", "lumpy": "simulated",
        "no_demand": "simulated",
    }  # fmt: skip
    assert CONFIG.target("A", "smooth") == 0.98
    assert CONFIG.target("A", "no_demand") == 0.90
    with pytest.raises(KeyError, match="'D'"):
        CONFIG.target("D", "smooth")


def test_load_from_path(tmp_path: Path) -> None:
    path = write_config(tmp_path, min_demand_days=6, abc_thresholds=[0.7, 0.9])
    cfg = load_service_level_config(path)
    assert (cfg.min_demand_days, cfg.abc_thresholds) == (6, (0.7, 0.9))


def targets(**cells: object) -> dict:
    """The default targets as YAML rows, with cells changed by "A_smooth"=value (None deletes)."""
    rows: dict[str, dict[str, object]] = {}
    for (abc, pattern), value in EXPECTED_TARGETS.items():
        rows.setdefault(abc, {})[pattern] = value
    for cell, value in cells.items():
        abc, pattern = cell.split("_", 1)
        if value is None:
            del rows[abc][pattern]
        else:
            rows[abc][pattern] = value
    return rows


METHODS = {"smooth": "normal", "erratic": "normal", "intermittent": "simulated", "lumpy": "simulated"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"targets": targets(B_lumpy=None)}, r"targets is missing cells \[B/lumpy\]"),
        ({"targets": targets(C_lumpy=None, C_lumpi=0.9)}, r"missing cells \[C/lumpy\]"),
        ({"targets": targets(A_smooth=1.0)}, r"bad cells \[A/smooth=1.0\]"),
        ({"targets": targets(C_erratic=0)}, r"bad cells \[C/erratic=0\]"),
        ({"targets": targets(B_smooth="95%")}, r"bad cells \[B/smooth='95%'\]"),
        ({"targets": [0.9]}, r"targets must be a mapping"),
        ({"no_demand_target": 1.2}, r"no_demand_target must be a service level in \(0, 1\)"),
        ({"abc_thresholds": [0.95, 0.80]}, r"abc_thresholds must be increasing"),
        ({"abc_thresholds": [0.80, 0.80]}, r"abc_thresholds must be increasing"),
        ({"abc_thresholds": [0.80]}, r"abc_thresholds must be two numbers"),
        (
            {"methods": {**METHODS, "intermittent": "poisson", "no_demand": "simulated"}},
            r"unknown safety-stock method for \[intermittent='poisson'\]",
        ),
        ({"methods": METHODS}, r"methods is missing patterns \[no_demand\]"),
        ({"adi_cutoff": 0.9}, r"adi_cutoff must be a number > 1"),
        ({"cv2_cutoff": -1}, r"cv2_cutoff must be a number > 0"),
        ({"min_demand_days": 1}, r"min_demand_days must be a whole number >= 2"),
        ({"min_demand_days": 4.5}, r"min_demand_days must be a whole number >= 2"),
        ({"min_demand_days": None}, r"missing keys \['min_demand_days'\]"),
        ({"min_demand_dayz": 4}, r"unknown keys \['min_demand_dayz'\]"),
    ],
)
def test_bad_config_is_rejected_with_a_clear_message(tmp_path: Path, changes: dict, message: str) -> None:
    path = write_config(tmp_path, **changes)
    with pytest.raises(ValueError, match=message) as err:
        load_service_level_config(path)
    assert str(path) in str(err.value)


def test_invalid_yaml_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("targets: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid YAML"):
        load_service_level_config(path)
    path.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must be a YAML mapping"):
        load_service_level_config(path)


def test_config_validates_on_construction() -> None:
    with pytest.raises(ValueError, match=r"targets is missing cells \[A/smooth\]"):
        dataclasses.replace(CONFIG, targets={k: v for k, v in EXPECTED_TARGETS.items() if k != ("A", "smooth")})
    with pytest.raises(ValueError, match=r"targets has unknown cells \[D/smooth\]"):
        dataclasses.replace(CONFIG, targets={**EXPECTED_TARGETS, ("D", "smooth"): 0.9})


# --- node targets ---------------------------------------------------------------------

MARKET_NODES = pd.DataFrame({"market": ["DE", "FR", "NL", "US"], "node": ["NL-AMS", "NL-AMS", "NL-AMS", "US-EWR"]})


def test_node_takes_the_class_of_the_dominant_market() -> None:
    history = pd.concat(
        [
            # "k" in FR: a big smooth seller -> A smooth 0.98; in DE: a few lumpy sales -> C lumpy
            series("k", {d: 50 for d in range(30)}, market="FR"),
            series("k", {40: 1, 20: 9, 10: 1, 0: 1}, market="DE"),
            series("k", {d: 1 for d in range(0, 60, 2)}, market="US"),
            # "m" sells only in DE and NL, NL is bigger
            series("m", {d: 2 for d in range(0, 40, 3)}, market="DE"),
            series("m", {d: 1 for d in range(10)}, market="NL", price=200.0),
        ],
        ignore_index=True,
    )
    classes = classify_series(history, AS_OF, CONFIG)
    assert row(classes, "k", "DE")["pattern"] == "lumpy"
    nt = node_targets(classes, MARKET_NODES)
    assert tuple(nt.columns) == NODE_TARGET_COLUMNS
    assert list(zip(nt["sku"], nt["node"])) == [("k", "NL-AMS"), ("k", "US-EWR"), ("m", "NL-AMS")]
    for sku, node, market in [("k", "NL-AMS", "FR"), ("k", "US-EWR", "US"), ("m", "NL-AMS", "NL")]:
        got = nt[(nt["sku"] == sku) & (nt["node"] == node)].iloc[0]
        want = row(classes, sku, market)
        for col in ("target_service_level", "abc", "pattern", "ss_method"):
            assert got[col] == want[col], (sku, node, col)
    assert nt.iloc[0]["target_service_level"] == 0.98


def test_node_targets_tie_on_revenue_prefers_units_then_market() -> None:
    classes = pd.DataFrame(
        {
            "sku": ["s", "s", "s"],
            "market": ["DE", "FR", "NL"],
            "annual_units": [0.0, 5.0, 5.0],
            "annual_revenue_eur": [0.0, 0.0, 0.0],
            "abc": ["C", "C", "C"],
            "pattern": ["no_demand", "lumpy", "erratic"],
            "target_service_level": [0.90, 0.90, 0.90],
            "ss_method": ["simulated", "simulated", "normal"],
        }
    )
    nt = node_targets(classes, MARKET_NODES)
    assert nt.iloc[0]["pattern"] == "lumpy"  # FR: sold as much as NL, first by name


def test_node_targets_rejects_unmapped_and_ambiguous_markets() -> None:
    classes = classify_series(series("s", {0: 1}, market="JP"), AS_OF, CONFIG)
    with pytest.raises(ValueError, match=r"missing from market_nodes: \[JP\]"):
        node_targets(classes, MARKET_NODES)
    two_homes = pd.concat([MARKET_NODES, pd.DataFrame({"market": ["DE"], "node": ["DE-FRA"]})], ignore_index=True)
    with pytest.raises(ValueError, match=r"more than one node: \[DE\]"):
        node_targets(classes, two_homes)
    with pytest.raises(ValueError, match=r"`market_nodes` is missing columns \['node'\]"):
        node_targets(classes, MARKET_NODES[["market"]])


def test_a_wholesale_pallet_makes_a_series_neither_class_a_nor_lumpy() -> None:
    """An onboarding merchant's one 300-unit line made a SKU selling 0.8 a day class A in its market (310 of its
    units that year): the classes, as the safety stock and the forecast, take the regular demand."""
    steady = {d: 2.0 for d in range(0, 200, 2)}  # 2 units every other day: EUR 2,000
    trickle = {d: 1.0 for d in range(0, 200, 10)}  # 1 unit every ten days: EUR 200
    history = pd.concat([
        series("STEADY-1", steady), series("STEADY-2", steady), series("STEADY-3", steady),
        series("PALLET", {**trickle, 41: 300.0}),  # the trickle, and one pallet (EUR 3,000 as sent)
        series("TRICKLE", trickle),  # the same without the pallet
    ], ignore_index=True)
    classes = classify_series(history, AS_OF, CONFIG)
    pallet, trickle_row = row(classes, "PALLET"), row(classes, "TRICKLE")
    assert pallet["annual_units"] == 20 + 1  # the pallet day counts as its busy day, 1 unit
    assert pallet["annual_revenue_eur"] == 21 * 10.0  # its revenue scaled with its units
    assert pallet["abc"] != "A"  # as sent, its EUR 3,210 would rank it first of all
    assert pallet["pattern"] == trickle_row["pattern"]
    assert pallet["cv2"] == trickle_row["cv2"] == 0.0  # not lumpy: every selling day one unit
