"""Finding the system's Chromium for the browser tests, and what happens without one (``browserdesk.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from browserdesk import find_chromium

NEEDS_CHROMIUM = """
def test_in_the_browser(chromium_executable):
    pass
"""


def test_the_setting_names_the_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = tmp_path / "my-chromium"
    browser.write_text("#!/bin/sh\n")
    monkeypatch.setenv("YUQING_CHROMIUM", str(browser))
    assert find_chromium() == str(browser)
    monkeypatch.setenv("YUQING_CHROMIUM", str(tmp_path / "missing"))
    assert find_chromium() is None  # a wrong setting is not silently replaced by another browser


def test_without_the_setting_chromium_is_looked_up_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YUQING_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    browser = tmp_path / "chromium-browser"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    assert find_chromium() == str(browser)


@pytest.mark.parametrize(("ci", "outcome"), [(None, {"skipped": 1}), ("true", {"errors": 1})])
def test_without_chromium_the_browser_tests_skip_except_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: dict[str, int]
) -> None:
    monkeypatch.setenv("YUQING_CHROMIUM", str(pytester.path / "no-chromium-here"))
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_needs_chromium=NEEDS_CHROMIUM)
    result = pytester.runpytest_inprocess("-p", "browserdesk", "-p", "ci_skips", "-p", "no:cacheprovider", "-ra")
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*没有找到 Chromium*apt-get install chromium*YUQING_CHROMIUM*"])
    if ci:
        result.stdout.fnmatch_lines(["*CI=true 时必须有 Chromium*"])
