"""Planning: the inventory plan multi-asset and the scenario impact table."""
