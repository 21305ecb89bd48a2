"""Lists of examples in the platform's messages: the first few, then how many more."""
from __future__ import annotations

from collections.abc import Sequence


def listed(items: Sequence[str], limit: int) -> str:
    """The first `limit` of `items` joined by commas, with ' and N more' for the rest: a message names a few of
    many, and says how many it left out."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
