"""The module maps in the packages' docstrings name every module, so a newcomer's first read is not stale."""
from __future__ import annotations

import importlib
import pkgutil

import pytest


@pytest.mark.parametrize("package", ["ml", "feeds", "planning", "expectations"])
def test_the_package_docstring_names_every_module(package: str) -> None:
    module = importlib.import_module(package)
    doc = module.__doc__ or ""
    modules = [info.name for info in pkgutil.iter_modules(module.__path__)]
    missing = [name for name in modules if f"{package}.{name}" not in doc and f"`{name}`" not in doc]
    assert not missing, f"{package}/__init__.py's module map does not name {missing}"
