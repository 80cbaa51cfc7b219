"""What every log line may carry: the request (or job) id, and redaction of secrets.

A small module below the features, so that infrastructure (the job runner, the queue)
and the logging set-up in :mod:`cpi.logs` share it without importing each other.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("cpi_request_id", default="-")

# /s/<token> and /u/<token>, also written /S/…, /s//…, /s/%2F…, /s/./… (the routes
# take the whole rest of the path): everything after /s/ or /u/ up to the query
# string goes, except a final /thanks.
_TOKEN_PATH = re.compile(
    r"(/[su])(?:/|\\|%2f|%5c|%252f)+[^?#\s\"']+?(/thanks)?(?=[?#\s\"']|$)", re.IGNORECASE
)
_SECRET_PARAM = re.compile(
    r"((?:token|password|passwd|secret|csrf_token)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',;]+",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """Remove customer tokens, passwords and URL credentials from a log line."""
    text = _TOKEN_PATH.sub(lambda m: f"{m[1]}/[token]{m[2] or ''}", text)
    text = _SECRET_PARAM.sub(r"\1[redacted]", text)
    return _URL_PASSWORD.sub(r"\1[redacted]@", text)
