"""Suite-wide hooks."""
from __future__ import annotations

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
