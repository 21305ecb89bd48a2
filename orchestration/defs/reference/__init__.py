"""Reference data Python writes (the ECB's exchange rates); the seeds are dbt's."""
