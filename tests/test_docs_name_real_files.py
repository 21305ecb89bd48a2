"""Every file of the project that a doc, docstring, comment or config names exists, so a newcomer following one
is never sent to a file that moved (pyproject.toml named crossdock/console.py long after it became cli/console.py).

A name counts when it starts with one of the project's own folders (`ml/backtest.py`, `dbt_project/macros/...`),
or with a subfolder of the naming file's own folder (`lib/executors.py` in orchestration/), and ends in a file
suffix; example landing files (`orders/orders_YYYY-MM.csv`) start with neither and are not checked, nor are the
tests, which name the files they make.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from crossdock.settings import PROJECT_ROOT

NAMED_FILE = re.compile(r"(?<![\w/.-])((?:[a-z_]+/)+[A-Za-z0-9_.-]+\.(?:py|sql|yml|yaml|md|toml|json|jsonl))\b")
READ = (".py", ".md", ".yml", ".yaml", ".sql", ".toml")
GENERATED = ("target/", "logs/", "__pycache__/")  # what dbt, a run or Python writes, named as an example


def _tracked() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout to know the project's files")
    return listed.stdout.split()


def _missing_names(tracked: list[str], root: Path = PROJECT_ROOT) -> dict[str, list[str]]:
    top = {path.split("/", 1)[0] for path in tracked if "/" in path}
    missing: dict[str, list[str]] = {}
    for path in tracked:
        if not path.endswith(READ) or path.startswith("tests/"):  # tests name the files they make
            continue
        own = Path(path).parent
        text = (root / path).read_text(encoding="utf-8", errors="replace")
        for name in {match[1] for match in NAMED_FILE.finditer(text)}:
            first = name.split("/", 1)[0]
            local = own / name
            if any(part in name for part in GENERATED):
                continue
            if first in top:
                if not (root / name).exists():
                    missing.setdefault(path, []).append(name)
            elif (root / own / first).is_dir() and not (root / local).exists():
                missing.setdefault(path, []).append(name)
    return {path: sorted(names) for path, names in missing.items()}


def test_every_project_file_named_exists() -> None:
    missing = _missing_names(_tracked())
    assert not missing, "files named that do not exist: " + "; ".join(
        f"{path} names {', '.join(names)}" for path, names in sorted(missing.items()))


def test_a_file_named_that_moved_is_found(tmp_path) -> None:
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "backtest.py").write_text('"""Reads ml/features.py and lib/x.py; see orders/orders_2026-10.csv."""\n')
    (tmp_path / "ml" / "lib").mkdir()
    (tmp_path / "ml" / "lib" / "y.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text('(tmp / "ml/made_here.py").write_text("")\n')
    assert _missing_names(["ml/backtest.py", "ml/lib/y.py", "tests/test_x.py"], tmp_path) == {"ml/backtest.py": ["lib/x.py", "ml/features.py"]}
