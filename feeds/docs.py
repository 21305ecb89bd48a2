"""Write docs/feeds.md from the contracts, so the docs cannot drift from the checks.

    python -m feeds.docs            rewrite docs/feeds.md
"""
from __future__ import annotations

import sys
from pathlib import Path

from feeds.contracts import CONTRACTS, FEEDS, ORDERS, Column, Contract, contracts_for_feed
from feeds.plausibility import (
    DATES_ANY_FUTURE,
    DATES_UP_TO_FILE_DATE,
    NODE_COLUMNS,
    NODE_NOT_CHECKED,
    REASON_CODES,
    TIME_ZONE_SLACK_DAYS,
)
from feeds.landed import LANDING_REASON_CODES, MAX_VALUE_CHARS, SHOWN_CHARS
from feeds.row_checks import column_rules

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "feeds.md"
EXAMPLES_DIR = DOC_PATH.parent / "examples"


def _constraints(col: Column) -> str:
    parts = []
    if col.allowed is not None:
        parts.append("one of " + ", ".join(f"`{a}`" for a in col.allowed) if len(col.allowed) <= 12 else f"ISO code ({len(col.allowed)} allowed)")
    if col.min_value is not None:
        parts.append(f">= {col.min_value:g}")
    if col.max_value is not None:
        parts.append(f"<= {col.max_value:g}")
    if col.nonzero:
        parts.append("not 0")
    if col.pii:
        parts.append(f"pseudonymised, stored as `{col.target_name}`")
    return "; ".join(parts)


PERSONAL_DATA = """## Customer pseudonyms

No customer identifier, name or address is stored as sent. A contract's PII column
(`orders.customer_id`) is stored as its pseudonym, HMAC-SHA256 keyed with the secret in
`CROSSDOCK_PII_SALT`: the same shopper gets the same `customer_key` on every run, and
without the key nobody can tell which e-mail a pseudonym stands for (hashing a list of
candidate e-mails finds nothing). The key is read from the environment when a file is
ingested and is kept nowhere else: not in the Dagster run config, the UI, event logs or
the warehouse.

- Set it to a long random secret (`python -c "import secrets; print(secrets.token_hex(32))"`)
  in the environment of every `crossdock` and `dagster` command, keep it like a password,
  and never change it: a new key gives every shopper a new `customer_key` from then on.
- Unset, the public demo salt is used. That is fine for the demo merchants (their
  customers are invented); for any other `crossdock.yaml` every ingest of a feed with files logs a
  warning, puts `pii_salt_warning` on the raw assets' materializations and `crossdock summary`
  (and so `crossdock run`) prints a `WARNING:` line. The run is not refused, so
  `crossdock init` and a first run still work before the secret is set. A key shorter
  than 16 characters is warned about too: it could be guessed from a few known ids.
- Upgrading from a release before issue 14: pseudonyms were `sha256(salt || id)`, which
  anyone who knew the salt could reverse. Rows loaded from now on carry the keyed
  pseudonym, so a returning shopper's new lines get a new `customer_key` and
  customer-level counts split at the upgrade. To keep them consistent, rebuild `raw.*`
  from the landing folder (a fresh warehouse) with the key set.
  Earlier releases also kept the salt in the `landing` resource's config, so the run
  history in `DAGSTER_HOME` (and the UI) of runs before the upgrade shows it: treat
  that salt as published and choose a new key, not the old salt.

A quarantined row is kept as sent (`audit.quarantine.record`) except its personal
values: the PII column's source and every column its mapping marks `personal`
(the shipped Shopify mapping: billing and shipping name, street, address lines,
company, city, zip and phone, `Phone`, `Notes`, `Note Attributes`, `Employee`; see
docs/mappings.md) are kept as `sha256:<pseudonym>`, in the record and in the export.

## Fixing quarantined rows

`crossdock quarantine --dataset orders --export fix.csv` writes the open rows in the
contract's layout, to be fixed in a spreadsheet and saved as the file the command names
(a name no file of the folder has yet: a second fix of the day is `..._fix_<day>_02.csv`).
Its `_quarantine_id` column names the row each line answers (`audit.quarantine_fixes`
records the answer): keep it, and a fix settles its row even when it changes the key (a bad
line number, node or day), and a line still bad is quarantined again and listed once, from
the fix file. The other `_` columns say why and whence; the ingest reads none of them.
A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula, so (as OWASP advises against CSV injection) such a text value is written
with a single quote in front: `=HYPERLINK(...)` becomes `'=HYPERLINK(...)` and a SKU
`-ABC` becomes `'-ABC`. Plain numbers (`-2`, `+1.5`, `-3e2`) are left alone: a spreadsheet
reads them as numbers, never formulas, and a return of -2 must come back as -2. The ingest
removes that one quote again from every value it reads, so a fixed row loads as the line
it was. Pseudonyms (`sha256:...`) in the file are loaded as the pseudonym, not hashed
again. The dashboard's CSV downloads are escaped the same way."""


