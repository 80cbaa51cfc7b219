"""The alert rules as plain values: which answers call for a follow-up (no database here).

A rule per indicator: a scale answer at or below its threshold (NPS <= 6, CSAT <= 2,
CES <= 3 by default), or a first-contact resolution answered "no". Admins and the
enablement lead change thresholds or switch rules off (AlertRule rows override these).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from cpi.i18n.errors import LocalisedError

# indicator code -> (answer field, scale bounds, default threshold)
SCALE_RULES: dict[str, tuple[str, int, int, int]] = {
    "nps": ("nps", 0, 10, 6),
    "csat": ("csat", 1, 5, 2),
    "ces": ("ces", 1, 7, 3),
}
RULE_ORDER = ("fcr", "nps", "csat", "ces")
RULE_NAMES = {
    "fcr": "First-contact resolution answered “no”",
    "nps": "Likelihood to recommend (0–10) at or below",
    "csat": "Overall satisfaction (1–5) at or below",
    "ces": "Ease of working with us (1–7) at or below",
}
SHORT_NAMES = {"fcr": "FCR", "nps": "NPS", "csat": "CSAT", "ces": "CES"}


@dataclass(frozen=True)
class Rule:
    indicator: str
    enabled: bool = True
    threshold: int | None = None  # None for fcr

    def describe(self) -> str:
        if self.indicator == "fcr":
            return "FCR “no”"
        return f"{SHORT_NAMES[self.indicator]} ≤ {self.threshold}"


DEFAULT_RULES: dict[str, Rule] = {
    "fcr": Rule("fcr"),
    **{code: Rule(code, True, spec[3]) for code, spec in SCALE_RULES.items()},
}


class RuleError(LocalisedError):
    """A threshold outside its indicator's scale (the message names the indicator), in
    the reader's language (:class:`cpi.i18n.errors.LocalisedError`)."""


def checked_threshold(indicator: str, value: Any) -> int:
    """A threshold must be a whole number within the indicator's scale."""
    _field, low, high, _default = SCALE_RULES[indicator]
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RuleError(
            SHORT_NAMES[indicator], _l("the threshold must be a whole number")
        ) from None
    if not low <= number <= high:
        raise RuleError(
            SHORT_NAMES[indicator],
            _l("the threshold must be from %(low)s to %(high)s", low=low, high=high),
        )
    return number


def effective_rules(overrides: Iterable[Rule]) -> dict[str, Rule]:
    rules = dict(DEFAULT_RULES)
    rules.update({rule.indicator: rule for rule in overrides if rule.indicator in rules})
    return rules


def matched(answers: Mapping[str, Any], rules: Mapping[str, Rule]) -> set[str]:
    """The indicators whose rule these answers meet (blank answers meet none)."""
    found: set[str] = set()
    for code in RULE_ORDER:
        rule = rules[code]
        if not rule.enabled:
            continue
        if code == "fcr":
            if answers.get("fcr") == "no":
                found.add(code)
            continue
        value = answers.get(SCALE_RULES[code][0])
        if value is not None and rule.threshold is not None and value <= rule.threshold:
            found.add(code)
    return found


def ordered(codes: Iterable[str]) -> list[str]:
    wanted = set(codes)
    return [code for code in RULE_ORDER if code in wanted]


def joined(codes: Iterable[str]) -> str:
    return ",".join(ordered(codes))


def split(text: str | None) -> set[str]:
    return {code for code in (text or "").split(",") if code}
