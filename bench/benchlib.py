"""Output shared by the benchmarks: one JSON object per figure on stdout, progress on stderr.

Each script in ``bench/`` is run as ``python bench/NAME.py``, which puts this
folder on ``sys.path``, so ``from benchlib import emit, figure, log`` works.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def figure(
    bench: str, metric: str, value: float, anchor: str, anchor_value: float, ratio: float, **details: Any
) -> dict[str, Any]:
    """One output line: a figure, its anchor from the same run, their ratio, and what was measured."""
    digits = 3 if value < 100 else 1
    return {
        "bench": bench,
        "metric": metric,
        "value": round(value, digits),
        "anchor": anchor,
        "anchor_value": round(anchor_value, digits),
        "ratio": round(ratio, 3),
        **details,
    }


def emit(line: dict[str, Any]) -> None:
    """Print one figure as one JSON line on stdout."""
    print(json.dumps(line, ensure_ascii=False), flush=True)


def log(message: str) -> None:
    """Progress, on stderr so stdout stays JSON lines."""
    print(message, file=sys.stderr, flush=True)
