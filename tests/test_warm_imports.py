"""The dbt step imports the later steps' libraries in a thread while dbt runs (orchestration/lib/warm_imports.py)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from crossdock.settings import PROJECT_ROOT
from orchestration.lib.warm_imports import LATER_STEP_MODULES, warm_imports


def test_a_module_that_fails_to_import_is_left_to_its_step_and_the_others_still_import():
    thread = warm_imports(["crossdock_no_such_module", "json", "colorsys"])
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert "json" in sys.modules and "colorsys" in sys.modules
    assert "crossdock_no_such_module" not in sys.modules


def test_the_definitions_leave_the_later_steps_libraries_unimported_and_the_warm_up_imports_every_one():
    """Every module listed exists, and the warm-up does work a run would otherwise do in its steps."""
    script = textwrap.dedent("""
        import sys
        import orchestration.definitions
        from orchestration.lib.warm_imports import LATER_STEP_MODULES, warm_imports
        before = [m for m in LATER_STEP_MODULES if m in sys.modules]
        heavy = [m for m in ("great_expectations", "lightgbm") if m in sys.modules]
        warm_imports().join()
        print(before, heavy, [m for m in LATER_STEP_MODULES if m not in sys.modules])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "[] [] []", done.stdout
    assert len(LATER_STEP_MODULES) == len(set(LATER_STEP_MODULES))
