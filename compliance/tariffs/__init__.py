"""Duty rates from official tariff files a merchant downloads, loaded into the reference data.

The duty_rates seed is a small hand-kept approximation for the demo's headings;
a real catalogue needs the whole tariff of each border it sells into. Each
official source has its own layout, so one reader per source turns its file
into the same tariff lines, and the rest is shared:

- `duty_expressions.py`: which duty expressions are a plain ad valorem rate;
- `lines.py`: the tariff lines every reader returns (a TARIC-shaped measure's line: `measure_line`), the
  codes' heading and subheading, the lines in force on a day and their collapse to one row per heading or
  subheading;
- `uk_trade_tariff.py`, `us_hts.py`, `eu_taric.py`: the three readers (file layouts, licences, where to download);
- `load.py`: one load: the files of one export read, dated, collapsed and stored, with a report;
- `store.py`: the table `reference.tariff_file_rates` the dbt model `int_sku_duty_rates` reads before the seed;
- `coverage.py`: which of the merchant's HS codes each loaded tariff covers, and which it does not.
"""
