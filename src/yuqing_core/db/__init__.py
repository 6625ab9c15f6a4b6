"""The application database: models, engines and sessions, migrations."""

from yuqing_core.db.database import Database, forget_databases, get_database
from yuqing_core.db.migrate import SchemaOutdated, upgrade
from yuqing_core.db.models import Base, FetchAttempt, Item, Source

__all__ = [
    "Base",
    "Database",
    "FetchAttempt",
    "Item",
    "SchemaOutdated",
    "Source",
    "forget_databases",
    "get_database",
    "upgrade",
]
