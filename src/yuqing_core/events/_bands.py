"""The LSH band index of ``EventGrouper``: 64-bit band key -> signature slots, in sorted numpy runs.

A Python dict from band key to item (``dict[int, int | list[int]]``) costs
about 2 kB an item at 25 bands (the dict slot, the key's int object, the
spilled lists); a pair of a ``uint64`` key and an ``int32`` slot costs 12
bytes. So the index keeps its pairs in *runs*: a key array sorted ascending
and the slot array beside it. A lookup is a binary search per run
(``np.searchsorted``); a batch of items is looked up in one call per run.

Inserts of the current batch go to a small dict first, so that an item
finds the items assigned before it in the same batch; ``seal`` turns that
dict into a run at the end of the batch. A new run is merged with the run
before it while that one is at most twice its size, so the runs are few
(about log2 of the number of batches) and each pair is copied a few times
over its life. Removed pairs are marked dead (slot -1) in place, since
their slot may be given to another item; merges drop them, and a run
that is more than half dead is compacted.

The index stores slots, not item ids: the caller maps a slot to its item
(``_SignatureStore``). Lookups give exactly the slots of the live pairs
whose key is among the query's keys, as the dict did.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

_Key = TypeVar("_Key", int, str, bytes)
_DEAD = -1
# A new run is merged with the one before it while that one holds at most this many times its pairs.
_MERGE_RATIO = 2


class _Run:
    """Pairs sorted by key; ``dead`` counts the pairs whose slot is ``_DEAD``."""

    __slots__ = ("dead", "keys", "slots")

    def __init__(self, keys: np.ndarray, slots: np.ndarray) -> None:
        self.keys = keys
        self.slots = slots
        self.dead = 0

    def __len__(self) -> int:
        return len(self.keys)


class BandIndex:
    """A multimap from 64-bit band keys to ``int32`` slots: sorted runs plus a dict of the batch being inserted."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []
        self._recent: dict[int, int | list[int]] = {}
        self._recent_pairs = 0

    def __len__(self) -> int:
        """How many live (key, slot) pairs the index holds."""
        return sum(len(run) - run.dead for run in self._runs) + self._recent_pairs

    @property
    def nbytes(self) -> int:
        """The bytes of the runs' arrays, plus an estimate of the dict of the batch being inserted."""
        per_recent_pair = 110  # dict slot, the key's int object, share of spilled lists
        return sum(run.keys.nbytes + run.slots.nbytes for run in self._runs) + per_recent_pair * self._recent_pairs

    def insert(self, keys: list[int], slot: int) -> None:
        """Add one item's keys to the batch being inserted; it is found at once, by ``lookup``."""
        recent = self._recent
        for key in keys:
            file_under(recent, key, slot)
        self._recent_pairs += len(keys)

    def insert_many(self, keys: np.ndarray, slots: np.ndarray) -> None:
        """Add the keys of many items as a run at once (``keys`` one row per item, ``slots`` one per row)."""
        if not len(slots):
            return
        flat_slots = np.repeat(np.asarray(slots, dtype=np.int32), keys.shape[1])
        self._add_run(keys.reshape(-1).astype(np.uint64, copy=False), flat_slots)

    def seal(self) -> None:
        """Turn the batch being inserted into a run (merging runs as needed)."""
        if not self._recent:
            return
        keys = np.empty(self._recent_pairs, dtype=np.uint64)
        slots = np.empty(self._recent_pairs, dtype=np.int32)
        position = 0
        for key, found in self._recent.items():
            if isinstance(found, int):
                keys[position] = key
                slots[position] = found
                position += 1
            else:
                keys[position : position + len(found)] = key
                slots[position : position + len(found)] = found
                position += len(found)
        self._recent = {}
        self._recent_pairs = 0
        self._add_run(keys[:position], slots[:position])

    def lookup(self, keys: list[int]) -> set[int]:
        """The slots of the batch being inserted that share a key with ``keys`` (runs: ``lookup_sealed``)."""
        found_slots: set[int] = set()
        recent = self._recent
        if not recent:
            return found_slots
        for key in keys:
            found = recent.get(key)
            if found is None:
                continue
            if isinstance(found, int):
                found_slots.add(found)
            else:
                found_slots.update(found)
        return found_slots

    def lookup_sealed(self, keys: np.ndarray) -> list[list[int]]:
        """Per row of ``keys``, the slots in the runs sharing a key with it (in no particular order, maybe repeated)."""
        rows, width = keys.shape
        flat = keys.reshape(-1).astype(np.uint64, copy=False)
        owners: list[np.ndarray] = []
        hits: list[np.ndarray] = []
        for run in self._runs:
            positions, queries = _matches(run.keys, flat)
            if not len(positions):
                continue
            slots = run.slots[positions]
            live = slots != _DEAD
            owners.append(queries[live] // width)
            hits.append(slots[live])
        result: list[list[int]] = [[] for _ in range(rows)]
        if not hits:
            return result
        owner = np.concatenate(owners)
        slot = np.concatenate(hits)
        order = np.argsort(owner, kind="stable")
        owner, slot = owner[order], slot[order]
        bounds = np.searchsorted(owner, np.arange(rows + 1))
        slot_list = slot.tolist()
        for row in np.flatnonzero(np.diff(bounds)).tolist():
            result[row] = slot_list[bounds[row] : bounds[row + 1]]
        return result

    def remove(self, keys: np.ndarray, slots: np.ndarray) -> None:
        """Take out the pairs (each key of row ``i`` of ``keys``, ``slots[i]``), wherever they are."""
        if not len(slots):
            return
        width = keys.shape[1]
        flat = keys.reshape(-1).astype(np.uint64, copy=False)
        flat_slots = np.repeat(np.asarray(slots, dtype=np.int32), width)
        if self._recent:
            self._remove_recent(flat.tolist(), flat_slots.tolist())
        compact = False
        for run in self._runs:
            positions, queries = _matches(run.keys, flat)
            doomed = positions[run.slots[positions] == flat_slots[queries]]
            if len(doomed):
                doomed = np.unique(doomed)
                run.slots[doomed] = _DEAD
                run.dead += len(doomed)
                compact = compact or 2 * run.dead > len(run)
        if compact:
            self._runs = [_compacted(run) if 2 * run.dead > len(run) else run for run in self._runs]
            self._runs = [run for run in self._runs if len(run)]

    def _remove_recent(self, keys: list[int], slots: list[int]) -> None:
        recent = self._recent
        for key, slot in zip(keys, slots, strict=True):
            found = recent.get(key)
            if found == slot:
                del recent[key]
            elif isinstance(found, list) and slot in found:
                found.remove(slot)
                if len(found) == 1:
                    recent[key] = found[0]
            else:
                continue
            self._recent_pairs -= 1

    def _add_run(self, keys: np.ndarray, slots: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        run = _Run(keys[order], slots[order])
        runs = self._runs
        while runs and len(runs[-1]) - runs[-1].dead <= _MERGE_RATIO * len(run):
            run = _merged(runs.pop(), run)
        runs.append(run)


def file_under(index: dict[_Key, int | list[int]], key: _Key, value: int) -> None:
    """Add ``value`` under ``key`` of a multimap that holds a lone value without a list (a one-item list
    costs four times an int)."""
    held = index.get(key)
    if held is None:
        index[key] = value
    elif isinstance(held, int):
        index[key] = [held, value]
    else:
        held.append(value)


def _matches(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every position of ``sorted_keys`` equal to some query, beside the index of that query."""
    size = len(sorted_keys)
    if not size:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    first = np.searchsorted(sorted_keys, queries, "left")
    inside = first < size
    hit = np.flatnonzero(inside)
    hit = hit[sorted_keys[first[hit]] == queries[hit]]
    if not len(hit):
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    starts = first[hit]
    ends = np.searchsorted(sorted_keys, queries[hit], "right")
    counts = ends - starts
    total = int(counts.sum())
    if total == len(hit):  # every hit key held once: the usual case
        return starts, hit
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets, np.repeat(hit, counts)


def _compacted(run: _Run) -> _Run:
    if not run.dead:
        return run
    live = run.slots != _DEAD
    return _Run(run.keys[live], run.slots[live])


def _merged(older: _Run, newer: _Run) -> _Run:
    """One run of two, without their dead pairs (the sort is stable: the two sorted halves merge in linear time)."""
    older, newer = _compacted(older), _compacted(newer)
    keys = np.concatenate((older.keys, newer.keys))
    order = np.argsort(keys, kind="stable")
    return _Run(keys[order], np.concatenate((older.slots, newer.slots))[order])
