"""Progress bars for long commands: shown on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import click


class Progress(Protocol):
    def update(self, n_steps: int) -> None: ...


class _Silent:
    def update(self, n_steps: int) -> None:
        pass


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Progress]:
    if not sys.stderr.isatty():
        yield _Silent()
        return
    with click.progressbar(
        length=length, label=label, file=sys.stderr, show_pos=True, show_percent=True
    ) as bar:
        yield bar
