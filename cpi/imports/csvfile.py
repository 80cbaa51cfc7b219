"""Streaming CSV reading with errors that name the line.

The file is read line by line in binary and decoded here, so that a bad byte
is reported with its exact line, a line is never longer than a fixed limit and a
huge file never sits in memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_LINE_BYTES = 64 * 1024
MAX_ERRORS_LISTED = 1000
WIDTH_ERROR = "__row__"


class ImportFailed(Exception):
    """The file cannot be imported; ``errors`` are ``line N: field: reason`` lines."""

    def __init__(self, errors: list[str], total: int | None = None) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.total = total if total is not None else len(errors)

    def report(self) -> str:
        lines = list(self.errors)
        if self.total > len(lines):
            lines.append(f"... and {self.total - len(lines)} more errors")
        return "\n".join(lines)


@dataclass(frozen=True)
class Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


def _decoded_lines(raw: BinaryIO) -> Iterator[str]:
    number = 0
    while True:
        line = raw.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ImportFailed(
                [f"line {number}: file: line is longer than {MAX_LINE_BYTES // 1024} kB"]
            )
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if b"\x00" in line:
            raise ImportFailed([f"line {number}: file: contains a NUL byte (not a text CSV file)"])
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = line[error.start]
            raise ImportFailed(
                [f"line {number}: file: not valid UTF-8 (byte 0x{bad:02x}); save the file as UTF-8"]
            ) from None


def check_header(header: list[str], columns: Columns) -> list[str]:
    names = [name.strip() for name in header]
    errors: list[str] = []
    if len(names) == 1:
        for mark, separator in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if mark in names[0]:
                return [f"line 1: header: columns are separated by {separator}; use commas"]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            errors.append(f"line 1: header: column {name!r} appears twice")
        seen.add(name)
        if name not in columns.known:
            errors.append(
                f"line 1: header: unknown column {name!r} (expected: {', '.join(columns.known)})"
            )
    for name in columns.required:
        if name not in seen:
            errors.append(f"line 1: header: missing required column {name!r}")
    return errors


def read_rows(raw: BinaryIO, columns: Columns) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, {column: stripped cell})`` for each data row.

    Raises ImportFailed for an empty file, a bad header or unreadable CSV.
    """
    lines = _decoded_lines(raw)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed(["line 1: file: the file is empty; expected a header row"]) from None
    except csv.Error as error:
        raise ImportFailed([f"line 1: file: not readable as CSV ({error})"]) from None
    header_errors = check_header(header, columns)
    if header_errors:
        raise ImportFailed(header_errors)
    names = [name.strip() for name in header]
    yield from _rows(reader, names)


def _rows(reader: csv.Reader, names: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    line_done = 1
    while True:
        start = line_done + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed([f"line {start}: file: broken CSV quoting ({error})"]) from None
        line_done = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(names):
            # Reported by the caller with the other row errors.
            yield start, {WIDTH_ERROR: f"has {len(cells)} cells but the header has {len(names)}"}
            continue
        yield start, {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
