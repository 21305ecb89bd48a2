"""A bench script (bench/<name>.py) loaded as a module, so tests can call its functions.

The scripts are not a package users import: they are loaded from their file,
under a name of their own.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from crossdock.settings import PROJECT_ROOT


def load_bench(name: str) -> ModuleType:
    """bench/<name>.py as the module bench_<name>."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", PROJECT_ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
