"""The one rule for a respondent's free-text comment, from the survey form or an import.

At most ``COMMENT_MAX_CHARS`` characters, and only characters a database and a reader
can take: no NUL or other C0 control (tab and line breaks are fine), no lone
surrogates. The survey form words the problem for the respondent (translated); the
importer names the row and column. Both ask :func:`comment_problem`.
"""

from __future__ import annotations

from typing import Literal

COMMENT_MAX_CHARS = 5000
_FORBIDDEN = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r")

CommentProblem = Literal["too_long", "characters"]


def comment_problem(text: str) -> CommentProblem | None:
    """What is wrong with a comment, or None when it can be stored."""
    if len(text) > COMMENT_MAX_CHARS:
        return "too_long"
    if any(ch in _FORBIDDEN or "\ud800" <= ch <= "\udfff" for ch in text):
        return "characters"
    return None
