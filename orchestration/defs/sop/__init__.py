"""The S&OP cycle's assets: the consensus demand plan, forecast value added, exceptions (sop/ holds the logic)."""

SOP_ASSET_SETTINGS = dict(group_name="sop", kinds={"python", "duckdb"}, owners=["team:planning"])
"""What every S&OP asset shares: its group in the UI, its kinds, its owner."""
