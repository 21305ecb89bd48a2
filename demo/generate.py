"""Write a complete demo landing folder: `python -m demo.generate --landing DIR [--profile messy]`.

One entry point for developers, tests and the demo pipeline, so that every
environment ingests the same merchant. The steps run in dependency order
(catalogue -> demand -> orders -> stock and POs -> tracking -> files), each
with its own random stream derived from --seed. The messy profile
(demo/messy/) is the hard case: ten years, 40 countries, wholesale lines,
write-offs, a late partial catalogue, no stock feed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from demo.carriers import EVENT_COLUMNS, build_tracking, order_customs_risk, tracking_start
from demo.catalogue import SUPPLIER_COLUMNS, build_catalogue, catalogue_export
from demo.clock import Timeline
from demo.demand import simulate_demand
from demo.market_profiles import market_codes
from demo.orders import ORDER_COLUMNS, build_orders
from demo.overrides import COLUMNS as OVERRIDE_COLUMNS, planner_overrides
from demo.rng import stream
from demo.supply import INVENTORY_COLUMNS, PO_COLUMNS, simulate_supply
from demo.writers import date_export, write_by_month, write_csv

DEFAULT_END = date(2026, 10, 30)
DEFAULT_DAYS = 820
MIN_DAYS = 28
FEED_FOLDERS = ("orders", "suppliers", "carriers", "inventory", "overrides", "exceptions")
PROFILES = ("tidy", "messy")


class _Progress:
    """Short progress lines on stderr; timings there never reach the files."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"demo [{time.perf_counter() - self.t0:5.1f}s] {message}", file=sys.stderr, flush=True)


