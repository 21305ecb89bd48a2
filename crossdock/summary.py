"""The short summary printed after a run: what was published and what it says."""
from __future__ import annotations

import duckdb

from compliance.documents import flag_counts
from crossdock.settings import Settings

PUBLISHED_TABLES = (
    "supply_chain_view",
    "demand_forecast",
    "forecast_accuracy",
    "forecast_backtest",
    "inventory_plan",
    "inventory_projection",
    "service_level_tradeoff",
    "service_classes",
    "transfer_recommendations",
    "scenario_impact",
    "supplier_risk",
    "lane_performance",
    "delivery_promise",
    "delivery_promise_by_chapter",
    "customs_risk",
    "compliance_plan",
    "order_landed_cost",
)


def collect_summary(conn: duckdb.DuckDBPyConnection) -> dict:
    existing = {r[0] for r in conn.execute("select table_name from information_schema.tables where table_schema = 'publish'").fetchall()}
    summary: dict = {"rows": {t: (conn.execute(f"select count(*) from publish.{t}").fetchall()[0][0] if t in existing else None) for t in PUBLISHED_TABLES}}
    if "forecast_accuracy" in existing:
        rows = conn.execute(
            "select model, wape, bias, coverage_p10_p90 from publish.forecast_accuracy where scope = 'overall'"
        ).fetchall()
        summary["accuracy"] = {model: {"wape": wape, "bias": bias, "coverage": cov} for model, wape, bias, cov in rows}
    if "demand_forecast" in existing:
        versions = conn.execute("select distinct model_version from publish.demand_forecast").fetchall()
        summary["model_version"] = versions[0][0] if len(versions) == 1 else None
    if "inventory_plan" in existing:
        summary["safety_stock_value_eur"] = conn.execute("select sum(safety_stock_value_eur) from publish.inventory_plan").fetchall()[0][0]
    if "transfer_recommendations" in existing:
        summary["transfers"] = conn.execute(
            "select count(*), coalesce(sum(units), 0), coalesce(sum(saving_eur), 0) from publish.transfer_recommendations where recommended"
        ).fetchall()[0]
    if "inventory_plan" in existing:
        summary["actions"] = dict(conn.execute("select action, count(*) from publish.inventory_plan group by 1 order by 2 desc").fetchall())
    if "compliance_plan" in existing:
        summary["compliance_flags"] = conn.execute("select coalesce(sum(flag_count), 0) from publish.compliance_plan").fetchall()[0][0]
        summary["compliance_rows_flagged"] = conn.execute("select count(*) from publish.compliance_plan where flag_count > 0").fetchall()[0][0]
        counts = flag_counts(conn.execute("select flags from publish.compliance_plan").df())
        summary["compliance_flags_by_type"] = dict(zip(counts["flag"], counts["rows"].astype(int)))
    if "order_landed_cost" in existing:
        summary["order_costs"] = conn.execute(
            "select count(*), sum(duty_eur), sum(vat_eur), sum(fees_eur), sum(landed_cost_eur) from publish.order_landed_cost"
        ).fetchall()[0]
    if "ingest_ledger" in {r[0] for r in conn.execute("select table_name from information_schema.tables where table_schema = 'audit'").fetchall()}:
        summary["ingest"] = conn.execute(
            "select count(*), sum(rows_received), sum(rows_loaded), sum(rows_quarantined), sum(rows_rejected), sum(rows_duplicate) from audit.ingest_ledger"
        ).fetchall()[0]
    return summary


def print_summary(settings: Settings) -> None:
    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse} yet: run `crossdock demo` first")
        return
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        s = collect_summary(conn)
    print("\n=== crossdock summary ===")
    print(f"warehouse: {settings.warehouse}  (schema publish.* is the BI contract)")
    if "ingest" in s:
        files, received, loaded, quarantined, rejected, duplicate = s["ingest"]
        print(
            f"ingest: {files} files, {received:,} rows received = {loaded:,} loaded + {quarantined:,} quarantined"
            f" + {rejected:,} rejected + {duplicate:,} duplicates skipped"
        )
    print("published tables:")
    for table, rows in s["rows"].items():
        print(f"  publish.{table:<28} {'not built' if rows is None else f'{rows:,} rows'}")
    if "accuracy" in s:
        acc = s["accuracy"]
        model, naive = acc.get("lightgbm", {}), acc.get("seasonal_naive_7", {})
        if model and naive:
            others = {"auto_ets": "AutoETS", "croston_optimized": "Croston"}
            versus = "".join(f", {label} {acc[m]['wape']:.3f}" for m, label in others.items() if m in acc)
            print(
                f"forecast backtest WAPE: LightGBM {model['wape']:.3f} vs seasonal naive {naive['wape']:.3f}{versus} "
                f"(ratio to naive {model['wape'] / naive['wape']:.2f}); p50 bias {model['bias']:+.3f}; "
                f"p10-p90 coverage {model['coverage']:.3f}"
            )
    if s.get("model_version"):
        plots = sorted((settings.exports / "forecast_plots").glob("*.png"))
        print(f"forecast model: {settings.models / s['model_version']}; {len(plots)} plots in {settings.exports / 'forecast_plots'}")
    if "actions" in s:
        reorder = sum(n for a, n in s["actions"].items() if a.startswith("reorder now"))
        print(f"inventory: {reorder} SKU x node to reorder now; actions {s['actions']}")
        print(f"safety stock value: EUR {s['safety_stock_value_eur']:,.0f}")
    if "transfers" in s:
        n, units, saving = s["transfers"]
        print(f"transfers before purchases: {n} recommended, {units:,} units, saving EUR {saving:,.0f}")
    if "compliance_flags" in s:
        print(f"compliance: {s['compliance_flags']} flags on {s['compliance_rows_flagged']} SKU x market x route rows "
              f"{s['compliance_flags_by_type']}")
    if "order_costs" in s:
        n, duty, vat, fees, landed = s["order_costs"]
        print(f"orders landed: {n:,} orders, duty EUR {duty:,.0f}, VAT EUR {vat:,.0f}, fees EUR {fees:,.0f}, landed EUR {landed:,.0f}")
