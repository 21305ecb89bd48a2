"""`crossdock init`: propose a merchant's crossdock.yaml from the orders it has landed.

A new merchant arrives with an orders export and no config. The proposal is
learned from the orders, never from the demo: each country with a fair share
of the units becomes a market (its most used currency, its main time zone,
the node that shipped most of its lines); the long tail goes to one catch-all
market; nodes are the fulfilment nodes the orders name. What the orders
cannot say (a node's country when the export names none, a time zone for a
country with several) is written as a guess with a comment saying so, for
the merchant to check before the first plan.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import pytz
import yaml

from crossdock.merchant_config import DEFAULT_CATCH_ALL_CODE, MerchantConfig, parse_config

DEFAULT_MIN_SHARE = 0.02  # a country with at least this share of units sold is a market of its own
DEFAULT_MIN_ACTIVE_DAYS = 30  # ... and orders on at least this many days (else too thin to forecast alone)
# ... and still selling: a country whose sales stopped long enough before the end of the orders that the
# silence has less than this chance under its own selling rate is planned in the catch-all. Looser than
# the training-data gate's 1e-4 on purpose: a proposal the gate would call a stopped feed is no proposal.
STOPPED_PROBABILITY = 1e-2
ASSUMED_NODE = "MAIN"  # the one node proposed when the orders name none

COUNTRY_PROFILE_SQL = """
    with sales as (
        select ship_to_country as country, currency, fulfilment_node as node, order_date, quantity
        from raw.orders
        where quantity > 0 and coalesce(line_type, 'sale') = 'sale'
            -- a SKU once sent as not_stocked is no good on any line (stg_orders.stocked): shipping
            -- protection an older mapping loaded as sales is no market's demand
            and sku not in (select sku from raw.orders where line_type = 'not_stocked' and sku is not null)
    ),

    per_country as (
        select
            country,
            count(*) as lines,
            sum(quantity) as units,
            count(distinct order_date) as active_days,
            min(order_date) as first_day,
            max(order_date) as last_day
        from sales
        group by country
    ),

    currency_ranks as (
        select country, currency, row_number() over (partition by country order by count(*) desc, currency) as rank
        from sales
        group by country, currency
    ),

    node_ranks as (
        select country, node, row_number() over (partition by country order by count(*) desc, node) as rank
        from sales
        where node is not null
        group by country, node
    )

    select per_country.*, currency_ranks.currency, node_ranks.node
    from per_country
    left join currency_ranks on currency_ranks.country = per_country.country and currency_ranks.rank = 1
    left join node_ranks on node_ranks.country = per_country.country and node_ranks.rank = 1
    order by per_country.units desc, per_country.country
"""


@dataclass(frozen=True)
class Proposal:
    """The proposed file's text, the checked config it parses to, and what it was learned from."""

    text: str
    config: MerchantConfig
    countries: pd.DataFrame  # one row per ship-to country: lines, units, share, role (market | catch_all)

    def report(self) -> str:
        c = self.countries
        markets = c[c["role"] == "market"]
        tail = c[c["role"] == "catch_all"]
        lines = [
            f"{len(c)} ship-to countries in the orders; {len(markets)} proposed as markets of their own "
            f"({markets['share'].sum():.1%} of units sold)",
        ]
        if len(tail):
            lines.append(
                f"{len(tail)} countries ({tail['share'].sum():.1%} of units) grouped in the catch-all market "
                f"{self.config.catch_all.code}: {', '.join(tail['country'].head(12))}{' ...' if len(tail) > 12 else ''}"
            )
        lines.append(f"{len(self.config.nodes)} node(s): {', '.join(n.code for n in self.config.nodes)}")
        return "\n".join(lines)


