"""The impact table: SKU x node rows that stock out earlier under a scenario than in the baseline, with the fix.

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

The plan itself can run short too: a row whose projected stock runs out
before a purchase placed today could land says 'expedite or transfer'
(`planning.actions`). Those rows come first, under the label `AS_PLANNED`,
each with the units its projection leaves unserved on the days before the
lead time is up (within the forecast horizon) as what a fix has to bring,
and the same options priced: a planner reads what the plan already needs
fixed beside what a disruption would break.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crossdock.plan_labels import AS_PLANNED
from crossdock.plan_labels import EXPEDITE as STOCKOUT_BEFORE_SUPPLY
from planning.inventory_plan import held_back_rows
from planning.scenario_contingencies import _contingencies, _context, _spare
from planning.scenario_definitions import ContingencyCosts, Scenario
from planning.scenario_inputs import PlanInputs
from planning.scenario_replan import KEY, _closing, run_plan
from planning.scenario_shocks import _check_known, apply_scenario

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


def _before_supply_rows(plan: pd.DataFrame, closing: pd.DataFrame) -> pd.DataFrame:
    """Rows of the plan that say 'expedite or transfer', with the units unserved before a purchase could land.

    Projection day h is as_of + h; an order placed today lands on day L, so
    the days h < L are the ones only a faster route or another node can serve.
    """
    days = np.asarray(closing.columns, dtype=float)[None, :]
    lead = plan["lead_time_days"].to_numpy(dtype=float)[:, None]
    unserved = np.where(days < lead, _deficit(closing), 0.0).max(axis=1, initial=0.0)
    stockout = pd.DatetimeIndex(plan["projected_stockout_date"])
    rows = pd.DataFrame(
        {
            "sku": plan["sku"].to_numpy(),
            "node": plan["node"].to_numpy(),
            "baseline_stockout_date": stockout,
            "scenario_stockout_date": stockout,
            "baseline_unserved_units": unserved,
            "scenario_unserved_units": unserved,
            "shortfall_units": unserved,
        }
    )[(plan["action"] == STOCKOUT_BEFORE_SUPPLY).to_numpy() & (unserved > 0)]
    return rows.sort_values(["scenario_stockout_date", "sku", "node"], kind="mergesort").reset_index(drop=True)


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


def _known_demand(rows: pd.DataFrame, held_back: frozenset[tuple[str, str]]) -> pd.DataFrame:
    """`rows` but the SKU x node whose demand a held-back market's is part of: the plan draws them no projection
    (planning/run.py), so no scenario dates their stock-out either."""
    return rows[~held_back_rows(rows, held_back)] if held_back else rows


def scenario_impact(
    inputs: PlanInputs, scenarios: Sequence[Scenario], costs: ContingencyCosts = ContingencyCosts()
) -> pd.DataFrame:
    """SKU x node rows that stock out earlier under each scenario than in the baseline, with the cheapest fix.

    Runs the baseline plan once and each scenario's plan (`run_plan` on
    `apply_scenario(inputs, scenario)`), compares the projected stock-out
    dates, and prices the contingencies described in `planning.scenario_contingencies`.
    Returns `IMPACT_COLUMNS`, one row per scenario x SKU x node: first the
    baseline's own stock-outs before supply (scenario `AS_PLANNED`, both
    dates the same), then the scenarios in the order given; within one, by
    scenario stock-out date, sku, node. A scenario that changes nothing
    yields no rows.

    Raises ValueError on duplicate scenario names and (from `apply_scenario`)
    on unknown suppliers, nodes or markets; every scenario is checked before
    any plan is run.
    """
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"scenario names must be unique; repeated: {dup}")
    if AS_PLANNED in names:
        raise ValueError(f"{AS_PLANNED!r} labels the plan's own stock-outs; name the scenario otherwise")
    for scenario in scenarios:
        _check_known(scenario, inputs)

    base_plan = run_plan(inputs)
    base_closing = _closing(inputs, base_plan)
    frames = []
    planned = _known_demand(_before_supply_rows(base_plan, base_closing), inputs.held_back_pairs)
    if not planned.empty:
        planned = _contingencies(planned, _context(inputs, Scenario(AS_PLANNED), costs), _spare(base_plan, base_closing, inputs.held_back_pairs))
        frames.append(planned.assign(scenario=AS_PLANNED))
    for scenario in scenarios:
        changed = apply_scenario(inputs, scenario)
        plan = run_plan(changed)
        closing = _closing(changed, plan)
        rows = _known_demand(_impacted_rows(base_plan, base_closing, plan, closing), inputs.held_back_pairs)
        if rows.empty:
            continue
        rows = _contingencies(rows, _context(inputs, scenario, costs), _spare(plan, closing, inputs.held_back_pairs))
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
