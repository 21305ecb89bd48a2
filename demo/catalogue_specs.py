"""Reference tables behind the demo catalogue: categories, product types, suppliers.

Typed out once so the generated catalogue reads like a real one (plausible
names, HS 2022 subheadings that customs would accept, weights, pack sizes)
and so the compliance and supplier-risk layers get realistic variety.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductType:
    name: str
    hs_code: str  # HS 2022 subheading, 6 digits
    weight_kg: float  # typical shipping weight of one unit


@dataclass(frozen=True)
class Category:
    name: str
    prefix: str  # SKU code prefix
    share: float  # share of the catalogue
    price_eur: float  # median list price
    price_spread: float  # lognormal sigma of list prices
    return_rate: float  # share of sold units that come back
    packs: tuple[int, ...]  # carton pack sizes suppliers use
    suppliers: tuple[tuple[str, float], ...]  # (supplier_id, weight) able to make it
    monthly: tuple[float, ...]  # Jan..Dec level in the northern hemisphere, before gifting
    gift_amplitude: float  # extra lift in the run-up to Christmas
    weather_driven: bool  # season flips in the southern hemisphere
    types: tuple[ProductType, ...]
    variants: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "apparel", "APP", 0.22, 29.0, 0.40, 0.12, (1, 6, 12),
        (("SUP-006", 0.45), ("SUP-008", 0.35), ("SUP-009", 0.20)),
        (0.90, 0.85, 1.00, 1.05, 1.05, 1.00, 0.95, 0.95, 1.05, 1.10, 1.05, 1.00), 0.30, False,
        (
            ProductType("Organic Cotton T-Shirt", "610910", 0.20),
            ProductType("Cotton Hoodie", "611020", 0.55),
            ProductType("Merino Wool Sweater", "611011", 0.40),
            ProductType("Cotton Socks 3-Pack", "611595", 0.15),
            ProductType("Cotton Chino Trousers", "620342", 0.50),
            ProductType("Knit Jersey Dress", "610442", 0.35),
            ProductType("Packable Rain Jacket", "620140", 0.60),
        ),
        ("Black", "Navy", "Oat", "Olive", "Slate", "Rust", "White", "Heather Grey"),
    ),
    Category(
        "footwear", "FTW", 0.12, 69.0, 0.35, 0.15, (1, 6),
        (("SUP-007", 0.50), ("SUP-010", 0.25), ("SUP-013", 0.25)),
        (0.90, 0.85, 1.00, 1.10, 1.10, 1.05, 0.95, 1.00, 1.10, 1.00, 0.95, 0.95), 0.20, False,
        (
            ProductType("Road Running Shoe", "640411", 0.70),
            ProductType("Leather Low Sneaker", "640399", 0.90),
            ProductType("Waterproof Hiking Boot", "640391", 1.20),
            ProductType("Pool Slide", "640299", 0.40),
            ProductType("Canvas Slip-On", "640419", 0.60),
        ),
        ("Black", "White", "Sand", "Navy", "Forest", "Grey"),
    ),
    Category(
        "electronics_accessories", "ELA", 0.16, 29.0, 0.60, 0.05, (6, 12, 24),
        (("SUP-001", 0.60), ("SUP-002", 0.40)),
        (0.90, 0.85, 0.90, 0.90, 0.95, 0.95, 1.00, 1.05, 1.10, 1.05, 1.05, 1.00), 1.00, False,
        (
            ProductType("Power Bank 10000mAh", "850760", 0.25),
            ProductType("Wireless Earbuds", "851830", 0.10),
            ProductType("USB-C Wall Charger 65W", "850440", 0.15),
            ProductType("Braided USB-C Cable 2m", "854442", 0.06),
            ProductType("Portable Bluetooth Speaker", "851821", 0.50),
            ProductType("Shockproof Phone Case", "392690", 0.05),
        ),
        ("Black", "White", "Graphite", "Sage", "Blue"),
    ),
    Category(
        "beauty", "BEA", 0.14, 22.0, 0.45, 0.03, (12, 24),
        (("SUP-014", 0.30), ("SUP-015", 0.25), ("SUP-016", 0.25), ("SUP-018", 0.20)),
        (0.95, 1.08, 0.95, 0.95, 1.08, 1.00, 1.00, 0.95, 0.95, 1.00, 1.05, 1.00), 0.80, False,
        (
            ProductType("Vitamin C Face Serum 30ml", "330499", 0.08),
            ProductType("Matte Lipstick", "330410", 0.03),
            ProductType("Argan Oil Shampoo 250ml", "330510", 0.35),
            ProductType("Eau de Parfum 50ml", "330300", 0.20),
            ProductType("Gel Nail Polish", "330430", 0.04),
            ProductType("Mineral Sunscreen SPF50", "330499", 0.12),
            ProductType("Shea Body Lotion 400ml", "330499", 0.45),
        ),
        ("Original", "Rose", "Fragrance Free", "Citrus", "Travel Size"),
    ),
    Category(
        "home_kitchen", "HOM", 0.14, 32.0, 0.50, 0.04, (1, 6, 12),
        (("SUP-003", 0.55), ("SUP-011", 0.30), ("SUP-008", 0.15)),
        (1.05, 0.95, 1.00, 1.00, 0.95, 0.95, 0.95, 1.00, 1.05, 1.05, 1.05, 1.00), 0.50, False,
        (
            ProductType("Stainless Steel Saucepan 18cm", "732393", 1.10),
            ProductType("Insulated Water Bottle 750ml", "961700", 0.35),
            ProductType("Chef Knife 20cm", "821192", 0.25),
            ProductType("Stoneware Mug", "691200", 0.40),
            ProductType("Terry Cotton Bath Towel", "630260", 0.60),
            ProductType("Glass Storage Jar 1L", "701349", 0.50),
        ),
        ("Charcoal", "Cream", "Sage", "Terracotta", "Steel", "Ocean"),
    ),
    Category(
        "outdoor", "OUT", 0.10, 55.0, 0.60, 0.06, (1, 6),
        (("SUP-005", 0.65), ("SUP-012", 0.35)),
        (0.45, 0.50, 0.75, 1.10, 1.45, 1.70, 1.70, 1.40, 0.95, 0.70, 0.60, 0.60), 0.15, True,
        (
            ProductType("2-Person Dome Tent", "630622", 2.40),
            ProductType("Down Sleeping Bag", "940430", 1.10),
            ProductType("Folding Camp Chair", "940179", 2.00),
            ProductType("Trekking Poles Pair", "950699", 0.50),
            ProductType("Rechargeable LED Headlamp", "851310", 0.10),
            ProductType("Hiking Daypack 25L", "420292", 0.70),
        ),
        ("Moss", "Orange", "Stone", "Midnight", "Glacier"),
    ),
    Category(
        "toys", "TOY", 0.12, 25.0, 0.50, 0.04, (6, 12, 24),
        (("SUP-004", 0.75), ("SUP-017", 0.25)),
        (0.75, 0.75, 0.80, 0.85, 0.85, 0.85, 0.85, 0.85, 0.90, 1.00, 1.05, 1.00), 1.80, False,
        (
            ProductType("Building Bricks Set", "950300", 0.80),
            ProductType("Plush Bear 30cm", "950300", 0.30),
            ProductType("Jigsaw Puzzle 1000pc", "950300", 0.70),
            ProductType("Family Board Game", "950490", 1.00),
            ProductType("Wooden Train Set", "950300", 1.50),
            ProductType("Stunt Kite", "950300", 0.40),
        ),
        ("Classic", "Explorer", "Deluxe", "Junior", "Rainbow"),
    ),
)

PRODUCT_LINES: tuple[str, ...] = (
    "Nordic", "Terra", "Coastline", "Urban", "Summit", "Breeze", "Aurora",
    "Harbour", "Meadow", "Pioneer", "Kinetic", "Solstice", "Drift", "Atlas",
)


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    country: str  # ISO alpha-2 of the factory
    currency: str  # invoicing currency
    lead_time_days: int  # typical quoted lead time to the merchant's nodes
    cost_factor: float  # cost level relative to a Chinese factory
    late_bias_days: float  # mean lateness versus quote
    late_sd_days: float  # day-to-day spread of lateness
    long_delay_rate: float  # chance a PO hits a long delay (port, QC, holiday)


SUPPLIERS: tuple[Supplier, ...] = (
    Supplier("SUP-001", "Shenzhen Brightway Electronics Co., Ltd.", "CN", "USD", 45, 0.90, 1.5, 3.0, 0.03),
    Supplier("SUP-002", "Dongguan Linkpower Technology Co., Ltd.", "CN", "USD", 50, 0.85, 6.0, 8.0, 0.12),
    Supplier("SUP-003", "Ningbo Harbour Houseware Co., Ltd.", "CN", "USD", 55, 0.90, 3.0, 5.0, 0.05),
    Supplier("SUP-004", "Yiwu Starlight Toys Co., Ltd.", "CN", "USD", 60, 0.85, 8.0, 10.0, 0.15),
    Supplier("SUP-005", "Xiamen Summit Outdoor Gear Co., Ltd.", "CN", "USD", 58, 0.90, 4.0, 6.0, 0.07),
    Supplier("SUP-006", "Saigon Thread Garment JSC", "VN", "USD", 55, 0.92, 2.0, 4.0, 0.05),
    Supplier("SUP-007", "Hanoi Stride Footwear Co., Ltd.", "VN", "USD", 60, 0.92, 5.0, 7.0, 0.10),
    Supplier("SUP-008", "Tiruppur Cotton Mills Pvt. Ltd.", "IN", "USD", 62, 0.88, 7.0, 9.0, 0.14),
    Supplier("SUP-009", "Anatolia Denim Tekstil A.S.", "TR", "EUR", 28, 1.05, 1.0, 3.0, 0.03),
    Supplier("SUP-010", "Calçado Norte Lda.", "PT", "EUR", 21, 1.20, 0.0, 1.5, 0.01),
    Supplier("SUP-011", "Schwarzwald Haushaltswaren GmbH", "DE", "EUR", 20, 1.30, 0.0, 1.5, 0.01),
    Supplier("SUP-012", "Cascade Trail Outfitters Inc.", "US", "USD", 24, 1.25, 1.0, 2.5, 0.02),
    Supplier("SUP-013", "Calzado del Bajío S.A. de C.V.", "MX", "USD", 30, 1.05, 3.0, 5.0, 0.06),
    Supplier("SUP-014", "Kyoto Botanical Cosmetics K.K.", "JP", "JPY", 35, 1.30, 0.0, 2.0, 0.01),
    Supplier("SUP-015", "Brighton Apothecary Ltd", "GB", "GBP", 22, 1.25, 1.0, 3.0, 0.02),
    Supplier("SUP-016", "Cosmetica Lombarda S.r.l.", "IT", "EUR", 25, 1.20, 2.0, 4.0, 0.04),
    Supplier("SUP-017", "Nürnberger Holzspielwaren GmbH", "DE", "EUR", 22, 1.35, 0.5, 2.0, 0.02),
    Supplier("SUP-018", "Guangzhou Glow Beauty Co., Ltd.", "CN", "USD", 50, 0.85, 5.0, 7.0, 0.10),
)

SUPPLIER_BY_ID: dict[str, Supplier] = {s.supplier_id: s for s in SUPPLIERS}
