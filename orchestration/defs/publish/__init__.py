"""Publish: the one step that swaps plan_next into schema publish, and the BI copies made after it."""
