"""The web workbench (``yuqing web``): server-rendered pages for the office, the units and the leaders.

Every page asks ``yuqing_core.accounts.access`` what the signed-in account may
see or do; every change goes through the core (``cases.act``) with the
account as the actor and is written to the audit log.
"""

from yuqing_core.web.app import create_app

__all__ = ["create_app"]
