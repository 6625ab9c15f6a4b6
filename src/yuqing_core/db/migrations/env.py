"""Alembic environment: runs on the connection that ``yuqing_core.db.migrate`` hands in."""

from alembic import context
from sqlalchemy import Connection, text

from yuqing_core.db.migrate import include_object
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
    include_object=include_object,
)


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Outside any transaction (SQLite ignores the pragma inside one), on the driver's connection: ours
    # emits BEGIN IMMEDIATE on SQLAlchemy's first statement.
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


# Batch mode on SQLite rebuilds a table (copy, drop, rename), and with foreign keys on, dropping the old
# table deletes every row that references it (ON DELETE CASCADE): an events rebuild would take all event
# memberships and warnings with it. So keys are off while migrating and checked before committing.
foreign_keys_off = connection.dialect.name == "sqlite" and not connection.in_transaction()
if foreign_keys_off:
    _sqlite_foreign_keys(connection, False)
try:
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK_KEY})
        context.run_migrations()
        if foreign_keys_off:
            broken = connection.execute(text("PRAGMA foreign_key_check")).all()
            if broken:
                raise RuntimeError(f"migration left rows whose references are missing (table, rowid, parent): {broken[:10]}")
    if foreign_keys_off and connection.in_transaction():
        connection.commit()  # the caller would commit next; the pragma below only takes effect outside a transaction
except BaseException:
    if foreign_keys_off and connection.in_transaction():
        connection.rollback()
    raise
finally:
    if foreign_keys_off:
        _sqlite_foreign_keys(connection, True)
