"""The tasks a worker runs: thin shells around the features' operations.

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
SCHEDULE_TASK = "schedule_tick"


class TaskError(Exception):
    """A problem with the request itself; retrying would not help."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: TaskFunc
    label: str
    timeout: int  # seconds before RQ stops the job


TASKS: dict[str, TaskSpec] = {}


def task(name: str, *, label: str, timeout: int = 3600) -> Callable[[TaskFunc], TaskFunc]:
    def register(func: TaskFunc) -> TaskFunc:
        TASKS[name] = TaskSpec(name=name, func=func, label=label, timeout=timeout)
        return func

    return register


def get(name: str) -> TaskSpec:
    _load_all()
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}") from None


def _load_all() -> None:
    # Tasks register themselves on import; importing here keeps cpi.jobs free of
    # import cycles with the features whose operations they call.
    from cpi.jobs import builtin  # noqa: F401


def run(name: str, progress: TaskProgress, kwargs: dict[str, Any]) -> str:
    return get(name).func(progress, **kwargs)
