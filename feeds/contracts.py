"""The written contracts of the landing feeds.

These objects are the single source of truth: the ingest builds its checks
from them and `docs/feeds.md` is generated from them, so the documentation and
the checks cannot drift apart.
"""
from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

import pycountry

from crossdock.plan_labels import EXCEPTION_STATUSES  # the dashboard's form writes them too

ISO_COUNTRIES: tuple[str, ...] = tuple(sorted(c.alpha_2 for c in pycountry.countries))
ISO_CURRENCIES: tuple[str, ...] = tuple(sorted(c.alpha_3 for c in pycountry.currencies))


@dataclass(frozen=True)
class Column:
    """One contract column.

    `type` is the warehouse type the value must cast to. A `pii` column is
    never stored as sent: the ingest stores a salted SHA-256 pseudonym under
    `stored_as` instead, so no customer identifier reaches the warehouse.
    """

    name: str
    type: str  # varchar | integer | decimal | double | date | timestamptz | boolean
    description: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    nonzero: bool = False
    unit: str | None = None
    pii: bool = False
    stored_as: str | None = None
    # a required value may be empty on the rows where this SQL condition holds (`{column}` placeholders, as in
    # `RowRule`; "true": on any row, the column itself is still required), and `empty_allowed_on` says on which,
    # for docs/feeds.md: a gift card has no SKU
    empty_allowed_when: str | None = None
    empty_allowed_on: str | None = None

    @property
    def target_name(self) -> str:
        return self.stored_as or self.name

    def empty_allowed_sql(self, column: Callable[[str], str]) -> str | None:
        """`empty_allowed_when` with each `{name}` replaced by `column(name)`; None when a value is always required."""
        return None if self.empty_allowed_when is None else with_columns(self.empty_allowed_when, column)


def with_columns(template: str, column: Callable[[str], str]) -> str:
    """`template` with each `{name}` replaced by `column(name)` (a quoted identifier)."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{name: column(name) for name in names})


@dataclass(frozen=True)
class Derived:
    """A column the ingest adds, computed from the sent values in SQL.

    `sql` refers to the sent (text) columns with `{column}` placeholders.
    """

    name: str
    type: str
    sql: str
    description: str


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of one row, beside the per-column ones a `Column` declares.

    `condition` is SQL true of a row that breaks the rule, with `{column}` for a
    column's value: as sent (text) when the ingest checks a file, as stored when
    a test checks what was loaded, so it reads values through try_cast.
    """

    code: str
    condition: str
    message: str  # for the quarantine row, said of the row
    meaning: str  # for the reason codes of docs/feeds.md

    def sql(self, column: Callable[[str], str]) -> str:
        """`condition` with each `{name}` replaced by `column(name)` (a quoted identifier)."""
        return with_columns(self.condition, column)


@dataclass(frozen=True)
class Contract:
    feed: str  # landing sub-folder, one of FEEDS
    dataset: str  # raw table name
    file_prefix: str  # file names starting with this belong to the dataset
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    derived: tuple[Derived, ...] = field(default_factory=tuple)
    row_rules: tuple[RowRule, ...] = ()

    @property
    def table(self) -> str:
        return f"raw.{self.dataset}"

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ORDER_CHANNELS = ("web", "marketplace", "app")
ORDER_LINE_TYPES = ("sale", "return", "cancellation", "write_off", "not_stocked")
# a line that is no stocked good (a gift card, a tip, shipping protection, a digital download): kept as sent,
# never demand, stock or a market's sale; it may lack the SKU, ship-to country and declared node a good needs.
# The test ignores letter case: `Not_Stocked` is quarantined as not_allowed, and that, not a missing SKU, is
# what its reason code should say
NOT_STOCKED = "not_stocked"
NOT_STOCKED_LINE = f"lower({{line_type}}) = '{NOT_STOCKED}'"
PO_STATUSES = ("open", "received", "cancelled")
CARRIER_EVENT_TYPES = (
    "picked_up",
    "in_transit",
    "customs_hold",
    "customs_cleared",
    "delivered",
    "exception",
    "returned",
)

