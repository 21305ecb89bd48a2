"""The dbt step imports the later steps' libraries in a thread while dbt runs (orchestration/lib/warm_imports.py)."""
from __future__ import annotations

import importlib.util
import sys

from orchestration.lib.warm_imports import LATER_STEP_MODULES, warm_imports


def test_a_module_that_fails_to_import_is_left_to_its_step_and_the_others_still_import(tmp_path, monkeypatch):
    (tmp_path / "crossdock_warm_broken.py").write_text("raise RuntimeError('a library that cannot load')\n")
    (tmp_path / "crossdock_warm_a.py").write_text("LOADED = True\n")
    (tmp_path / "crossdock_warm_b.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ["crossdock_warm_broken", "crossdock_warm_a", "crossdock_no_such_module", "crossdock_warm_b"]
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    thread = warm_imports(names)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sys.modules["crossdock_warm_a"].LOADED and sys.modules["crossdock_warm_b"].LOADED
    assert "crossdock_warm_broken" not in sys.modules and "crossdock_no_such_module" not in sys.modules
    for name in names:
        sys.modules.pop(name, None)


def test_every_module_listed_is_there_to_import_once():
    """A module renamed or removed would make the warm-up import nothing for its step (and say nothing)."""
    assert all(importlib.util.find_spec(name) is not None for name in LATER_STEP_MODULES)
    assert len(LATER_STEP_MODULES) == len(set(LATER_STEP_MODULES))
