"""The QBR preparation form, built from the account's comments (one choice per comment)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from cpi.scorecards.qbr.edition import MAX_ACTIONS
from cpi.scorecards.qbr.operations import ACTION_CHARS, AccountComment, Choices

LANGUAGES = [
    SelectChoice("", _l("The account's language")),
    SelectChoice("en", "English"),
    SelectChoice("fr", "Français"),
    SelectChoice("de", "Deutsch"),
    SelectChoice("hu", "Magyar"),
    SelectChoice("ru", "Русский"),
]
COMMENT_CHOICES = [
    SelectChoice("print", _l("Print")),
    SelectChoice("skip", _l("Leave out")),
    SelectChoice("hide", _l("Hide (never printed)")),
]


class QbrFormBase(FlaskForm):
    period = HiddenField()
    edition = RadioField(
        _l("Edition"),
        choices=[
            SelectChoice("customer", _l("Customer edition (for the QBR)")),
            SelectChoice("internal", _l("Internal edition (full statistics)")),
        ],
        default="customer",
    )
    language = SelectField(_l("Language"), choices=LANGUAGES, default="")
    page_size = SelectField(
        _l("Paper"),
        choices=[
            SelectChoice("", _l("From the language")),
            SelectChoice("A4", "A4"),
            SelectChoice("letter", _l("US Letter")),
        ],
    )
    show_internal = BooleanField(_l("Show our internal figures (KPI, gap, target)"))

    def choices(self, offered: Sequence[AccountComment]) -> Choices:
        actions = [getattr(self, f"action_{n}").data or "" for n in range(1, MAX_ACTIONS + 1)]
        picked = {c.id: getattr(self, f"comment_{c.id}").data for c in offered}
        return Choices(
            edition=self.edition.data or "customer",
            language=self.language.data or None,
            page_size=self.page_size.data or None,
            show_internal=bool(self.show_internal.data),
            actions=actions,
            chosen=[i for i, how in picked.items() if how == "print"],
            hidden=[i for i, how in picked.items() if how == "hide"],
        )


def qbr_form(offered: Sequence[AccountComment], saved: Choices, period: str) -> QbrFormBase:
    """A form class with one action field per allowed action and one choice per comment."""

    class QbrForm(QbrFormBase):
        pass

    for number in range(1, MAX_ACTIONS + 1):
        field = StringField(
            _l("Action %(number)s", number=number),
            validators=[Optional(), Length(max=ACTION_CHARS)],
        )
        setattr(QbrForm, f"action_{number}", field)
    for comment in offered:
        how = "print" if comment.id in saved.chosen else "skip"
        how = "hide" if comment.id in saved.hidden else how
        setattr(QbrForm, f"comment_{comment.id}", RadioField(choices=COMMENT_CHOICES, default=how))
    form = QbrForm(
        data={
            "period": period,
            "edition": saved.edition,
            "language": saved.language or "",
            "page_size": saved.page_size or "",
            "show_internal": saved.show_internal,
            **{f"action_{n}": a for n, a in enumerate(saved.actions, 1)},
        }
    )
    return form


class BrandingForm(FlaskForm):
    language = SelectField(_l("The account's language"), choices=LANGUAGES, default="")
    logo = FileField(_l("Customer logo (PNG or JPEG, up to 512 kB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
