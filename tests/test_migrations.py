"""Migrations and models agree, on both dialects; upgrades are repeatable; old schemas are refused."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from yuqing_core.db import Database, SchemaOutdated, upgrade
from yuqing_core.db.migrate import alembic_config, current_revision, ensure_schema, head_revision, include_object
from yuqing_core.db.models import Base


def test_models_match_the_migrations(db) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_repeatable(db) -> None:
    assert upgrade(db) == head_revision()
    assert upgrade(db) == head_revision()


def test_downgrade_and_upgrade_round_trip(db) -> None:
    config = alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.commit()
    assert current_revision(db) is None
    assert upgrade(db) == head_revision()


def test_empty_database_is_initialised_and_an_outdated_one_refused(tmp_path) -> None:
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    ensure_schema(fresh)
    assert current_revision(fresh) == head_revision()
    with fresh.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(SchemaOutdated, match="yuqing db upgrade"):
        ensure_schema(fresh)


def test_sqlite_runs_in_wal_mode(sqlite_db) -> None:
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
