"""Alembic migrations of the application database (run with ``yuqing db upgrade``)."""
