"""What-if scenarios on the inventory plan: which SKUs would stock out, and the cheapest fix.

A plan answers "what do we order today if everything goes as expected"; a
planner also has to know what breaks when it does not. A `Scenario` names a
disruption (a supplier that cannot ship for some weeks, a node whose inbound
and outbound moves are slowed by some days, a demand surge in a market),
`apply_scenario` turns it into changed plan inputs, and `scenario_impact`
re-runs `build_inventory_plan` (with the open PO lines, so stock-out dates come
from the day-by-day projection in `planning.projection`) and keeps the
SKU x node rows that would run out earlier than in the baseline, each with the
cheapest contingency that lands in time.

Scenario semantics (kept simple so a planner can check them by hand):

- `supplier_out[s] = N` weeks: supplier s cannot ship for N weeks from as_of.
  Its open PO lines arrive 7N days later (an overdue line, which the baseline
  books on day 1, moves to day 1 + 7N); new orders to it take 7N days longer,
  i.e. the lead time of the SKUs whose primary it is grows by 7N days (both
  the observed mean and the quote); an expedite from it or an order to it as
  an alternative can only leave after the N weeks.
- `lane_delay_days[n] = N` days: every move into or out of node n takes N
  days longer. Open PO lines into n arrive N days later (overdue lines: day
  1 + N), new orders into n have an N days longer lead time, and contingency
  stock to or from n (expedite, alternative supplier, transfer) lands N days
  later. The slower last mile from n to its customers does not move a
  stock-out (stock leaves the shelf when the order is picked), so it is not in
  the plan; it shows in `publish.delivery_promise` instead.
- `demand_uplift[m] = x`: the forecast of market m is multiplied by (1 + x),
  all of p10, p50, p90 and mean, so the spread scales with the level. x may be
  negative (a drop) but must be > -1. Demand history (for the simulated
  safety stock of intermittent and lumpy rows) is left as it was.

Shortfall: the projection lets closing stock go negative (unserved demand so
far). `shortfall_units` is the largest gap, on any day of the horizon, between
the scenario's and the baseline's unserved demand, max_t(max(0, -closing_s,t)
- max(0, -closing_b,t)). That is exactly the number of units which, landed by
the scenario's stock-out date, keep every day of the scenario at least as well
served as the baseline, so it is what a contingency has to bring. When both
worst days coincide it equals the scenario's deepest shortfall minus the
baseline's; it is larger when a delayed PO later refills the scenario (the
lost days are still lost), e.g. 100 units short by day 21 with the PO then
catching up to the baseline's 80 short at the horizon end gives 100, not 30.

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

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planning.demand import node_daily_forecast
from planning.inputs import CUSTOMS_DAYS_COLUMNS, _names, require_columns, require_unique
from planning.inventory_plan import build_inventory_plan
from planning.lead_time import resolve_lead_times
from planning.policy import PlanningPolicy
from planning.projection import project_inventory

DAYS_PER_WEEK = 7
KEY = ["sku", "node"]

ARRIVAL_COLUMNS: tuple[str, ...] = ("sku", "node", "supplier_id", "expected_arrival_date", "quantity")
PRIMARY_COLUMNS: tuple[str, ...] = ("sku", "supplier_id")
ALTERNATIVE_COLUMNS: tuple[str, ...] = ("sku", "supplier_id", "unit_cost_eur", "quoted_lead_time_days", "is_primary")

IMPACT_COLUMNS: tuple[str, ...] = (
    "scenario",
    "sku",
    "node",
    "baseline_stockout_date",
    "scenario_stockout_date",
    "days_earlier",
    "new_stockout",
    "baseline_unserved_units",
    "scenario_unserved_units",
    "shortfall_units",
    "contingency",
    "contingency_detail",
    "contingency_cost_eur",
    "contingency_units",
    "contingency_arrival_date",
    "options",
)
"""`scenario_impact` columns. Dates are datetime64 (midnight); days_earlier is
nullable (NA for a stock-out the baseline does not have, flagged new_stockout);
*_unserved_units are the deepest shortfall (units) of each projection;
contingency_cost_eur is EUR, contingency_units whole units."""

NONE_FEASIBLE = "none feasible"
EXPEDITE = "expedite"
ALTERNATIVE = "alternative supplier"
REROUTE = "reroute"
_KIND_ORDER = {REROUTE: 0, ALTERNATIVE: 1, EXPEDITE: 2}


# --------------------------------------------------------------------------- inputs


def _whole_non_negative(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 0


@dataclass(frozen=True)
class Scenario:
    """A disruption to plan against; see the module docstring for what each knob does.

    Attributes:
        name: label carried into every output row; unique within one run.
        supplier_out: supplier_id -> whole weeks (>= 0) it cannot ship.
        lane_delay_days: node -> whole extra days (>= 0) on every move into or
            out of it.
        demand_uplift: market -> x, the forecast of that market times (1 + x)
            (0.2 = +20 %); x > -1.

    Self-contained checks (types, signs) run here; whether the suppliers,
    nodes and markets exist is checked against the data in `apply_scenario`.
    """

    name: str
    supplier_out: Mapping[str, int] = field(default_factory=dict)
    lane_delay_days: Mapping[str, int] = field(default_factory=dict)
    demand_uplift: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Fail at construction: a negative outage or a -150 % uplift would
        # otherwise move arrivals backwards or make demand negative.
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Scenario name must be a non-empty string, got {self.name!r}")
        for attr, unit in (("supplier_out", "weeks"), ("lane_delay_days", "days")):
            mapping = getattr(self, attr)
            if not isinstance(mapping, Mapping):
                raise ValueError(f"scenario {self.name!r}: {attr} must be a mapping, got {type(mapping).__name__}")
            for key, value in mapping.items():
                if not _whole_non_negative(value):
                    raise ValueError(
                        f"scenario {self.name!r}: {attr}[{key!r}] must be whole {unit} >= 0, got {value!r}"
                    )
            object.__setattr__(self, attr, {str(k): int(v) for k, v in mapping.items()})
        if not isinstance(self.demand_uplift, Mapping):
            raise ValueError(f"scenario {self.name!r}: demand_uplift must be a mapping")
        for market, x in self.demand_uplift.items():
            if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number)) or not (
                math.isfinite(float(x)) and float(x) > -1.0
            ):
                raise ValueError(
                    f"scenario {self.name!r}: demand_uplift[{market!r}] must be a finite number > -1 "
                    f"(0.2 = +20 %), got {x!r}"
                )
        object.__setattr__(self, "demand_uplift", {str(k): float(v) for k, v in self.demand_uplift.items()})

    @property
    def is_baseline(self) -> bool:
        """True when the scenario changes nothing (all knobs zero or empty)."""
        return not any(self.supplier_out.values()) and not any(self.lane_delay_days.values()) and not any(
            self.demand_uplift.values()
        )


@dataclass(frozen=True)
class ContingencyCosts:
    """Prices and speeds of the contingencies (EUR, days).

    Attributes:
        expedite_eur_per_kg: air-freight premium over the normal route, EUR/kg.
        expedite_days: days from as_of until an expedited shipment lands.
        transfer_eur_per_kg: node-to-node transfer cost, EUR/kg.
        transfer_days: days from as_of until a transfer lands.
        order_cost_eur: fixed cost of an extra order to an alternative
            supplier, EUR; None takes the plan policy's order_cost_eur.
    """

    expedite_eur_per_kg: float = 8.0
    expedite_days: int = 7
    transfer_eur_per_kg: float = 1.5
    transfer_days: int = 5
    order_cost_eur: float | None = None

    def __post_init__(self) -> None:
        for name in ("expedite_eur_per_kg", "transfer_eur_per_kg"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"ContingencyCosts.{name} must be a finite number >= 0, got {value!r}")
        for name in ("expedite_days", "transfer_days"):
            if not _whole_non_negative(getattr(self, name)):
                raise ValueError(f"ContingencyCosts.{name} must be whole days >= 0, got {getattr(self, name)!r}")
        if self.order_cost_eur is not None and not (math.isfinite(self.order_cost_eur) and self.order_cost_eur >= 0):
            raise ValueError(f"ContingencyCosts.order_cost_eur must be >= 0 or None, got {self.order_cost_eur!r}")


@dataclass(frozen=True)
class PlanInputs:
    """Everything `build_inventory_plan` needs, plus what the contingencies need.

    The first fields are `build_inventory_plan`'s arguments (same columns and
    units). The rest:

    Attributes:
        arrivals: open PO lines: sku, node, supplier_id, expected_arrival_date,
            quantity (intermediate.int_open_po_arrivals). One frame serves the
            projection and the supplier outage (the brief's `po_suppliers`,
            also available as the property of that name), so the lines a
            scenario delays cannot drift from the lines the plan books.
            A null supplier_id is allowed: no outage touches that line.
        primary_supplier: sku, supplier_id; one row per SKU (the supplier
            `lead_times` describes; marts.dim_sku.primary_supplier_id).
        alternatives: sku, supplier_id, unit_cost_eur, quoted_lead_time_days,
            is_primary (publish.supplier_risk): every catalogue offer for a
            SKU. The primary's row gives the cost an alternative's premium is
            measured from (skus.unit_cost_eur when it has none).
        skus: as for the plan, plus an optional weight_kg (kg/unit) for
            freight costs; without it expedite and reroute cannot be priced.
        node_extra_lead_time_days: node -> days added to the lead time of new
            orders into it (set by `apply_scenario` from lane delays; lead
            times are per SKU, so `run_plan` plans those nodes' rows with
            shifted lead times).
        seed: for the simulated safety stock, as in the plan.
        customs_days: sku, from_node, to_node, customs_days, customs_basis
            (`planning.transfers.customs_days` over every node pair): days a
            reroute across a customs border adds for the SKU's chapter. None,
            or a pair it lacks, adds nothing.
        stock_unknown_nodes: nodes with no inventory data, planned with
            targets only (see `build_inventory_plan`): no scenario can say
            when stock there runs out.

    Reroute needs no other frame: stock per SKU x node is `on_hand`, and a
    donor's spare comes from the scenario plan's reorder point.
    """

    forecast: pd.DataFrame
    on_hand: pd.DataFrame
    open_orders: pd.DataFrame
    lead_times: pd.DataFrame
    skus: pd.DataFrame
    market_nodes: pd.DataFrame
    as_of: dt.date
    arrivals: pd.DataFrame
    primary_supplier: pd.DataFrame
    alternatives: pd.DataFrame
    policy: PlanningPolicy = PlanningPolicy()
    classes: pd.DataFrame | None = None
    demand_history: pd.DataFrame | None = None
    node_extra_lead_time_days: Mapping[str, int] = field(default_factory=dict)
    seed: int = 7
    customs_days: pd.DataFrame | None = None
    stock_unknown_nodes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # The plan checks its own frames; these are the scenario-only ones.
        require_columns(self.arrivals, ARRIVAL_COLUMNS, "arrivals")
        if self.customs_days is not None:
            require_columns(self.customs_days, CUSTOMS_DAYS_COLUMNS, "customs_days")
            require_unique(self.customs_days, ["sku", "from_node", "to_node"], "customs_days")
        require_columns(self.primary_supplier, PRIMARY_COLUMNS, "primary_supplier")
        require_unique(self.primary_supplier, ["sku"], "primary_supplier")
        require_columns(self.alternatives, ALTERNATIVE_COLUMNS, "alternatives")
        for node, days in self.node_extra_lead_time_days.items():
            if not _whole_non_negative(days):
                raise ValueError(f"node_extra_lead_time_days[{node!r}] must be whole days >= 0, got {days!r}")

    @property
    def po_suppliers(self) -> pd.DataFrame:
        """Open PO lines with their supplier: sku, node, supplier_id, expected_arrival_date, quantity."""
        return self.arrivals.loc[:, list(ARRIVAL_COLUMNS)]

    @property
    def markets(self) -> set[str]:
        return set(self.market_nodes["market"].astype(str))

    @property
    def nodes(self) -> set[str]:
        return set(self.market_nodes["node"].astype(str)) | set(self.on_hand["node"].astype(str)) | set(
            self.arrivals["node"].astype(str)
        )

    @property
    def suppliers(self) -> set[str]:
        ids = pd.concat(
            [self.arrivals["supplier_id"], self.primary_supplier["supplier_id"], self.alternatives["supplier_id"]]
        )
        return set(ids.dropna().astype(str))


# --------------------------------------------------------------------------- scenario -> inputs


def _check_known(scenario: Scenario, inputs: PlanInputs) -> None:
    """Raise ValueError naming suppliers, nodes and markets the data does not know.

    A typo ("SUP-08") would otherwise run a scenario that changes nothing and
    reports "no risk", which reads as good news.
    """
    for attr, known, what in (
        ("supplier_out", inputs.suppliers, "suppliers"),
        ("lane_delay_days", inputs.nodes, "nodes"),
        ("demand_uplift", inputs.markets, "markets"),
    ):
        unknown = set(getattr(scenario, attr)) - known
        if unknown:
            raise ValueError(
                f"scenario {scenario.name!r}: unknown {what} in {attr}: {_names(unknown)}; known {what}: {_names(known)}"
            )


def _shift_arrivals(arrivals: pd.DataFrame, shift_days: np.ndarray, as_of: dt.date) -> pd.DataFrame:
    """Move each line `shift_days` later; an overdue line moves from day 1 (where the projection books it)."""
    out = arrivals.copy()
    dates = pd.to_datetime(out["expected_arrival_date"]).dt.normalize()
    moved = shift_days > 0
    if moved.any():
        day_one = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        start = dates.where(dates >= day_one, day_one)
        dates = dates.where(~moved, start + pd.to_timedelta(shift_days, unit="D"))
    out["expected_arrival_date"] = dates
    return out


def apply_scenario(inputs: PlanInputs, scenario: Scenario) -> PlanInputs:
    """The plan inputs as they would be under `scenario` (a new PlanInputs; `inputs` is not changed).

    - forecast: rows of an uplifted market have p10/p50/p90/mean times (1 + x);
    - arrivals: lines from an out supplier +7N days, lines into a delayed
      node +N days (both add up; overdue lines count from day 1);
    - lead_times: SKUs whose primary supplier is out +7N days on the observed
      mean and the quote;
    - node_extra_lead_time_days: the lane delays, added to any already there.

    Raises ValueError naming unknown suppliers, nodes or markets.
    """
    _check_known(scenario, inputs)

    forecast = inputs.forecast
    uplift = {m: x for m, x in scenario.demand_uplift.items() if x != 0.0}
    if uplift:
        forecast = forecast.copy()
        factor = 1.0 + forecast["market"].astype(str).map(uplift).fillna(0.0).to_numpy(dtype=float)
        for col in ("p10", "p50", "p90", "mean"):
            forecast[col] = pd.to_numeric(forecast[col]).to_numpy(dtype=float) * factor

    weeks = {s: w for s, w in scenario.supplier_out.items() if w > 0}
    delays = {n: d for n, d in scenario.lane_delay_days.items() if d > 0}
    arrivals = inputs.arrivals
    if weeks or delays:
        supplier = inputs.arrivals["supplier_id"].astype("string")
        shift = (
            supplier.map(lambda s: DAYS_PER_WEEK * weeks.get(s, 0) if isinstance(s, str) else 0).fillna(0).to_numpy(dtype=int)
            + inputs.arrivals["node"].astype(str).map(lambda n: delays.get(n, 0)).to_numpy(dtype=int)
        )
        arrivals = _shift_arrivals(inputs.arrivals, shift, inputs.as_of)

    lead_times = inputs.lead_times
    if weeks:
        primary = inputs.primary_supplier.set_index("sku")["supplier_id"].astype(str)
        extra = lead_times["sku"].map(primary).map(lambda s: DAYS_PER_WEEK * weeks.get(s, 0) if isinstance(s, str) else 0)
        lead_times = _add_lead_time(lead_times, extra.fillna(0).to_numpy(dtype=float))

    node_extra = dict(inputs.node_extra_lead_time_days)
    for node, days in delays.items():
        node_extra[node] = node_extra.get(node, 0) + days

    return dataclasses.replace(
        inputs, forecast=forecast, arrivals=arrivals, lead_times=lead_times, node_extra_lead_time_days=node_extra
    )


def _add_lead_time(lead_times: pd.DataFrame, extra_days: np.ndarray | float) -> pd.DataFrame:
    """Lead times `extra_days` longer, observed mean and quote alike (the std is left as it was)."""
    out = lead_times.copy()
    for col in ("lead_time_mean_days", "quoted_lead_time_days"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float) + extra_days
    return out


# --------------------------------------------------------------------------- plans and projections


def _plan(inputs: PlanInputs, lead_times: pd.DataFrame) -> pd.DataFrame:
    return build_inventory_plan(
        forecast=inputs.forecast,
        on_hand=inputs.on_hand,
        open_orders=inputs.open_orders,
        lead_times=lead_times,
        skus=inputs.skus,
        market_nodes=inputs.market_nodes,
        as_of=inputs.as_of,
        policy=inputs.policy,
        classes=inputs.classes,
        demand_history=inputs.demand_history,
        arrivals=inputs.arrivals.loc[:, ["sku", "node", "expected_arrival_date", "quantity"]],
        seed=inputs.seed,
        stock_unknown_nodes=inputs.stock_unknown_nodes,
    )


def run_plan(inputs: PlanInputs) -> pd.DataFrame:
    """`build_inventory_plan` on these inputs, with the node lead-time delays applied.

    Lead times are one row per SKU, so a node-specific delay cannot be passed
    in directly: the rows of delayed nodes come from a second plan on the same
    inputs with every lead time N days longer (same rows, same horizon, only
    L differs), one extra plan per distinct delay.
    """
    plan = _plan(inputs, inputs.lead_times)
    by_delay: dict[int, list[str]] = {}
    for node, days in inputs.node_extra_lead_time_days.items():
        if days > 0:
            by_delay.setdefault(days, []).append(node)
    for days, nodes in sorted(by_delay.items()):
        delayed = _plan(inputs, _add_lead_time(inputs.lead_times, float(days)))
        if not delayed[KEY].equals(plan[KEY]):  # same inputs but L: the rows must be the same
            raise RuntimeError(f"the plan with lead times +{days} d has other rows than the plan")
        mask = plan["node"].isin(nodes)
        plan = pd.concat([plan.loc[~mask], delayed.loc[mask]]).sort_index()
    return plan


def _closing(inputs: PlanInputs, plan: pd.DataFrame) -> pd.DataFrame:
    """Closing stock per plan row (index sku, node) and projection day (columns 1..H), as the plan projects it."""
    node_fc = node_daily_forecast(inputs.forecast, inputs.market_nodes, inputs.as_of)
    if node_fc.horizon_days < 1:
        raise ValueError(f"forecast has no dates on or after as_of={inputs.as_of}: nothing to project a scenario on")
    H = node_fc.horizon_days
    proj = project_inventory(
        plan[["sku", "node", "on_hand"]],
        inputs.arrivals.loc[:, ["sku", "node", "expected_arrival_date", "quantity"]],
        node_fc.daily,
        inputs.as_of,
        H,
    )
    closing = proj.daily["closing_on_hand"].to_numpy(dtype=float).reshape(len(proj.summary), H)
    frame = pd.DataFrame(closing, index=pd.MultiIndex.from_frame(proj.summary[KEY]), columns=range(1, H + 1))
    return frame.reindex(pd.MultiIndex.from_frame(plan[KEY]))


# --------------------------------------------------------------------------- contingencies


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
    primary_cost.update(alts[is_primary].dropna(subset=["unit_cost_eur"]).groupby("sku")["unit_cost_eur"].first().to_dict())
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


# --------------------------------------------------------------------------- impact


def _deficit(closing: pd.DataFrame) -> np.ndarray:
    return np.clip(-closing.to_numpy(dtype=float), 0.0, None)


def _impacted_rows(
    base_plan: pd.DataFrame, base_closing: pd.DataFrame, plan: pd.DataFrame, closing: pd.DataFrame
) -> pd.DataFrame:
    """Rows of the scenario plan whose stock-out is earlier than the baseline's (or new), with shortfalls."""
    keys = pd.MultiIndex.from_frame(plan[KEY])
    base_out = base_plan.set_index(KEY)["projected_stockout_date"].reindex(keys).to_numpy()
    scen_out = plan["projected_stockout_date"].to_numpy()
    hit = ~pd.isna(scen_out) & (pd.isna(base_out) | (scen_out < base_out))
    d_s = _deficit(closing)
    d_b = _deficit(base_closing.reindex(keys).reindex(columns=closing.columns).fillna(0.0))
    gap = np.clip((d_s - d_b).max(axis=1, initial=0.0), 0.0, None)
    rows = pd.DataFrame(
        {
            "sku": plan["sku"].to_numpy(),
            "node": plan["node"].to_numpy(),
            "baseline_stockout_date": pd.DatetimeIndex(base_out),
            "scenario_stockout_date": pd.DatetimeIndex(scen_out),
            "baseline_unserved_units": d_b.max(axis=1, initial=0.0),
            "scenario_unserved_units": d_s.max(axis=1, initial=0.0),
            "shortfall_units": gap,
        }
    )[hit]
    return rows.sort_values(["scenario_stockout_date", "sku", "node"], kind="mergesort").reset_index(drop=True)


