"""Team vaults: invitations by email, and the server administrator flag.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "vault_invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("vault_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("accepted_at", sa.BigInteger, nullable=True),
        sa.Column("declined_at", sa.BigInteger, nullable=True),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vault_invitations"),
        sa.ForeignKeyConstraint(
            ["vault_id"],
            ["vaults.id"],
            name="fk_vault_invitations_vault_id_vaults",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name="fk_vault_invitations_invited_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_vault_invitations_email", "vault_invitations", ["email"])
    op.create_index("ix_vault_invitations_vault_id", "vault_invitations", ["vault_id"])
    op.create_index(
        "uq_vault_invitations_pending",
        "vault_invitations",
        ["vault_id", "email"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("vault_invitations")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")
