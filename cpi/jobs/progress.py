"""How a task reports progress: to a terminal bar in-process, or to the job's meta on a worker.

A task calls ``progress.start(total)`` once it knows how much there is to do, then
``progress.update(n)`` as it goes (the same ``update`` as :mod:`cpi.progress`, so an
operation that takes a progress callback accepts either).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any, Protocol

from cpi.progress import Progress, progress_bar


class TaskProgress(Protocol):
    def start(self, total: int, label: str | None = None) -> None: ...

    def update(self, n_steps: int) -> None: ...

    def remember(self, key: str, value: Any) -> Any:
        """``value`` the first time; on a rerun of the same job, what the first run stored."""


class TerminalProgress:
    """In-process: a bar on a terminal (quiet otherwise), opened when the total is known."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._stack = ExitStack()
        self._bar: Progress | None = None

    def start(self, total: int, label: str | None = None) -> None:
        """Open a bar (closing the previous stage's) for ``total`` steps."""
        self.close()
        self._bar = self._stack.enter_context(progress_bar(total, label or self.label))

    def update(self, n_steps: int) -> None:
        if self._bar is not None:
            self._bar.update(n_steps)

    def close(self) -> None:
        self._stack.close()
        self._bar = None

    def remember(self, key: str, value: Any) -> Any:
        return value


class JobProgress:
    """On a worker: the stage's ``done`` and ``total`` in the job's meta, saved twice a second."""

    def __init__(self, job: Any, interval: float = 0.5) -> None:
        self.job = job
        self.interval = interval
        self.done = 0
        self.total = 0
        self.stage = 0
        self.label: str | None = None
        self._saved_at = 0.0

    def start(self, total: int, label: str | None = None) -> None:
        self.total = total
        self.done = 0
        self.stage += 1
        self.label = label
        self._save(force=True)

    def update(self, n_steps: int) -> None:
        self.done += n_steps
        self._save(force=self.done >= self.total)

    def remember(self, key: str, value: Any) -> Any:
        memo = self.job.meta.setdefault("memo", {})
        if key not in memo:
            memo[key] = value
            self.job.save_meta()
        return memo[key]

    def _save(self, *, force: bool) -> None:
        now = time.monotonic()
        if force or now - self._saved_at >= self.interval:
            self.job.meta["progress"] = {
                "done": self.done,
                "total": self.total,
                "stage": self.stage,
                "label": self.label,
            }
            self.job.save_meta()
            self._saved_at = now


class QuietProgress:
    """In-process for a web request: nobody watches a bar, so none is drawn."""

    def start(self, total: int, label: str | None = None) -> None:
        pass

    def update(self, n_steps: int) -> None:
        pass

    def remember(self, key: str, value: Any) -> Any:
        return value
