"""Ingest: one asset per landing feed into raw.*, and the merchant's crossdock.yaml into config.*."""
