"""Streaming CSV reading with errors that name the line.

The file is read line by line in binary and decoded here, so that a bad byte
is reported with its exact line, a line is never longer than a fixed limit and a
huge file never sits in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, BinaryIO

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from cpi.i18n.errors import field_message

MAX_LINE_BYTES = 64 * 1024
MAX_ERRORS_LISTED = 1000
WIDTH_ERROR = "__row__"


def line_message(line: int, message: object) -> str:
    """``line N: column: reason`` in the active locale (English on the command line)."""
    return str(gettext("line %(line)s: %(message)s", line=line, message=message))


# Where a file-level error is: words, not columns, so translated on a page too.
PLACES = {"file": _l("file"), "header": _l("header"), "row": _l("row")}


def place_message(line: int, place: str, reason: object) -> str:
    """``line N: file: reason`` (or ``header:``) in the active locale (English on the CLI)."""
    return line_message(line, field_message(PLACES[place], reason))


class ImportFailed(Exception):
    """The file cannot be imported; ``errors`` are ``line N: field: reason`` lines."""

    def __init__(self, errors: list[str], total: int | None = None) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.total = total if total is not None else len(errors)

    def report(self) -> str:
        lines = list(self.errors)
        if self.total > len(lines):
            more = self.total - len(lines)
            lines.append(str(gettext("... and %(count)s more errors", count=more)))
        return "\n".join(lines)


@dataclass
class ImportSummary:
    kind: str
    rows: int
    created: int
    updated: int


@dataclass(frozen=True)
class Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


def _decoded_lines(raw: BinaryIO, number: int = 0) -> Iterator[str]:
    """The lines of ``raw`` (lines ``number + 1`` on of the file), checked one by one."""
    while True:
        line = raw.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            reason = _l("line is longer than %(limit)s kB", limit=MAX_LINE_BYTES // 1024)
            raise ImportFailed([place_message(number, "file", reason)])
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if b"\x00" in line:
            reason = _l("contains a NUL byte (not a text CSV file)")
            raise ImportFailed([place_message(number, "file", reason)])
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = line[error.start]
            byte = f"0x{bad:02x}"
            reason = _l("not valid UTF-8 (byte %(byte)s); save the file as UTF-8", byte=byte)
            raise ImportFailed([place_message(number, "file", reason)]) from None


CHUNK_BYTES = 1 << 20


def _decoded_chunks(raw: BinaryIO) -> Iterator[Iterable[str]]:
    """The file's lines as ``_decoded_lines`` gives them, a megabyte of whole lines at a
    time: a chunk is checked and decoded at once, and one with any problem (a NUL, a
    line too long, a bad byte) is read again line by line, which reports it exactly
    where ``_decoded_lines`` does."""
    number = 0  # lines before this chunk
    carry = b""
    while True:
        block = raw.read(CHUNK_BYTES)
        if not block:
            if carry:
                yield _decoded_chunk(carry, number)
            return
        block = carry + block
        cut = block.rfind(b"\n") + 1
        if cut == 0 and len(block) <= MAX_LINE_BYTES:
            carry = block
            continue
        if cut == 0:  # no end of line in a whole line's length: reported line by line
            cut = len(block)
        chunk, carry = block[:cut], block[cut:]
        yield _decoded_chunk(chunk, number)
        number += chunk.count(b"\n")


def _decoded_chunk(chunk: bytes, number: int) -> Iterable[str]:
    if b"\x00" not in chunk and max(map(len, chunk.split(b"\n"))) < MAX_LINE_BYTES:
        if number == 0 and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        try:
            # Lines end at \n only, as ``readline`` splits them.
            return io.StringIO(chunk.decode("utf-8"), newline="\n")
        except UnicodeDecodeError:
            pass
    return _decoded_lines(io.BytesIO(chunk), number)


def check_header(header: list[str], columns: Columns) -> list[str]:
    names = [name.strip() for name in header]
    errors: list[str] = []
    if len(names) == 1:
        separators = ((";", _l("semicolons")), ("\t", _l("tabs")), ("|", _l("vertical bars")))
        for mark, separator in separators:
            if mark in names[0]:
                reason = _l("columns are separated by %(sep)s; use commas", sep=separator)
                return [place_message(1, "header", reason)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            reason = _l("column %(name)s appears twice", name=repr(name))
            errors.append(place_message(1, "header", reason))
        seen.add(name)
        if name not in columns.known:
            reason = _l(
                "unknown column %(name)s (expected: %(expected)s)",
                name=repr(name),
                expected=", ".join(columns.known),
            )
            errors.append(place_message(1, "header", reason))
    for name in columns.required:
        if name not in seen:
            reason = _l("missing required column %(name)s", name=repr(name))
            errors.append(place_message(1, "header", reason))
    return errors


def read_rows(raw: BinaryIO, columns: Columns) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, {column: stripped cell})`` for each data row.

    Raises ImportFailed for an empty file, a bad header or unreadable CSV.
    """
    reader, names = _reader(_decoded_lines(raw), columns)
    yield from _rows(reader, names)


