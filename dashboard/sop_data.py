"""What the S&OP pages show, as plain SQL over the BI snapshot (no Streamlit here): the cycle (consensus,
overrides, forecast value added), the plan's exceptions and the monthly view in money.

The plan and forecast pages' queries, the snapshot connection and the formats are in dashboard/data.py.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from crossdock.plan_labels import CLOSED_STATUSES, EXCEPTION_TYPES, MONTHLY_VERSIONS
from crossdock.warehouse import read_sql


def current_cycle(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The S&OP cycle the plan on screen runs on: the demand plan's cycle of the plan date."""
    row = conn.execute(
        "select max(cycle) from publish.demand_plan "
        "where planning_date = (select max(as_of)::date from publish.inventory_plan)"
    ).fetchone()
    return row[0] if row else None


def cycle_by_market(conn: duckdb.DuckDBPyConnection, cycle: str) -> pd.DataFrame:
    """Per market: the horizon's units by the statistical forecast and by the consensus, and the change."""
    return read_sql(conn, """
        select market, sum(statistical_mean) as statistical_units, sum(mean) as consensus_units,
               sum(mean) - sum(statistical_mean) as change_units,
               (sum(mean) - sum(statistical_mean)) / nullif(sum(statistical_mean), 0) as change_share
        from publish.demand_plan
        where cycle = ?
        group by market
        order by abs(sum(mean) - sum(statistical_mean)) desc, market
    """, [cycle])


def cycle_by_day(conn: duckdb.DuckDBPyConnection, cycle: str) -> pd.DataFrame:
    """Per day of the cycle's horizon: units by seasonal naive, the statistical forecast and the consensus."""
    return read_sql(conn, """
        select demand_date::date as day, sum(naive_mean) as naive, sum(statistical_mean) as statistical,
               sum(mean) as consensus
        from publish.demand_plan
        where cycle = ?
        group by day
        order by day
    """, [cycle])


def cycle_overrides(conn: duckdb.DuckDBPyConnection, cycle: str, sku: str | None = None,
                    market: str | None = None) -> pd.DataFrame:
    """The overrides the cycle weighed (all, or those covering one SKU x market), applied first, newest first."""
    return read_sql(conn, """
        select override_id, author, level, market, coalesce(sku, category, 'all') as applies_to, bucket, period_start,
               units_asked, change_pct, reason_code, comment, status, units_statistical, units_after, entered_at
        from publish.forecast_overrides
        where cycle = ?
          and (?::varchar is null or (market = ? and (sku = ? or (sku is null and (category is null or category = (
                select max(category) from publish.demand_plan where sku = ? and market = ?))))))
        order by status <> 'applied', entered_at desc, override_id
    """, [cycle, sku, market, sku, sku, market])


def value_added(conn: duckdb.DuckDBPyConnection) -> tuple[str | None, pd.DataFrame]:
    """The latest cycle before the current one with actuals, and its forecast value added per scope and stage."""
    row = conn.execute(
        "select max(cycle) from publish.forecast_value_added where cycle < coalesce(("
        "select max(cycle) from publish.demand_plan where planning_date = (select max(as_of)::date from publish.inventory_plan)"
        "), '9999')"
    ).fetchone()
    cycle = row[0] if row else None
    scores = read_sql(conn, """
        select scope, scope_value, stage, days_scored, horizon_days, series, actual_units, forecast_units, wape, bias,
               value_added
        from publish.forecast_value_added
        where cycle = ?
        order by scope <> 'all', scope, scope_value,
                 case stage when 'seasonal naive' then 0 when 'statistical' then 1 else 2 end
    """, [cycle])
    return cycle, scores


