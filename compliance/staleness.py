"""Border rules that have aged: periods that ended with nothing after them, sources older than a set age.

A rule row ends on its `effective_to` and the rulebook (compliance/rulebook.py)
then finds nothing in force: a fee is no longer charged, a regime or a VAT
rate becomes unknown. That is right when the rule was repealed and wrong when
nobody added the row that replaces it, and the two look the same in the
prices. So the compliance step lists, for its planning date, every rule whose
last period ended before that day, every source (the `source` and `as_of`
columns every seed carries) older than a set age, the duty rows marked
`confidence = low` that wait for a check, and the rows without periods
(duty rates, restricted goods, a loaded tariff file: compliance/tariffs/)
whose `effective_to` is before that day (the dbt models no longer apply
them), and reports them as a warning check and a line of the summary.
Nothing here changes a price.

Only the rules of the places the merchant ships to or from count: the
countries its sale lines ship to, its markets' and its nodes', read from the
warehouse by `read_places_served` (the tables in `PLACES_TABLES`). A
merchant selling inside the EU is not told about an Australian fee that
ended.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from compliance.facts import SALE_LINES
from crossdock.engine import WarehouseLike, as_warehouse

# the seeds whose rows are periods, and the columns that name one rule (its periods follow each other; a
# territory's low-value regime is one rule whose successive periods may carry other regime names)
PERIOD_KEYS: dict[str, tuple[str, ...]] = {
    "de_minimis": ("destination",),
    "vat_rates": ("country_code",),
    "import_fees": ("destination", "fee_code"),
}
PLACE_COLUMNS: dict[str, str] = {"vat_rates": "country_code"}  # where a rule applies; every other table names its destination
EVERYWHERE = "*"  # a destination that is every place (restricted_goods: lithium batteries, flammables)
SOURCE_ONLY_SEEDS = ("duty_rates", "restricted_goods")  # rows without periods, each with its own end (effective_to)
RULE_SEEDS = (*PERIOD_KEYS, *SOURCE_ONLY_SEEDS)  # every seed a border rule comes from
TARIFF_FILES = "tariff_file_rates"  # the tariffs loaded with `crossdock tariff load`, when any (compliance/tariffs/)
DEFAULT_MAX_SOURCE_AGE_DAYS = 365  # a tariff or fee schedule not checked for a year is due a look
MAX_NAMED = 8  # rules named in one line; the check's metadata lists them all

ENDED, OLD_SOURCE, LOW_CONFIDENCE = "ended", "old_source", "low_confidence"


@dataclass(frozen=True)
class StaleRule:
    """One finding: the seed, the rule (or source), what aged, how, and since when (the end of the rule's last
    period, or the source's newest as_of; None for low-confidence duties)."""

    table: str
    rule: str
    kind: str
    detail: str
    since: dt.date | None = None


def _day(value: object) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def ended_rules(frame: pd.DataFrame, table: str, day: dt.date) -> list[StaleRule]:
    """Rules of `table` whose last period ended before `day`: nothing of theirs is in force on it."""
    found = []
    for key, rows in frame.groupby(list(PERIOD_KEYS[table]), sort=True, dropna=False):
        starts, ends = rows["effective_from"].map(_day), rows["effective_to"].map(_day)
        in_force = [(s is None or s <= day) and (e is None or e >= day) for s, e in zip(starts, ends)]
        later = [s is not None and s > day for s in starts]
        if any(in_force) or any(later) or ends.isna().any():
            continue
        last = max(ends)
        name = " ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        found.append(StaleRule(table, name, ENDED, f"ended {last}, nothing in force on {day}", last))
    return found


def old_sources(frame: pd.DataFrame, table: str, day: dt.date, max_age_days: int) -> list[StaleRule]:
    """Sources of `table` last checked (`as_of`) more than `max_age_days` before `day`."""
    if "source" not in frame.columns or "as_of" not in frame.columns or frame.empty:
        return []
    found = []
    checked = frame.assign(as_of=frame["as_of"].map(_day)).dropna(subset=["as_of"])
    for source, as_of in checked.groupby("source", sort=True)["as_of"].max().items():
        age = (day - as_of).days
        if age > max_age_days:
            found.append(StaleRule(table, str(source), OLD_SOURCE, f"as of {as_of}: {age} days before {day}, "
                                                                   f"more than {max_age_days}", as_of))
    return found


def low_confidence_duties(duty_rates: pd.DataFrame) -> list[StaleRule]:
    """Duty rows marked confidence = low, one finding per destination: they wait for a check."""
    if "confidence" not in duty_rates.columns:
        return []
    low = duty_rates[duty_rates["confidence"].astype(str).str.lower() == "low"]
    return [StaleRule("duty_rates", str(destination), LOW_CONFIDENCE,
                      f"{len(rows)} rows of confidence low (headings {', '.join(sorted(map(str, rows['hs_heading']))[:5])}"
                      f"{', ...' if len(rows) > 5 else ''}) wait for a check against the tariff")
            for destination, rows in low.groupby("destination", sort=True)]


def ended_rows(frame: pd.DataFrame, table: str, day: dt.date) -> list[StaleRule]:
    """Per destination, the rows of a table without periods (duty rates, restricted goods, a loaded tariff file)
    whose `effective_to` is before `day`: they are no longer applied, so the codes they priced fall back or are
    unknown."""
    if "effective_to" not in frame.columns or frame.empty:
        return []
    ends = frame["effective_to"].map(_day)
    ended = frame[[e is not None and e < day for e in ends]]
    found = []
    for destination, rows in ended.groupby("destination", sort=True):
        last = max(rows["effective_to"].map(_day))
        codes = sorted(set((rows["hs6"].fillna(rows["hs_heading"]) if "hs6" in rows else rows["hs_prefix"]).astype(str)))
        advice = "load a newer file" if table == TARIFF_FILES else "add the rows that replace them"
        found.append(StaleRule(table, str(destination), ENDED,
                               f"{len(rows)} rows ended by {last} (codes {', '.join(codes[:5])}"
                               f"{', ...' if len(codes) > 5 else ''}): {advice}", last))
    return found


def places_served(countries: Iterable[str], territories: Mapping[str, str | None]) -> frozenset[str]:
    """The codes a border rule may name for `countries` (ISO alpha-2): each country and its customs territory
    (`territories`: DE -> EU), since a fee or regime may be set for either (FR's fees, the EU's low-value regime)."""
    served = {str(country) for country in countries if country is not None and not pd.isna(country)}
    return frozenset(served | {str(territories[c]) for c in served if territories.get(c) is not None
                               and not pd.isna(territories[c])})


PLACES_TABLES = (SALE_LINES, "reference.markets", "reference.nodes", "reference.countries")  # what read_places_served reads


def read_places_served(target: WarehouseLike) -> frozenset[str]:
    """Where the merchant's border rules apply: the countries its sale lines ship to, its markets' countries (a
    market may have no order yet) and its nodes' countries (stock imported there), each with its customs
    territory (`places_served`)."""
    served = as_warehouse(target).query(f"""
        with countries_served as (
            select ship_to_country as country from {SALE_LINES}
            union
            select market_code from reference.markets where not is_catch_all
            union
            select country from reference.nodes
        )
        select countries_served.country, countries.customs_territory
        from countries_served
        left join reference.countries as countries on countries.alpha_2 = countries_served.country
    """)
    return places_served(served["country"], dict(zip(served["country"], served["customs_territory"])))


def in_scope(frame: pd.DataFrame, table: str, places: Collection[str] | None) -> pd.DataFrame:
    """The rows of `table` that apply to one of `places` or everywhere (all rows when `places` is None)."""
    column = PLACE_COLUMNS.get(table, "destination")
    if places is None or column not in frame.columns:
        return frame
    return frame[frame[column].astype(str).isin({*places, EVERYWHERE})]


def stale_rules(tables: Mapping[str, pd.DataFrame | None], day: dt.date,
                max_age_days: int = DEFAULT_MAX_SOURCE_AGE_DAYS, places: Collection[str] | None = None) -> list[StaleRule]:
    """Every finding for `day` over the seeds in `tables` (by seed name; a missing one is passed over), on the rules
    of `places` only when given (`places_served`)."""
    found: list[StaleRule] = []
    for table, frame in tables.items():
        if frame is None:
            continue
        frame = in_scope(frame, table, places)
        found += ended_rules(frame, table, day) if table in PERIOD_KEYS else ended_rows(frame, table, day)
        found += old_sources(frame, table, day, max_age_days)
        if table == "duty_rates":
            found += low_confidence_duties(frame)
    return found


def findings_frame(found: list[StaleRule]) -> pd.DataFrame:
    return pd.DataFrame([vars(f) for f in found], columns=["table", "rule", "kind", "detail", "since"])


def summary_line(found: list[StaleRule], day: dt.date) -> str:
    """One line for the summary: the rules that ended by name, the old sources and low-confidence duties counted."""
    if not found:
        return f"border rules on {day}: every rule in force, every source checked within its age"
    parts = []
    ended = [f"{f.table} {f.rule} (ended {f.since})" for f in found if f.kind == ENDED]
    if ended:
        parts.append(f"{len(ended)} ended with nothing after them: {', '.join(ended[:MAX_NAMED])}"
                     f"{', ...' if len(ended) > MAX_NAMED else ''}")
    old = [f for f in found if f.kind == OLD_SOURCE]
    if old:
        by_table = pd.Series([f.table for f in old]).value_counts().sort_index()
        oldest = min(f.since for f in old)
        parts.append(f"{len(old)} sources older than their age ({', '.join(f'{t} {n}' for t, n in by_table.items())}; "
                     f"oldest as of {oldest})")
    low = [f.rule for f in found if f.kind == LOW_CONFIDENCE]
    if low:
        parts.append(f"duty rows of low confidence wait for a check in {', '.join(low)}")
    return f"border rules on {day}: " + "; ".join(parts)
