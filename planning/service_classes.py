"""Service-level policy: a target cycle service level per SKU × market class.

One service level for the whole plan either over-stocks the long tail or
under-protects the items that carry the revenue. Each SKU × market is classed
twice on the last 365 days of sales and the pair picks its target from
`service_levels.yaml`:

- by value, ABC: revenue ranked descending, A while the share of the items
  ranked above is below 80 %, B below 95 %, else C;
- by demand pattern, Syntetos-Boylan-Croston (2005): ADI (average
  inter-demand interval, days) and CV² (squared coefficient of variation of
  the non-zero daily sizes) split smooth / erratic / intermittent / lumpy.

The pattern also picks the safety-stock method from the config. The normal
approximation of lead-time demand breaks down for intermittent and lumpy
demand, and measured in tests/test_planning_simulation.py it also falls short
on smooth and erratic demand with whole-unit ordering, so the default config
simulates every pattern.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from crossdock.bulk_days import RegularSales, first_sales, regular_sales
from crossdock.demand_patterns import PATTERNS, demand_pattern
from planning.inputs import MARKET_NODE_COLUMNS, _names, require_columns, require_non_null

DEFAULT_CONFIG_PATH: Path = Path(__file__).with_name("service_levels.yaml")

ABC_CLASSES: tuple[str, ...] = ("A", "B", "C")
NO_DEMAND = "no_demand"
SS_METHODS: tuple[str, ...] = ("normal", "simulated")

WINDOW_DAYS = 365
"""History window, days: demand_date in (as_of - 365 days, as_of]. A year, so
seasonal items are valued on a whole season rather than the current month."""

HISTORY_COLUMNS: tuple[str, ...] = ("sku", "market", "category", "demand_date", "units_sold", "revenue_eur")
"""Columns used from marts.fct_daily_demand (sparse: a missing day sold 0)."""

CLASS_COLUMNS: tuple[str, ...] = (
    "sku",
    "market",
    "category",
    "annual_units",
    "annual_revenue_eur",
    "revenue_share",
    "cumulative_share",
    "abc",
    "demand_days",
    "adi",
    "cv2",
    "pattern",
    "sparse_history",
    "target_service_level",
    "ss_method",
)
"""Output of `classify_series`, in order. Units: units, EUR, days (ADI);
shares and CV² are dimensionless."""

NODE_TARGET_COLUMNS: tuple[str, ...] = ("sku", "node", "target_service_level", "abc", "pattern", "ss_method")

_CONFIG_KEYS: tuple[str, ...] = (
    "abc_thresholds",
    "adi_cutoff",
    "cv2_cutoff",
    "min_demand_days",
    "targets",
    "no_demand_target",
    "methods",
)


def _is_number(value: object) -> bool:
    # bool is an int in Python; `true` in the YAML is a typo, not a 1.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ServiceLevelConfig:
    """Class boundaries and the target CSL of each class.

    Attributes:
        abc_thresholds: (A, B) cumulative revenue shares, 0 < A < B <= 1.
        adi_cutoff: ADI (days) at or above which demand is intermittent or
            lumpy; > 1 because ADI >= 1 by construction.
        cv2_cutoff: CV² of the non-zero sizes at or above which demand is
            erratic or lumpy; > 0.
        min_demand_days: fewer selling days than this give pattern "lumpy"
            with sparse_history; >= 2 because CV² needs two sizes.
        targets: (abc, pattern) -> cycle service level in (0, 1), all 12 cells.
        no_demand_target: CSL of a series with no sale in the window, in (0, 1).
        methods: pattern (the four and "no_demand") -> "normal" | "simulated".
    """

    abc_thresholds: tuple[float, float]
    adi_cutoff: float
    cv2_cutoff: float
    min_demand_days: int
    targets: dict[tuple[str, str], float]
    no_demand_target: float
    methods: dict[str, str]

    def __post_init__(self) -> None:
        # Fail at load: a bad cell would otherwise become a NaN z or a silent
        # fallback deep inside the plan. Copies keep the frozen config immune
        # to later edits of the caller's dicts.
        object.__setattr__(self, "targets", dict(self.targets))
        object.__setattr__(self, "methods", dict(self.methods))

        thresholds = tuple(self.abc_thresholds)
        if len(thresholds) != 2 or not all(_is_number(t) for t in thresholds):
            raise ValueError(f"abc_thresholds must be two numbers (A, B), got {self.abc_thresholds!r}")
        a, b = (float(t) for t in thresholds)
        if not 0.0 < a < b <= 1.0:
            raise ValueError(
                f"abc_thresholds must be increasing cumulative shares with 0 < A < B <= 1, got {self.abc_thresholds!r}"
            )
        object.__setattr__(self, "abc_thresholds", (a, b))

        if not (_is_number(self.adi_cutoff) and self.adi_cutoff > 1.0):
            raise ValueError(
                f"adi_cutoff must be a number > 1 (ADI is >= 1 day by construction), got {self.adi_cutoff!r}"
            )
        if not (_is_number(self.cv2_cutoff) and self.cv2_cutoff > 0.0):
            raise ValueError(f"cv2_cutoff must be a number > 0, got {self.cv2_cutoff!r}")
        if not (isinstance(self.min_demand_days, int) and not isinstance(self.min_demand_days, bool)) or (
            self.min_demand_days < 2
        ):
            raise ValueError(
                f"min_demand_days must be a whole number >= 2 (CV² needs two sizes), got {self.min_demand_days!r}"
            )

        cells = {(abc, pattern) for abc in ABC_CLASSES for pattern in PATTERNS}
        missing = cells - set(self.targets)
        if missing:
            raise ValueError(f"targets is missing cells {_names(f'{a}/{p}' for a, p in missing)}")
        unknown = set(self.targets) - cells
        if unknown:
            shown = _names("/".join(map(str, k)) if isinstance(k, tuple) else k for k in unknown)
            raise ValueError(
                f"targets has unknown cells {shown}; classes are {list(ABC_CLASSES)}, patterns {list(PATTERNS)}"
            )
        bad = [f"{a}/{p}={v!r}" for (a, p), v in self.targets.items() if not (_is_number(v) and 0.0 < v < 1.0)]
        if bad:
            raise ValueError(f"targets must be service levels in (0, 1); bad cells {_names(bad)}")
        if not (_is_number(self.no_demand_target) and 0.0 < self.no_demand_target < 1.0):
            raise ValueError(f"no_demand_target must be a service level in (0, 1), got {self.no_demand_target!r}")

        needed = set(PATTERNS) | {NO_DEMAND}
        missing_m = needed - set(self.methods)
        if missing_m:
            raise ValueError(f"methods is missing patterns {_names(missing_m)}")
        unknown_m = set(self.methods) - needed
        if unknown_m:
            raise ValueError(f"methods has unknown patterns {_names(unknown_m)}; expected {sorted(needed)}")
        bad_m = [f"{p}={m!r}" for p, m in self.methods.items() if m not in SS_METHODS]
        if bad_m:
            raise ValueError(f"methods: unknown safety-stock method for {_names(bad_m)}; allowed {list(SS_METHODS)}")

    def target(self, abc: str, pattern: str) -> float:
        """Target CSL of a class; "no_demand" gets no_demand_target whatever its ABC class."""
        if pattern == NO_DEMAND:
            return float(self.no_demand_target)
        try:
            return float(self.targets[(abc, pattern)])
        except KeyError:
            raise KeyError(f"no service-level target for class {abc!r} x pattern {pattern!r}") from None


def load_service_level_config(path: Path | None = None) -> ServiceLevelConfig:
    """Read a service-level YAML (default: `service_levels.yaml` next to this module).

    Every key is required and unknown keys are rejected: a misspelled key
    would otherwise leave the plan on a value nobody chose.
    """
    path = DEFAULT_CONFIG_PATH if path is None else Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must be a YAML mapping with keys {list(_CONFIG_KEYS)}")
    missing = [k for k in _CONFIG_KEYS if k not in data]
    if missing:
        raise ValueError(f"{path}: missing keys {missing}")
    unknown = sorted(str(k) for k in set(data) - set(_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}; expected {list(_CONFIG_KEYS)}")

    targets = _mapping(data["targets"], "targets", path)
    cells: dict[tuple[str, str], Any] = {}
    for abc, row in targets.items():
        for pattern, value in _mapping(row, f"targets.{abc}", path).items():
            cells[(str(abc), str(pattern))] = value
    thresholds = data["abc_thresholds"]
    if not isinstance(thresholds, list):
        raise ValueError(f"{path}: abc_thresholds must be a list [A, B], got {thresholds!r}")
    try:
        return ServiceLevelConfig(
            abc_thresholds=tuple(thresholds),  # type: ignore[arg-type]  # length checked by the dataclass
            adi_cutoff=data["adi_cutoff"],
            cv2_cutoff=data["cv2_cutoff"],
            min_demand_days=data["min_demand_days"],
            targets=cells,
            no_demand_target=data["no_demand_target"],
            methods={str(k): v for k, v in _mapping(data["methods"], "methods", path).items()},
        )
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _mapping(value: object, key: str, path: Path) -> Mapping[Any, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{path}: {key} must be a mapping, got {value!r}")
    return value


def check_history(history: pd.DataFrame) -> pd.Series:
    """The daily sales history's units sold as numbers, or an error naming the columns or SKUs to fix.

    revenue_eur may be null: a day whose every sale was in a currency without an ECB rate (the mart says so, and
    the summary names the lines). It ranks the series as no revenue; refusing it stopped every SKU's plan over
    21 order lines in dirhams."""
    require_columns(history, HISTORY_COLUMNS, "history")
    require_non_null(history, ["sku", "market", "demand_date", "units_sold"], "history")
    units = pd.to_numeric(history["units_sold"], errors="coerce")
    bad = ~(units >= 0)
    if bad.any():
        raise ValueError(f"`history`.units_sold must be numbers >= 0; bad for skus {_names(history.loc[bad, 'sku'])}")
    return units


def classify_series(
    history: pd.DataFrame, as_of: dt.date, config: ServiceLevelConfig, regular: RegularSales | None = None
) -> pd.DataFrame:
    """ABC class, demand pattern and target CSL per SKU × market.

    Args:
        history: daily sales shaped like marts.fct_daily_demand: sku, market,
            category, demand_date, units_sold (units), revenue_eur (EUR).
            Sparse: a missing day sold nothing. Duplicate days are summed.
        as_of: last day of the window; only demand_date in
            (as_of - 365 days, as_of] counts.
        regular: the regular sales of `history` when the caller capped them
            once for several readers (`build_plan`); else capped here.
        config: thresholds and targets (`load_service_level_config`).

    Returns one row per SKU × market with any row in `history` (CLASS_COLUMNS),
    in revenue rank order:

    - annual_units, annual_revenue_eur: sums over the window (not annualised:
      a series launched mid-window is valued on what it has sold);
    - revenue_share, cumulative_share: of the total window revenue, the
      cumulative share including the row itself. The class is decided on the
      share *before* the row (Pareto), so the top item is A even when it
      alone is over 80 %; ties in revenue rank by (sku, market);
    - demand_days: days with units_sold > 0; adi = window days / demand_days,
      counting window days from the later of the window start and the
      series' first sale ever (a new listing is not intermittent for the
      months before it existed); cv2 = var / mean² of the non-zero daily
      units, with the sample variance (ddof=1);
    - pattern: smooth / erratic / intermittent / lumpy; a series with fewer
      than min_demand_days selling days is "lumpy" with sparse_history=True,
      the cautious guess. No sale in the window: abc "C", pattern
      "no_demand", adi and cv2 NaN, sparse_history False. Zero revenue
      despite sales is C too: it earns nothing to protect;
    - target_service_level: `config.target(abc, pattern)`; ss_method:
      `config.methods[pattern]`.
    """
    units = check_history(history)

    as_of_ts = pd.Timestamp(as_of).normalize()
    window_start = as_of_ts - pd.Timedelta(days=WINDOW_DAYS - 1)
    h = history.loc[:, list(HISTORY_COLUMNS)].copy()
    h["demand_date"] = pd.to_datetime(h["demand_date"]).dt.normalize()
    h["units_sold"] = units.astype(float)
    h["revenue_eur"] = pd.to_numeric(h["revenue_eur"]).astype(float)

    # Category is a SKU attribute; the latest non-null row wins if it ever changed.
    out = h.sort_values("demand_date", kind="mergesort").groupby(["sku", "market"], as_index=False, sort=True)[
        "category"
    ].last()

    # The series' first sale ever (up to as_of), not the first in the window:
    # for a series that sold before the window, quiet days opening it are gaps.
    sales = h if regular is None else regular  # sales capped once by the plan carry their first sales too
    first_sale = first_sales(sales, as_of_ts)
    # the regular demand, as the forecast learns it: a wholesaler's one pallet does not make a SKU class A nor
    # its pattern lumpy (it is planned as a known order, docs/sop.md)
    daily = regular_sales(sales, as_of_ts, WINDOW_DAYS)  # the window's days only
    totals = daily.groupby(["sku", "market"], as_index=False).agg(
        annual_units=("units_sold", "sum"), annual_revenue_eur=("revenue_eur", "sum")
    )
    sold = daily[daily["units_sold"] > 0]
    sizes = sold.groupby(["sku", "market"], as_index=False).agg(
        demand_days=("units_sold", "size"),
        size_mean=("units_sold", "mean"),
        size_var=("units_sold", "var"),  # ddof=1
    )
    out = (
        out.merge(totals, on=["sku", "market"], how="left")
        .merge(sizes, on=["sku", "market"], how="left")
        .merge(first_sale, on=["sku", "market"], how="left")
    )
    out[["annual_units", "annual_revenue_eur"]] = out[["annual_units", "annual_revenue_eur"]].fillna(0.0)
    out["demand_days"] = out["demand_days"].fillna(0).astype("int64")

    out = _abc(out, config)

    has_demand = out["demand_days"].to_numpy() > 0
    start = out["first_sale"].where(out["first_sale"] > window_start, window_start)
    window_days = (as_of_ts - start).dt.days.to_numpy(dtype=float) + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(has_demand, window_days / out["demand_days"].to_numpy(dtype=float), np.nan)
        size_mean = out["size_mean"].to_numpy(dtype=float)
        cv2 = np.where(has_demand, out["size_var"].to_numpy(dtype=float) / size_mean**2, np.nan)
    sparse = has_demand & (out["demand_days"].to_numpy() < config.min_demand_days)
    out["adi"] = adi
    out["cv2"] = cv2
    out["pattern"] = np.select(
        [~has_demand, sparse], [NO_DEMAND, "lumpy"], default=demand_pattern(adi, cv2, config.adi_cutoff, config.cv2_cutoff)
    )
    out["sparse_history"] = sparse
    out.loc[~has_demand, "abc"] = "C"
    out["target_service_level"] = np.array(
        [config.target(a, p) for a, p in zip(out["abc"], out["pattern"])], dtype=float
    )
    out["ss_method"] = out["pattern"].map(config.methods)
    return out.loc[:, list(CLASS_COLUMNS)].reset_index(drop=True)


def _abc(frame: pd.DataFrame, config: ServiceLevelConfig) -> pd.DataFrame:
    """Rank by revenue (ties by sku, market) and add revenue_share, cumulative_share, abc."""
    out = frame.sort_values(
        ["annual_revenue_eur", "sku", "market"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    revenue = out["annual_revenue_eur"].to_numpy(dtype=float)
    total = revenue.sum()
    cum = np.cumsum(revenue)
    # Share of the items ranked above: summed in revenue, divided once, so a
    # hand-built 50/30/20 list lands exactly on 0.80.
    before = np.concatenate([[0.0], cum])[:-1]
    if total > 0:
        out["revenue_share"] = revenue / total
        out["cumulative_share"] = cum / total
        before = before / total
    else:
        out["revenue_share"] = 0.0
        out["cumulative_share"] = 0.0
    a, b = config.abc_thresholds
    out["abc"] = np.select([revenue <= 0, before < a, before < b], ["C", "A", "B"], default="C")
    return out


def node_targets(classes: pd.DataFrame, market_nodes: pd.DataFrame) -> pd.DataFrame:
    """Target CSL per SKU × fulfilment node, from the SKU's dominant market at that node.

    Stock is held per node and one stock serves every market the node ships
    to, so the node needs one target. It takes the class of the SKU's
    highest-revenue market among those (ties: more units, then market name):
    that market's demand is what the stock mostly protects, and averaging
    targets would blur a clear class. Its pattern is the dominant market's
    too, an approximation: pooled markets are smoother than any one of them.

    Args:
        classes: output of `classify_series`.
        market_nodes: market, node (which node ships to which market).

    Returns NODE_TARGET_COLUMNS, one row per SKU × node with a class in at
    least one of the node's markets, sorted by sku, node. A market of
    `classes` missing from `market_nodes`, or a market mapped to two nodes,
    raises ValueError rather than silently changing which market dominates.
    """
    require_columns(
        classes,
        ("sku", "market", "annual_units", "annual_revenue_eur", "abc", "pattern", "target_service_level", "ss_method"),
        "classes",
    )
    require_columns(market_nodes, MARKET_NODE_COLUMNS, "market_nodes")
    node_of = market_nodes.loc[:, list(MARKET_NODE_COLUMNS)].drop_duplicates()
    dup = node_of["market"][node_of["market"].duplicated()]
    if not dup.empty:
        raise ValueError(f"market_nodes maps these markets to more than one node: {_names(dup)}")
    unmapped = set(classes["market"]) - set(node_of["market"])
    if unmapped:
        raise ValueError(f"markets in `classes` missing from market_nodes: {_names(unmapped)}")

    c = classes.merge(node_of, on="market", how="inner")
    c = c.sort_values(
        ["sku", "node", "annual_revenue_eur", "annual_units", "market"],
        ascending=[True, True, False, False, True],
        kind="mergesort",
    )
    top = c.drop_duplicates(["sku", "node"], keep="first")
    return top.loc[:, list(NODE_TARGET_COLUMNS)].reset_index(drop=True)
