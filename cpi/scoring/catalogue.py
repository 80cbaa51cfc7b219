"""The built-in indicator catalogue and the validation of survey answers.

``validate_answers`` is the one gate used by the survey form, the CSV import
and the API, so all three accept and reject exactly the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal, cast

from cpi.scoring.stats import Answers, FcrAnswer

Unit = Literal["percent", "contacts", "days", "score", "points"]
Better = Literal["higher", "lower"]
Kind = Literal["proportion", "mean", "median", "ratio", "nps"]


@dataclass(frozen=True)
class Indicator:
    """One catalogue indicator; ``lower``/``upper`` bound its possible values
    (used to clip confidence intervals; None means unbounded)."""

    code: str
    name: str
    unit: Unit
    better: Better
    kind: Kind
    lower: float | None
    upper: float | None

    @property
    def is_percent(self) -> bool:
        return self.unit == "percent"

    def clip(self, x: float) -> float:
        if self.lower is not None and x < self.lower:
            return self.lower
        if self.upper is not None and x > self.upper:
            return self.upper
        return x


CATALOGUE: tuple[Indicator, ...] = (
    Indicator("fcr", "First-contact resolution", "percent", "higher",
              "proportion", 0.0, 100.0),
    Indicator("value_added_calls", "Value-added contacts", "contacts", "higher",
              "mean", 0.0, 999.0),
    Indicator("value_added_share", "Value-added share of contacts", "percent",
              "higher", "ratio", 0.0, 100.0),
    Indicator("quote_turnaround", "Quote turnaround", "days", "lower",
              "median", 0.0, 365.0),
    Indicator("csat", "Customer satisfaction", "percent", "higher",
              "proportion", 0.0, 100.0),
    Indicator("nps", "Net Promoter Score", "points", "higher",
              "nps", -100.0, 100.0),
    Indicator("ces", "Customer effort score", "score", "higher",
              "mean", 1.0, 7.0),
)  # fmt: skip

INDICATORS_BY_CODE: dict[str, Indicator] = {i.code: i for i in CATALOGUE}

ANSWER_FIELDS: tuple[str, ...] = (
    "fcr",
    "contacts_total",
    "contacts_value_added",
    "quote_turnaround_days",
    "csat",
    "nps",
    "ces",
)

FCR_CHOICES: tuple[str, ...] = ("yes", "no", "na")

# field -> (lowest, highest) for the whole-number answers
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "contacts_total": (0, 999),
    "contacts_value_added": (0, 999),
    "csat": (1, 5),
    "nps": (0, 10),
    "ces": (1, 7),
}
DAYS_RANGE: tuple[float, float] = (0.0, 365.0)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _to_decimal(value: object) -> Decimal | None:
    """A finite number from an int, float, Decimal or numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def parse_whole_number(field: str, value: object) -> int:
    """A whole number in the field's range; raise ValueError naming the field.

    "4" and 4 are accepted, and so is "4.0" (spreadsheets export it); "4.5",
    "four" and out-of-range numbers are not.
    """
    low, high = INTEGER_RANGES[field]
    return parse_whole_in_range(field, value, low, high)


def parse_whole_in_range(field: str, value: object, low: int, high: int) -> int:
    """The one whole-number rule (built-in fields and custom scale questions alike)."""
    message = f"{field}: must be a whole number from {low} to {high}"
    number = _to_decimal(value)
    if number is None or number != number.to_integral_value():
        raise ValueError(message)
    whole = int(number)
    if not low <= whole <= high:
        raise ValueError(message)
    return whole


def parse_days(value: object) -> float:
    low, high = DAYS_RANGE
    message = f"quote_turnaround_days: must be a number of days from {low:g} to {high:g}"
    number = _to_decimal(value)
    if number is None or not low <= number <= high:
        raise ValueError(message)
    days = float(number)
    if math.isnan(days):  # pragma: no cover - excluded by is_finite above
        raise ValueError(message)
    return days


def parse_fcr(value: object) -> FcrAnswer:
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in FCR_CHOICES:
        raise ValueError("fcr: must be yes, no or na")
    return cast(FcrAnswer, text)


def _parse_field(name: str, raw: object) -> tuple[object, str | None]:
    """One answer field's value (None if blank) and the reason it is rejected, if it is."""
    if _is_blank(raw):
        return None, None
    try:
        if name == "fcr":
            return parse_fcr(raw), None
        if name == "quote_turnaround_days":
            return parse_days(raw), None
        return parse_whole_number(name, raw), None
    except ValueError as error:
        return None, str(error)


_parse_cell = lru_cache(maxsize=4096)(_parse_field)


def validate_answers(mapping: Mapping[str, object]) -> tuple[Answers, dict[str, str]]:
    """Check the answer fields of a form, CSV row or API payload.

    Returns the valid answers (None for blank or rejected fields) and
    ``{field: message}`` for every rejected field; the message starts with
    the field name. Keys other than the answer fields (comment, csrf_token,
    ...) are ignored. ``contacts_value_added`` may be given without
    ``contacts_total`` (it still counts towards ``value_added_calls``), but
    never above it.
    """
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name in ANSWER_FIELDS:
        raw = mapping.get(name)
        # A CSV of a million rows holds a few distinct cells per field: parse each once.
        short = type(raw) is str and len(raw) <= 32
        value, error = _parse_cell(name, raw) if short else _parse_field(name, raw)
        values[name] = value
        if error is not None:
            errors[name] = error
    total, value_added = values["contacts_total"], values["contacts_value_added"]
    if isinstance(total, int) and isinstance(value_added, int) and value_added > total:
        errors["contacts_value_added"] = (
            "contacts_value_added: must not be more than contacts_total"
        )
        values["contacts_value_added"] = None
    return Answers(**values), errors  # type: ignore[arg-type]
