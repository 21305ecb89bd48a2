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

This module is the entry point callers import from; the work is in modules
with one job each:

- `planning.scenario_definitions`: `Scenario` (what each knob means) and `ContingencyCosts`.
- `planning.scenario_inputs`: `PlanInputs`, the plan's inputs plus the contingencies' frames.
- `planning.scenario_shocks`: `apply_scenario`, the scenario applied to the inputs.
- `planning.scenario_replan`: `run_plan` with node lead-time delays, and the daily closing stock.
- `planning.scenario_contingencies`: expedite, alternative supplier, reroute: priced and chosen.
- `planning.scenario_impact`: `scenario_impact` and its shortfall, the published table.
- `planning.scenario_summary`: `scenario_summary`, one row per scenario run, broken anything or not.
- `planning.scenario_defaults`: `default_scenarios`, picked from the data (`pick_default_scenarios`: and those left out).
"""
from __future__ import annotations

from planning.scenario_contingencies import ALTERNATIVE, EXPEDITE, NONE_FEASIBLE, REROUTE
from planning.scenario_defaults import DefaultScenarios, default_scenarios, pick_default_scenarios
from planning.scenario_definitions import DAYS_PER_WEEK, ContingencyCosts, Scenario
from planning.scenario_impact import AS_PLANNED, IMPACT_COLUMNS, scenario_impact
from planning.scenario_inputs import ALTERNATIVE_COLUMNS, ARRIVAL_COLUMNS, PRIMARY_COLUMNS, PlanInputs
from planning.scenario_replan import KEY, run_plan
from planning.scenario_shocks import apply_scenario
from planning.scenario_summary import SUMMARY_COLUMNS, scenario_summary

__all__ = [
    "ALTERNATIVE",
    "ALTERNATIVE_COLUMNS",
    "ARRIVAL_COLUMNS",
    "AS_PLANNED",
    "DAYS_PER_WEEK",
    "EXPEDITE",
    "IMPACT_COLUMNS",
    "KEY",
    "NONE_FEASIBLE",
    "PRIMARY_COLUMNS",
    "REROUTE",
    "SUMMARY_COLUMNS",
    "ContingencyCosts",
    "DefaultScenarios",
    "PlanInputs",
    "Scenario",
    "apply_scenario",
    "default_scenarios",
    "pick_default_scenarios",
    "run_plan",
    "scenario_impact",
    "scenario_summary",
]