LANDING_BOUNDARY = f"""## Bad lines and the landing folder

One bad line never rejects a file: it becomes its own row in `audit.quarantine` and the
file's other lines load. What a merchant sees, per kind of bad input:

- A CSV line with more or fewer fields than the header (a missing or extra delimiter, a
  value with a comma that needs quotes), anywhere in the file: `malformed_line`, reason
  `line 4 of the file has 12 fields, the header has 11: ...`.
- A quote that is never closed: the file is then read without quoting, so each line
  with a value that starts with a quote mark (the open one, and any correctly quoted
  value) is quarantined as `malformed_line`, reason `sku starts with a quote mark, but
  a quote in this file is never closed ...`, instead of loading with the marks in it.
- A JSON Lines line that is not JSON (a truncated last line says so), not one object
  (an array, `null`), or names a key twice: `malformed_line`, reason
  `line 3 of the file is not JSON (it is the last line: was the file cut short?)`.
- A NUL byte in a value: `nul_byte`, reason `a NUL byte (shown as ␀) in sku`; no NUL is
  stored anywhere, the record shows it as ␀.
- A value longer than {MAX_VALUE_CHARS:,} characters, or a line of up to 64 MB: the
  row is quarantined (`value_too_long`, or `malformed_line` if it is also ragged) at its
  own line, and the record keeps the first {SHOWN_CHARS:,} characters with a note of
  the length, so a 50 MB line does not bloat the warehouse. A line longer than 64 MB
  rejects the file (it is no line-based export).
- A header that names a column twice (`sku` and `SKU`, or `sku` twice): the file is
  rejected whole, reason `the column 'sku' appears twice in the header (columns 6 and
  12)`: which of the two values a line means cannot be told from the line.

`row_number` in `audit.quarantine` and `_row_number` in `raw.*` count the file's rows
(1 = the first row after a CSV's header, or a JSON file's first line; blank lines are
not rows), bad lines included, so no number is used twice. The reason of a bad line
names its line in the file as an editor shows it, which differs from the row number
when a quoted value spans lines; its record holds `_line_number` and `_raw_line` (the
line as sent, shortened, with the values of personal columns replaced by their
pseudonym; in a ragged line every field from where a personal value may have shifted).

The landing folder is a boundary: nothing outside it is read. A symbolic link in
`landing/<feed>/` or a source folder (to a file or a folder, dangling or not), a linked
feed or source folder, a linked `mapping.yaml`, or a path that resolves outside the
landing folder is rejected once, reason `<name> is a symbolic link; crossdock reads only
files inside the landing folder, so it was not followed`, and the link itself (never its
target) is moved to `landing/rejected/<feed>/`. Its target is never opened, not even its
size is recorded, and its location is not quoted in the ledger, the reason file or the
logs."""


def _plausibility_lines(contract: Contract) -> list[str]:
    """The plausibility checks of one dataset, a bullet each."""
    lines = []
    bounded = DATES_UP_TO_FILE_DATE.get(contract.dataset, ())
    if bounded:
        lines.append(f"- `implausible_date`: {', '.join(f'`{c}`' for c in bounded)} at most {TIME_ZONE_SLACK_DAYS} days after the file's as-of date")
    dated = bounded + DATES_ANY_FUTURE.get(contract.dataset, ())
    if dated:
        earliest = "the merchant's order history (see above)" if contract.dataset == ORDERS.dataset else "1990-01-01"
        lines.append(f"- `implausible_date`: {', '.join(f'`{c}`' for c in dated)} not before {earliest}")
    if contract.dataset in NODE_COLUMNS:
        unless = f", but {NODE_NOT_CHECKED[contract.dataset][1]}" if contract.dataset in NODE_NOT_CHECKED else ""
        lines.append(f"- `unknown_node`: `{NODE_COLUMNS[contract.dataset]}` declared in crossdock.yaml (once it exists){unless}")
    return ["", "Plausibility checks:", "", *lines] if lines else []


