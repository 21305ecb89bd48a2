"""Automation: jobs, the daily schedule, the sensors (landing files, declarative refresh, run failures, killed runs)."""
