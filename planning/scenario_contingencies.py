"""The fixes for a scenario's stock-out: expedite, an alternative supplier or a reroute, priced and chosen.

Contingencies, all sized to `shortfall_units` rounded up to whole units, and
feasible when they cover all of it and land on or before the scenario's
stock-out date (an arrival is booked before that day's demand):

- expedite: air-freight from the SKU's primary supplier,
  cost = units * weight_kg * expedite_eur_per_kg, lands as_of +
  expedite_days (+ 7N if the primary is out, + the node's lane delay);
- alternative supplier: each non-primary offer for the SKU,
  cost = units * max(alt unit cost - primary unit cost, 0) + order cost (a
  cheaper offer is not counted as a saving: switching source for good is a
  sourcing decision, not a contingency), lands as_of + its quoted lead time
  (+ 7N if that supplier is out, + the node's lane delay);
- reroute: transfer from other nodes holding the SKU in the scenario plan.
  A donor's spare is floor(min(on_hand - reorder_point, lowest projected
  closing stock)): what it holds above its own reorder point, and no more
  than it can give without its own projection going short. Donors are pooled
  (earliest landing first) until the shortfall is covered; cost = units *
  weight_kg * transfer_eur_per_kg, lands as_of + transfer_days (+ both nodes'
  lane delays, + the customs days of the SKU's HS chapter when the move
  crosses a customs border, rounded up: `PlanInputs.customs_days`, from
  `planning.transfers.customs_days`). Within a scenario, rows are served in stock-out order and a
  donor's spare is used up as it is promised, so one pallet is not offered
  twice. A donor that cannot cover the whole shortfall is listed as partial.

The cheapest feasible option wins (ties: earlier landing, then reroute,
alternative, expedite). If none is feasible the row says 'none feasible' and
carries the least-bad option: the earliest landing of those covering the
whole shortfall (ties: cheaper), else the largest partial reroute.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.plan_labels import NONE_FEASIBLE
from planning.scenario_definitions import DAYS_PER_WEEK, ContingencyCosts, Scenario
from planning.scenario_inputs import PlanInputs

EXPEDITE = "expedite"
ALTERNATIVE = "alternative supplier"
REROUTE = "reroute"
_KIND_ORDER = {REROUTE: 0, ALTERNATIVE: 1, EXPEDITE: 2}


@dataclass
class _Option:
    kind: str
    detail: str
    units: int
    cost: float | None  # None: cannot be priced
    arrival: pd.Timestamp | None
    full: bool  # covers the whole shortfall
    note: str = ""

    def feasible(self, stockout: pd.Timestamp) -> bool:
        return self.full and self.cost is not None and self.arrival is not None and self.arrival <= stockout

    def describe(self, stockout: pd.Timestamp) -> str:
        if self.cost is None or self.arrival is None:
            return f"{self.kind} {self.detail}: {self.note}".replace(" :", ":")
        if self.arrival <= stockout:
            timing = "in time"
        else:
            timing = f"{(self.arrival - stockout).days} d after stock-out"
        cover = "" if self.full else f", covers only {self.units} units"
        return (
            f"{self.kind} {self.detail}: EUR {self.cost:,.2f}, lands {self.arrival.date()} ({timing}{cover})"
            f"{' - feasible' if self.feasible(stockout) else ' - infeasible'}"
        )


@dataclass(frozen=True)
class _Context:
    """Per-scenario lookups the contingency rules read."""

    as_of: pd.Timestamp
    weight: dict[str, float]
    primary: dict[str, str]
    primary_cost: dict[str, float]
    offers: dict[str, list[tuple[str, float, float]]]  # sku -> [(supplier, unit cost EUR, quoted days)]
    out_days: dict[str, int]  # supplier -> days it cannot ship
    node_delay: dict[str, int]
    order_cost: float
    costs: ContingencyCosts
    customs: dict[tuple[str, str, str], float]  # (sku, from node, to node) -> customs days of a move


def _context(inputs: PlanInputs, scenario: Scenario, costs: ContingencyCosts) -> _Context:
    skus = inputs.skus
    weight = (
        pd.to_numeric(skus.set_index("sku")["weight_kg"], errors="coerce").to_dict() if "weight_kg" in skus.columns else {}
    )
    primary = inputs.primary_supplier.dropna().astype({"supplier_id": str}).set_index("sku")["supplier_id"].to_dict()
    alts = inputs.alternatives.copy()
    alts["unit_cost_eur"] = pd.to_numeric(alts["unit_cost_eur"], errors="coerce")
    alts["quoted_lead_time_days"] = pd.to_numeric(alts["quoted_lead_time_days"], errors="coerce")
    alts["supplier_id"] = alts["supplier_id"].astype(str)
    is_primary = alts["is_primary"].fillna(False).astype(bool) | (alts["supplier_id"] == alts["sku"].map(primary))
    primary_cost = pd.to_numeric(skus.set_index("sku")["unit_cost_eur"], errors="coerce").to_dict()
    # the primary's own catalogue cost, when it has one to plan with: a cost of 0 is none (dim_sku then plans at an
    # assumed cost, which skus carries), and offers measured against 0 would all look dear
    priced = alts[is_primary & (alts["unit_cost_eur"] > 0)]
    primary_cost.update(priced.groupby("sku")["unit_cost_eur"].first().to_dict())
    offers: dict[str, list[tuple[str, float, float]]] = {}
    for row in alts[~is_primary].sort_values(["sku", "supplier_id"]).itertuples(index=False):
        offers.setdefault(row.sku, []).append((row.supplier_id, row.unit_cost_eur, row.quoted_lead_time_days))
    return _Context(
        as_of=pd.Timestamp(inputs.as_of).normalize(),
        weight={k: float(v) for k, v in weight.items() if pd.notna(v)},
        primary=primary,
        primary_cost={k: float(v) for k, v in primary_cost.items() if pd.notna(v)},
        offers=offers,
        out_days={s: DAYS_PER_WEEK * w for s, w in scenario.supplier_out.items()},
        node_delay=dict(scenario.lane_delay_days),
        order_cost=float(inputs.policy.order_cost_eur if costs.order_cost_eur is None else costs.order_cost_eur),
        costs=costs,
        customs=_customs(inputs.customs_days),
    )


def _customs(frame: pd.DataFrame | None) -> dict[tuple[str, str, str], float]:
    if frame is None:
        return {}
    days = pd.to_numeric(frame["customs_days"], errors="coerce").fillna(0.0).clip(lower=0.0)
    return {(s, f, t): float(d) for s, f, t, d in zip(frame["sku"], frame["from_node"], frame["to_node"], days) if d > 0}


def _expedite(ctx: _Context, sku: str, node: str, units: int) -> _Option:
    supplier = ctx.primary.get(sku)
    if supplier is None:
        return _Option(EXPEDITE, "", units, None, None, True, "no primary supplier")
    detail = f"by air from {supplier}"
    w = ctx.weight.get(sku)
    days = ctx.costs.expedite_days + ctx.out_days.get(supplier, 0) + ctx.node_delay.get(node, 0)
    arrival = ctx.as_of + pd.Timedelta(days=days)
    if w is None:
        return _Option(EXPEDITE, detail, units, None, arrival, True, "no weight_kg to price it")
    return _Option(EXPEDITE, detail, units, units * w * ctx.costs.expedite_eur_per_kg, arrival, True)


def _alternatives(ctx: _Context, sku: str, node: str, units: int) -> list[_Option]:
    offers = ctx.offers.get(sku, [])
    if not offers:
        return [_Option(ALTERNATIVE, "", units, None, None, True, "no other supplier in the catalogue")]
    base = ctx.primary_cost.get(sku)
    out = []
    for supplier, unit_cost, quoted in offers:
        if base is None or not math.isfinite(unit_cost):
            out.append(_Option(ALTERNATIVE, supplier, units, None, None, True, "no unit cost to price it"))
            continue
        if not math.isfinite(quoted):
            out.append(_Option(ALTERNATIVE, supplier, units, None, None, True, "no quoted lead time"))
            continue
        days = int(math.ceil(quoted)) + ctx.out_days.get(supplier, 0) + ctx.node_delay.get(node, 0)
        cost = units * max(unit_cost - base, 0.0) + ctx.order_cost
        out.append(_Option(ALTERNATIVE, supplier, units, cost, ctx.as_of + pd.Timedelta(days=days), True))
    return out


def _reroute(
    ctx: _Context, sku: str, node: str, units: int, stockout: pd.Timestamp, spare: dict[tuple[str, str], int]
) -> tuple[_Option, list[tuple[str, int]]]:
    """Pool donors landing by the stock-out (earliest first, then most spare); also the draw per donor."""
    donors = []
    customs: dict[str, float] = {}
    for (d_sku, d_node), qty in spare.items():
        if d_sku != sku or d_node == node or qty <= 0:
            continue
        customs[d_node] = ctx.customs.get((sku, d_node, node), 0.0)
        days = (
            ctx.costs.transfer_days + ctx.node_delay.get(d_node, 0) + ctx.node_delay.get(node, 0)
            + math.ceil(customs[d_node] - 1e-9)  # a part day at customs still costs the day
        )
        donors.append((ctx.as_of + pd.Timedelta(days=days), -qty, d_node))
    if not donors:
        return _Option(REROUTE, "", units, None, None, False, "no other node with spare stock"), []
    donors.sort()
    in_time = [d for d in donors if d[0] <= stockout]
    pool = in_time if in_time else donors[:1]  # none in time: show the earliest as the least bad
    draws, taken, arrival = [], 0, None
    for when, neg_qty, d_node in pool:
        if taken >= units:
            break
        qty = min(-neg_qty, units - taken)
        draws.append((d_node, qty))
        taken += qty
        arrival = when
    w = ctx.weight.get(sku)
    detail = "from " + ", ".join(
        f"{n} ({q}, customs +{customs[n]:.1f} d)" if customs[n] > 0 else f"{n} ({q})" for n, q in draws
    )
    full = taken >= units
    if w is None:
        return _Option(REROUTE, detail, taken, None, arrival, full, "no weight_kg to price it"), draws
    return _Option(REROUTE, detail, taken, taken * w * ctx.costs.transfer_eur_per_kg, arrival, full), draws


def _choose(options: list[_Option], stockout: pd.Timestamp) -> tuple[str, _Option | None]:
    """(label, option): the cheapest feasible, else 'none feasible' with the least-bad option."""
    feasible = [o for o in options if o.feasible(stockout)]
    if feasible:
        best = min(feasible, key=lambda o: (round(o.cost, 6), o.arrival, _KIND_ORDER[o.kind]))
        return best.kind, best
    priced = [o for o in options if o.cost is not None and o.arrival is not None and o.units > 0]
    if not priced:
        return NONE_FEASIBLE, None
    least = min(priced, key=lambda o: (not o.full, o.arrival if o.full else pd.Timestamp.max, -o.units, o.cost))
    return NONE_FEASIBLE, least


def _spare(plan: pd.DataFrame, closing: pd.DataFrame, held_back: frozenset[tuple[str, str]] = frozenset()) -> dict[tuple[str, str], int]:
    """Units each SKU x node can give: floor(min(on_hand - reorder point, lowest projected closing)), if > 0;
    none from a `held_back` row, whose demand (a market the training-data gate held back) is unknown."""
    lowest = closing.to_numpy(dtype=float).min(axis=1)
    above_rop = plan["on_hand"].to_numpy(dtype=float) - plan["reorder_point"].to_numpy(dtype=float)
    spare = np.floor(np.minimum(above_rop, lowest) + 1e-9)
    ok = spare > 0
    return {(s, n): int(q) for s, n, q in zip(plan["sku"][ok], plan["node"][ok], spare[ok]) if (s, n) not in held_back}


def _contingencies(rows: pd.DataFrame, ctx: _Context, spare: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Add the contingency columns to `rows` (already in stock-out order: earlier stock-outs draw donors first)."""
    out = []
    for row in rows.itertuples(index=False):
        units = int(math.ceil(row.shortfall_units - 1e-9))
        stockout = pd.Timestamp(row.scenario_stockout_date)
        reroute, draws = _reroute(ctx, row.sku, row.node, units, stockout, spare)
        options = [reroute, *_alternatives(ctx, row.sku, row.node, units), _expedite(ctx, row.sku, row.node, units)]
        label, chosen = _choose(options, stockout)
        if label == REROUTE:
            for d_node, qty in draws:
                spare[(row.sku, d_node)] -= qty
        if chosen is None:  # say what each option lacked: that is what the merchant can send or declare
            detail = "no option could be priced: " + "; ".join(o.describe(stockout) for o in options)
        elif label == NONE_FEASIBLE:
            late = (chosen.arrival - stockout).days
            when = f"lands {late} d after stock-out" if late > 0 else f"covers only {chosen.units} of {units} units"
            detail = f"least bad: {chosen.kind} {chosen.detail} ({when})".replace("  ", " ")
        else:
            detail = chosen.detail
        out.append(
            {
                "contingency": label,
                "contingency_detail": detail,
                "contingency_cost_eur": round(chosen.cost, 2) if chosen is not None else np.nan,
                "contingency_units": chosen.units if chosen is not None else 0,
                "contingency_arrival_date": chosen.arrival if chosen is not None else pd.NaT,
                "options": "; ".join(o.describe(stockout) for o in options),
            }
        )
    extra = pd.DataFrame(
        out,
        columns=[
            "contingency", "contingency_detail", "contingency_cost_eur", "contingency_units",
            "contingency_arrival_date", "options",
        ],
    )
    return pd.concat([rows.reset_index(drop=True), extra], axis=1)
