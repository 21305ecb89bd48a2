"""Deterministic generator of a realistic cross-border merchant's landing files.

The platform needs data that behaves like a real merchant's exports (seasonal,
intermittent, promotional demand; late suppliers; customs holds) to develop
and test every layer without a customer's data. `demo.generate()` writes the
landing folder; `python -m demo.generate --landing DIR` is the same from a shell.
Same arguments give byte-identical files.
"""
from __future__ import annotations

from typing import Any

__all__ = ["generate"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m demo.generate` does not import the module twice.
    if name == "generate":
        from demo.generate import generate

        return generate
    raise AttributeError(name)
