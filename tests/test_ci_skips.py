"""Under CI=true a skip fails the run (``ci_skips.py``); elsewhere it stays a skip."""

from __future__ import annotations

import pytest

SKIPPING = """
import pytest

@pytest.fixture
def service():
    pytest.skip("no service here")

def test_passes():
    pass

def test_skips_itself():
    pytest.skip("no widget")

def test_skips_in_its_fixture(service):
    pass

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_to_fail():
    assert False
"""

SKIPPED_MODULE = """
import pytest
pytest.importorskip("no_such_module_anywhere")

def test_never_collected():
    pass
"""


def run(pytester: pytest.Pytester, ci: str | None, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest_inprocess("-p", "ci_skips", "-p", "no:cacheprovider", "-ra")


def test_without_ci_a_skip_is_a_skip(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_skipping=SKIPPING)
    result = run(pytester, None, monkeypatch)
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_under_ci_every_skip_fails_the_run_and_is_listed(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_skipping=SKIPPING)
    result = run(pytester, "true", monkeypatch)
    result.assert_outcomes(passed=1, failed=1, errors=1, xfailed=1)  # the fixture's skip is an error at setup
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*CI=true: 2 skipped test(s) failed the run*",
            "test_skipping.py::test_skips_itself: no widget",
            "test_skipping.py::test_skips_in_its_fixture: no service here",
        ]
    )


def test_under_ci_a_module_skipped_at_collection_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_skipped_module=SKIPPED_MODULE)
    result = run(pytester, "1", monkeypatch)
    result.assert_outcomes(errors=1)
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["*CI=true: 1 skipped test(s) failed the run*", "test_skipped_module.py: *no_such_module_anywhere*"]
    )