ORDERS = Contract(
    feed="orders",
    dataset="orders",
    file_prefix="orders",
    description="Order lines as the storefront exports them. A return is a line with a negative quantity; cancellations are kept as lines of type cancellation.",
    key=("order_id", "line_id"),
    columns=(
        Column("order_id", "varchar", "Order number in the storefront."),
        Column("line_id", "integer", "Line number within the order.", min_value=1),
        Column("ordered_at", "timestamptz", "Time of the order (or of the return), ISO 8601 with UTC offset; stored in UTC."),
        Column("channel", "varchar", "Sales channel.", allowed=ORDER_CHANNELS),
        Column(
            "customer_id",
            "varchar",
            "Storefront customer identifier; pseudonymised at ingest (HMAC-SHA256 keyed with CROSSDOCK_PII_SALT).",
            required=False,
            pii=True,
            stored_as="customer_key",
        ),
        # never checked against the catalogue: a new SKU sells before its catalogue line arrives
        Column(
            "sku",
            "varchar",
            "Stock keeping unit, as in the supplier catalogue when there is one.",
            empty_allowed_when=NOT_STOCKED_LINE,
            empty_allowed_on=f"a {NOT_STOCKED} line",
        ),
        # no fixed plausible range: a 12,000-unit wholesale line is a real order, not an error
        Column("quantity", "integer", "Units; negative for a return, a write-off or a cancelling reversal.", nonzero=True, unit="units"),
        Column(
            "line_type",
            "varchar",
            "sale, return, cancellation, write_off (stock damaged or thrown away, not demand) or not_stocked (a "
            "line that is no stocked good: a gift card, a tip, shipping protection, a digital download; kept, "
            "never planned, and neither is any line of a SKU once sent so, its refunds included); when absent, a "
            "negative quantity at price 0 with no customer is a write-off, another negative one a return, a positive "
            "one a sale. Order statuses map here in a mapping (e.g. CANCELED -> cancellation).",
            required=False,
            allowed=ORDER_LINE_TYPES,
        ),
        Column(
            "unit_price",
            "decimal",
            "Price per unit paid by the shopper, in `currency`, as the market shows prices: "
            "VAT/GST included in Europe, Australia and Japan, sales tax excluded in the US and Canada.",
            min_value=0,
            unit="currency",
        ),
        Column("currency", "varchar", "ISO 4217 code of unit_price.", allowed=ISO_CURRENCIES),
        Column(
            "ship_to_country",
            "varchar",
            "ISO 3166-1 alpha-2 destination market.",
            allowed=ISO_COUNTRIES,
            empty_allowed_when=NOT_STOCKED_LINE,
            empty_allowed_on=f"a {NOT_STOCKED} line (nothing ships)",
        ),
        Column(
            "fulfilment_node",
            "varchar",
            "Warehouse that ships the line; when the export has none, the market's node in crossdock.yaml is assumed.",
            required=False,
        ),
    ),
    row_rules=(
        # a sale of -3 units would subtract from demand (fct_daily_demand.units_sold < 0), and the mart's
        # test would stop the whole plan for one line: quarantined here, where the line can be fixed
        RowRule(
            "negative_sale",
            "{line_type} = 'sale' and try_cast({quantity} as double) < 0",
            "a sale of a negative quantity: a return has line_type return, or no line_type",
            "a line of type sale with a negative quantity (a return is of type return, or has no type)",
        ),
    ),
    derived=(
        Derived(
            "order_date",
            "date",
            "cast(substr(trim({ordered_at}), 1, 10) as date)",
            "Calendar day of the order as written in the source's local timestamp: the market's own day.",
        ),
        Derived(
            "ordered_at_utc_offset",
            "varchar",
            "regexp_extract(trim({ordered_at}), '(Z|z|[+-][0-9][0-9]:?([0-9][0-9])?)$')",
            "The UTC offset the source wrote (e.g. +01:00 or Z): the source's zone, kept beside the UTC time.",
        ),
    ),
)

SUPPLIERS = Contract(
    feed="suppliers",
    dataset="suppliers",
    file_prefix="suppliers",
    description="Supplier master.",
    key=("supplier_id",),
    columns=(
        Column("supplier_id", "varchar", "Supplier code."),
        Column("supplier_name", "varchar", "Supplier's trading name."),
        Column("country", "varchar", "ISO 3166-1 alpha-2 country the supplier ships from.", allowed=ISO_COUNTRIES),
        Column("currency", "varchar", "ISO 4217 invoicing currency.", allowed=ISO_CURRENCIES),
    ),
)

