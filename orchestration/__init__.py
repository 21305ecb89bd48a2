"""Dagster wiring for crossdock: assets, checks, jobs, schedules, sensors."""
