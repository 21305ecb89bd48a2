"""What the demo-generator tests read the generated landing folder with.

The tidy and messy profile tests check the files as written, so they read them
as text (no type guessing, empty stays empty), compare whole trees byte for
byte for determinism, and load every orders export as one frame.
"""
from pathlib import Path

import pandas as pd
import pytest

from demo.generate import generate


def generated_landing(tmp_path_factory: pytest.TempPathFactory, folder: str, **options) -> tuple[Path, dict]:
    """A demo landing folder generated (quietly) into a fresh temp `folder` with `options`; its root and the summary."""
    root = tmp_path_factory.mktemp(folder)
    return root, generate(root, quiet=True, **options)


def read_as_text(path: Path) -> pd.DataFrame:
    """A landed CSV with every value a string, as written (empty cells stay '')."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def file_contents(root: Path) -> dict[str, bytes]:
    """Every file below `root` by its relative path: two trees are the same output when these are equal."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def landed_orders(root: Path) -> pd.DataFrame:
    """All orders exports of a landing folder, in file-name order, as one text frame."""
    return pd.concat([read_as_text(p) for p in sorted((root / "orders").glob("orders_*.csv"))], ignore_index=True)
