"""Inventory and resilience planning maths: classes, safety stock, orders, projection, transfers.

Pure functions on numpy arrays and pandas DataFrames, no Dagster: the
orchestration layer loads the inputs and writes `publish.inventory_plan`.

Modules, one job each:

- `planning.policy`: `PlanningPolicy`, the tunable parameters.
- `planning.inputs`: column contracts and input checks.
- `planning.demand`: forecast pooled to nodes; d̄ and σ_d over the lead time.
- `planning.lead_time`: observed vs quoted lead time.
- `planning.safety_stock`: z, σ from p10/p90, safety stock, reorder point.
- `planning.order_quantity`: EOQ, MOQ and pack rounding.
- `planning.cover`: days of cover, stock-out and order-by dates.
- `planning.actions`: the action label.
- `planning.service_classes` (+ `service_levels.yaml`): ABC x demand pattern,
  target service level and safety-stock method per class.
- `planning.lead_time_demand`: reorder point from simulated lead-time demand.
- `planning.stock_policy`: safety stock and reorder point by each row's method.
- `planning.projection`: day-by-day projected stock with open POs.
- `planning.transfers`: stock moves between nodes before purchases.
- `planning.purchase_terms`: the supplier, terms and value of what is still to buy after transfers.
- `planning.tradeoff`: carrying cost against service level per class.
- `planning.plan_outputs`: the projection and trade-off for a finished plan.
- `planning.simulation`: a daily (s, Q) / (R, s, Q) simulator, the proof of the policy.
- `planning.scenarios`: what-if disruptions (a supplier out, a slowed node, a demand surge): who stocks out and the cheapest fix.
  Its parts: `scenario_definitions` (`Scenario`, `ContingencyCosts`), `scenario_inputs` (`PlanInputs`),
  `scenario_shocks` (`apply_scenario`), `scenario_replan` (`run_plan`, daily closing stock),
  `scenario_contingencies` (expedite, alternative, reroute), `scenario_impact` (the published
  table), `scenario_summary` (one row per scenario run) and `scenario_defaults` (the scenarios
  picked from the data).
- `planning.inventory_plan`: `build_inventory_plan`, the DataFrame-level builder.
- `planning.run`: a run's plan from the warehouse tables (`build_plan`: the steps in the order they depend on each other).
"""
from planning.inventory_plan import PLAN_COLUMNS, build_inventory_plan
from planning.policy import PlanningPolicy

__all__ = ["PLAN_COLUMNS", "PlanningPolicy", "build_inventory_plan"]
