"""Short-query search: each skill's vault and case-folded name and slug beside the search index.

A query of one or two characters cannot use a trigram index. Besides a capped scan of the
caller's skills for the substring, it looks up whole and prefix name or slug matches by
B-tree, so that one past the scan's cap is still found. These columns serve both:

SQLite: ``search_skill_keys`` gains ``vault_id``, ``name`` and ``slug`` (``NOCASE``, as
SQLite's LIKE folds case) with ``(vault_id, name)`` and ``(vault_id, slug)`` indexes; the
insert trigger fills them and a new update trigger follows a rename or a move. The substring
scan stays on ``skills`` (SQLite's LIKE is cheap).

PostgreSQL: ``search_skills`` gains ``vault_id`` (kept by the sync trigger, like
``search_files``) and lower-cased copies (set by a BEFORE trigger): ``name_key`` and
``slug_key`` with ``(vault_id, <key> text_pattern_ops)`` indexes for whole and prefix
matches, and ``folded``
(name, slug and description in one string) so that the substring scan is one LIKE over a
narrow row, several times cheaper than ILIKE over the wide ``skills`` rows. The three
passes are one function, ``search_short()``, for its ``SET enable_seqscan = off`` (below).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from alembic import op
from sqlalchemy import text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SQLITE_INSERT_TRIGGER_0005 = """CREATE TRIGGER search_skills_ai AFTER INSERT ON skills BEGIN
  INSERT INTO search_skill_keys (skill_id) VALUES (new.id);
  INSERT INTO search_meta (rowid, name, slug, description)
    SELECT id, new.name, new.slug, new.description FROM search_skill_keys
    WHERE skill_id = new.id;
END"""

_SQLITE_UP = [
    "ALTER TABLE search_skill_keys ADD COLUMN vault_id VARCHAR(36)",
    "ALTER TABLE search_skill_keys ADD COLUMN name TEXT COLLATE NOCASE",
    "ALTER TABLE search_skill_keys ADD COLUMN slug TEXT COLLATE NOCASE",
    "UPDATE search_skill_keys SET (vault_id, name, slug) ="
    " (SELECT s.vault_id, s.name, s.slug FROM skills s WHERE s.id = search_skill_keys.skill_id)",
    "CREATE INDEX ix_search_skill_keys_name ON search_skill_keys (vault_id, name)",
    "CREATE INDEX ix_search_skill_keys_slug ON search_skill_keys (vault_id, slug)",
    "DROP TRIGGER search_skills_ai",
    """CREATE TRIGGER search_skills_ai AFTER INSERT ON skills BEGIN
  INSERT INTO search_skill_keys (skill_id, vault_id, name, slug)
    VALUES (new.id, new.vault_id, new.name, new.slug);
  INSERT INTO search_meta (rowid, name, slug, description)
    SELECT id, new.name, new.slug, new.description FROM search_skill_keys
    WHERE skill_id = new.id;
END""",
    # A separate trigger: 0005's keep the full-text rows, this one the key columns.
    """CREATE TRIGGER search_skill_keys_au AFTER UPDATE OF vault_id, name, slug ON skills BEGIN
  UPDATE search_skill_keys SET vault_id = new.vault_id, name = new.name, slug = new.slug
    WHERE skill_id = new.id;
END""",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_skill_keys_au",
    "DROP TRIGGER IF EXISTS search_skills_ai",
    "DROP INDEX IF EXISTS ix_search_skill_keys_slug",
    "DROP INDEX IF EXISTS ix_search_skill_keys_name",
    "ALTER TABLE search_skill_keys DROP COLUMN slug",
    "ALTER TABLE search_skill_keys DROP COLUMN name",
    "ALTER TABLE search_skill_keys DROP COLUMN vault_id",
    _SQLITE_INSERT_TRIGGER_0005,
]

_PG_SYNC = """CREATE OR REPLACE FUNCTION search_skills_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_skills (skill_id, {vault}name, slug, description)
  VALUES (NEW.id, {new_vault}NEW.name, NEW.slug, NEW.description)
  ON CONFLICT (skill_id) DO UPDATE
  SET {set_vault}name = EXCLUDED.name, slug = EXCLUDED.slug, description = EXCLUDED.description;
  IF TG_OP = 'UPDATE' AND NEW.vault_id IS DISTINCT FROM OLD.vault_id THEN
    UPDATE search_files SET vault_id = NEW.vault_id WHERE skill_id = NEW.id;
  END IF;
  RETURN NULL;
END $$"""

# The three bounded passes of a one- or two-character search (queries/search_short.py), over
# the caller's vaults, ``q`` and ``pattern`` lower-cased. A function for its SET clause: with a
# sequential scan allowed, the planner may pick one for a common pair (it expects the LIMIT
# soon), and PostgreSQL starts it where another scan of the table stopped (synchronised
# scans), so it can read most of everyone's skills before reaching the caller's. Through the
# indexes, a pass reads only the caller's rows, and stops at ``cap``. No JIT: these are small
# queries, and compiling one costs far more than running it.
_PG_SHORT = """CREATE FUNCTION search_short(vaults varchar[], q text, pattern text, cap integer)
RETURNS TABLE (pass integer, id varchar, name text, slug text, description text,
  name_key text, slug_key text)
