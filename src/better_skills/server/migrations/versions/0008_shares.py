"""Shares: frozen snapshots of a skill and the skills it mentions.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "skill_shares",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("skill_id", sa.String(36), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("skill_count", sa.Integer(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name="fk_skill_shares_skill_id_skills",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_skill_shares_created_by_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_skill_shares"),
    )
    op.create_index("ix_skill_shares_created_by", "skill_shares", ["created_by"])
    op.create_index("ix_skill_shares_skill_id", "skill_shares", ["skill_id"])
    op.create_table(
        "skill_share_files",
        sa.Column("share_id", sa.String(36), nullable=False),
        sa.Column("file_id", sa.String(36), nullable=False),
        sa.Column("skill_id", sa.String(36), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["skill_shares.id"],
            name="fk_skill_share_files_share_id_skill_shares",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("share_id", "file_id", name="pk_skill_share_files"),
    )


def downgrade() -> None:
    op.drop_table("skill_share_files")
    op.drop_index("ix_skill_shares_skill_id", table_name="skill_shares")
    op.drop_index("ix_skill_shares_created_by", table_name="skill_shares")
    op.drop_table("skill_shares")
