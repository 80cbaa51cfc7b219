"""Business outcomes per account and quarter (renewal, churn, revenue ...), imported."""
