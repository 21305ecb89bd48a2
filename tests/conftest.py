"""Suite-wide hooks."""
from __future__ import annotations

import gc

import pytest


def _without_surrogates(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Escape lone surrogates in what a test captured, before pytest-xdist sends the report to the main process.

    The hostile-input tests use file names that are not UTF-8 (Python holds
    their bytes as lone surrogates); a log line naming one made the worker's
    report unencodable and crashed the whole run under `-n`.
    """
    report.sections = [(title, _without_surrogates(content)) for title, content in report.sections]
    if isinstance(report.longrepr, str):
        report.longrepr = _without_surrogates(report.longrepr)


_LONGEST_FIRST = ("spark", "e2e", "browser", "slow")  # markers of the modules that take minutes, then tens of seconds


def _weight(item: pytest.Item) -> int:
    """0 for the Spark module (minutes of JVM work), 1 for a module holding an end-to-end test, 2 for a browser one,
    3 for a slow one, 4 for the rest."""
    marks = {mark.name for mark in item.iter_markers()}
    return next((rank for rank, name in enumerate(_LONGEST_FIRST) if name in marks), len(_LONGEST_FIRST))


def pytest_configure(config: pytest.Config) -> None:
    """Keep the order below when pytest-xdist deals the modules.

    pytest-xdist (3.x) re-sorts `--dist loadfile` work by each module's number of tests unless
    told `--no-loadscope-reorder`: the end-to-end modules, which hold few tests each (3 to 8)
    and take a minute or more each, were dealt last, after every module of many fast tests.
    """
    if getattr(config.option, "loadscopereorder", None):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules that take longest first, each module's tests still together and in their order.

    `make test` deals whole modules to the cores (pytest-xdist --dist loadfile) in the order they are
    collected; a module of end-to-end runs dealt last kept one core busy for minutes while the other
    had finished. Longest first is the classic fix (LPT scheduling).
    """
    module_weight: dict[str, int] = {}
    for item in items:
        module_weight[item.nodeid.split("::")[0]] = min(module_weight.get(item.nodeid.split("::")[0], 9), _weight(item))
    items.sort(key=lambda item: module_weight[item.nodeid.split("::")[0]])  # stable: order within a weight kept


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection made (every imported module, class and function: half a million objects and more
    in a worker) out of the garbage collector's sight: they live as long as the process.

    Each full collection walked them again (0.25 s each with the job's libraries imported), and so did the
    interpreter's exit: 1.6 s for a process that imported Great Expectations and the definitions, 0.16 s
    with them frozen. Objects the tests make after this are collected as before.
    """
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Spare the interpreter's exit a last walk over everything the tests left (see above)."""
    gc.freeze()
