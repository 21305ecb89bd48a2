"""One row per scenario a run stressed, whether or not it broke anything: the table S&OP reads first.

`publish.scenario_impact` holds only the SKU x node rows a scenario makes
stock out earlier, so a scenario the plan absorbs leaves no row there, and a
BI user could not tell "ran and broke nothing" from "never ran". This table
says it for every scenario, with the totals of its rows: how many SKU x node
stock out earlier (and how many that did not before), the units short, what
the cheapest fixes cost, and how many have no feasible fix. The plan's own
stock-outs before supply (`AS_PLANNED`) come first, as in scenario_impact;
a default scenario the data could not give (`pick_default_scenarios`) comes last,
with its totals unknown (null, not 0) and the reason it did not run.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from crossdock.plan_labels import AS_PLANNED, NONE_FEASIBLE
from planning.scenario_definitions import Scenario

SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario",
    "changes",
    "sku_nodes_earlier",
    "new_stockouts",
    "shortfall_units",
    "contingency_cost_eur",
    "without_feasible_fix",
    "outcome",
)


def scenario_changes(scenario: Scenario) -> str:
    """What the scenario changes, in words: its knobs, whatever its name says."""
    parts = [f"supplier {s} out {w} weeks" for s, w in sorted(scenario.supplier_out.items())]
    parts += [f"moves into and out of {n} +{d} days" for n, d in sorted(scenario.lane_delay_days.items())]
    parts += [f"demand in {m} {u:+.0%}" for m, u in sorted(scenario.demand_uplift.items())]
    return "; ".join(parts) or "nothing"


def _outcome(name: str, earlier: int, new: int, unfixed: int) -> str:
    if name == AS_PLANNED:
        if not earlier:
            return "no SKU x node runs out before a purchase placed today could land"
        told = f"{earlier} SKU x node run out before a purchase placed today could land"
    else:
        if not earlier:
            return "no SKU x node stocks out earlier than in the plan"
        told = f"{earlier} SKU x node stock out earlier than in the plan ({new} of them newly)"
    return told + (f"; {unfixed} without a feasible fix" if unfixed else "; each has a feasible fix")


def scenario_summary(
    impact: pd.DataFrame, scenarios: Sequence[Scenario], left_out: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """`SUMMARY_COLUMNS`, one row for `AS_PLANNED`, one per scenario in the order given, one per scenario left out.

    `impact` is `planning.scenario_impact.scenario_impact(inputs, scenarios)`;
    a scenario without rows there gets zeros and says it broke nothing.
    `left_out` maps a scenario not run to why (`pick_default_scenarios`): its
    counts and sums are null and its outcome says why.
    """
    names = [AS_PLANNED, *(s.name for s in scenarios)]
    clash = sorted(set(names) & set(left_out or {}))
    if clash:
        raise ValueError(f"scenarios both run and left out: {clash}")
    changes = {AS_PLANNED: "nothing: the plan as it stands", **{s.name: scenario_changes(s) for s in scenarios}}
    unknown = sorted(set(impact["scenario"]) - set(names))
    if unknown:
        raise ValueError(f"impact rows of scenarios not given: {unknown}")
    totals = (
        impact.assign(unfixed=impact["contingency"] == NONE_FEASIBLE)
        .groupby("scenario")
        .agg(
            sku_nodes_earlier=("sku", "size"),
            new_stockouts=("new_stockout", "sum"),
            shortfall_units=("shortfall_units", "sum"),
            contingency_cost_eur=("contingency_cost_eur", "sum"),
            without_feasible_fix=("unfixed", "sum"),
        )
        .reindex(names)
    )
    counts = ["sku_nodes_earlier", "new_stockouts", "without_feasible_fix"]
    totals[counts] = totals[counts].fillna(0).astype("int64")
    totals[["shortfall_units", "contingency_cost_eur"]] = totals[["shortfall_units", "contingency_cost_eur"]].fillna(0.0)
    out = totals.rename_axis("scenario").reset_index()
    out["changes"] = out["scenario"].map(changes)
    out["outcome"] = [
        _outcome(name, earlier, new, unfixed)
        for name, earlier, new, unfixed in out[["scenario", "sku_nodes_earlier", "new_stockouts", "without_feasible_fix"]]
        .itertuples(index=False)
    ]
    if left_out:
        not_run = pd.DataFrame({
            "scenario": list(left_out), "changes": "nothing: not run", "outcome": [f"not run: {why}" for why in left_out.values()],
        })
        out = pd.concat([out, not_run], ignore_index=True)
        out[counts] = out[counts].astype("Int64")  # a count, or null where the scenario did not run
    return out.loc[:, list(SUMMARY_COLUMNS)]
