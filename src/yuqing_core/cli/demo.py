"""``yuqing demo`` (the sample county end to end) and ``yuqing serve`` (every deployment on one machine)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from yuqing_core.cli.app import main, user_errors

# --- demo --------------------------------------------------------------------


@main.command("demo")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"), show_default=True)
@user_errors
def demo_command(home: Path) -> None:
    """Serve the bundled sample county on 127.0.0.1, collect it, and print what was found."""
    from yuqing_core.demo import run_demo

    sys.exit(run_demo(home))


@main.command("serve")
@click.option(
    "--risk-file",
    envvar="YUQING_RISK_FILE",
    type=click.Path(dir_okay=False),
    help="Risk library file for the daily risk-library run.",
)
@user_errors
def serve_command(risk_file: str | None) -> None:
    """Serve every deployment from this machine (starting a local Prefect server on 127.0.0.1 if none is configured).

    Schedules: monitor every 10 minutes, daily-report at 08:00, track-cases hourly,
    risk-library at 06:30 (Asia/Shanghai); special-report, case-action, collect and
    analyze on demand. Stop with Ctrl-C.
    """
    import importlib

    from yuqing_core.cli.app import database, prefect_defaults, settings

    prefect_defaults(quiet=False)
    database()  # the schema check, before anything is scheduled
    importlib.import_module("flows.deployments").serve_all(settings().home.resolve(), risk_file)