SUPPLIER_CATALOGUE = Contract(
    feed="suppliers",
    dataset="supplier_catalogue",
    file_prefix="catalogue",
    description="What each supplier sells us: cost, order constraints, quoted lead time, origin and HS code.",
    key=("supplier_id", "sku"),
    columns=(
        Column("supplier_id", "varchar", "Supplier code."),
        Column("sku", "varchar", "Stock keeping unit."),
        Column("product_name", "varchar", "Product name."),
        Column("category", "varchar", "Merchandise category."),
        Column("unit_cost", "decimal", "Purchase cost per unit in `currency`.", min_value=0, unit="currency"),
        Column("currency", "varchar", "ISO 4217 code of unit_cost.", allowed=ISO_CURRENCIES),
        # a supplier line without a MOQ or a case size still gives the SKU its cost, lead time and customs identity:
        # the plan orders it by crossdock.yaml's assumed ones and says so (marts.dim_sku.order_terms_assumed). The
        # columns stay required: a file without them would blank every line's known terms (the last version wins)
        Column("moq", "integer", "Minimum order quantity; empty: none given, crossdock.yaml's assumed one is used.",
               min_value=1, unit="units", empty_allowed_when="true", empty_allowed_on="a line naming none"),
        Column("pack_size", "integer", "Units per case; orders are whole cases. Empty: none given, crossdock.yaml's "
               "assumed one is used.", min_value=1, unit="units", empty_allowed_when="true",
               empty_allowed_on="a line naming none"),
        Column("quoted_lead_time_days", "integer", "Lead time the supplier quotes, order to receipt.", min_value=0, max_value=365, unit="days"),
        Column("origin_country", "varchar", "ISO 3166-1 alpha-2 country of origin (customs).", allowed=ISO_COUNTRIES),
        Column("hs_code", "varchar", "Harmonized System code (6+ digits; dots, spaces and dashes are dropped: 8211.92.00); "
               "may be missing, the compliance plan flags it.", required=False),
        Column("weight_kg", "double", "Shipping weight per unit.", min_value=0, unit="kg", required=False),
        Column("is_primary", "boolean", "True for the SKU's preferred supplier."),
    ),
)

PURCHASE_ORDERS = Contract(
    feed="suppliers",
    dataset="purchase_orders",
    file_prefix="purchase_orders",
    description="Purchase order lines with promised and actual receipt dates: the source of real lead-time variability.",
    key=("po_id", "po_line"),
    columns=(
        Column("po_id", "varchar", "Purchase order number."),
        Column("po_line", "integer", "Line within the purchase order.", min_value=1),
        Column("supplier_id", "varchar", "Supplier code."),
        Column("sku", "varchar", "Stock keeping unit."),
        Column("destination_node", "varchar", "Node the goods are delivered to."),
        Column("quantity", "integer", "Units ordered.", min_value=1, unit="units"),
        Column("ordered_at", "date", "Day the order was placed."),
        Column("promised_at", "date", "Receipt day the supplier promised."),
        Column("received_at", "date", "Day the goods were received; empty while open.", required=False),
        Column("status", "varchar", "Line status.", allowed=PO_STATUSES),
    ),
)

CARRIER_EVENTS = Contract(
    feed="carriers",
    dataset="carrier_events",
    file_prefix="tracking",
    description="Carrier tracking events per shipment.",
    key=("event_id",),
    columns=(
        Column("event_id", "varchar", "Unique event id from the carrier integration."),
        Column("shipment_id", "varchar", "Shipment (tracking) id."),
        Column("order_id", "varchar", "Order the shipment fulfils.", required=False),
        Column("carrier", "varchar", "Carrier name."),
        Column("service", "varchar", "Carrier service level."),
        Column("origin_node", "varchar", "Node the shipment left."),
        Column("origin_country", "varchar", "ISO 3166-1 alpha-2 origin.", allowed=ISO_COUNTRIES),
        Column("destination_country", "varchar", "ISO 3166-1 alpha-2 destination.", allowed=ISO_COUNTRIES),
        Column("event_type", "varchar", "Tracking milestone.", allowed=CARRIER_EVENT_TYPES),
        Column("event_at", "timestamptz", "Time of the event, ISO 8601 with UTC offset; stored in UTC."),
    ),
)

INVENTORY_SNAPSHOTS = Contract(
    feed="inventory",
    dataset="inventory_snapshots",
    file_prefix="inventory",
    description="End-of-day on-hand stock per SKU per node.",
    key=("snapshot_date", "node", "sku"),
    columns=(
        Column("snapshot_date", "date", "Day the stock was counted (end of day)."),
        Column("node", "varchar", "Fulfilment node."),
        Column("sku", "varchar", "Stock keeping unit."),
        Column("on_hand", "integer", "Units physically on hand.", min_value=0, unit="units"),
    ),
)

