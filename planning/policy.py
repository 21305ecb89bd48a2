"""Planning policy: the handful of parameters a planner tunes.

Kept apart from the maths so one object carries every knob from the
orchestration config (or a planner's override) into the plan, and so the plan
can echo the service level it was built for.
"""
from __future__ import annotations

from dataclasses import dataclass

from planning.safety_stock import standard_normal_quantile


@dataclass(frozen=True)
class PlanningPolicy:
    """Inventory policy parameters; one set for the whole plan.

    Attributes:
        service_level: cycle service level target, the probability of not
            stocking out during one replenishment cycle (0 < x < 1). Sets the
            safety factor z = Φ⁻¹(service_level).
        order_cost_eur: fixed cost of placing and receiving one purchase order,
            in EUR per order (K in the EOQ).
        annual_carrying_rate: cost of holding stock for a year as a fraction of
            its unit cost (capital, storage, shrinkage), per year. Gives the
            holding cost H = unit_cost_eur * annual_carrying_rate, EUR/unit/year.
        review_period_days: days between stock reviews (R). 0 means continuous
            review: an order can be placed on any day the position hits the
            reorder point.
        excess_cover_days: on-hand cover (days) above which a line is flagged
            'excess'.
        reorder_soon_days: a line whose order-by date falls within this many
            days of the as-of date is flagged 'reorder soon'.
    """

    service_level: float = 0.95
    order_cost_eur: float = 50.0
    annual_carrying_rate: float = 0.25
    review_period_days: float = 0.0
    excess_cover_days: float = 180.0
    reorder_soon_days: int = 14

    def __post_init__(self) -> None:
        # Fail at construction: a bad knob would otherwise surface as NaN or
        # infinite quantities deep inside the plan.
        if not 0.0 < self.service_level < 1.0:
            raise ValueError(f"service_level must be in (0, 1), got {self.service_level!r}")
        if self.order_cost_eur < 0:
            raise ValueError(f"order_cost_eur must be >= 0, got {self.order_cost_eur!r}")
        if self.annual_carrying_rate <= 0:
            raise ValueError(f"annual_carrying_rate must be > 0, got {self.annual_carrying_rate!r}")
        if self.review_period_days < 0:
            raise ValueError(f"review_period_days must be >= 0, got {self.review_period_days!r}")
        if self.excess_cover_days <= 0:
            raise ValueError(f"excess_cover_days must be > 0, got {self.excess_cover_days!r}")
        if self.reorder_soon_days < 0:
            raise ValueError(f"reorder_soon_days must be >= 0, got {self.reorder_soon_days!r}")

    @property
    def z(self) -> float:
        """Safety factor z = Φ⁻¹(service_level), dimensionless (1.6449 at 95 %)."""
        return float(standard_normal_quantile(self.service_level))
