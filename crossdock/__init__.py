"""crossdock: S&OP data platform for cross-border e-commerce.

This package holds what every layer shares (settings, markets, calendars) and
the command-line entry point; the domain logic lives in the sibling packages
`feeds`, `demo`, `ml`, `expectations` and `planning`.
"""
