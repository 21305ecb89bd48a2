"""Headless Chromium for the browser tests, plus the small waits they share.

The tests drive Debian's chromium (`apt-get install chromium`) through
Playwright's Python API with `executable_path`, so nothing is downloaded.
Without the browser they skip with the command that installs it, except where
`CROSSDOCK_REQUIRE_BROWSER=1` (set by `.ci/run`): there a missing browser fails.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from crossdock.ports import free_port

CHROMIUM = os.environ.get("CROSSDOCK_CHROMIUM", "/usr/bin/chromium")

# The machine's network is closed: without these flags Chromium spends its
# start-up on refused connections to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def require_chromium() -> str:
    """The browser's path, or a skip (a failure under CROSSDOCK_REQUIRE_BROWSER=1)."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    message = f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` or set CROSSDOCK_CHROMIUM"
    if os.environ.get("CROSSDOCK_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium_page(width: int = 1600, height: int = 1000) -> Iterator["object"]:
    """A fresh page in a fresh headless browser, closed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_for_http(url: str, timeout_s: float, process=None) -> None:
    """Poll `url` until it answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s (last error: {last_error})")


def log_tail(path: Path, lines: int = 80) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_process_group(process: subprocess.Popen, timeout_s: float = 30) -> None:
    """SIGTERM the server's process group, wait, then SIGKILL whatever is left of it."""
    pgid = process.pid  # start_new_session=True: the server leads its own group
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pass
    # children (dagster's code server, run workers) can outlive the leader by their heartbeat timeout
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


@contextmanager
def served(
    command: list[str], url: str, env: dict[str, str], log_path: Path, timeout_s: float = 90, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """Run a server command in its own process group until the block ends.

    Yields the process once `url` answers; its output goes to `log_path`,
    whose tail is in the error when the server does not come up.
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        try:
            wait_for_http(url, timeout_s, process)
        except Exception as error:
            raise RuntimeError(f"{error}\n--- {log_path} ---\n{log_tail(log_path)}") from error
        yield process
    finally:
        stop_process_group(process)


def wait_for_texts(page, expected: list[str], timeout_s: float = 60) -> list[str]:
    """Poll the page's text until every string in `expected` shows; returns the ones still missing."""
    deadline = time.monotonic() + timeout_s
    missing = expected
    while time.monotonic() < deadline:
        text = page.inner_text("body")
        missing = [e for e in expected if e not in text]
        if not missing:
            return []
        page.wait_for_timeout(500)
    return missing


@contextmanager
def dashboard_on_snapshot(tmp_path: Path, make_snapshot) -> Iterator[tuple["object", str, Path]]:
    """The dashboard served on a hand-made BI snapshot (`make_snapshot(path)` writes it), one Chromium page on it:
    yields (page, base url, the landing folder its forms write into)."""
    from dashboard.serve import streamlit_command

    require_chromium()
    exports, landing = tmp_path / "exports", tmp_path / "landing"
    (exports / "bi").mkdir(parents=True)
    make_snapshot(exports / "bi" / "crossdock_publish.duckdb")
    port = free_port()
    env = {**os.environ, "CROSSDOCK_EXPORTS": str(exports), "CROSSDOCK_LANDING": str(landing)}
    with served(streamlit_command(port=port, address="127.0.0.1"), f"http://127.0.0.1:{port}/_stcore/health", env,
                tmp_path / "streamlit.log"):
        with chromium_page() as page:
            yield page, f"http://127.0.0.1:{port}", landing
