"""SQLite: the search indexes merge their segments sixteen at a time, not four.

FTS5 writes each transaction's index entries as a new segment and merges segments in the
background of later writes (``automerge``, 4 by default): every index page is rewritten
once per level it climbs, about log4(index / segment) times. At 100,000 skills that was
seven levels, and merging was most of a skill create's CPU. Sixteen at a time halves the
rewriting (docs/performance.md); a search reads a few more segments, which measured no
slower. ``crisismerge`` (a whole level merged at once, inside one write, when it holds that
many segments) goes up with it: left at 16 it would take over from the incremental merges
and stall a write for seconds. The settings live in the database (each table's ``_config``):
a migration sets them once. PostgreSQL: nothing to do.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("search_meta", "search_body")
#: FTS5's defaults, restored by the downgrade.
_DEFAULTS = {"automerge": 4, "crisismerge": 16}
_MERGE = {"automerge": 16, "crisismerge": 64}


def _configure(values: dict[str, int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        for key, value in values.items():
            # Constants of this module only.
            op.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('{key}', {value})")  # noqa: S608


def upgrade() -> None:
    _configure(_MERGE)


def downgrade() -> None:
    _configure(_DEFAULTS)
