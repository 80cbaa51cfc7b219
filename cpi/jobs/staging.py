"""Files handed to a worker: copied into ``<instance>/staged`` (a volume the workers share)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from flask import current_app


def stage(path: Path) -> Path:
    """Copy ``path`` where workers can read it (under a name of its own), atomically."""
    folder = Path(current_app.instance_path) / "staged"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{path.suffix}"
    partial = target.with_name(target.name + ".part")
    shutil.copyfile(path, partial)
    partial.replace(target)
    return target
