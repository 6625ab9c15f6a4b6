"""Every public name of the events package is documented.

The examples in its docstrings run with the rest of the core's (``--doctest-modules``, pyproject.toml).
"""

from __future__ import annotations

import yuqing_core.events as events


def test_public_names_are_documented() -> None:
    for name in events.__all__:
        value = getattr(events, name)
        if callable(value):
            assert value.__doc__, name
