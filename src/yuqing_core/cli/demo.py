"""``yuqing demo``: the sample county end to end."""

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