OVERRIDE_BUCKETS = ("week", "month")
OVERRIDE_REASONS = (
    "promotion",
    "marketing",
    "customer_order",
    "price_change",
    "new_listing",
    "delisting",
    "supply_constraint",
    "market_intelligence",
    "correction",
    "other",
)

FORECAST_OVERRIDES = Contract(
    feed="overrides",
    dataset="forecast_overrides",
    file_prefix="overrides",
    description="Planners' adjustments of the statistical forecast, one row per revision: a later row with the same "
    "override_id revises it and every revision is kept, so a past consensus can be rebuilt. The level follows from "
    "what is filled: a sku (SKU x market), a category (category x market) or neither (the whole market). Give "
    "`units` or `change_pct`, not both. Written by hand, by a spreadsheet, or by the dashboard's form.",
    key=("override_id", "entered_at"),
    columns=(
        Column("override_id", "varchar", "Identifier of the adjustment; a row with a later entered_at revises it."),
        Column("entered_at", "timestamptz", "When this revision was entered, ISO 8601 with UTC offset; stored in UTC."),
        Column("author", "varchar", "Planner who entered it."),
        # any code: a catch-all market (ROW) is no country, and which markets exist is the merchant's crossdock.yaml;
        # the consensus says which override names no planned market (sop/consensus.py)
        Column("market", "varchar", "Market the adjustment is for, as crossdock.yaml names it: a country's ISO 3166-1 "
               "alpha-2 code, or the catch-all market's code (e.g. ROW) for the countries planned in it."),
        Column("category", "varchar", "Merchandise category (as in the catalogue), for a category x market adjustment.", required=False),
        Column("sku", "varchar", "Stock keeping unit, for a SKU x market adjustment.", required=False),
        Column("bucket", "varchar", "Period the adjustment is stated for.", allowed=OVERRIDE_BUCKETS),
        Column("period_start", "date", "First day of the period: a Monday for a week, the 1st for a month."),
        Column(
            "units",
            "double",
            "The period's total demand the planner expects, split down to SKUs and days in proportion to the "
            "statistical forecast.",
            required=False,
            min_value=0,
            unit="units",
        ),
        Column("change_pct", "double", "Or: the change of the statistical forecast, in percent (-100 = nothing sells).",
               required=False, min_value=-100, unit="percent"),
        Column("reason_code", "varchar", "Why: the code forecast value added is reported by.", allowed=OVERRIDE_REASONS),
        Column("comment", "varchar", "What the planner knows that the forecast does not.", required=False),
        Column("expires_on", "date", "Last planning date the adjustment applies on; empty: while its period lies ahead.",
               required=False),
        Column("withdrawn", "boolean", "True on a revision that withdraws the adjustment.", required=False),
    ),
)

EXCEPTION_UPDATES = Contract(
    feed="exceptions",
    dataset="exception_updates",
    file_prefix="exception_updates",
    description="What the people who own the plan's exceptions did about them, one row per update; every update is "
    "kept as the exception's history. Written by the dashboard or by hand.",
    key=("exception_id", "updated_at"),
    columns=(
        Column("exception_id", "varchar", "The exception, as publish.exceptions names it."),
        Column("updated_at", "timestamptz", "When, ISO 8601 with UTC offset; stored in UTC."),
        Column("updated_by", "varchar", "Who."),
        Column("status", "varchar", "The exception's status from now on.", allowed=EXCEPTION_STATUSES),
        Column("owner", "varchar", "Who owns it from now on; empty: unchanged.", required=False),
        Column("note", "varchar", "What was done or decided.", required=False),
    ),
)

CONTRACTS: tuple[Contract, ...] = (
    ORDERS,
    SUPPLIERS,
    SUPPLIER_CATALOGUE,
    PURCHASE_ORDERS,
    CARRIER_EVENTS,
    INVENTORY_SNAPSHOTS,
    FORECAST_OVERRIDES,
    EXCEPTION_UPDATES,
)
FEEDS: tuple[str, ...] = ("orders", "suppliers", "carriers", "inventory", "overrides", "exceptions")


def contracts_for_feed(feed: str) -> tuple[Contract, ...]:
    return tuple(c for c in CONTRACTS if c.feed == feed)


def contract_for_file(feed: str, file_name: str) -> Contract | None:
    """The contract a landing file belongs to, by its name's prefix (longest match wins)."""
    matches = [c for c in contracts_for_feed(feed) if file_name.lower().startswith(c.file_prefix)]
    return max(matches, key=lambda c: len(c.file_prefix), default=None)
