"""The shipped mappings: where they live (feeds/mappings/*.yaml) and which names exist.

A mapping file `extends` one of these by name, and `shipped_mapping` loads
one; both check the name against this folder, never a path from the file.
"""
from __future__ import annotations

import re
from pathlib import Path

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
SHIPPED_NAME = re.compile(r"^[a-z0-9_]+$")


def shipped_mapping_names() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
