"""Loopback ports for the services crossdock starts beside a run (a metastore, a dashboard, a test's server)."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on now (the system's pick); another process may take it before it is used."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
