"""The S&OP cycle's assets: the consensus demand plan, forecast value added, exceptions (sop/ holds the logic)."""
