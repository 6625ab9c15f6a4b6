"""The examples in the events package's docstrings run, and every public name is documented."""

from __future__ import annotations

import doctest
import importlib

import pytest

import yuqing_core.events as events

MODULES = [
    "yuqing_core.events._grouping",
    "yuqing_core.events._heat",
    "yuqing_core.events._hotwords",
    "yuqing_core.events._minhash",
    "yuqing_core.events._normalize",
    "yuqing_core.events._spikes",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_public_names_are_documented() -> None:
    for name in events.__all__:
        value = getattr(events, name)
        if callable(value):
            assert value.__doc__, name
