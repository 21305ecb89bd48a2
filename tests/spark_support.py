"""What the Spark test modules share: Java or a skip (a failure under CI), and a free port for a service."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from crossdock.settings import Settings
from crossdock.ports import free_port  # noqa: F401 - the Spark tests' free port
from demo.generate import generate
from demo.network import install_demo_config

try:
    from light_forecast import use_light_forecast
except ImportError:  # tests/ imported as a package
    from tests.light_forecast import use_light_forecast


def java_or_skip() -> None:
    """Skip without Java on PATH, except under CI (CROSSDOCK_REQUIRE_SPARK=1, set by .ci/run), where it fails."""
    if shutil.which("java") is None:
        message = "no Java on PATH: Spark needs Java 17 (Debian: openjdk-17-jre-headless)"
        if os.environ.get("CROSSDOCK_REQUIRE_SPARK") == "1":
            pytest.fail(message)
        pytest.skip(message)


def small_merchant(root: Path) -> tuple[Settings, Path]:
    """The Spark tests' merchant under `root` (the demo generator at scale 0.05, seed 11, the light forecast: the
    engines are compared, not the forecast's accuracy), and its Spark home."""
    settings = Settings.under(root)
    generate(settings.landing, scale=0.05, seed=11)
    install_demo_config(settings.config)
    use_light_forecast(settings.config)
    return settings, root / "spark"
