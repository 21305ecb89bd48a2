"""Transform: the dbt project as one multi-asset (seeds, staging, intermediate, marts, dbt-built publish tables)."""
