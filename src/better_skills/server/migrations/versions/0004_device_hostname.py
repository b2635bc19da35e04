"""The computer's name a device login gives: on its code, and on the session it becomes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: protocol.device_flow.MAX_HOSTNAME when this was written (a migration must not change later).
MAX_HOSTNAME = 253


def upgrade() -> None:
    for table in ("device_codes", "sessions"):
        op.add_column(table, sa.Column("hostname", sa.String(MAX_HOSTNAME), nullable=True))


def downgrade() -> None:
    for table in ("device_codes", "sessions"):
        # SQLite drops a column only by copying the table: batch mode does that.
        with op.batch_alter_table(table) as batch:
            batch.drop_column("hostname")
