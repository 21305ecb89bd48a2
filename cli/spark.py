"""`crossdock spark-build`: print what building the dbt project on Spark did."""
from __future__ import annotations

from crossdock.settings import Settings

INSTALL_HINT = (
    "the Spark target needs pyspark and dbt-spark (pip install -e '.[spark]') and Java 17 "
    "(Debian: apt-get install openjdk-17-jre-headless); see docs/spark.md"
)


def spark_build(settings: Settings) -> int:
    """Build on Spark and print the sources copied, dbt's result per kind of node and the time of each step."""
    try:
        import pyspark  # noqa: F401
        from dbt.adapters import spark as _spark_adapter  # noqa: F401
    except ImportError as missing:
        print(f"crossdock spark-build: {missing}; {INSTALL_HINT}", flush=True)
        return 2
    if not settings.warehouse.exists():
        print(f"crossdock spark-build: no warehouse at {settings.warehouse}: run `crossdock run` first, "
              "the sources are copied from it", flush=True)
        return 2
    from crossdock.spark import spark_home
    from crossdock.spark_build import build_on_spark

    print(f"building the dbt project on Spark (tables and catalogue in {spark_home()})", flush=True)
    build = build_on_spark(settings)
    rows = sum(build.sources.values())
    print(f"  sources copied from DuckDB: {len(build.sources)} tables, {rows:,} rows", flush=True)
    by_kind: dict[str, dict[str, int]] = {}
    for node, status in build.statuses.items():
        counts = by_kind.setdefault(node.split(".")[0], {})
        counts[status] = counts.get(status, 0) + 1
    for kind, counts in sorted(by_kind.items()):
        print(f"  dbt {kind}s: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())), flush=True)
    print("  " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in build.seconds.items()), flush=True)
    for node in build.failed():
        print(f"  ! {node}: {build.statuses[node]}", flush=True)
    return 0 if build.ok else 1
