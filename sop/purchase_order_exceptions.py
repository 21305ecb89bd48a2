"""Purchase orders the plan still counts on long after they were expected: `overdue_purchase_order`.

The plan takes every open purchase-order line as on order (`IP = on hand +
on order`) and the projection books a line already past its expected
arrival on day 1 (planning/projection.py). That is the right guess for a
line a day or two late, and a silent one for a line a supplier will never
ship: the plan orders that much less, and the stock-out comes with no
exception before it. The expected arrival is the supplier's promise moved by
its usual lateness (intermediate.int_open_po_arrivals), so a line past it by
`po_overdue_days` is late even for that supplier. Raised per purchase order
and promised day, the delivery a buyer chases with the supplier: a line of
the same order promised for another day is another delivery, so closing one
never hides the next.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from crossdock.merchant_settings import ExceptionSettings
from crossdock.wording import counted
from sop.exception_rows import day_text, empty_rows, finish_rows

OPEN_LINE_COLUMNS: tuple[str, ...] = (
    "po_id", "po_line", "supplier_id", "sku", "node", "quantity", "promised_date", "expected_arrival_date",
)
"""What the rule reads per open purchase-order line (intermediate.int_open_po_arrivals)."""
LINES_NAMED = 3
"""Lines a problem names one by one; the rest are counted."""


def no_open_lines() -> pd.DataFrame:
    """No open purchase-order line (a merchant without a purchase-order feed), in `OPEN_LINE_COLUMNS`."""
    dates = ("promised_date", "expected_arrival_date")
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in dates else float if c == "quantity" else object)
                         for c in OPEN_LINE_COLUMNS})


def overdue_purchase_order(lines: pd.DataFrame, plan: pd.DataFrame, as_of: dt.date | None,
                           settings: ExceptionSettings = ExceptionSettings()) -> pd.DataFrame:
    """Deliveries (purchase order x promised day) with a line still open `po_overdue_days` or more after its
    expected arrival on `as_of`.

    `lines`: `OPEN_LINE_COLUMNS`, the lines open on the planning date. `plan`: publish.inventory_plan (sku,
    node, unit_cost_eur) prices them; a SKU the plan has at another node only takes that node's cost, and one
    it does not have at all adds units without a value. units_affected = the overdue lines' units, value_eur =
    them at cost, measure = the days since the earliest of them was expected.
    """
    if lines.empty or as_of is None:
        return empty_rows()
    expected = pd.to_datetime(lines["expected_arrival_date"])
    late_days = (pd.Timestamp(as_of) - expected).dt.days
    late = lines.assign(expected_arrival_date=expected, promised_date=pd.to_datetime(lines["promised_date"]),
                        late_days=late_days, quantity=lines["quantity"].astype(float))
    late = late[late["late_days"] >= settings.po_overdue_days]
    if late.empty:
        return empty_rows()
    late = late.assign(unit_cost_eur=_unit_costs(late, plan)).sort_values(["po_id", "promised_date", "po_line"])
    orders = late.groupby(["po_id", "promised_date"], sort=True)
    out = pd.DataFrame({
        "exception_id": [f"overdue_purchase_order:{po}:{day_text(day)}" for po, day in orders.groups],
        "sku": [_only(o["sku"]) for _, o in orders],
        "node": [_only(o["node"]) for _, o in orders],
        "subject": [f"{po} from {_suppliers(o)}, promised {day_text(day)}" for (po, day), o in orders],
        "problem": [_problem(o) for _, o in orders],
        "units_affected": orders["quantity"].sum().to_numpy(),
        "value_eur": [(o["quantity"] * o["unit_cost_eur"]).sum(min_count=1) for _, o in orders],
        "measure": orders["late_days"].max().to_numpy(dtype=float),
        "fix": [f"ask {_suppliers(o)} when the goods will come and put the new date on the order where it is kept, so "
                "the next purchase-order export carries it; if they will not come, cancel the lines there (status "
                "cancelled): the plan then orders for the demand they stood for" for _, o in orders],
    })
    return finish_rows(out, "overdue_purchase_order", settings)


def _unit_costs(lines: pd.DataFrame, plan: pd.DataFrame) -> pd.Series:
    """Each line's unit cost: the plan's at its SKU x node, else the SKU's at another node of the plan."""
    costs = plan[["sku", "node", "unit_cost_eur"]].dropna(subset=["unit_cost_eur"])
    at_node = lines.merge(costs, on=["sku", "node"], how="left")["unit_cost_eur"]
    anywhere = lines["sku"].map(costs.groupby("sku")["unit_cost_eur"].first())
    return pd.Series(at_node.to_numpy(dtype=float), index=lines.index).fillna(anywhere).astype(float)


def _only(values: pd.Series) -> str | None:
    """The one value a purchase order's lines share (a SKU, a node), else None."""
    distinct = values.dropna().unique()
    return str(distinct[0]) if len(distinct) == 1 else None


def _suppliers(order: pd.DataFrame) -> str:
    return ", ".join(sorted(order["supplier_id"].dropna().astype(str).unique())) or "the supplier"


def _problem(order: pd.DataFrame) -> str:
    first = order.loc[order["late_days"].idxmax()]  # the line expected longest ago, as `measure` counts
    named = "; ".join(f"line {line}: {counted(q, 'unit')} of {sku} to {node}" for line, q, sku, node in
                      order[["po_line", "quantity", "sku", "node"]].head(LINES_NAMED).itertuples(index=False))
    more = len(order) - LINES_NAMED
    lines = named + (f"; and {counted(more, 'more line')}" if more > 0 else "")
    delay = (first["expected_arrival_date"] - first["promised_date"]).days
    supplier = first["supplier_id"] if pd.notna(first["supplier_id"]) else "the supplier"
    usual = f" plus {supplier}'s usual {counted(delay, 'day')} late" if delay > 0 else ""
    return (f"{counted(order['quantity'].sum(), 'unit')} still open ({lines}), expected by "
            f"{day_text(first['expected_arrival_date'])} (promised {day_text(first['promised_date'])}{usual}), "
            f"{counted(first['late_days'], 'day')} ago: the plan counts them on order, arriving on its first day, so "
            "it orders up to that much less (nothing, once they lift the stock above its reorder point) and its "
            "projection shows no stock-out they would cover")
