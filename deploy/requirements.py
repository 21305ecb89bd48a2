"""Print the image's pip requirements from pyproject.toml, so the Dockerfile keeps no pin list of its own.

The image installs the project's dependencies before its source is copied
(the layer is then rebuilt only when pyproject.toml changes, not on every
code edit). Those are pyproject's `dependencies`, exactly as pinned there,
plus the extra packages named on the command line (dagster-k8s: the run
pods load the Helm chart's instance config, whose run launcher lives there),
taken with the pin an optional-dependencies group gives them.

    python deploy/requirements.py dagster-k8s > requirements.txt
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def requirements(extra_packages: list[str], pyproject: Path = PYPROJECT) -> list[str]:
    """pyproject's dependencies, then each named extra package with its pinned requirement; fails if one is unpinned."""
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = [req for group in project.get("optional-dependencies", {}).values() for req in group]
    chosen = []
    for package in extra_packages:
        pins = sorted({req for req in extras if _name(req) == package.lower() and "==" in req})
        if len(pins) != 1:
            raise SystemExit(f"{package}: expected one exact pin in pyproject's optional-dependencies, found {pins}")
        chosen.append(pins[0])
    return [*project["dependencies"], *chosen]


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
