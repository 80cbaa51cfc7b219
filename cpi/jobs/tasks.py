"""The registry of tasks: features register their background work here, by name.

Each feature keeps its tasks in its own ``tasks.py`` and registers them with
:func:`task`; the app factory imports those modules (``cpi.TASK_MODULES``), so
``cpi/jobs`` itself never imports a feature.

A task runs inside an app context, takes a :class:`TaskProgress` and plain keyword
arguments (JSON-like: they travel through Redis), opens its own transactions and
returns a one-line summary for the person who asked. A problem the person must fix
(an unknown campaign) is a :class:`TaskError`: the job ends with that message and is
not retried. Anything else that raises is retried by RQ, which is safe because every
task is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cpi.jobs.progress import TaskProgress

TaskFunc = Callable[..., str]


class TaskError(Exception):
    """A problem with the request itself; retrying would not help."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: TaskFunc
    label: str
    timeout: int  # seconds before RQ stops the job
    periodic: bool = False  # run by `cpi worker` every CPI_SCHEDULE_INTERVAL seconds


TASKS: dict[str, TaskSpec] = {}


def task(
    name: str, *, label: str, timeout: int = 3600, periodic: bool = False
) -> Callable[[TaskFunc], TaskFunc]:
    """Register ``func`` as the task ``name`` (a periodic one is also run by the schedule)."""

    def register(func: TaskFunc) -> TaskFunc:
        TASKS[name] = TaskSpec(
            name=name, func=func, label=label, timeout=timeout, periodic=periodic
        )
        return func

    return register


def get(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}") from None


def periodic() -> list[TaskSpec]:
    return [spec for spec in TASKS.values() if spec.periodic]


def run(name: str, progress: TaskProgress, kwargs: dict[str, Any]) -> str:
    return get(name).func(progress, **kwargs)
