"""What a loaded mapping is: the frozen rules a mapping file turns into, and its error.

Kept apart from the YAML that produces them (`feeds.mapping_schema`) and the
SQL that applies them (`feeds.mapping_sql`): both read these types, and a
test or a caller can build a `FeedMapping` without either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from feeds.contracts import CONTRACTS, Contract


class MappingError(ValueError):
    """A mapping file is invalid, or a file lacks the columns its mapping needs."""


def _header_key(name: str) -> str:
    """Header matching ignores case, a BOM and surrounding or repeated whitespace."""
    return " ".join(name.replace("\ufeff", "").split()).lower()


def _contract(dataset: str) -> Contract:
    for contract in CONTRACTS:
        if contract.dataset == dataset:
            return contract
    raise KeyError(dataset)


@dataclass(frozen=True)
class Condition:
    """A test on one source column, or `all` / `any` / `not` of other conditions."""

    kind: str  # test | all | any | not
    column: str | None = None
    op: str | None = None  # one of TEST_OPS when kind == "test"
    value: Any = None  # str, tuple of str (in) or bool (empty, negative)
    ignore_case: bool = False
    children: tuple["Condition", ...] = ()

    def source_columns(self) -> list[str]:
        if self.kind == "test":
            return [self.column] if self.column is not None else []
        return [c for child in self.children for c in child.source_columns()]


@dataclass(frozen=True)
class TimestampRule:
    formats: tuple[str, ...] = ()  # strptime formats of the local time; ISO 8601 is always tried too
    timezone: str | None = None  # IANA zone of times written without an offset


@dataclass(frozen=True)
class NumberRule:
    decimal: str = "."
    thousands: str = ""


@dataclass(frozen=True)
class Case:
    when: Condition
    then: str | None  # None: the value becomes empty


@dataclass(frozen=True)
class ColumnRule:
    """How one contract column is produced.

    Steps, in order: the source (`from`, `constant` or `row_number_within`),
    `letter_case`, `value_map` (with `default`), one converter (`number`,
    `country` or `timestamp`), `negate_when`, and last `cases`, which override.
    """

    source: str | None = None  # `from`: a source column
    constant: str | None = None
    row_number_within: tuple[str, ...] = ()
    letter_case: str | None = None
    value_map: tuple[tuple[str, str | None], ...] = ()
    has_default: bool = False
    default: str | None = None
    country: bool = False
    country_languages: tuple[str, ...] = ()  # also read country names in these languages (pycountry's translations)
    timestamp: TimestampRule | None = None
    number: NumberRule | None = None
    negate_when: Condition | None = None
    cases: tuple[Case, ...] = ()

    def source_columns(self) -> list[str]:
        cols = [self.source] if self.source is not None else []
        cols += list(self.row_number_within)
        if self.negate_when is not None:
            cols += self.negate_when.source_columns()
        for case in self.cases:
            cols += case.when.source_columns()
        return cols


@dataclass(frozen=True)
class FillDown:
    within: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class FeedMapping:
    name: str
    dataset: str
    description: str
    columns: Mapping[str, ColumnRule]  # contract column -> rule, in contract order
    fill_down: FillDown | None = None
    extends: str | None = None
    path: Path | None = field(default=None, compare=False)
    # source columns holding personal data (names, addresses, phone numbers, notes): never stored as sent
    personal: tuple[str, ...] = ()

    @property
    def contract(self) -> Contract:
        return _contract(self.dataset)

    def personal_columns(self, header: list[str]) -> list[str]:
        """The columns of `header` (a file as sent) that hold personal data, as the header spells them.

        Those the mapping marks `personal`, and the sources of the contract's
        PII columns (the customer id); headers match as everywhere in a mapping.
        A listed column the file lacks is no error: exports differ in which they carry.
        """
        pii_sources = [r.source for c, r in self.columns.items() if r.source is not None and self.contract.column(c).pii]
        wanted = {_header_key(c) for c in (*self.personal, *pii_sources)}
        return [h for h in header if _header_key(h) in wanted]

    @property
    def source_columns(self) -> list[str]:
        """Source columns the mapping reads, each once, in first-use order."""
        cols: list[str] = []
        if self.fill_down is not None:
            cols += list(self.fill_down.within) + list(self.fill_down.columns)
        for rule in self.columns.values():
            cols += rule.source_columns()
        seen: dict[str, str] = {}
        for c in cols:
            seen.setdefault(_header_key(c), c)
        return list(seen.values())
