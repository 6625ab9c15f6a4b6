"""The ``yuqing`` command: a thin layer over ``yuqing_core``.

Stages run as their Prefect flows, loaded by entrypoint name (e.g.
``flows.collect:collect``) so the core never imports flows statically.
"""

from yuqing_core.cli import analysis, cases, collect, demo, loop, reports, users, web  # noqa: F401 - registers the subcommands
from yuqing_core.cli.app import main, prefect_defaults, run_flow, user_errors
from yuqing_core.cli.collect import print_collect_summary

__all__ = ["main", "prefect_defaults", "print_collect_summary", "run_flow", "user_errors"]
