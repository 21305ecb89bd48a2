"""Quoting helpers: file headers and values are data, never SQL."""
from __future__ import annotations


def ident(name: str) -> str:
    """Quote an identifier (a column name taken from a file header)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """Quote a string literal that comes from code (contracts), not from files."""
    return "'" + value.replace("'", "''") + "'"
