"""The S&OP cycle on top of the statistical forecast: planners' overrides, the consensus demand plan, forecast
value added per stage, the plan's exceptions and the monthly view in money.

Plain pandas, no Dagster: orchestration/defs/sop/ wires it. Modules:

- overrides.py: which revisions of the landed overrides count in a cycle, and why the others do not;
- consensus.py: the statistical forecast plus the overrides that count, split down to SKU x market x day;
- exceptions.py (a rule per type; stock_exceptions.py the inventory rows' rules, purchase_order_exceptions.py the overdue purchase orders', exception_rows.py the layout they share), last_year.py (the same weeks a year before, beside the plan), stopped_figures.py (what a stopped series sold before it stopped), exception_status.py (owners' updates folded in), exception_log.py (their history): the plan's exceptions;
- cycle.py: one cycle's demand plan and override statuses from the run's frames;
- cycle_store.py: each cycle's snapshot, kept in audit and staged for publish;
- value_added.py: forecast value added per stage, scored on the weeks with actuals, and the consensus stage's as negative_fva reads it;
- monthly_view.py: the monthly S&OP view in money, family x market x month, plan beside last plan and actuals.
"""
