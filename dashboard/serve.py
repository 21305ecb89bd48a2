"""How crossdock starts the dashboard: Streamlit on loopback, with its usage statistics off."""
from __future__ import annotations

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
