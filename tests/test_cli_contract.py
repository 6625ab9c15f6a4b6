"""What every command promises: user errors as one message, bugs with their traceback, one --format,
and a local Prefect API that starts visibly or fails with a sentence saying what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from yuqing_core.cli import main
from yuqing_core.cli.app import OUTPUT_FORMATS


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_a_user_error_is_its_message_alone(runner, env_settings) -> None:
    result = runner.invoke(main, ["case", "show", "督〔2026〕999号"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "督〔2026〕999号" in result.output and "Traceback" not in result.output


def test_a_bug_keeps_its_traceback(runner, env_settings, monkeypatch) -> None:
    # A KeyError deep in the core is a programming error, not something the user can fix from a message.
    def broken(*_args, **_kwargs):
        raise KeyError("internal")

    monkeypatch.setattr("yuqing_core.collect.sources.list_sources", broken)
    result = runner.invoke(main, ["sources", "list"])
    assert isinstance(result.exception, KeyError)
    assert result.exit_code == 1


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append((path, command))
    return found


def test_every_format_option_offers_the_same_choices() -> None:
    with_format = {}
    for path, command in _commands(main):
        for param in command.params:
            if "--format" in getattr(param, "opts", ()):
                with_format[" ".join(path)] = list(param.type.choices)
    # The commands that print records (not an exhaustive list; it guards against the option going missing).
    assert {"sources list", "items list", "events list", "events export", "warnings list", "case list", "rules test"} <= set(
        with_format
    )
    assert all(choices == list(OUTPUT_FORMATS) for choices in with_format.values()), with_format


def test_events_export_prints_a_table_for_people(runner, env_settings) -> None:
    result = runner.invoke(main, ["events", "export", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "没有已归并的信息。"


@pytest.mark.slow
def test_a_prefect_api_that_cannot_start_in_time_is_one_sentence_saying_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "PREFECT_"))}
    env |= {
        "YUQING_HOME": str(tmp_path),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        # No server starts (imports alone take longer) within one second: the failure path, deterministically.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "yuqing_core.cli", "collect", "--all"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 1
    assert "正在启动本地 Prefect 服务" in completed.stderr
    error_lines = [line for line in completed.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and "本地 Prefect 服务没能启动" in error_lines[0]
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in error_lines[0]
    assert "Traceback" not in completed.stderr
