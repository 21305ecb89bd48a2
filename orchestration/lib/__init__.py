"""Shared pieces every domain of defs/ may use (resources, retries, column schemas, run inputs); never imports defs/."""
