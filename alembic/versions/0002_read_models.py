"""Read models: checkpoints, rows and snapshots of the projections.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keys are compared bytewise for range reads: PostgreSQL's "C" collation
# (its default collation may order punctuation differently); SQLite's
# default BINARY already does.
ROW_KEY = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hublog_projection_checkpoints",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("fingerprint", sa.String(400), nullable=False),
    )
    op.create_table(
        "hublog_readmodel_rows",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("table_name", sa.String(100), primary_key=True),
        sa.Column("row_key", ROW_KEY, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "ix_hublog_readmodel_rows_key",
        "hublog_readmodel_rows",
        ["projection", "table_name", "row_key"],
    )
    op.create_table(
        "hublog_projection_snapshots",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("fingerprint", sa.String(400), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hublog_projection_snapshots")
    op.drop_index("ix_hublog_readmodel_rows_key", table_name="hublog_readmodel_rows")
    op.drop_table("hublog_readmodel_rows")
    op.drop_table("hublog_projection_checkpoints")
