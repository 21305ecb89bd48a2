"""The messy merchant: the demo's hard case, beside the tidy one.

`demo.generate(landing, profile="messy")` writes its landing files; its
network config is `demo/messy/crossdock.yaml`, which `write_messy_config`
copies where a run will read it. See demo/README.md for what makes it messy
and which capability each trait exercises.
"""
from __future__ import annotations

import shutil
from pathlib import Path

MESSY_CONFIG = Path(__file__).resolve().with_name("crossdock.yaml")


def write_messy_config(target: Path) -> bool:
    """Copy the messy merchant's crossdock.yaml to `target` unless a config is already there; True when copied.

    A merchant's own file (or the tidy demo's) is never overwritten.
    """
    target = Path(target)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MESSY_CONFIG, target)
    return True
