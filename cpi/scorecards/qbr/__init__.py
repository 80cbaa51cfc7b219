"""Quarterly business reviews: the customer edition of an account's scorecard.

The customer edition (an executive summary, trend charts, the comments and the
actions the account manager chose) in the customer's language, as a PDF and as a
slide deck. The internal edition is the scorecard PDF of :mod:`cpi.scorecards`.
"""
