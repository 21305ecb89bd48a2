"""What the Spark test modules share: Java or a skip (a failure under CI), and a free port for a service."""
from __future__ import annotations

import os
import shutil
import socket

import pytest


def java_or_skip() -> None:
    """Skip without Java on PATH, except under CI (CROSSDOCK_REQUIRE_SPARK=1, set by .ci/run), where it fails."""
    if shutil.which("java") is None:
        message = "no Java on PATH: Spark needs Java 17 (Debian: openjdk-17-jre-headless)"
        if os.environ.get("CROSSDOCK_REQUIRE_SPARK") == "1":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
