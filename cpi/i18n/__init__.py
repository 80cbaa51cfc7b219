"""Translations (Flask-Babel): survey pages and survey email in en, fr, de, hu, ru.

The catalogues live in ``cpi/i18n/translations/<lang>/LC_MESSAGES/messages.po``
with their compiled ``.mo`` beside them (committed, so the wheel needs no build
step; ``tests/test_surveys_i18n.py`` checks the two agree). To change a text:
``pybabel extract -F cpi/i18n/babel.cfg -o cpi/i18n/messages.pot .``, then
``pybabel update -i cpi/i18n/messages.pot -d cpi/i18n/translations`` and
``pybabel compile -d cpi/i18n/translations``.

The locale of a page is the one a view chose (the contact's), else the signed-in
staff user's preferred language (their profile), else the best match of the
``Accept-Language`` header, else English.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel

SUPPORTED_LOCALES = ("en", "fr", "de", "hu", "ru")
DEFAULT_LOCALE = "en"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()


def normalise(locale: str | None) -> str | None:
    """``fr-CA``, ``fr_FR`` or ``FR`` -> ``fr``; None when not one we have."""
    if not locale:
        return None
    language = locale.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def use_locale(locale: str | None) -> None:
    """Make this request speak ``locale`` (when supported) from now on."""
    from flask_babel import refresh

    g.cpi_locale = normalise(locale)
    refresh()


def select_locale() -> str:
    chosen = g.get("cpi_locale")
    if chosen:
        return str(chosen)
    if has_request_context():
        from flask_login import current_user

        preferred = normalise(getattr(current_user, "locale", None))
        if preferred:
            return preferred
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best:
            return best
    return DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    from cpi.i18n.indicators import indicator_label

    app.add_template_filter(indicator_label, "indicator_label")
