"""Alembic environment: runs on the connection that ``yuqing_core.db.migrate`` hands in."""

from alembic import context
from sqlalchemy import text

from yuqing_core.db.models import Base

# An arbitrary constant: serialises concurrent upgrades of one PostgreSQL database.
PG_MIGRATION_LOCK_KEY = 0x79757169  # "yuqi"

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` used by hand
    from yuqing_core.config import get_settings
    from yuqing_core.db.database import Database

    connection = Database(get_settings().effective_database_url).engine.connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK_KEY})
    context.run_migrations()
