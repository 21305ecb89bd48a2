"""The demo merchant's network, read from its own config file (demo/crossdock.yaml).

The generator simulates this one merchant, so it may know its markets and
nodes; the platform itself learns them from whatever crossdock.yaml it is
given. `install_demo_config` puts the demo's file where a run will look for it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from crossdock.merchant_config import Market, Node, load_config

DEMO_CONFIG = Path(__file__).resolve().with_name("crossdock.yaml")
DEMO_NETWORK = load_config(DEMO_CONFIG)
MARKETS: tuple[Market, ...] = DEMO_NETWORK.markets
NODES: tuple[Node, ...] = DEMO_NETWORK.nodes
MARKET_BY_CODE: dict[str, Market] = {m.code: m for m in MARKETS}
NODE_BY_CODE: dict[str, Node] = {n.code: n for n in NODES}


def install_demo_config(target: Path) -> bool:
    """Copy the demo's crossdock.yaml to `target` unless a config is already there; True when copied.

    A merchant's own file is never overwritten.
    """
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO_CONFIG, target)
    return True
