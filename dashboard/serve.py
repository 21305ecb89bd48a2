"""How crossdock starts the dashboard: Streamlit on loopback, with its usage statistics off, stopped with us."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_command(port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The `streamlit run` command line; `address` 0.0.0.0 shares it on the network (no login: mind who can reach it)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_SECONDS = 10.0


def serve(command: list[str]) -> int:
    """Run the server as a child and stop it with us: the signal that stops us is passed on, then awaited.

    Without this, SIGTERM (a service manager, `kill`) ended only this process and
    left Streamlit serving on its port; Ctrl-C worked only because the terminal
    sends SIGINT to the whole process group. A child that ignores the signal is
    killed after STOP_GRACE_SECONDS.
    """
    child = subprocess.Popen(command)

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        while True:
            try:
                return _exit_code(child.wait())
            except KeyboardInterrupt:  # only if SIGINT arrived before our handler was in place
                forward(signal.SIGINT, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop(child)


def _stop(child: subprocess.Popen) -> None:
    """Make sure the child is gone before we return (a signal may have interrupted the wait)."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _exit_code(returncode: int) -> int:
    """A child ended by a signal (negative returncode) exits like a shell reports it: 128 + the signal."""
    return 128 - returncode if returncode < 0 else returncode
