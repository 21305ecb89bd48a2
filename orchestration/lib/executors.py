"""How a run launched from the UI, the schedule or a sensor executes its steps.

Dagster's default executor runs each step in a process of its own, and that
process imports the code location and builds the definitions again before
the step starts: dagster-dbt's manifest, LightGBM, matplotlib and pandas,
seconds of CPU per step. On DuckDB the steps buy no parallelism for it, since
every step that writes waits its turn at the one warehouse file (the
warehouse pool). So the same job took three times as long from the UI as from
`crossdock run`, which has always run in one process: 177.6 s against 58.7 s
on the demo merchant at scale 0.05; Dagster's forkserver start, which imports
the code location once, still took 147.3 s (bench/executor.py, bench/README.md).

`IN_PROCESS_UNLESS_ASKED` is Dagster's own `multi_or_in_process_executor`
with the other default: the steps run in the run's process, and the
launchpad's run config can still ask for a process per step
(`execution: config: multiprocess: {}`). On Spark the run always stays in one
process (`dg.in_process_executor`): its steps share one session, and a
process per step would start a JVM each.
"""
from __future__ import annotations

import dagster as dg

_CHOICE = dg.multi_or_in_process_executor.config_schema.as_field().config_type  # in_process | multiprocess

IN_PROCESS_UNLESS_ASKED: dg.ExecutorDefinition = dg.multi_or_in_process_executor.configured(
    lambda choice: choice,
    name="in_process_unless_asked",
    config_schema=dg.Field(_CHOICE, default_value={"in_process": {}}),
)
