"""A lighter forecast for end-to-end tests that check plumbing, not accuracy.

One backtest window instead of four: the model, the baselines and the gates
all run, on a quarter of the work. tests/test_end_to_end.py keeps the full
backtest, as it is the test of the forecast's proof.
"""
from pathlib import Path

LIGHT_FORECAST = "\n# tests: one backtest window (tests/light_forecast.py)\nforecast:\n  backtest_windows: 1\n"


def use_light_forecast(config: Path) -> None:
    """Add the light forecast section to a crossdock.yaml that has none."""
    text = config.read_text(encoding="utf-8")
    if "\nforecast:" not in f"\n{text}":
        config.write_text(text.rstrip("\n") + "\n" + LIGHT_FORECAST, encoding="utf-8")
