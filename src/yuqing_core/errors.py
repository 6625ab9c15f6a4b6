"""Errors a user can fix, as distinct from bugs.

The command line shows a ``UserError`` as its message alone, in one line or a
few, and exits 1; any other exception is a bug and keeps its traceback. Raise
``InvalidInput`` for a value the user gave (an option, a field of a file, a
state that refuses an action) and ``NotFound`` for something asked for by
name or number that does not exist. Both also keep their built-in base
(``ValueError``, ``LookupError``) so pydantic validators and existing
``except`` clauses treat them as before.

>>> issubclass(InvalidInput, ValueError) and issubclass(InvalidInput, UserError)
True
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can put right from the message alone."""


class InvalidInput(UserError, ValueError):
    """A value the user gave is not acceptable here (the message says what would be)."""


class NotFound(UserError, LookupError):
    """What the user asked for (by name, number or key) does not exist."""
