"""crossdock: S&OP data platform for cross-border e-commerce.

This package is the shared core: what every layer may import (settings, the
warehouse, the merchant config, calendars, the publish contract, small rules
two domains share). It imports no domain package; the domain logic lives in
the sibling packages `feeds`, `demo`, `ml`, `expectations`, `planning`,
`compliance` and `dashboard`, wired by `orchestration` (.importlinter,
docs/architecture.md), and driven by the command line (`cli/`).
"""
