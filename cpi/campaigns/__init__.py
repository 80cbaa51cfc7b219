"""Campaigns in the staff app: create, preview, send, remind and close them, follow their
response rates, and the recurring schedules. The work itself is the surveys feature's
(cpi/surveys: the same operations and tasks as ``cpi campaign``, ``cpi send``, ``cpi remind``)."""
