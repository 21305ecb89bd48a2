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


def profile_config(profile: str) -> Path:
    """The crossdock.yaml of a generator profile: tidy (demo/crossdock.yaml) or messy (demo/messy/)."""
    if profile == "tidy":
        return DEMO_CONFIG
    if profile == "messy":
        from demo.messy import MESSY_CONFIG

        return MESSY_CONFIG
    raise ValueError(f"unknown profile {profile!r}: tidy or messy")


def install_profile_config(target: Path, profile: str = "tidy") -> bool:
    """Copy the profile's crossdock.yaml to `target` unless a config is already there; True when copied."""
    if profile == "tidy":
        return install_demo_config(target)
    from demo.messy import write_messy_config

    profile_config(profile)  # an unknown profile is an error, not the messy one
    return write_messy_config(target)


def install_demo_config(target: Path) -> bool:
    """Copy the demo's crossdock.yaml to `target` unless a config is already there; True when copied.

    A merchant's own file is never overwritten.
    """
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO_CONFIG, target)
    return True
