"""How an end-to-end test runs the daily_planning job in-process on its own Settings.

The job must read the test's folders, not a developer's: the CROSSDOCK_* path
variables of the shell would override the Settings the definitions are built
on, so they are unset for the run (and restored after). Orchestration is
imported when a test runs the job, not when pytest collects the file.
"""
from typing import Any

import dagster as dg
import pytest

from crossdock.settings import PATH_VARIABLES, Settings



def run_daily_planning(settings: Settings, run_config: dict[str, Any] | None = None) -> dg.ExecuteInProcessResult:
    """daily_planning over every landing file of `settings`, on an ephemeral instance; a failed step does not raise."""
    from orchestration.defs.automation.jobs import planning_run_tags
    from orchestration.definitions import build_definitions
    from orchestration.lib.run_inputs import all_landing_files

    with pytest.MonkeyPatch.context() as env:
        for var in PATH_VARIABLES:
            env.delenv(var, raising=False)
        job = build_definitions(settings).resolve_job_def("daily_planning")
        instance = dg.DagsterInstance.ephemeral()
        return job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags=planning_run_tags(instance, all_landing_files(settings.landing), settings.config),
            run_config=run_config,
        )
