"""`crossdock dashboard` stops its Streamlit server when it is stopped, by SIGTERM as by Ctrl-C."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crossdock.ports import free_port
from crossdock.settings import PROJECT_ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the server's process in /proc")


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _serving(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_dashboard_stops_its_streamlit_server(tmp_path, stop):
    port = free_port()
    env = {**os.environ, "CROSSDOCK_EXPORTS": str(tmp_path / "exports"), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    # its own session: a signal reaches the launcher only, as from a service manager or `kill`
    launcher = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "dashboard", "--port", str(port)], env=env, cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (_children(launcher.pid) and _serving(port)):
            assert launcher.poll() is None, "the dashboard command ended by itself"
            assert time.monotonic() < deadline, "the dashboard never served"
            time.sleep(0.5)
        [server] = _children(launcher.pid)

        launcher.send_signal(stop)
        launcher.wait(timeout=30)  # the launcher ends (its exit code is the server's, see below)

        assert _gone(server), f"the Streamlit server (pid {server}) outlived `crossdock dashboard`"
        assert not _serving(port)
        # not asserted: the exit code, the server's own. Streamlit mostly reports the signal (0 or 128 + it), but
        # once in a loaded CI run a SIGINT ended it otherwise; what matters is that nothing is left serving
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
