"""Output shared by the benchmarks: one JSON object per figure on stdout, progress on stderr.

Each script in ``bench/`` is run as ``python bench/NAME.py``, which puts this
folder on ``sys.path``, so ``from benchlib import emit, figure, log`` works.

Noise: the machine is shared, so a figure should not hang on one timing.
``interleave`` runs the subject and its anchor alternately, round after
round, rotating which goes first; ``figure_from_rounds`` reports the median
of each side and its spread (min and max over the rounds).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import random
import re
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any


def figure(
    bench: str, metric: str, value: float, anchor: str, anchor_value: float, ratio: float, **details: Any
) -> dict[str, Any]:
    """One output line: a figure, its anchor from the same run, their ratio, and what was measured."""
    digits = _digits(value)
    return {
        "bench": bench,
        "metric": metric,
        "value": round(value, digits),
        "anchor": anchor,
        "anchor_value": round(anchor_value, digits),
        "ratio": round(ratio, 3),
        **details,
    }


def _digits(value: float) -> int:
    """Decimals to print: 1 from 100 up, 3 from 0.1 up, three significant digits below (fractions of a second)."""
    if value >= 100:
        return 1
    if value <= 0 or value >= 0.1:
        return 3
    return 2 - math.floor(math.log10(value))


def round_order(names: Sequence[str], number: int) -> list[str]:
    """The order of the sides in round ``number``: rotated by one each round, so each goes first in turn."""
    shift = number % len(names)
    return [*names[shift:], *names[:shift]]


def interleave(
    sides: Mapping[str, Callable[[], object]], rounds: int, *, between: Callable[[], object] | None = gc.collect
) -> dict[str, list[float]]:
    """Wall-clock seconds of each side, one run per side per round.

    Every round runs each side once; which side goes first rotates from
    round to round, so warm caches and load from elsewhere on the machine
    fall on all sides alike. ``between`` runs untimed before each run
    (a garbage collection by default, so no side pays for another's garbage).
    Results the calls return are dropped: keep them in the callables if needed.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    names = list(sides)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        for name in round_order(names, number):
            if between is not None:
                between()
            started = time.perf_counter()
            sides[name]()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def figure_from_rounds(
    bench: str,
    metric: str,
    values: Sequence[float],
    anchor: str,
    anchor_values: Sequence[float],
    *,
    lower_is_better: bool = False,
    **details: Any,
) -> dict[str, Any]:
    """``figure`` of the medians of repeated, interleaved measurements, with their spread.

    ``value`` and ``anchor_value`` are the medians; ``value_min``/``value_max``
    and ``anchor_min``/``anchor_max`` the spread over ``rounds``. ``ratio`` is
    ``value / anchor_value``, or ``anchor_value / value`` when lower is better,
    so above 1.0 always means ours is ahead.
    """
    if len(values) != len(anchor_values) or not values:
        raise ValueError("need as many measurements of the subject as of the anchor, at least one")
    value, anchor_value = statistics.median(values), statistics.median(anchor_values)
    ratio = anchor_value / value if lower_is_better else value / anchor_value
    digits = _digits(value)
    return figure(
        bench, metric, value, anchor, anchor_value, ratio,
        rounds=len(values),
        value_min=round(min(values), digits), value_max=round(max(values), digits),
        anchor_min=round(min(anchor_values), digits), anchor_max=round(max(anchor_values), digits),
        **details,
    )  # fmt: skip


def emit(line: dict[str, Any]) -> None:
    """Print one figure as one JSON line on stdout."""
    print(json.dumps(line, ensure_ascii=False), flush=True)


def log(message: str) -> None:
    """Progress, on stderr so stdout stays JSON lines."""
    print(message, file=sys.stderr, flush=True)


# --- memory: peak resident set size beside each figure ---------------------------------------------


def reset_peak_rss() -> None:
    """Start a new peak for ``peak_rss_mib`` (Linux: writing 5 to ``clear_refs`` resets VmHWM; elsewhere the
    peak stays the process's lifetime peak, an upper bound)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_mib() -> float:
    """This process's peak resident set size since ``reset_peak_rss`` (or since it started), in MiB."""
    kib = _status_kib("self", "VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(kib / 1024, 1)


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


class ChildrenPeakRss:
    """Peak RSS of the processes this one starts while in the ``with`` block (e.g. Dask workers), in MiB.

    A thread looks every ``interval_s`` at each new descendant's own peak (VmHWM, exact while it runs);
    a process's last ``interval_s`` before it exits may go unseen. ``largest_mib`` is the largest one
    process reached, ``processes`` how many were seen. Linux only (elsewhere both stay 0).
    """

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="children-peak-rss", daemon=True)
        self._before: set[int] = set()

    def __enter__(self) -> ChildrenPeakRss:
        self._before = _descendants(os.getpid())
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            for pid in _descendants(os.getpid()) - self._before:
                kib = _status_kib(pid, "VmHWM")
                if kib is not None:
                    self.peaks[pid] = max(kib, self.peaks.get(pid, 0))
            if self._stop.wait(self.interval_s):
                return

    @property
    def largest_mib(self) -> float:
        return round(max(self.peaks.values(), default=0) / 1024, 1)

    @property
    def processes(self) -> int:
        return len(self.peaks)


# --- realistic county text, shared by the benchmarks that make items --------------------------------

PLACES = ("青禾镇", "柳湾镇", "石桥乡", "杏林镇", "白沙镇", "云台乡", "梅岭乡", "河口镇", "东坪村", "下湾村")


def county_clauses() -> list[str]:
    """Clauses of the demo county's texts: realistic local Chinese to build items from."""
    # Imported here: only the benchmarks that make items need them.
    import yaml

    import yuqing_core

    # Read by path: importing yuqing_core.demo would pull in the whole application.
    county = yaml.safe_load((Path(yuqing_core.__file__).parent / "demo" / "county.yaml").read_text("utf-8"))
    clauses: set[str] = set()
    for item in county["items"]:
        for clause in re.split(r"[，。；：！？、“”（）\s]+", item.get("text") or ""):
            if 4 <= len(clause) <= 30:
                clauses.add(clause)
    return sorted(clauses)


def clause_body(rng: random.Random, clauses: Sequence[str], low: int, high: int) -> str:
    """A body of ``low``..``high`` characters from ``clauses``, with places and counts mixed in."""
    target = rng.randint(low, high)
    parts: list[str] = []
    size = 0
    while size < target:
        clause = rng.choice(clauses)
        if rng.random() < 0.3:
            clause = rng.choice(PLACES) + clause
        if rng.random() < 0.2:
            clause += f"{rng.randint(2, 999)}{rng.choice('人户个元吨处家名')}"
        parts.append(clause + rng.choice("，，，。；"))
        size += len(parts[-1])
    return "".join(parts)[:target].rstrip("，；") + "。"
