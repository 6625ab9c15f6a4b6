"""risk library, matches, events, warnings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_library_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha1", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_library_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_risk_library_versions_version")),
    )
    op.create_table(
        "risk_notices",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("risk_point_name", sa.String(length=200), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("current_count", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("example_item_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["risk_library_versions.id"], name=op.f("fk_risk_notices_version_id_risk_library_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_notices")),
        sa.UniqueConstraint("risk_point_name", "day", name=op.f("uq_risk_notices_risk_point_name_day")),
    )
    op.create_table(
        "risk_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("positive", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["risk_library_versions.id"],
            name=op.f("fk_risk_points_version_id_risk_library_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_points")),
        sa.UniqueConstraint("version_id", "name", name=op.f("uq_risk_points_version_id_name")),
    )
    op.create_table(
        "events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("seed_item_id", BIG_ID, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("source_count", sa.Integer(), nullable=False),
        sa.Column("velocity_per_h", sa.Float(), nullable=False),
        sa.Column("heat", sa.Float(), nullable=False),
        sa.Column("risk_points", sa.JSON(), nullable=False),
        sa.Column("hot_words", sa.JSON(), nullable=False),
        sa.Column("sensitive_words", sa.JSON(), nullable=False),
        sa.Column("spike", sa.JSON(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["seed_item_id"], ["items.id"], name=op.f("fk_events_seed_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("seed_item_id", name=op.f("uq_events_seed_item_id")),
    )
    op.create_index("ix_events_last_seen", "events", ["last_seen_at"])

    op.create_table(
        "item_analysis",
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("analyzed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_item_analysis_item_id_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["risk_library_versions.id"], name=op.f("fk_item_analysis_version_id_risk_library_versions")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_analysis")),
    )
    op.create_table(
        "rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("risk_point_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["risk_point_id"], ["risk_points.id"], name=op.f("fk_rules_risk_point_id_risk_points"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["risk_library_versions.id"],
            name=op.f("fk_rules_version_id_risk_library_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
    )
    op.create_index("ix_rules_version", "rules", ["version_id", "kind"])

    op.create_table(
        "event_items",
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("joined_by", sa.String(length=16), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("matched_item_id", BIG_ID, nullable=True),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("signature_scheme", sa.String(length=80), nullable=True),
        sa.Column("joined_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_event_items_event_id_events"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_event_items_item_id_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_event_items")),
    )
    op.create_index("ix_event_items_event", "event_items", ["event_id"])
    op.create_index(op.f("ix_event_items_published_at"), "event_items", ["published_at"])

    op.create_table(
        "matches",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("risk_point_name", sa.String(length=200), nullable=True),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_matches_item_id_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_matches_rule_id_rules"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["risk_library_versions.id"],
            name=op.f("fk_matches_version_id_risk_library_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("item_id", "rule_id", name=op.f("uq_matches_item_id_rule_id")),
    )
    op.create_index("ix_matches_risk_point_name", "matches", ["risk_point_name", "item_id"])
    op.create_index(op.f("ix_matches_version_id"), "matches", ["version_id"])

    op.create_table(
        "warnings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_level", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_warnings_event_id_events"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["risk_library_versions.id"], name=op.f("fk_warnings_version_id_risk_library_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
        sa.UniqueConstraint("event_id", "level", name=op.f("uq_warnings_event_id_level")),
    )
    op.create_index("ix_warnings_created", "warnings", ["created_at"])

    op.create_table(
        "warning_actions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("warning_id", BIG_ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("from_level", sa.Integer(), nullable=False),
        sa.Column("to_level", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["warnings.id"], name=op.f("fk_warning_actions_warning_id_warnings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_actions")),
    )
    op.create_index(op.f("ix_warning_actions_warning_id"), "warning_actions", ["warning_id"])


def downgrade() -> None:
    op.drop_table("warning_actions")
    op.drop_table("warnings")
    op.drop_table("matches")
    op.drop_table("event_items")
    op.drop_table("rules")
    op.drop_table("item_analysis")
    op.drop_table("events")
    op.drop_table("risk_points")
    op.drop_table("risk_notices")
    op.drop_table("risk_library_versions")
