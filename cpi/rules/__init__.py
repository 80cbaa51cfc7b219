"""Rules that several features check, each written once (style.md: one definition per rule).

A low-level package: it imports nothing from the features, and forms, imports,
admin pages, the API and mail all ask it the same question and get the same answer
(and the same message). Answer fields and their ranges live in ``cpi.scoring``,
the supported languages in ``cpi.i18n``; the rest lives here.
"""
