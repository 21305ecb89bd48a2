"""Import the libraries of the steps after dbt while dbt builds in a process of its own.

The run's process spends the dbt step waiting on dbt's subprocess (10 s on a
small merchant, 12 s on the demo), then pays about 3 s of imports in the steps
after it: Great Expectations for the gates (1.7 s), LightGBM for the forecast
(1.2 s, through scikit-learn and scipy.stats) and hierarchicalforecast for its
reconciliation. Those steps import them lazily, so that loading the code
location and a `crossdock run` with nothing new stay quick; imported during
the wait on dbt, they cost the run nothing.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

LATER_STEP_MODULES = (
    "expectations.gate",  # great_expectations: the training-data and forecast gates
    "expectations.forecast_gate",
    "lightgbm",  # ml/model.py, ml/registry.py: the forecast
    "hierarchicalforecast.methods",  # ml/hierarchy.py: its reconciliation
    "ml.plots",  # the forecast's charts
)


def warm_imports(modules: Iterable[str] = LATER_STEP_MODULES) -> threading.Thread:
    """Start importing `modules` in a daemon thread; join it before the next step imports anything itself."""
    thread = threading.Thread(target=_import_all, args=(tuple(modules),), name="crossdock-warm-imports", daemon=True)
    thread.start()
    return thread


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the step that needs the module imports it again and reports the error
            continue