def _spare(plan: pd.DataFrame, closing: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Units each SKU x node can give: floor(min(on_hand - reorder point, lowest projected closing)), if > 0."""
    lowest = closing.to_numpy(dtype=float).min(axis=1)
    above_rop = plan["on_hand"].to_numpy(dtype=float) - plan["reorder_point"].to_numpy(dtype=float)
    spare = np.floor(np.minimum(above_rop, lowest) + 1e-9)
    ok = spare > 0
    return {(s, n): int(q) for s, n, q in zip(plan["sku"][ok], plan["node"][ok], spare[ok])}


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
        if chosen is None:
            detail = "no option could be priced"
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


def _empty_impact() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scenario": pd.Series(dtype=object),
            "sku": pd.Series(dtype=object),
            "node": pd.Series(dtype=object),
            "baseline_stockout_date": pd.Series(dtype="datetime64[ns]"),
            "scenario_stockout_date": pd.Series(dtype="datetime64[ns]"),
            "days_earlier": pd.Series(dtype="Int64"),
            "new_stockout": pd.Series(dtype=bool),
            "baseline_unserved_units": pd.Series(dtype=float),
            "scenario_unserved_units": pd.Series(dtype=float),
            "shortfall_units": pd.Series(dtype=float),
            "contingency": pd.Series(dtype=object),
            "contingency_detail": pd.Series(dtype=object),
            "contingency_cost_eur": pd.Series(dtype=float),
            "contingency_units": pd.Series(dtype="int64"),
            "contingency_arrival_date": pd.Series(dtype="datetime64[ns]"),
            "options": pd.Series(dtype=object),
        }
    )


def scenario_impact(
    inputs: PlanInputs, scenarios: Sequence[Scenario], costs: ContingencyCosts = ContingencyCosts()
) -> pd.DataFrame:
    """SKU x node rows that stock out earlier under each scenario than in the baseline, with the cheapest fix.

    Runs the baseline plan once and each scenario's plan (`run_plan` on
    `apply_scenario(inputs, scenario)`), compares the projected stock-out
    dates, and prices the contingencies described in the module docstring.
    Returns `IMPACT_COLUMNS`, one row per scenario x SKU x node, scenarios in
    the order given and, within one, by scenario stock-out date, sku, node.
    A scenario that changes nothing yields no rows.

    Raises ValueError on duplicate scenario names and (from `apply_scenario`)
    on unknown suppliers, nodes or markets; every scenario is checked before
    any plan is run.
    """
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"scenario names must be unique; repeated: {dup}")
    for scenario in scenarios:
        _check_known(scenario, inputs)
    if not scenarios:
        return _empty_impact()

    base_plan = run_plan(inputs)
    base_closing = _closing(inputs, base_plan)
    frames = []
    for scenario in scenarios:
        changed = apply_scenario(inputs, scenario)
        plan = run_plan(changed)
        closing = _closing(changed, plan)
        rows = _impacted_rows(base_plan, base_closing, plan, closing)
        if rows.empty:
            continue
        rows = _contingencies(rows, _context(inputs, scenario, costs), _spare(plan, closing))
        frames.append(rows.assign(scenario=scenario.name))
    if not frames:
        return _empty_impact()
    out = pd.concat(frames, ignore_index=True)
    earlier = (out["baseline_stockout_date"] - out["scenario_stockout_date"]).dt.days
    out["days_earlier"] = earlier.astype("Int64")
    out["new_stockout"] = out["baseline_stockout_date"].isna()
    out["contingency_units"] = out["contingency_units"].astype("int64")
    for col in ("baseline_stockout_date", "scenario_stockout_date", "contingency_arrival_date"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    return out.loc[:, list(IMPACT_COLUMNS)]


# --------------------------------------------------------------------------- defaults


def default_scenarios(
    inputs: PlanInputs, supplier_weeks: int = 4, lane_days: int = 7, uplift: float = 0.3
) -> list[Scenario]:
    """Three scenarios picked from the data so a demo always stresses something real.

    - the primary supplier of the most SKUs (ties: most open PO units, then
      id) out `supplier_weeks` weeks: the widest single-supplier exposure;
    - the slowest inbound node, by the quantity-weighted lead time of the
      SKUs on its open PO lines (ties: most open units, then name), slowed by
      `lane_days` days: the node where a late lane hurts longest;
    - `uplift` more demand in the market with the largest forecast over the
      horizon (ties: name).

    A scenario whose data is missing (no primary suppliers, no open lines, no
    forecast) is left out rather than invented.
    """
    out: list[Scenario] = []
    prim = inputs.primary_supplier.dropna(subset=["supplier_id"])
    if not prim.empty:
        units = inputs.arrivals.groupby("supplier_id")["quantity"].sum()
        ranked = (
            prim.groupby("supplier_id")["sku"].nunique().rename("skus").to_frame()
            .assign(units=lambda f: units.reindex(f.index).fillna(0.0))
            .reset_index()
            .sort_values(["skus", "units", "supplier_id"], ascending=[False, False, True])
        )
        top = ranked.iloc[0]
        out.append(
            Scenario(
                name=f"{top['supplier_id']} out {supplier_weeks} weeks (primary of {int(top['skus'])} SKUs)",
                supplier_out={str(top["supplier_id"]): supplier_weeks},
            )
        )
    lines = inputs.arrivals
    if not lines.empty:
        lt = resolve_lead_times(inputs.lead_times).set_index("sku")["lead_time_days"]
        frame = lines.assign(L=lines["sku"].map(lt), q=pd.to_numeric(lines["quantity"]).astype(float)).dropna(subset=["L"])
        if not frame.empty and frame["q"].sum() > 0:
            by_node = (
                frame.assign(Lq=frame["L"] * frame["q"]).groupby("node")[["Lq", "q"]].sum()
                .assign(L=lambda f: f["Lq"] / f["q"]).reset_index()
                .sort_values(["L", "q", "node"], ascending=[False, False, True])
            )
            top = by_node.iloc[0]
            out.append(
                Scenario(
                    name=f"{top['node']} inbound +{lane_days} days (slowest inbound, L {top['L']:.0f} d)",
                    lane_delay_days={str(top["node"]): lane_days},
                )
            )
    fc = inputs.forecast
    fc = fc[pd.to_datetime(fc["forecast_date"]) >= pd.Timestamp(inputs.as_of)]
    if not fc.empty:
        volume = fc.groupby("market")["mean"].sum().reset_index().sort_values(["mean", "market"], ascending=[False, True])
        market = str(volume.iloc[0]["market"])
        out.append(Scenario(name=f"demand +{uplift:.0%} in {market}", demand_uplift={market: uplift}))
    return out
