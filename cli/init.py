"""The `crossdock init` command's body: load the landed orders and propose the merchant's crossdock.yaml.

It lives apart from cli/main.py, which parses the command line and dispatches, so each module does one job.
"""
from __future__ import annotations

import argparse
import logging
import sys

from crossdock.settings import Settings

log = logging.getLogger("crossdock")


def init(settings: Settings, args: argparse.Namespace) -> int:
    """Load the landed orders (the job's own ingest: loading twice changes nothing) and propose a crossdock.yaml."""
    from crossdock.onboarding import country_profile, propose_config
    from crossdock.warehouse import connect
    from feeds.ingest import ingest_feed

    target = args.output or settings.config
    if target.exists() and not args.force:
        print(
            f"{target} already exists: edit it, or run `crossdock init --force` to replace it with a new proposal "
            "(or --output another path to compare)",
            file=sys.stderr,
        )
        return 1
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    print(f"loading the orders in {settings.landing / 'orders'} into {settings.warehouse} ...", flush=True)
    with connect(str(settings.warehouse), log=log) as conn:
        results = ingest_feed(conn, settings.landing, "orders", settings.pii_salt)
        for r in results:
            if r.status != "skipped":
                print(f"  {r.file_name}: {r.status}, {r.rows_loaded:,} loaded, {r.rows_quarantined:,} quarantined"
                      f"{'; ' + r.message if r.message else ''}", flush=True)
        countries = country_profile(conn)
        from feeds.quarantine import open_quarantine

        still_open = len(open_quarantine(conn, "orders"))
    if countries.empty:
        print(f"no sale lines loaded from {settings.landing / 'orders'}: land an orders export first "
              "(docs/mappings.md for an export in its own layout)", file=sys.stderr)
        return 1
    proposal = propose_config(
        countries, merchant=args.merchant, min_share=args.min_share, min_active_days=args.min_active_days
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(proposal.text, encoding="utf-8")
    print(proposal.report())
    if still_open:  # the shares above count loaded lines only
        print(f"note: {still_open:,} order lines are quarantined and not in the shares above: `crossdock quarantine` says "
              "why, and `crossdock quarantine --dataset orders --export FILE` gives them back to fix and land again; "
              "then `crossdock init --force`", flush=True)
    print(f"proposed network written to {target}: check the lines marked 'guess', then `crossdock run`", flush=True)
    return 0
