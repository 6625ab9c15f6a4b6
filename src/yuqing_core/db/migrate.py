"""Schema migrations with Alembic, driven from code (``yuqing db upgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from yuqing_core.db.database import Database
from yuqing_core.errors import UserError

SCRIPT_LOCATION = "yuqing_core.db:migrations"


class SchemaOutdated(UserError, RuntimeError):
    """The database is older (or newer) than this version of yuqing expects."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Bring the schema up to ``revision``; safe to run concurrently and repeatedly."""
    config = alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    return current_revision(db)


def ensure_schema(db: Database) -> None:
    """Initialise an empty database; refuse one that is behind the code."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return
    if current is None:
        with db.engine.connect() as connection:
            tables = inspect(connection).get_table_names()
        if not tables:
            upgrade(db)
            return
    raise SchemaOutdated(f"数据库结构版本为 {current or '未知'}，程序需要 {head}：请先运行 `yuqing db upgrade`。")
