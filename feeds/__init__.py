"""Feed contracts and the per-file ingest that enforces them.

Modules, one job each:

- `feeds.contracts`: the written contracts of the landing feeds; `feeds.docs` writes docs/feeds.md from them.
- `feeds.audit`: DDL of the raw and audit tables.
- `feeds.readers`: land a file (any format) into a temporary all-text table (`land_file`); its parts:
  `encodings` (the file's encoding, a UTF-8 copy DuckDB reads as exactly that file), `csv_reader` (DuckDB's
  CSV reader with its rejects, the sniffed dialect, the lines that are no rows and their line numbers),
  `json_lines` (JSON Lines read line by line), `unsafe_values` (NUL bytes, over-long values, open quotes:
  flagged and quarantined), `landed` (the landed tables, limits and reason codes they share) and
  `masked_lines` (personal values hidden in a quarantined bad line).
- `feeds.plain_csv`: tell from a CSV's bytes that none of its values needs cleaning (`is_plain_csv`).
- `feeds.row_checks`: the contract as SQL that tags every landed row with what it breaks.
- `feeds.findings`: what the checks found wrong with a file's rows (failing rows only) and the rows without.
- `feeds.plausibility`: what a row may plausibly say for this merchant.
- `feeds.file_dates`: the date a landing file speaks for.
- `feeds.new_versions`: insert a file's good rows, skipping repeats of the latest version.
- `feeds.ingest`: load landing files into `raw.*`, one file per transaction.
- `feeds.landing_folder`: the landing folder as a boundary: the files waiting, what may be read, where a rejected file goes.
- `feeds.kept_rows`: the ingest on a warehouse that is not the DuckDB reading the files (Spark): what it loads kept there.
- `feeds.quarantine`: get quarantined rows back out to fix and re-submit.
- `feeds.sql`: quoting helpers (headers and values are data, never SQL).
- `feeds.mapping`: bring your own feed, the entry point (`load_mapping`, `apply_mapping`); its parts:
  `mapping_model` (the rule types), `mapping_load` (YAML and `extends`), `mapping_shipped`
  (feeds/mappings/*.yaml), `mapping_schema` (the keys a file allows), `mapping_checks`
  (error context, setting checks), `mapping_numbers`, `mapping_timestamps`, `mapping_countries`,
  `mapping_conditions` (one converter or test each, YAML and SQL) and `mapping_sql` (the generated statement);
  `feeds.mappings` holds the shipped mappings (Shopify orders, invoice lines) as YAML.
"""