def _reader(lines: Iterator[str], columns: Columns) -> tuple[Any, list[str]]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        reason = _l("the file is empty; expected a header row")
        raise ImportFailed([place_message(1, "file", reason)]) from None
    except csv.Error as error:
        reason = _l("not readable as CSV (%(error)s)", error=str(error))
        raise ImportFailed([place_message(1, "file", reason)]) from None
    header_errors = check_header(header, columns)
    if header_errors:
        raise ImportFailed(header_errors)
    return reader, [name.strip() for name in header]


def _rows(reader: Any, names: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    line_done = 1
    while True:
        start = line_done + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = _l("broken CSV quoting (%(error)s)", error=str(error))
            raise ImportFailed([place_message(start, "file", reason)]) from None
        line_done = reader.line_num
        row = row_cells(cells, names)
        if row is not None:
            yield start, row


def row_cells(cells: list[str], names: list[str]) -> dict[str, str] | None:
    """``{column: stripped cell}``; None for a blank line; ``{WIDTH_ERROR: reason}`` for
    a row of the wrong width (reported by the caller with the other row errors)."""
    if not any(cell.strip() for cell in cells):
        return None
    if len(cells) != len(names):
        return {WIDTH_ERROR: width_message(len(cells), len(names))}
    return {name: cell.strip() for name, cell in zip(names, cells, strict=True)}


def width_message(cells: int, columns: int) -> str:
    """``has N cells but the header has M`` in the active locale."""
    return str(
        gettext("has %(cells)s cells but the header has %(columns)s", cells=cells, columns=columns)
    )


@dataclass
class Batch:
    """Consecutive data rows as the CSV reader gives them (cells not yet stripped;
    blank lines and rows of the wrong width included) and each one's first line."""

    names: list[str]
    lines: list[int]
    rows: list[list[str]]


def read_batches(raw: BinaryIO, columns: Columns, size: int) -> Iterator[Batch]:
    """``read_rows`` a batch of ``size`` rows at a time, for the imports that check a
    column at once. Raises ImportFailed as ``read_rows`` does."""
    reader, names = _reader(chain.from_iterable(_decoded_chunks(raw)), columns)
    line_done = 1
    while True:
        lines: list[int] = []
        rows: list[list[str]] = []
        add_line, add_row = lines.append, rows.append
        try:
            for cells in islice(reader, size):
                add_line(line_done + 1)
                add_row(cells)
                line_done = reader.line_num
        except csv.Error as error:
            reason = _l("broken CSV quoting (%(error)s)", error=str(error))
            raise ImportFailed([place_message(line_done + 1, "file", reason)]) from None
        if not rows:
            return
        yield Batch(names, lines, rows)
