"""Which duty expressions crossdock can price: a plain ad valorem rate, or free.

Tariffs also levy specific duties (an amount per kg or per item), compound
ones (a rate plus an amount, a rate with a minimum or maximum) and
entry-price systems. Pricing them needs the weight, the quantity unit or the
entry price of each consignment, which the plan does not have; so such an
expression is kept as text and its rate stays unknown, never read as 0.
"""
from __future__ import annotations

import re

_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
_FREE = re.compile(r"^free$", re.IGNORECASE)
_FOOTNOTE = re.compile(r"\s*\d+/\s*$")  # the HTS writes footnote references after a rate: "6.5%1/"


def ad_valorem_rate(expression: object) -> float | None:
    """The rate as a fraction (12% -> 0.12) of a plain ad valorem or free expression; None for anything else."""
    if expression is None or not isinstance(expression, str):
        return None
    text = _FOOTNOTE.sub("", expression.strip()).strip()
    if _FREE.match(text):
        return 0.0
    match = _PERCENT.match(text)
    return round(float(match.group(1)) / 100, 6) if match else None
