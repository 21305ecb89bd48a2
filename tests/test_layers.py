"""The packages keep to their layers (.importlinter): no import points up, the domains stay independent.

A core that imports a domain, or a domain that imports the Dagster wiring,
makes every change ripple upwards and every test need the whole stack;
import-linter reads the import graph statically (nothing is imported) and
names the offending line.
"""
from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG = PROJECT_ROOT / ".importlinter"


def _contracts() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(CONFIG)
    return config


def _names(value: str) -> set[str]:
    """Module names of a multi-line option; a layer line 'a | b' names a and b."""
    return {name.strip() for line in value.splitlines() for name in line.replace(":", "|").split("|") if name.strip()}


def test_no_import_points_up_a_layer_and_only_orchestration_imports_dagster():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(CONFIG), "--no-cache", "--no-logo"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_every_package_of_the_project_is_placed_in_a_layer():
    """A new top-level package outside the contracts would be free to import anything: it must be given a layer."""
    packages = {path.parent.name for path in PROJECT_ROOT.glob("*/__init__.py")}
    config = _contracts()
    assert _names(config["importlinter"]["root_packages"]) == packages
    assert _names(config["importlinter:contract:layers"]["layers"]) == packages
