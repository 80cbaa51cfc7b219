"""Enablement initiatives: who took part, what it cost, what it changed and returned.

The map (pages, PDF, CLI and tests all go through these):

* ``models``: Initiative, InitiativeParticipant, InitiativeCost, CaseStudy (and the
  kinds: KINDS, COST_KINDS, CASE_STUDY_KINDS).
* ``operations`` (session in, flush, never commit; InitiativeError "field: reason"):
  create_initiative, update_initiative, delete_initiative, add_cost, remove_cost,
  import_participants / import_costs (CSV, all or none, ImportFailed),
  record_case_study, review_case_study (approve / reject), list_initiatives,
  get_initiative (InitiativeNotFound also when the Viewer may not see it),
  get_case_study, visible_case_studies, cost_summary; ``Viewer(email, role)`` says who
  asks (``.manages``: may change things and approve).
* ``report.build_report(session, initiative, viewer=, min_n=, before=2, after=2)``: the
  whole report as a JSON-ready dict (effects, outcome_effects, trends, outcome_trends,
  marks, costs, case_studies, benefits, roi_*, return_multiple, multiple_*).
  ``report.windows`` / ``check_windows`` validate before/after windows.
* ``coaching.coaching_focus(session, viewer=, min_n=)``: per account manager, the
  significant lags with their comments and a ``prefill`` for "create an initiative".
* ``effects`` and ``roi``: the pure statistics and arithmetic (numpy, no Flask/SQLAlchemy).
* The driver view lives with the outcomes: ``cpi.outcomes.drivers.driver_view``.
"""
