"""Where a mapping-file error is, and the scalar checks every setting goes through.

Each part of a mapping (the file, a column rule, a converter, a condition) is
validated with these, so every `MappingError` names the file and the dotted
key, and text, list and flag settings are read the same way everywhere.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from feeds.mapping_model import MappingError


class _Where:
    """Error context: the file and the dotted key being validated."""

    def __init__(self, path: Path, key: str = "") -> None:
        self.path, self.key = path, key

    def at(self, key: str | int) -> "_Where":
        part = f"[{key}]" if isinstance(key, int) else str(key)
        joined = part if not self.key else (f"{self.key}{part}" if isinstance(key, int) else f"{self.key}.{part}")
        return _Where(self.path, joined)

    def error(self, message: str) -> MappingError:
        return MappingError(f"{self.path}: {self.key}: {message}" if self.key else f"{self.path}: {message}")


def _check_keys(where: _Where, data: dict, allowed: tuple[str, ...], what: str) -> None:
    for key in data:
        if key == "sql":
            raise where.at(str(key)).error(f"SQL is not allowed in a mapping; a {what} takes only: {', '.join(allowed)}")
        if key not in allowed:
            raise where.at(str(key)).error(f"unknown key '{key}' in a {what}; allowed: {', '.join(allowed)}")


def _text(where: _Where, value: Any, *, allow_empty: bool = True) -> str:
    """A scalar setting as text. YAML booleans are refused: `yes`, `no`, `on`, `off` are rarely meant as such."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        hint = " (quote it: YAML reads yes/no/on/off/true/false as booleans)" if isinstance(value, bool) else ""
        raise where.error(f"expected a text value, got {type(value).__name__} {value!r}{hint}")
    text = value if isinstance(value, str) else str(value)
    if not allow_empty and not text.strip():
        raise where.error("must not be empty")
    return text


def _text_list(where: _Where, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
    if not isinstance(items, list) or not items:
        raise where.error("expected a column name or a non-empty list of column names")
    return tuple(_text(where.at(i), v, allow_empty=False) for i, v in enumerate(items))


def _flag(where: _Where, value: Any) -> bool:
    if not isinstance(value, bool):
        raise where.error(f"expected true or false, got {value!r}")
    return value
