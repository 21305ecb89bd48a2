"""Automation: jobs, the daily schedule, the sensors (landing files, run failures, killed runs), the published tables' freshness."""
