"""The skill vault: vaults, memberships, skills, their files and mention links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.Integer().with_variant(sa.BigInteger, "postgresql")


def upgrade() -> None:
    op.create_table(
        "vaults",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("color", sa.String(32), nullable=True),
        sa.Column("owner_user_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vaults"),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name="fk_vaults_owner_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "uq_vaults_shared_slug",
        "vaults",
        ["slug"],
        unique=True,
        sqlite_where=sa.text("type <> 'personal'"),
        postgresql_where=sa.text("type <> 'personal'"),
    )
    op.create_index(
        "uq_vaults_personal_owner",
        "vaults",
        ["owner_user_id"],
        unique=True,
        sqlite_where=sa.text("type = 'personal'"),
        postgresql_where=sa.text("type = 'personal'"),
    )
    op.create_table(
        "vault_memberships",
        sa.Column("vault_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("vault_id", "user_id", name="pk_vault_memberships"),
        sa.ForeignKeyConstraint(
            ["vault_id"],
            ["vaults.id"],
            name="fk_vault_memberships_vault_id_vaults",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_vault_memberships_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_vault_memberships_user_id", "vault_memberships", ["user_id"])
    op.create_table(
        "skills",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("vault_id", sa.String(36), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("frontmatter", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_skills"),
        sa.UniqueConstraint("vault_id", "slug", name="uq_skills_vault_id_slug"),
        sa.ForeignKeyConstraint(
            ["vault_id"], ["vaults.id"], name="fk_skills_vault_id_vaults", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_skills_created_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_skills_vault_id_created_at", "skills", ["vault_id", "created_at", "id"])
    op.create_index("ix_skills_created_at", "skills", ["created_at", "id"])
    op.create_table(
        "skill_files",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("skill_id", sa.String(36), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_skill_files"),
        sa.UniqueConstraint("skill_id", "path", name="uq_skill_files_skill_id_path"),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name="fk_skill_files_skill_id_skills", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "skill_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("source_skill_id", sa.String(36), nullable=False),
        sa.Column("source_file_id", sa.String(36), nullable=False),
        sa.Column("target_skill_id", sa.String(36), nullable=False),
        sa.Column("target_file_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_skill_links"),
        sa.ForeignKeyConstraint(
            ["source_skill_id"],
            ["skills.id"],
            name="fk_skill_links_source_skill_id_skills",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["skill_files.id"],
            name="fk_skill_links_source_file_id_skill_files",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_skill_id"],
            ["skills.id"],
            name="fk_skill_links_target_skill_id_skills",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_file_id"],
            ["skill_files.id"],
            name="fk_skill_links_target_file_id_skill_files",
            ondelete="CASCADE",
        ),
    )
    for column in ("source_skill_id", "target_skill_id", "source_file_id", "target_file_id"):
        op.create_index(f"ix_skill_links_{column}", "skill_links", [column])


def downgrade() -> None:
    for table in ("skill_links", "skill_files", "skills", "vault_memberships", "vaults"):
        op.drop_table(table)
