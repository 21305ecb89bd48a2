"""What a scenario is: the disruption a planner names (`Scenario`) and the prices of the fixes (`ContingencyCosts`).

Both check themselves at construction, so a negative outage or a -150 %
uplift fails where it is written, not deep in a re-plan.

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
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

DAYS_PER_WEEK = 7


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
