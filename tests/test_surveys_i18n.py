"""The shipped catalogues: every text translated in every language, and the .mo up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from cpi.i18n import SUPPORTED_LOCALES, TRANSLATIONS, normalise

POT = TRANSLATIONS.parent / "messages.pot"


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED_LOCALES if loc != "en"])
def test_catalogue_is_complete_and_compiled(locale: str) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        po = read_po(handle)
    with (folder / "messages.mo").open("rb") as handle:
        mo = read_mo(handle)
    with POT.open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    translated = {m.id: m.string for m in po if m.id}
    assert template <= translated.keys(), template - translated.keys()
    assert all(translated[i] for i in template)
    compiled = {m.id: m.string for m in mo if m.id}
    assert compiled == translated  # the .mo was compiled from this .po
    for msgid, string in translated.items():  # placeholders survive translation
        for placeholder in ("%(name)s", "%(account)s", "%(company)s", "%(low)d", "%(high)d"):
            assert (placeholder in msgid) == (placeholder in string), (locale, msgid)


def test_template_lists_every_text_in_the_code() -> None:
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parent.parent
    method_map = [
        ("cpi/surveys/**.py", "python"),
        ("templates/surveys/**.html", "jinja2"),
        ("templates/mail/**.html", "jinja2"),
        ("templates/mail/**.txt", "jinja2"),
    ]
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            root, method_map, keywords={"_": None, "gettext": None, "_l": None}
        )
        if isinstance(message, str)
    }
    with POT.open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert found - template == set(), "run pybabel extract/update/compile (cpi/i18n/__init__.py)"


def test_locale_names_are_normalised() -> None:
    assert normalise("fr-CA") == "fr" and normalise("DE_de") == "de" and normalise("ja") is None


# --- errors shared by the command line and the pages (cpi.i18n.errors) ---


def test_an_error_reads_english_on_the_command_line_and_french_on_a_french_page(app, db) -> None:  # type: ignore[no-untyped-def]
    """One text: the command line (no request) prints the English msgid and the option
    it knows; a page renders the same error in the reader's language, naming the field."""
    from cpi.surveys.campaigns import CampaignError, create_campaign

    with pytest.raises(CampaignError) as caught:
        create_campaign(db, name="Pulse", period="2026")
    error = caught.value
    with app.app_context():
        assert str(error) == "--period: '2026' is a year; a campaign asks about a quarter"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(error) == "période : '2026' est une année ; une campagne porte sur un trimestre"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert str(error) == "Zeitraum: '2026' ist ein Jahr; eine Kampagne fragt nach einem Quartal"


def test_indicator_labels_cover_the_catalogue_and_follow_the_locale(app) -> None:  # type: ignore[no-untyped-def]
    from cpi.i18n.indicators import INDICATOR_LABELS, indicator_label
    from cpi.scoring import CATALOGUE

    assert list(INDICATOR_LABELS) == [i.code for i in CATALOGUE]
    with app.app_context():  # no request: the catalogue's English names
        assert [indicator_label(i.code) for i in CATALOGUE] == [i.name for i in CATALOGUE]
    with app.test_request_context(headers={"Accept-Language": "hu"}):
        assert indicator_label("fcr") != "First-contact resolution"
        assert indicator_label("unknown_code") == "unknown_code"
        with pytest.raises(TypeError):
            indicator_label(None)  # type: ignore[arg-type]