def generate(landing: Path, scale: float = 1.0, seed: int = 7, end: date = DEFAULT_END, days: int | None = None,
             quiet: bool = False, profile: str = "tidy", volume: float | None = None) -> dict:
    """Write the demo merchant's landing files under `landing` and return a summary:
    {"landing", "profile", "params", "files_written", "files": {dataset: {file: rows}}, "rows": {dataset: rows}}
    (the messy profile adds "facts": its line, country and SKU counts).

    `profile` "tidy" (the default) is the 8-market merchant of demo/crossdock.yaml
    with every feed, `days` defaulting to 820; "messy" is the hard case of
    demo/messy/ (its own crossdock.yaml), `days` defaulting to ten years of history.
    `volume` (tidy only; default `scale`) multiplies the units sold, and so the
    order lines, without adding SKUs: a bench of 10 million lines keeps the
    number of SKU x market series (what the forecast's cost follows) of a
    small catalogue. Same arguments give byte-identical files. Existing files of the same names
    are replaced; other files already in the feed folders are left alone (a
    warning names them, since ingest would load them too).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    if profile == "messy" and volume is not None:
        raise ValueError("volume is for the tidy profile only")
    if scale <= 0 or (volume is not None and volume <= 0):
        raise ValueError("scale and volume must be positive")
    if days is not None and days < MIN_DAYS:
        raise ValueError(f"days must be at least {MIN_DAYS}")
    landing = Path(landing)
    say = _Progress(quiet)
    if profile == "messy":
        from demo.messy.generate import write_messy

        files, params, facts = write_messy(landing, scale, seed, end, days, say)
        return _finish(landing, files, params, say, profile, facts=facts)
    days = DEFAULT_DAYS if days is None else days
    timeline = Timeline(end=end, days=int(days))
    say(f"history {timeline.start} .. {timeline.end} ({days} days), scale {scale}"
        f"{'' if volume is None else f', volume {volume}'}, seed {seed}")

    catalogue = build_catalogue(scale, stream(seed, "catalogue"))
    say(f"catalogue: {catalogue.n_skus} SKUs, {len(catalogue.suppliers)} suppliers, {len(catalogue.rows)} offers")
    demand = simulate_demand(catalogue, timeline, scale, stream(seed, "demand"), volume=volume)
    say(f"demand: {int(demand.units.sum()):,} units over {int(demand.listed.sum())} SKU x market pairs")
    orders = build_orders(catalogue, demand, timeline, stream(seed, "orders"), stream(seed, "pricing"))
    say(f"orders: {len(orders.orders):,} orders, {len(orders.lines):,} lines "
        f"({int(orders.lines['_return'].sum()):,} returns)")
    supply = simulate_supply(catalogue, demand, timeline, stream(seed, "supply"))
    say(f"supply: {len(supply.purchase_orders):,} PO lines, {len(supply.snapshots)} weekly snapshots")
    risk = order_customs_risk(orders.lines, catalogue.skus)
    tracking = build_tracking(orders.orders, timeline, stream(seed, "carriers"), risk)
    say(f"carriers: {len(tracking):,} tracking events since {max(tracking_start(end), timeline.start)}")

    year = end.year
    files: dict[str, dict[str, int]] = {
        "orders": write_by_month(orders.lines, landing / "orders", "orders", ".csv", ORDER_COLUMNS),
        "suppliers": {f"suppliers_{year}.csv": write_csv(
            catalogue.suppliers, landing / "suppliers" / f"suppliers_{year}.csv", SUPPLIER_COLUMNS)},
    }
    exported = catalogue_export(catalogue)
    files["supplier_catalogue"] = {f"catalogue_{year}.csv": write_csv(
        exported, landing / "suppliers" / f"catalogue_{year}.csv", list(exported.columns))}
    files["purchase_orders"] = {f"purchase_orders_{year}.csv": write_csv(
        supply.purchase_orders, landing / "suppliers" / f"purchase_orders_{year}.csv", PO_COLUMNS)}
    files["carrier_events"] = write_by_month(tracking, landing / "carriers", "tracking", ".jsonl", EVENT_COLUMNS)
    files["inventory_snapshots"] = {
        f"inventory_{d}.csv": write_csv(frame, landing / "inventory" / f"inventory_{d}.csv", INVENTORY_COLUMNS)
        for d, frame in supply.snapshots.items()
    }
    overrides = planner_overrides(demand, catalogue.skus["sku"].tolist(), market_codes(), timeline)
    files["forecast_overrides"] = {f"overrides_{end}.csv": write_csv(
        overrides, landing / "overrides" / f"overrides_{end}.csv", OVERRIDE_COLUMNS)}
    for name in (*files["suppliers"], *files["supplier_catalogue"], *files["purchase_orders"]):
        date_export(landing / "suppliers" / name, end)  # their names give the year only
    params = {"scale": scale, "seed": seed, "end": end.isoformat(), "days": int(days),
              "start": timeline.start.isoformat(), **({} if volume is None else {"volume": volume})}
    return _finish(landing, files, params, say, profile)


def _finish(landing: Path, files: dict[str, dict[str, int]], params: dict, say: _Progress, profile: str,
            **extra: object) -> dict:
    """Warn about other files in the feed folders and build the summary."""
    n_files = sum(len(v) for v in files.values())
    say(f"wrote {n_files} files under {landing}")

    written = {name for v in files.values() for name in v}
    stale = sorted(p.relative_to(landing).as_posix() for folder in FEED_FOLDERS if (landing / folder).is_dir()
                   for p in (landing / folder).iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.name not in written)
    if stale:
        say(f"warning: {len(stale)} other files already in the landing folder would be ingested too, "
            f"e.g. {stale[0]}")
    return {
        "landing": str(landing),
        "profile": profile,
        "params": params,
        "files_written": n_files,
        "files": files,
        "rows": {k: sum(v.values()) for k, v in files.items()},
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True, help="landing folder to write into")
    parser.add_argument("--scale", type=float, default=1.0, help="catalogue and volume multiplier (1.0 = 200 SKUs tidy, 250 messy)")
    parser.add_argument("--seed", type=int, default=7, help="random seed; same arguments, same bytes")
    parser.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END, help="last day of history (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=None,
                        help=f"days of history ending at --end (tidy: {DEFAULT_DAYS}; messy: ten years)")
    parser.add_argument("--profile", choices=PROFILES, default="tidy",
                        help="tidy: the 8-market demo merchant; messy: the hard case of demo/messy/ (default tidy)")
    parser.add_argument("--volume", type=float, default=None,
                        help="units sold multiplier without more SKUs (tidy only; default = --scale)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.landing, scale=args.scale, seed=args.seed, end=args.end, days=args.days,
                           quiet=args.quiet, profile=args.profile, volume=args.volume)
    except ValueError as exc:
        parser.error(str(exc))
    shown = ("landing", "params", "files_written", "rows", "facts")
    print(json.dumps({k: summary[k] for k in shown if k in summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
