"""Dagster wiring for crossdock: definitions.py merges the domains of defs/ (assets, checks, jobs, schedules, sensors); lib/ holds what they share."""
