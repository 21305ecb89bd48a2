"""Forecast: the backtest and the demand forecast, and the blocking quality gates that guard them."""
