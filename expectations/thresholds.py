"""The training-data gate's thresholds: defaults, and overrides from the warehouse.

The per-market-day rules compare each market with its own history (see
`expectations.market_days`); these numbers say how surprising something must be
before the gate blocks the forecast. The defaults suit a merchant with any mix
of daily, weekly and long-tail markets; a merchant overrides them in the
one-row table `config.gates` (one column per field below, null = default),
which the Dagster check reads before it validates.

Pure Python: no pandas, no Great Expectations.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Kept equal to ml.series_selection.DEFAULT_INACTIVE_AFTER_DAYS (a test checks it): a
# market quiet for longer has no series left to forecast. Not imported, so the
# gate does not load the forecasting stack.
FORECAST_INACTIVE_AFTER_DAYS = 91


@dataclass(frozen=True)
class GateThresholds:
    """How surprising a market-day pattern must be, under the market's own history, to block.

    stop_probability: a market's trailing run of days without sales fails the
        gate when the chance of that run, under the market's own weekday
        pattern, is below this (1e-4: one false alarm in 10,000 runs per market).
    min_history_days: days with sales a market needs, before any trailing
        quiet run, to be judged on that run and on its share of return days;
        below it the pattern is too thin to call a gap surprising.
    dormant_after_days: a market whose last sale is more than this many days
        before the end of the data is dormant: the forecast no longer plans it
        (ml.forecast drops series quiet for 91 days), so the gate notes it
        instead of failing.
    max_return_share_of_days: the share of a market's selling days on which
        returns may exceed sales in a healthy feed (late returns on a quiet day).
    return_days_probability: a market fails when it has more such days than a
        market at `max_return_share_of_days` would show with this probability
        (binomial tail), so a short history is not failed for one bad day.
    flip_share_of_usual_sales: a market-day is a sign-flipped day when returns
        exceed sales by more than this share of the market's usual (median)
        units sold on a selling day, over at least this share of its usual
        number of SKUs on a selling day (and at least 2 SKUs, so one bulk
        return is not a flip)...
    min_flip_units: ...and by more than this many units, so a few-unit return
        in a market that sells a few units a day is not taken for a flip.
    max_held_back_share: markets that fail are held back (the plan goes on
        without them) while together they sold at most this share of the units
        of the data's last 364 days; above it, or when no market would be left,
        the gate stops the forecast and the last good plan stays whole. 0 stops
        it on any failing market.
    """

    stop_probability: float = 1e-4
    min_history_days: int = 28
    dormant_after_days: int = FORECAST_INACTIVE_AFTER_DAYS
    max_return_share_of_days: float = 0.02
    return_days_probability: float = 1e-4
    flip_share_of_usual_sales: float = 0.5
    min_flip_units: float = 5
    max_held_back_share: float = 0.5

    def __post_init__(self) -> None:
        # Whole numbers written as floats (56.0, from YAML via a float mapping or SQL) count as days.
        for name in ("min_history_days", "dormant_after_days"):
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                object.__setattr__(self, name, int(value))
        problems = []
        for name in ("stop_probability", "return_days_probability"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                problems.append(f"{name} must be a probability strictly between 0 and 1, not {value!r}")
        if not (isinstance(self.max_held_back_share, (int, float)) and 0 <= self.max_held_back_share <= 1):
            problems.append(f"max_held_back_share must be a share in [0, 1], not {self.max_held_back_share!r}")
        if not (isinstance(self.max_return_share_of_days, (int, float)) and 0 <= self.max_return_share_of_days < 1):
            problems.append(
                f"max_return_share_of_days must be a share in [0, 1), not {self.max_return_share_of_days!r}"
            )
        for name in ("min_history_days", "dormant_after_days"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                problems.append(f"{name} must be a whole number of days >= 0, not {value!r}")
        for name in ("flip_share_of_usual_sales", "min_flip_units"):
            value = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (number and math.isfinite(value) and value >= 0):
                problems.append(f"{name} must be a number >= 0, not {value!r}")
        if problems:
            raise ValueError("gate thresholds: " + "; ".join(problems))

    @classmethod
    def field_names(cls) -> list[str]:
        """The column names `config.gates` may have, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> GateThresholds:
        """Defaults overridden by `values`; a None (SQL null) or NaN value keeps the default.

        Raises ValueError naming unknown keys or out-of-range values.
        """
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(k for k in values if k not in known)
        if unknown:
            raise ValueError(
                f"gate thresholds: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
            )
        overrides: dict[str, Any] = {}
        for name, value in values.items():
            if value is None or type(value).__name__ == "NAType" or (isinstance(value, float) and math.isnan(value)):
                continue  # SQL null (None, NaN or pandas.NA): keep the default
            if hasattr(value, "item"):  # numpy scalar
                value = value.item()
            overrides[name] = value
        return cls(**overrides)

    @classmethod
    def from_rows(cls, rows: list[Mapping[str, Any]], source: str = "config.gates") -> GateThresholds:
        """From the rows of `config.gates`: none means defaults, one overrides, more is an error."""
        if not rows:
            return cls()
        if len(rows) > 1:
            raise ValueError(f"{source} must have one row, not {len(rows)}")
        try:
            return cls.from_mapping(rows[0])
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    def overridden(self) -> dict[str, Any]:
        """The settings that differ from the defaults (for the check's metadata)."""
        default = type(self)()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
