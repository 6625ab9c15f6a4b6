"""Schema migrations with Alembic, driven from code (``yuqing db upgrade``)."""

from __future__ import annotations

import logging
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from yuqing_core.db.database import Database
from yuqing_core.errors import UserError

SCRIPT_LOCATION = "yuqing_core.db:migrations"
# Trigram (pg_trgm) GIN indexes for the item search's substring match, by the column each covers. Only
# PostgreSQL has them, and only when the extension could be created (migration 0012): the models do not
# declare them and the schema comparison leaves them out (``include_object``).
TRIGRAM_INDEXES = {"ix_items_title_trgm": "title", "ix_items_text_trgm": "text"}
# Two-character runs (``yuqing_bigrams``, migration 0013): a GIN index of each item's bigrams lets the search
# find a two-character term (讨薪), which no trigram can hold, without reading every item. PostgreSQL only;
# expression indexes the models do not declare, left out of the schema comparison like the trigram ones.
BIGRAM_INDEXES = {"ix_items_title_bigrams": "title", "ix_items_text_bigrams": "text"}
BIGRAM_FUNCTION = """
CREATE OR REPLACE FUNCTION yuqing_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(substr(folded.value, i, 2)), '{}')
    FROM (SELECT lower(value) AS value) AS folded, generate_series(1, char_length(folded.value) - 1) AS i
$$
"""

log = logging.getLogger(__name__)


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


def create_trigram_indexes(connection: Connection) -> bool:
    """On PostgreSQL, the pg_trgm extension and ``TRIGRAM_INDEXES`` on ``items``; False (with a log line, the
    transaction still usable) when the extension may not be created here: search then scans, still correct."""
    if connection.dialect.name != "postgresql":
        return False
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        log.warning("pg_trgm 扩展无法创建（%s）：信息检索不建三元组索引，仍可使用，只是较慢", reason)
        return False
    for name, column in TRIGRAM_INDEXES.items():
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON items USING gin ({column} gin_trgm_ops)"))
    return True


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """What the models and the migrations are compared on: everything but the search's trigram and bigram indexes."""
    return not (type_ == "index" and (name in TRIGRAM_INDEXES or name in BIGRAM_INDEXES))
