"""SKUs, suppliers and the supplier catalogue of the demo merchant.

Every later step keys off this: demand needs each SKU's category and
popularity, pricing its list price, the inventory simulation its primary
supplier's MOQ, pack size and lead time. Compliance needs HS codes, so a few
are deliberately left blank as in real catalogues.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.catalogue_specs import CATEGORIES, PRODUCT_LINES, SUPPLIER_BY_ID, SUPPLIERS
from demo.market_profiles import CURRENCY_DECIMALS, FX_PER_EUR

MOQ_STEPS = np.array([50, 100, 150, 200, 250, 300, 400, 500])
ALTERNATIVE_RATE = 0.25
MISSING_HS_RATE = 0.02
MIN_SKUS = 12


@dataclass(frozen=True)
class Catalogue:
    """skus: one row per SKU (sorted by sku) with its primary sourcing terms;
    suppliers: the supplier master plus reliability profile;
    rows: the supplier catalogue as exported (one row per supplier x SKU)."""

    skus: pd.DataFrame
    suppliers: pd.DataFrame
    rows: pd.DataFrame

    @property
    def n_skus(self) -> int:
        return len(self.skus)


def n_skus_for(scale: float) -> int:
    """Catalogue size: 200 SKUs at scale 1.0, never fewer than MIN_SKUS."""
    return max(MIN_SKUS, int(round(200 * scale)))


def _money(amount: np.ndarray, currency: np.ndarray) -> np.ndarray:
    decimals = np.array([CURRENCY_DECIMALS.get(c, 2) for c in currency])
    return np.where(decimals == 0, np.round(amount, 0), np.round(amount, 2))


def _assign_categories(n: int, rng: np.random.Generator) -> np.ndarray:
    # Every category at least once, the rest by catalogue share.
    shares = np.array([c.share for c in CATEGORIES])
    rest = rng.choice(len(CATEGORIES), size=n - len(CATEGORIES), p=shares / shares.sum())
    return np.concatenate([np.arange(len(CATEGORIES)), rest])


def _pick_supplier(cat: int, rng: np.random.Generator, exclude: str | None = None) -> str:
    options = [(s, w) for s, w in CATEGORIES[cat].suppliers if s != exclude]
    weights = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


def _moq(popularity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Slow movers get the small MOQs a buyer negotiates; fast movers the big cartons.
    rank = popularity.argsort().argsort() / max(len(popularity) - 1, 1)
    centre = 0.2 + rank * 4.5
    idx = np.clip(np.round(centre + rng.normal(0, 1.0, len(rank))), 0, len(MOQ_STEPS) - 1).astype(int)
    return MOQ_STEPS[idx]


def _terms(sku_cat: np.ndarray, list_eur: np.ndarray, supplier_ids: list[str], popularity: np.ndarray,
           rng: np.random.Generator) -> pd.DataFrame:
    """Cost, MOQ, pack and quoted lead time of each (SKU, supplier) offer."""
    sup = [SUPPLIER_BY_ID[s] for s in supplier_ids]
    n = len(sup)
    currency = np.array([s.currency for s in sup])
    cost_eur = list_eur * rng.uniform(0.28, 0.42, n) * np.array([s.cost_factor for s in sup])
    cost = _money(cost_eur * np.array([FX_PER_EUR[c] for c in currency]), currency)
    packs = np.array([rng.choice(CATEGORIES[c].packs) for c in sku_cat])
    lead = np.clip(np.array([s.lead_time_days for s in sup]) + rng.integers(-4, 7, n), 20, 70)
    return pd.DataFrame({
        "supplier_id": supplier_ids, "unit_cost": cost, "currency": currency,
        "moq": _moq(popularity, rng), "pack_size": packs, "quoted_lead_time_days": lead,
        "origin_country": [s.country for s in sup],
    })


def build_catalogue(scale: float, rng: np.random.Generator) -> Catalogue:
    """Draw the SKU list and its sourcing; deterministic given `rng`."""
    n = n_skus_for(scale)
    cat = _assign_categories(n, rng)
    # SKU numbers: distinct per category, with gaps like a real numbering.
    numbers = np.zeros(n, dtype=int)
    for c in range(len(CATEGORIES)):
        where = np.flatnonzero(cat == c)
        numbers[where] = np.sort(rng.choice(np.arange(1, 20 * len(where) + 50), size=len(where), replace=False))
    codes = np.array([f"{CATEGORIES[c].prefix}-{k:05d}" for c, k in zip(cat, numbers)])

    types = [CATEGORIES[c].types[int(rng.integers(len(CATEGORIES[c].types)))] for c in cat]
    lines = rng.choice(PRODUCT_LINES, n)
    variants = [CATEGORIES[c].variants[int(rng.integers(len(CATEGORIES[c].variants)))] for c in cat]
    names = [f"{ln} {t.name} - {v}" for ln, t, v in zip(lines, types, variants)]

    median = np.array([CATEGORIES[c].price_eur for c in cat])
    spread = np.array([CATEGORIES[c].price_spread for c in cat])
    list_eur = np.round(np.clip(median * np.exp(rng.normal(0, 1, n) * spread), 5.0, 600.0), 2)
    hs = np.array([t.hs_code for t in types], dtype=object)
    hs[rng.choice(n, size=max(1, int(round(MISSING_HS_RATE * n))), replace=False)] = ""
    weight = np.round(np.array([t.weight_kg for t in types]) * np.exp(rng.normal(0, 0.15, n)), 3)
    popularity = np.exp(rng.normal(0.0, 1.3, n))

    skus = pd.DataFrame({
        "sku": codes, "cat_idx": cat, "category": [CATEGORIES[c].name for c in cat],
        "product_name": names, "list_price_eur": list_eur, "hs_code": hs, "weight_kg": weight,
        "popularity": popularity,
    })

    primary_ids = [_pick_supplier(c, rng) for c in cat]
    primary = _terms(cat, list_eur, primary_ids, popularity, rng)
    skus = pd.concat([skus, primary], axis=1).sort_values("sku", kind="stable").reset_index(drop=True)

    has_alt = rng.random(n) < ALTERNATIVE_RATE
    alt_pos = np.flatnonzero(has_alt)
    alt_ids = [_pick_supplier(int(cat[i]), rng, exclude=primary_ids[i]) for i in alt_pos]
    alt = _terms(cat[alt_pos], list_eur[alt_pos], alt_ids, popularity[alt_pos], rng)
    alt_skus = pd.DataFrame({"sku": codes[alt_pos]}).merge(
        skus.drop(columns=alt.columns), on="sku", how="left")

    cols = ["supplier_id", "sku", "product_name", "category", "unit_cost", "currency", "moq", "pack_size",
            "quoted_lead_time_days", "origin_country", "hs_code", "weight_kg", "is_primary"]
    rows = pd.concat([
        skus.assign(is_primary=True)[cols],
        pd.concat([alt_skus.reset_index(drop=True), alt], axis=1).assign(is_primary=False)[cols],
    ]).sort_values(["sku", "is_primary"], ascending=[True, False], kind="stable").reset_index(drop=True)

    suppliers = pd.DataFrame([s.__dict__ for s in SUPPLIERS]).rename(columns={"name": "supplier_name"})
    return Catalogue(skus=skus, suppliers=suppliers, rows=rows)


SUPPLIER_COLUMNS = ["supplier_id", "supplier_name", "country", "currency"]
CATALOGUE_COLUMNS = ["supplier_id", "sku", "product_name", "category", "unit_cost", "currency", "moq", "pack_size",
                     "quoted_lead_time_days", "origin_country", "hs_code", "weight_kg", "is_primary"]


def catalogue_export(catalogue: Catalogue) -> pd.DataFrame:
    """The catalogue rows as written: money in the currency's minor unit, weights to the gram,
    booleans as true/false, HS codes as text (a blank one stays blank)."""
    rows = catalogue.rows.copy()
    zero = np.array([CURRENCY_DECIMALS.get(c, 2) == 0 for c in rows["currency"]])
    rows["unit_cost"] = [f"{v:.0f}" if z else f"{v:.2f}" for v, z in zip(rows["unit_cost"], zero)]
    rows["weight_kg"] = [f"{v:.3f}" for v in rows["weight_kg"]]
    rows["is_primary"] = np.where(rows["is_primary"], "true", "false")
    rows["hs_code"] = rows["hs_code"].astype(str)
    return rows[CATALOGUE_COLUMNS]
