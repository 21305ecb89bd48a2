"""Words in the platform's messages: lists of examples (the first few, then how many more) and counted nouns."""
from __future__ import annotations

from collections.abc import Sequence


def listed(items: Sequence[str], limit: int) -> str:
    """The first `limit` of `items` joined by commas, with ' and N more' for the rest: a message names a few of
    many, and says how many it left out."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def counted(number: float, noun: str) -> str:
    """`number` (whole, thousands separated) and `noun`, plural unless it is 1: "1 unit", "1,234 units"."""
    whole = f"{number:,.0f}"
    return f"{whole} {noun}" if whole == "1" else f"{whole} {noun}s"