def country_profile(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per ship-to country of the loaded orders: lines, units, active days, first/last day, top currency and node."""
    return conn.execute(COUNTRY_PROFILE_SQL).df()


def _main_timezone(country: str, on: dt.date) -> tuple[str, int]:
    """A zone for the country's order days, and how many zones it has.

    Only the UTC offset matters for an order's day, so the pick is the first
    zone (tz database order) with the offsets most of the country's zones
    share in the year around `on`, winter and summer: Brazil's -03:00, not
    Noronha's -02:00; Australia's +10:00 / +11:00 with daylight saving, not
    Lord Howe's half-hour shift, which shares +11:00 only in the southern
    summer. A research station (Antarctica/...) shares a country's code, not
    its shoppers: it is taken only when nothing else has the offsets.
    """
    zones = pytz.country_timezones.get(country, [])
    if not zones:
        return "UTC", 0
    moments = [dt.datetime.combine(on.replace(month=month, day=15), dt.time(12)) for month in (1, 7)]
    offsets = [tuple(pytz.timezone(z).utcoffset(m) for m in moments) for z in zones]
    usual = max(set(offsets), key=lambda o: (offsets.count(o), -offsets.index(o)))
    candidates = [z for z, o in zip(zones, offsets) if o == usual]
    settled = [z for z in candidates if not z.startswith("Antarctica/")]
    return (settled or candidates)[0], len(zones)


def _quiet_chance(c: pd.DataFrame) -> pd.Series:
    """Chance of each country's trailing days without sales if it still sold at its own daily rate."""
    span = (pd.to_datetime(c["last_day"]) - pd.to_datetime(c["first_day"])).dt.days + 1
    rate = (c["active_days"] / span).clip(upper=0.999)
    return (1 - rate) ** c["quiet_days"]


def _day(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()


def _flow(mapping: dict) -> str:
    """One YAML flow mapping on one line, keys in the given order."""
    return yaml.safe_dump(mapping, default_flow_style=True, sort_keys=False, width=10_000).strip()


def propose_config(
    countries: pd.DataFrame,
    merchant: str | None = None,
    min_share: float = DEFAULT_MIN_SHARE,
    min_active_days: int = DEFAULT_MIN_ACTIVE_DAYS,
    today: dt.date | None = None,
) -> Proposal:
    """The proposed crossdock.yaml for `countries` (as `country_profile` returns them)."""
    if countries.empty:
        raise ValueError("no sale lines in raw.orders: land an orders export first (landing/orders/)")
    c = countries.copy()
    c["share"] = c["units"] / c["units"].sum()
    c["quiet_days"] = (pd.to_datetime(c["last_day"]).max() - pd.to_datetime(c["last_day"])).dt.days
    c["stopped"] = _quiet_chance(c) < STOPPED_PROBABILITY
    own = (c["share"] >= min_share) & (c["active_days"] >= min_active_days) & ~c["stopped"]
    if not own.any():  # every country is thin: the biggest one still selling gets a market of its own
        selling = c.index[~c["stopped"]]  # one that stopped would fail the training-data gate's stop check
        own.loc[selling[0] if len(selling) else c.index[0]] = True
    c["role"] = ["market" if o else "catch_all" for o in own]

    named_nodes = [n for n in c["node"].dropna().unique()]
    node_country: dict[str, str] = {}
    for node in named_nodes:  # a node mostly ships to its own country
        node_country[node] = str(c.loc[c["node"] == node].sort_values("units", ascending=False)["country"].iloc[0])
    default_node = named_nodes[0] if named_nodes else ASSUMED_NODE
    if not named_nodes:
        node_country[ASSUMED_NODE] = str(c["country"].iloc[0])

    today = today or dt.date.today()
    out = [
        "# crossdock.yaml: the merchant's network, proposed by `crossdock init` on "
        f"{today.isoformat()} from {int(c['lines'].sum()):,} sale lines "
        f"({_day(c['first_day'].min())} .. {_day(c['last_day'].max())}).",
        "# Check every line marked 'guess', then run `crossdock run`. docs/configuration.md describes each key.",
    ]
    if merchant:
        out.append(f"merchant: {yaml.safe_dump(merchant, default_style=None).splitlines()[0]}")
    out += ["", "nodes:"]
    for node, country in node_country.items():
        why = (
            "guess: the orders name no node; one node ships everything (rename it, set its country)"
            if node == ASSUMED_NODE
            else f"guess: the country this node ships most of its lines to ({country})"
        )
        out.append(f"  - {_flow({'code': str(node), 'country': country})}  # {why}")

    out += ["", "markets:"]
    for row in c[c["role"] == "market"].itertuples():
        zone, n_zones = _main_timezone(row.country, pd.Timestamp(row.last_day).date())
        node = row.node if isinstance(row.node, str) else default_node
        entry = {"code": row.country, "currency": row.currency, "timezone": zone, "node": str(node)}
        note = (
            f"{row.share:.1%} of units, {row.active_days} days with orders, {_day(row.first_day)} .. {_day(row.last_day)}"
            + (f"; guess: one of {n_zones} time zones" if n_zones > 1 else "")
            + ("; guess: no time zone known" if n_zones == 0 else "")
        )
        out.append(f"  - {_flow(entry)}  # {note}")

    tail = c[c["role"] == "catch_all"]
    stopped = c[c["stopped"] & (c["share"] >= min_share) & (c["active_days"] >= min_active_days)]
    if len(stopped):
        out += ["", "# big enough to be markets of their own, but their sales stopped long before the end of the orders,"]
        out += ["# so they are planned in the catch-all until they sell again (declare them above if the export is wrong):"]
        out += [
            f"#   {row.country}: {row.share:.1%} of units, nothing sold in the last {row.quiet_days} days "
            f"(since {_day(row.last_day)})"
            for row in stopped.itertuples()
        ]
    if len(tail):
        currency = tail.groupby("currency")["units"].sum().sort_values(ascending=False).index[0]
        nodes = tail.dropna(subset=["node"]).groupby("node")["units"].sum().sort_values(ascending=False)
        node = str(nodes.index[0]) if len(nodes) else default_node
        out += [
            "",
            f"# {len(tail)} countries with {tail['share'].sum():.1%} of units, each below {min_share:.0%} of units or "
            f"{min_active_days} days with orders,",
            "# are planned together here; declare a country under markets to plan it on its own.",
            f"catch_all: {_flow({'code': DEFAULT_CATCH_ALL_CODE, 'node': node, 'currency': str(currency), 'timezone': 'UTC'})}",
        ]
    out += [
        "",
        "# Lanes stock can move on between nodes (for transfers): none known from the orders.",
        "routes: []",
        "",
    ]
    text = "\n".join(out)
    config = parse_config(yaml.safe_load(text), "proposed crossdock.yaml")
    return Proposal(text=text, config=config, countries=c[["country", "lines", "units", "share", "role", "stopped"]])
