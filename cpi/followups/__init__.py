"""Closing the loop: alert rules, follow-ups for account owners, their figures."""
