"""The demo merchant's network, read from its own config file (demo/crossdock.yaml).

The generator simulates this one merchant, so it may know its markets and
nodes; the platform itself learns them from whatever crossdock.yaml it is
given. `install_demo_config` puts the demo's file where a run will look for it.
The file is read on first use (`demo_network()`), not when the module is imported.
"""
from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from crossdock.merchant_config import Market, MerchantConfig, Node, load_config

DEMO_CONFIG = Path(__file__).resolve().with_name("crossdock.yaml")


@cache
def demo_network() -> MerchantConfig:
    """The demo merchant's config, demo/crossdock.yaml (read once per process)."""
    return load_config(DEMO_CONFIG)


def demo_markets() -> tuple[Market, ...]:
    """The demo merchant's markets, in config order."""
    return demo_network().markets


def demo_nodes() -> tuple[Node, ...]:
    """The demo merchant's nodes, in config order."""
    return demo_network().nodes


@cache
def market_by_code() -> dict[str, Market]:
    """The demo merchant's markets by code."""
    return {m.code: m for m in demo_markets()}


@cache
def node_by_code() -> dict[str, Node]:
    """The demo merchant's nodes by code."""
    return {n.code: n for n in demo_nodes()}


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
