"""Additive answer sums as columns: one row per scope (or per account and quarter).

``SumsColumns`` holds the 20 integer sums of ``AnswerStats`` as an (rows × 20) int64
array and the quote-turnaround days as one histogram per row (sorted distinct
values and their counts, rows back to back), so medians and their order-statistic
intervals stay exact. Pooling rows into scopes (segments, portfolios, the company,
a year's quarters) is ``pool``: integer sums add exactly in any order.

A histogram is stored packed (``pack_histogram``): its (days, count) entries as
little-endian (float64, int64) records, ascending by days, counts > 0, so a quarter's
histograms load as one buffer (``SumsColumns.from_packed``).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from cpi.scoring.stats import INT_FIELDS, AnswerStats

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

FIELD_INDEX: dict[str, int] = {name: i for i, name in enumerate(INT_FIELDS)}
# Sums beyond this could overflow int64 when thousands of rows are pooled.
_LIMIT = 2**62
# One packed histogram entry: the days, then how many answers gave them.
DAYS_RECORD = np.dtype([("days", "<f8"), ("count", "<i8")])


def pack_histogram(histogram: Mapping[float, int]) -> bytes | None:
    """A days histogram as stored (entries with a count <= 0 left out; None if empty)."""
    entries = sorted((float(days), int(count)) for days, count in histogram.items() if count > 0)
    if not entries:
        return None
    return np.array(entries, dtype=DAYS_RECORD).tobytes()


def unpack_histogram(packed: bytes | None) -> dict[float, int]:
    """The histogram ``pack_histogram`` stored."""
    if not packed:
        return {}
    records = np.frombuffer(packed, dtype=DAYS_RECORD)
    return dict(zip(records["days"].tolist(), records["count"].tolist(), strict=True))


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """The concatenation of range(start, start + length) for each pair."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift: IntArray = np.repeat(starts - (ends - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True, eq=False)
class SumsColumns:
    """``sums[i, FIELD_INDEX[name]]``: row i's sum ``name``; row i's days histogram is
    ``days_values[days_offsets[i]:days_offsets[i + 1]]`` (ascending, distinct) with
    ``days_counts`` (each > 0) alongside."""

    sums: IntArray
    days_offsets: IntArray
    days_values: FloatArray
    days_counts: IntArray

    def __len__(self) -> int:
        return int(self.sums.shape[0])

    def column(self, name: str) -> IntArray:
        return self.sums[:, FIELD_INDEX[name]]

    @classmethod
    def empty(cls, rows: int = 0) -> SumsColumns:
        return cls(
            np.zeros((rows, len(INT_FIELDS)), dtype=np.int64),
            np.zeros(rows + 1, dtype=np.int64),
            np.zeros(0, dtype=np.float64),
            np.zeros(0, dtype=np.int64),
        )

    @classmethod
    def from_arrays(
        cls,
        sums: npt.ArrayLike,
        days_row: npt.ArrayLike,
        days_value: npt.ArrayLike,
        days_count: npt.ArrayLike,
    ) -> SumsColumns:
        """From an (rows × 20) array of sums and histogram entries (row, days, count)
        in any order; repeated (row, days) entries add up, zero counts and entries of
        row -1 are dropped."""
        try:
            table = np.asarray(sums).astype(np.int64).reshape(-1, len(INT_FIELDS))
        except OverflowError:
            table = np.zeros((0, 0), dtype=np.int64)
        if table.size != np.size(sums) or (table.size and np.abs(table).max() >= _LIMIT):
            raise ValueError("answer sums too large for the columnar scorer")
        rows = table.shape[0]
        entry_row = np.asarray(days_row, dtype=np.int64)
        value = np.asarray(days_value, dtype=np.float64)
        count = np.asarray(days_count, dtype=np.int64)
        return cls(table, *_histograms(rows, entry_row, value, count))

    @classmethod
    def from_packed(cls, sums: npt.ArrayLike, packed: Sequence[bytes | None]) -> SumsColumns:
        """From an (rows × 20) array of sums and each row's packed histogram
        (``pack_histogram``; None: no entries), without a Python step per entry."""
        table = np.asarray(sums, dtype=np.int64).reshape(-1, len(INT_FIELDS))
        if len(packed) != table.shape[0]:
            raise ValueError("one packed histogram per row of sums")
        if table.size and np.abs(table).max() >= _LIMIT:
            raise ValueError("answer sums too large for the columnar scorer")
        present = [b or b"" for b in packed] if None in packed else cast(Sequence[bytes], packed)
        sizes = np.fromiter(map(len, present), np.int64, len(present))
        if (sizes % DAYS_RECORD.itemsize).any():
            raise ValueError("a packed histogram of a partial entry")
        records = np.frombuffer(b"".join(present), dtype=DAYS_RECORD)
        lengths = sizes // DAYS_RECORD.itemsize
        offsets = np.zeros(table.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = records["days"].astype(np.float64)
        counts = records["count"].astype(np.int64)
        # Stored ascending, distinct and positive: check it (cheap) rather than sort.
        later = np.ones(values.size, dtype=bool)
        later[offsets[:-1][lengths > 0]] = False
        ascending = (values[1:] > values[:-1]) | ~later[1:]
        if not (ascending.all() and (counts > 0).all()):
            rows = np.repeat(np.arange(table.shape[0], dtype=np.int64), lengths)
            return cls(table, *_histograms(table.shape[0], rows, values, counts))
        return cls(table, offsets, values, counts)

    @classmethod
    def from_stats(cls, stats: Sequence[AnswerStats]) -> SumsColumns:
        sums = [[getattr(s, name) for name in INT_FIELDS] for s in stats]
        entries = [(i, days, c) for i, s in enumerate(stats) for days, c in s.quote_days.items()]
        rows, values, counts = zip(*entries, strict=True) if entries else ((), (), ())
        table = np.array(sums, dtype=object).reshape(len(stats), len(INT_FIELDS))
        return cls.from_arrays(table, rows, values, counts)

    def pool(self, groups: Iterable[Sequence[int] | IntArray]) -> SumsColumns:
        """One row per group: the sum of the group's rows (no rows: all zero)."""
        listed = [group if isinstance(group, np.ndarray) else list(group) for group in groups]
        sizes = np.fromiter((len(group) for group in listed), dtype=np.int64, count=len(listed))
        members = np.fromiter(
            itertools.chain.from_iterable(listed), dtype=np.int64, count=int(sizes.sum())
        )
        return self.pool_flat(members, sizes)

    def pool_flat(self, members: IntArray, sizes: IntArray) -> SumsColumns:
        """``pool`` of groups given back to back: ``members`` holds the rows of group 0,
        then of group 1 ..., ``sizes`` how many each."""
        count = sizes.size
        if members.size == count and (sizes == 1).all():
            return self.take(members)
        owner = np.repeat(np.arange(count, dtype=np.int64), sizes)
        sums = np.zeros((count, len(INT_FIELDS)), dtype=np.int64)
        filled = sizes > 0
        if filled.any():
            starts = (np.cumsum(sizes) - sizes)[filled]
            sums[filled] = np.add.reduceat(self.sums[members], starts, axis=0)
        lengths = self.days_offsets[members + 1] - self.days_offsets[members]
        entries = _ranges(self.days_offsets[members], lengths)
        histograms = _histograms(
            count,
            np.repeat(owner, lengths),
            self.days_values[entries],
            self.days_counts[entries],
        )
        return SumsColumns(sums, *histograms)

    def take(self, rows: Sequence[int] | IntArray) -> SumsColumns:
        """The given rows, in that order (a row may repeat)."""
        index = np.asarray(rows, dtype=np.int64).reshape(-1)
        lengths = self.days_offsets[index + 1] - self.days_offsets[index]
        entries = _ranges(self.days_offsets[index], lengths)
        offsets = np.zeros(index.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return SumsColumns(
            self.sums[index], offsets, self.days_values[entries], self.days_counts[entries]
        )

    def quote_n(self) -> IntArray:
        cumulative = np.concatenate(([0], np.cumsum(self.days_counts)))
        return cumulative[self.days_offsets[1:]] - cumulative[self.days_offsets[:-1]]

    def stats(self, row: int) -> AnswerStats:
        """Row ``row`` as an ``AnswerStats``."""
        start, end = int(self.days_offsets[row]), int(self.days_offsets[row + 1])
        histogram = dict(
            zip(
                self.days_values[start:end].tolist(),
                self.days_counts[start:end].tolist(),
                strict=True,
            )
        )
        sums = dict(zip(INT_FIELDS, self.sums[row].tolist(), strict=True))
        return AnswerStats(quote_days=histogram, **sums)


@dataclass(frozen=True, eq=False)
class RowTable:
    """Which row of a ``SumsColumns`` holds each (account, quarter), as one array: built
    once per load, so that pooling thousands of scopes gathers their rows with numpy
    rather than one look-up per account and quarter.

    ``rows[accounts[a], quarters[q]]`` is the row of account a in quarter q, -1 for none;
    the last row and column (an account or quarter not in the table) are all -1."""

    accounts: dict[str, int]
    quarters: dict[str, int]
    rows: IntArray

    @classmethod
    def build(cls, keys: Mapping[tuple[str, str], int]) -> RowTable:
        """From {(account_id, quarter): row}."""
        account_of = [account for account, _ in keys]
        quarter_of = [quarter for _, quarter in keys]
        accounts = {account: i for i, account in enumerate(dict.fromkeys(account_of))}
        quarters = {quarter: i for i, quarter in enumerate(dict.fromkeys(quarter_of))}
        account_at = list(map(accounts.__getitem__, account_of))
        quarter_at = list(map(quarters.__getitem__, quarter_of))
        rows = np.full((len(accounts) + 1, len(quarters) + 1), -1, dtype=np.int64)
        rows[account_at, quarter_at] = np.fromiter(keys.values(), np.int64, len(keys))
        return cls(accounts, quarters, rows)

    def members(
        self, groups: Sequence[Collection[str]], periods: Sequence[Sequence[str]]
    ) -> list[tuple[IntArray, IntArray]]:
        """For each list of quarters in ``periods``: the rows of each group's accounts in
        those quarters, the groups back to back, and how many rows each group has
        (``SumsColumns.pool_flat``'s arguments)."""
        unknown = len(self.accounts)
        get = self.accounts.get
        positions = np.array([get(a, unknown) for group in groups for a in group], np.int64)
        group_sizes = np.fromiter(map(len, groups), np.int64, len(groups))
        group_ends = np.cumsum(group_sizes)
        table = self.rows[positions]
        found = []
        for quarters in periods:
            columns = [self.quarters.get(q, len(self.quarters)) for q in quarters]
            rows = table[:, columns]
            present = rows >= 0
            per_member = np.zeros(positions.size + 1, dtype=np.int64)
            np.cumsum(present.sum(axis=1), out=per_member[1:])
            sizes = per_member[group_ends] - per_member[group_ends - group_sizes]
            found.append((rows[present], sizes))
        return found


def _histograms(
    rows: int, entry_row: IntArray, value: FloatArray, count: IntArray
) -> tuple[IntArray, FloatArray, IntArray]:
    """Sorted, distinct, positive histograms per row from (row, value, count) entries."""
    keep = (count != 0) & (entry_row >= 0)
    entry_row, value, count = entry_row[keep], value[keep], count[keep]
    dense = _dense_histograms(rows, entry_row, value, count)
    if dense is not None:
        entry_row, value, count = dense
        offsets = np.zeros(rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(entry_row, minlength=rows), out=offsets[1:])
        return offsets, value, count
    # one pooled scope (the company): by value alone, the same order
    order = np.argsort(value, kind="stable") if rows == 1 else np.lexsort((value, entry_row))
    entry_row, value, count = entry_row[order], value[order], count[order]
    if entry_row.size:
        new = np.empty(entry_row.size, dtype=bool)
        new[0] = True
        new[1:] = (entry_row[1:] != entry_row[:-1]) | (value[1:] != value[:-1])
        starts = np.flatnonzero(new)
        count = np.add.reduceat(count, starts)
        entry_row, value = entry_row[starts], value[starts]
        positive = count > 0
        entry_row, value, count = entry_row[positive], value[positive], count[positive]
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(entry_row, minlength=rows), out=offsets[1:])
    return offsets, value, count


# Answers give whole days or simple fractions: as multiples of 1/16 of a day they index a
# short array, so that pooling many histograms (the company's 2,000 accounts) is a count
# into slots rather than a sort.
_STEPS_PER_DAY = 16
_DENSE_SLOTS = 1 << 16


def _dense_histograms(
    rows: int, entry_row: IntArray, value: FloatArray, count: IntArray
) -> tuple[IntArray, FloatArray, IntArray] | None:
    """``_histograms``' entries (row, day, count) by adding the counts into one slot per
    (row, 1/16 day), when every day is such a step from 0 and the slots are few (else
    None): the same entries, exactly (days and counts are exact in float64 here)."""
    if value.size == 0:
        return None
    steps = value * _STEPS_PER_DAY  # exact: a power of two
    top = float(steps.max())
    slots_needed = (top + 1.0) * rows
    if not (float(steps.min()) >= 0.0 and slots_needed <= max(_DENSE_SLOTS, 8 * value.size)):
        return None  # (also NaN and infinite days)
    if not (np.array_equal(steps, np.floor(steps)) and np.abs(count).sum(dtype=float) < 2.0**52):
        return None
    span = int(top) + 1
    slot = entry_row * span + steps.astype(np.int64)
    # float64 weights add integers exactly below 2**53
    totals = np.bincount(slot, weights=count, minlength=rows * span)
    found = np.flatnonzero(totals > 0)
    row, step = np.divmod(found, span)
    return row, step / _STEPS_PER_DAY, totals[found].astype(np.int64)