def _required(col: Column) -> str:
    if not col.required:
        return "no"
    return "yes" if col.empty_allowed_on is None else f"yes, but not on {col.empty_allowed_on}"


def render() -> str:
    lines = [
        "# Feed contracts",
        "",
        "Generated from `feeds/contracts.py` by `python -m feeds.docs`; the ingest builds its",
        "row checks from the same objects. A file goes in `landing/<feed>/` and its name's",
        "prefix picks the dataset. CSV (header row), JSON Lines and Parquet are read.",
        "",
        "Every row ends in `raw.<dataset>` or in `audit.quarantine` with a reason code:",
        "",
        "| reason_code | meaning |",
        "|---|---|",
        "| `missing_value` | a required value is empty |",
        "| `bad_type` | the value does not parse as the column's type |",
        "| `missing_timezone` | a timestamp has no UTC offset, so its instant is unknown |",
        "| `not_allowed` | the value is not in the allowed set |",
        "| `out_of_range` | a number is below the minimum or above the maximum |",
        "| `zero_quantity` | a quantity of 0 (neither a sale nor a return) |",
        *(f"| `{rule.code}` | {rule.meaning} |" for contract in CONTRACTS for rule in contract.row_rules),
        "| `duplicate_key` | the key repeats later in the same file; the later row wins |",
        *(f"| `{code}` | {meaning} |" for code, meaning in LANDING_REASON_CODES.items()),
        *(f"| `{code}` | {meaning} |" for code, meaning in REASON_CODES.items()),
        "",
        "The last two are plausibility checks (`feeds/plausibility.py`): the contract lets the row",
        f"through, but this merchant cannot have it. A date may lie up to {TIME_ZONE_SLACK_DAYS} days after the file's",
        "as-of date (the date in its name, never later than today; else its modification time), and",
        "not before 1990-01-01; an order line not before a gap of more than two years in the merchant's",
        "order days either (`orders.earliest_order_date` in crossdock.yaml replaces both order limits).",
        "A node must be declared in crossdock.yaml once the file exists. An order line's quantity",
        "beyond the merchant's plausible range is `out_of_range` (`orders.max_abs_quantity`), and so is a",
        "catalogue line's unit weight beyond it (`catalogue.max_weight_kg`).",
        "",
        "A file missing a required column is rejected whole (`audit.ingest_ledger.status = 'rejected'`)",
        "with a message listing the missing and unexpected columns. A column the contract does not",
        "name is not loaded, and the ledger's message and the run's warnings name it (a renamed",
        "column would vanish so); a name starting with `_` is crossdock's own. Files are identified by the",
        "SHA-256 of their content: the same content is never loaded twice. An edited mapping reads",
        "the files that land after it; rows it would now read from files already loaded are fixed",
        "through `crossdock quarantine --export` ([docs/mappings.md](mappings.md#a-mapping-file)).",
        "",
        *LANDING_BOUNDARY.splitlines(),
        "",
        *PERSONAL_DATA.splitlines(),
        "",
    ]
    for feed in FEEDS:
        lines += [f"## Feed `{feed}`", ""]
        for contract in contracts_for_feed(feed):
            lines += [
                f"### `{contract.dataset}` — files `landing/{feed}/{contract.file_prefix}*`",
                "",
                contract.description,
                "",
                f"Key: ({', '.join(contract.key)}). Loaded into `{contract.table}`.",
                "",
                "| column | type | required | unit | constraints | description |",
                "|---|---|---|---|---|---|",
            ]
            for col in contract.columns:
                lines.append(
                    f"| `{col.name}` | {col.type} | {_required(col)} | {col.unit or ''} | {_constraints(col)} | {col.description} |"
                )
            for derived in contract.derived:
                lines.append(f"| `{derived.name}` (added) | {derived.type} | | | | {derived.description} |")
            checks = sorted(
                {r.code for col in contract.columns for r in column_rules(col)}
                | {r.code for r in contract.row_rules}
                | {"duplicate_key"}
            )
            lines += ["", f"Checks applied: {', '.join(f'`{c}`' for c in checks)}.", *_plausibility_lines(contract), ""]
            examples = sorted((EXAMPLES_DIR / feed).glob(f"{contract.file_prefix}*"))
            if examples:
                example = examples[0]
                lines += [f"Example (`docs/examples/{feed}/{example.name}`):", "", "```", example.read_text(encoding="utf-8").rstrip(), "```", ""]
    return "\n".join(lines)


def main() -> int:
    DOC_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC_PATH} ({len(CONTRACTS)} contracts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