def cycle_choices(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The markets, categories and SKU of the current demand plan: what the override form offers."""
    cycle = current_cycle(conn)
    choices = {}
    for column in ("market", "category", "sku"):
        rows = conn.execute(f"select distinct {column} from publish.demand_plan where cycle = ? and {column} is not null "
                            f"order by 1", [cycle]).fetchall()
        choices[column] = [r[0] for r in rows]
    return choices


def exception_counts(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per exception type, in the plan's order: open, raised by the plan, closed by their owners, ever raised."""
    counts = read_sql(conn, """
        select type,
               count(*) filter (where is_open) as open,
               count(*) filter (where raised) as raised,
               count(*) filter (where list_contains(?, status)) as closed,
               count(*) as ever_raised
        from publish.exceptions
        group by type
    """, [list(CLOSED_STATUSES)]).set_index("type")
    return counts.reindex(list(EXCEPTION_TYPES)).fillna(0).astype("int64").rename_axis("type").reset_index()


def exception_list(
    conn: duckdb.DuckDBPyConnection, type_: str | None = None, owner: str | None = None, status: str | None = None,
    everything: bool = False,
) -> pd.DataFrame:
    """The open exceptions (`everything`: every one ever raised), filtered; by type, then the most EUR, then the most
    units first (a type priced in neither, by id).

    owner matches in any case. A closed `status` (resolved, dismissed) looks at every row: asking for them
    means wanting them.
    """
    where, params = [], []
    if not everything and status not in CLOSED_STATUSES:
        where.append("is_open")
    for column, value in (("type", type_), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if owner is not None:
        where.append("lower(owner) = lower(?)")
        params.append(owner)
    order = " ".join(f"when '{t}' then {i}" for i, t in enumerate(EXCEPTION_TYPES))
    return read_sql(conn, f"""
        select exception_id, type, subject, owner, status, raised, first_raised_date::date as first_raised_date,
               last_seen_date::date as last_seen_date, problem, units_affected, value_eur, fix, fix_cost_eur,
               last_update_at, last_updated_by, last_note, updates, history
        from publish.exceptions
        {"where " + " and ".join(where) if where else ""}
        order by case type {order} end, value_eur desc nulls last, abs(units_affected) desc nulls last, exception_id
    """, params)


def _family_market(category: str | None, market: str | None) -> tuple[list[str], list[str]]:
    """The where clauses and parameters of a family and a market filter (None: all)."""
    chosen = {column: value for column, value in (("category", category), ("market", market)) if value is not None}
    return ["true", *(f"{column} = ?" for column in chosen)], list(chosen.values())


def sop_monthly_choices(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The product families and markets of the monthly S&OP view: what its filters offer."""
    return {column: [r[0] for r in conn.execute(
        f"select distinct {column} from publish.sop_monthly where {column} is not null order by 1").fetchall()]
        for column in ("category", "market")}


def sop_monthly(conn: duckdb.DuckDBPyConnection, category: str | None = None, market: str | None = None) -> pd.DataFrame:
    """Month x version of the monthly S&OP view over one family and market, or all (None).

    Money adds up; the margin is taken again over the sums, and the fill rate
    is 1 - unserved over the plan units of the markets whose stock is known
    (the rows with a fill rate). `days_covered` says which months are partial;
    `rows_with_unknowns` how many family x market rows leave something out.
    """
    where, params = _family_market(category, market)
    return read_sql(conn, f"""
        select month, version, any_value(cycle) as cycle, max(days_covered) as days_covered,
               max(days_in_month) as days_in_month, min(from_date) as from_date, max(to_date) as to_date,
               sum(sales_units) as sales_units, sum(revenue_eur) as revenue_eur, sum(refunds_eur) as refunds_eur,
               sum(net_revenue_eur) as net_revenue_eur, sum(landed_cost_eur) as landed_cost_eur,
               count(*) filter (where revenue_eur is not null and net_revenue_eur is null) as rows_refunds_unknown,
               sum(gross_margin_eur) as gross_margin_eur,
               100 * sum(gross_margin_eur) / nullif(sum(revenue_eur), 0) as margin_pct,
               sum(inventory_value_eur) as inventory_value_eur, sum(purchases_landing_eur) as purchases_landing_eur,
               sum(cash_tied_up_eur) as cash_tied_up_eur, sum(purchases_to_place_eur) as purchases_to_place_eur,
               sum(unserved_units) as unserved_units,
               sum(sales_units) filter (where fill_rate is not null) as fill_base_units,
               1 - sum(unserved_units) / nullif(sum(sales_units) filter (where fill_rate is not null), 0) as fill_rate,
               count(unknowns) as rows_with_unknowns
        from publish.sop_monthly
        where {" and ".join(where)}
        group by month, version
        order by month, case version {" ".join(f"when '{v}' then {i}" for i, v in enumerate(MONTHLY_VERSIONS))} end
    """, params)


def sop_monthly_unknowns(conn: duckdb.DuckDBPyConnection, category: str | None = None,
                         market: str | None = None) -> pd.DataFrame:
    """The family x market x month x version rows that leave something out, and what."""
    where, params = _family_market(category, market)
    where.append("unknowns is not null")
    return read_sql(conn, f"""
        select category, market, month, version, unknowns, cost_basis, price_basis
        from publish.sop_monthly where {" and ".join(where)} order by all
    """, params)
