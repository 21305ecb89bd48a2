"""Feed contracts and the per-file ingest that enforces them."""