LANGUAGE sql STABLE SET enable_seqscan = off SET jit = off AS $$
  (SELECT 0, x.skill_id, x.name, x.slug, x.description, x.name_key, x.slug_key
   FROM search_skills x WHERE x.vault_id = ANY (vaults) AND (x.name_key = q OR x.slug_key = q)
   LIMIT cap)
  UNION ALL
  (SELECT 1, x.skill_id, x.name, x.slug, x.description, x.name_key, x.slug_key
   FROM search_skills x WHERE x.vault_id = ANY (vaults)
   AND ((x.name_key ~>=~ q AND x.name_key ~<~ (q || chr(1114111)))
     OR (x.slug_key ~>=~ q AND x.slug_key ~<~ (q || chr(1114111))))
   LIMIT cap)
  UNION ALL
  (SELECT 2, x.skill_id, x.name, x.slug, x.description, x.name_key, x.slug_key
   FROM search_skills x WHERE x.vault_id = ANY (vaults) AND x.folded LIKE pattern LIMIT cap)
$$"""

# The lower-cased copies, from the row itself: one definition for every writer (the sync
# trigger, a bulk load, the back-fill below).
_PG_KEYS = """CREATE FUNCTION search_skills_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name_key := lower(NEW.name);
  NEW.slug_key := lower(NEW.slug);
  NEW.folded := lower(NEW.name) || E'\\n' || lower(NEW.slug) || E'\\n'
    || lower(NEW.description);
  RETURN NEW;
END $$"""

# Every statement must finish within the server's command timeout (10 s, db_timeouts.py),
# so no statement rewrites or updates the whole table: plain columns (no rewrite), filled in
# batches of the primary key.
_POSTGRES_UP = [
    "ALTER TABLE search_skills ADD COLUMN vault_id VARCHAR(36), ADD COLUMN name_key TEXT,"
    " ADD COLUMN slug_key TEXT, ADD COLUMN folded TEXT",
    _PG_KEYS,
    "CREATE TRIGGER search_skills_keys BEFORE INSERT OR UPDATE ON search_skills"
    " FOR EACH ROW EXECUTE FUNCTION search_skills_keys()",
    _PG_SYNC.format(
        vault="vault_id, ", new_vault="NEW.vault_id, ", set_vault="vault_id = EXCLUDED.vault_id, "
    ),
    # The indexes before the back-fill: built after it, over its HOT chains, they would be
    # marked indcheckxmin, unusable until every older snapshot ends (and with sequential
    # scans disabled in search_short, a search would then read the whole table).
    "CREATE INDEX ix_search_skills_name_key ON search_skills (vault_id, name_key text_pattern_ops)",
    "CREATE INDEX ix_search_skills_slug_key ON search_skills (vault_id, slug_key text_pattern_ops)",
]

_PG_NEXT_BATCH = text(
    "SELECT skill_id FROM search_skills WHERE skill_id > :after ORDER BY skill_id"
    " OFFSET :size - 1 LIMIT 1"
)
_PG_FILL = text(
    "UPDATE search_skills x SET vault_id = s.vault_id FROM skills s"
    " WHERE s.id = x.skill_id AND x.skill_id > :after AND x.skill_id <= :upto"
)
_PG_FILL_REST = text(
    "UPDATE search_skills x SET vault_id = s.vault_id FROM skills s"
    " WHERE s.id = x.skill_id AND x.skill_id > :after"
)
# The back-fill's new row versions go to the trigram indexes' pending lists (fastupdate),
# which every search through them would read until a vacuum: merged batch by batch.
_PG_CLEAN = text(
    "SELECT gin_clean_pending_list(i::regclass) FROM unnest(ARRAY["
    "'ix_search_skills_name', 'ix_search_skills_slug', 'ix_search_skills_description']) AS i"
)
BATCH = 5000

_POSTGRES_DONE = [
    "ALTER TABLE search_skills ALTER COLUMN vault_id SET NOT NULL,"
    " ALTER COLUMN name_key SET NOT NULL, ALTER COLUMN slug_key SET NOT NULL,"
    " ALTER COLUMN folded SET NOT NULL",
    _PG_SHORT,
    # Statistics for the new columns now, not at autovacuum's next visit.
    "ANALYZE search_skills",
]

_POSTGRES_DOWN = [
    "DROP FUNCTION IF EXISTS search_short(varchar[], text, text, integer)",
    _PG_SYNC.format(vault="", new_vault="", set_vault=""),
    "DROP TRIGGER IF EXISTS search_skills_keys ON search_skills",
    "DROP FUNCTION IF EXISTS search_skills_keys()",
    "ALTER TABLE search_skills DROP COLUMN IF EXISTS folded, DROP COLUMN IF EXISTS slug_key,"
    " DROP COLUMN IF EXISTS name_key, DROP COLUMN IF EXISTS vault_id",
]


def _fill_postgres() -> None:
    """Each skill's vault (and, through the keys trigger, its lower-cased copies), in
    batches of :data:`BATCH` rows by primary key."""
    bind = op.get_bind()
    after = ""
    while True:
        upto = bind.execute(_PG_NEXT_BATCH, {"after": after, "size": BATCH}).scalar()
        if upto is None:
            bind.execute(_PG_FILL_REST, {"after": after})
            bind.execute(_PG_CLEAN)
            return
        bind.execute(_PG_FILL, {"after": after, "upto": upto})
        bind.execute(_PG_CLEAN)
        after = upto


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
        return
    for statement in _POSTGRES_UP:
        op.execute(statement)
    _fill_postgres()
    for statement in _POSTGRES_DONE:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DOWN if sqlite else _POSTGRES_DOWN:
        op.execute(statement)
