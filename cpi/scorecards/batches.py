"""Batch ZIPs started from the app: where each one's file and its few facts live.

A batch is a token (random, unguessable) naming two files in the instance folder's
``scorecard-batches/``: ``TOKEN.json`` (who asked, for which scope and period, the
job) and ``TOKEN.zip``, written by the ``render_scorecards`` task under a temporary
name and renamed when complete. With a job queue, the worker must see the instance
folder (the same machine or a shared volume), as for ``cpi scorecard --all-accounts``.
Batches older than ``KEEP_SECONDS`` are removed when a new one starts.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app

KEEP_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class Batch:
    token: str
    requested_by: str
    scope_type: str  # segment | owner
    scope_id: str
    period: str
    job_id: str | None = None
    message: str = ""

    @property
    def zip_path(self) -> Path:
        return folder() / f"{self.token}.zip"

    @property
    def ready(self) -> bool:
        return self.zip_path.is_file()

    @property
    def download_name(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.scope_id)
        return f"{safe}-{self.period}-scorecards.zip"

    def save(self) -> None:
        partial = folder() / f"{self.token}.json.part"
        partial.write_text(json.dumps(asdict(self)), encoding="utf-8")
        partial.replace(folder() / f"{self.token}.json")


def folder() -> Path:
    path = Path(current_app.instance_path) / "scorecard-batches"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_batch(requested_by: str, scope_type: str, scope_id: str, period: str) -> Batch:
    _remove_old()
    batch = Batch(secrets.token_urlsafe(18), requested_by, scope_type, scope_id, period)
    batch.save()
    return batch


def load(token: str) -> Batch | None:
    if not TOKEN.match(token):
        return None
    try:
        facts = json.loads((folder() / f"{token}.json").read_text(encoding="utf-8"))
        return Batch(**facts)
    except (OSError, ValueError, TypeError):
        return None


def _remove_old() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
