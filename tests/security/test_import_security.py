"""Issue 7 item 22: hostile CSV files get a clear error, nothing is imported, memory stays bounded.

Each file goes through the real ``cpi import`` command against the real database;
the memory bound is checked on the parser itself by counting the bytes it pulls
from a stream that would never end.
"""

from __future__ import annotations

import io
import os
import tracemalloc

import pytest
from sqlalchemy import func, select

from cpi.accounts.models import Account, Contact
from cpi.imports.csvfile import MAX_LINE_BYTES, ImportFailed, read_rows
from cpi.imports.operations import BATCH_SIZE
from cpi.imports.rows import COLUMNS
from cpi.kpis.models import KpiFigure, Target
from cpi.surveys.models import Response

HEADER = "account_id,account_name,segment,contact_email\n"
GOOD_ROW = "A-1,Acme,Retail,jo@acme.example\n"
MODELS = (Account, Contact, Response, KpiFigure, Target)


def counts(db) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    db.rollback()  # a fresh snapshot: see what the command committed
    return tuple(db.scalar(select(func.count()).select_from(model)) for model in MODELS)


def refused(runner, db, path, message: str) -> None:  # type: ignore[no-untyped-def]
    """The import fails with ``message``, a one-line summary, no traceback, no rows."""
    before = counts(db)
    result = runner.invoke("import", "contacts", str(path), expect_exit=1)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert counts(db) == before


BINARY_FILES = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
    "zip (xlsx)": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
    "utf-16": "\ufeffaccount_id,account_name\n".encode("utf-16-le"),
    "random bytes": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("name", sorted(BINARY_FILES))
def test_binary_file_is_refused(name, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("upload.csv", BINARY_FILES[name])
    before = counts(db)
    result = runner.invoke("import", "contacts", str(path), expect_exit=1)
    assert result.exit_code != 0
    assert "line 1: file: " in result.output
    assert "NUL byte" in result.output or "not valid UTF-8" in result.output
    assert "nothing imported" in result.output
    assert counts(db) == before


def test_binary_file_after_good_rows_names_its_line(runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    content = (HEADER + GOOD_ROW).encode() + b"\x00\x01\x02\xff\n"
    refused(runner, db, write_csv("mixed.csv", content), "line 3: file: contains a NUL byte")


def test_one_gigabyte_file_is_refused_by_the_size_limit(runner, tmp_path, db) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(HEADER.encode())
        handle.truncate(1024**3)  # sparse: 1 GB on paper, nothing on disk
    assert os.path.getsize(path) == 1024**3
    refused(runner, db, path, "file is 1074 MB; the limit is")


class EndlessStream(io.RawIOBase):
    """A stream with no end and no newline; counts the bytes a reader pulls from it."""

    def __init__(self, prefix: bytes, filler: bytes = b"a") -> None:
        self.prefix = prefix
        self.filler = filler
        self.pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        size = len(buffer)
        chunk = self.prefix[:size]
        self.prefix = self.prefix[size:]
        missing = size - len(chunk)
        chunk += (self.filler * (missing // len(self.filler) + 1))[:missing]
        buffer[:size] = chunk
        self.pulled += size
        return size


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        (b"", "line 1: file: line is longer than 64 kB"),
        (HEADER.encode() + GOOD_ROW.encode(), "line 3: file: line is longer than 64 kB"),
    ],
    ids=["no newline at all", "after good rows"],
)
def test_parser_reads_a_bounded_amount_of_an_endless_line(prefix, message) -> None:  # type: ignore[no-untyped-def]
    stream = EndlessStream(prefix)
    tracemalloc.start()
    try:
        with pytest.raises(ImportFailed) as failure:
            for _ in read_rows(io.BufferedReader(stream), COLUMNS["contacts"]):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message in failure.value.report()
    # One line's worth plus the reader's buffer, never the (endless) file.
    assert stream.pulled <= len(prefix) + MAX_LINE_BYTES + 2 * io.DEFAULT_BUFFER_SIZE
    assert peak < 4 * 1024 * 1024


def test_parser_bounds_a_quote_that_never_closes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Lines are short, but an open quote would join them all into one field."""
    stream = EndlessStream(HEADER.encode() + b'A-1,"never closed,', filler=b"short line\n")
    with pytest.raises(ImportFailed) as failure:
        for _ in read_rows(io.BufferedReader(stream), COLUMNS["contacts"]):
            pass
    assert "line 2: file: broken CSV quoting (field larger than field limit" in (
        failure.value.report()
    )
    assert stream.pulled < 1024 * 1024


def test_one_megabyte_line_is_refused(runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    long_name = "x" * (1024 * 1024)
    content = HEADER + GOOD_ROW + f"A-2,{long_name},Retail,li@acme.example\n"
    refused(runner, db, write_csv("long.csv", content), "line 3: file: line is longer than 64 kB")


def test_failure_after_batches_were_written_leaves_nothing(runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    """More good rows than one write batch, then a bad line: the batches are rolled back."""
    rows = "".join(f"A-{i},Acme {i},Retail,p{i}@acme.example\n" for i in range(BATCH_SIZE + 500))
    content = HEADER + rows + "A-x," + "y" * (MAX_LINE_BYTES + 1) + ",Retail,z@acme.example\n"
    refused(runner, db, write_csv("late.csv", content), f"line {BATCH_SIZE + 502}: file:")


@pytest.mark.parametrize(
    ("separator", "name"),
    [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")],
)
def test_wrong_delimiter_is_named(separator, name, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    content = (HEADER + GOOD_ROW).replace(",", separator)
    refused(
        runner,
        db,
        write_csv("wrong.csv", content),
        f"line 1: header: columns are separated by {name}; use commas",
    )


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ('A-2,"Acme"Corp,Retail,li@acme.example\n', "line 3: file: broken CSV quoting"),
        ('A-2,"Acme,Retail,li@acme.example\n', "line 3: file: broken CSV quoting"),
        ('A-2,"Acme\nCorp,Retail,li@acme.example\nA-3,B,C,d@e.example\n', "broken CSV quoting"),
    ],
    ids=["text after closing quote", "quote open at end of file", "quote spans lines"],
)
def test_broken_quoting_is_refused(bad_row, message, runner, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    refused(runner, db, write_csv("quotes.csv", HEADER + GOOD_ROW + bad_row), message)
