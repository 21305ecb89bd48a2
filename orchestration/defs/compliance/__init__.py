"""Compliance: the compliance plan and the landed cost of every order."""
