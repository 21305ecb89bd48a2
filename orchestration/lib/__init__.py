"""Shared pieces every domain of defs/ may use (resources, retries, column schemas, run inputs, the markets as
the forecast's partitions); never imports defs/."""
