"""Shipped feed mappings (YAML), loaded by `feeds.mapping.shipped_mapping`; a package so the files install with `feeds`."""
