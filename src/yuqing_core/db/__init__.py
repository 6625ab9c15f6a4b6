"""The application database: models, engines and sessions, migrations."""

from yuqing_core.db.database import Database
from yuqing_core.db.migrate import SchemaOutdated, upgrade
from yuqing_core.db.models import Base, FetchAttempt, Item, Source
from yuqing_core.db.registry import forget_databases, get_database

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
