"""Search indexes over skills and their text files, kept in step by triggers.

The triggers run inside the statement that writes ``skills`` or ``skill_files``, so the index
changes in the same transaction as the skill (and a rolled-back write leaves it untouched),
and no service has to remember to update it.

SQLite: two contentless FTS5 tables with the ``trigram`` tokenizer (substring search; nothing
is stored twice), keyed by small integer tables because the rowids of ``skills`` and
``skill_files`` (text primary keys) may change on VACUUM.

PostgreSQL: side tables with ``pg_trgm`` GIN indexes (ILIKE substrings and word similarity
for typos). They are side tables, not indexes on ``skills``, so that the vault tables stay
exactly what ``models.py`` declares.

Files holding a NUL byte (and, on PostgreSQL, files that are not UTF-8) are binary: not
indexed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_UP = [
    "CREATE TABLE search_skill_keys ("
    " id INTEGER PRIMARY KEY, skill_id VARCHAR(36) NOT NULL UNIQUE)",
    # skill_key and vault_id are copies, so that a content search filters and groups its
    # hits without a lookup in ``skills`` per hit.
    "CREATE TABLE search_file_keys ("
    " id INTEGER PRIMARY KEY, file_id VARCHAR(36) NOT NULL UNIQUE,"
    " skill_id VARCHAR(36) NOT NULL, skill_key INTEGER NOT NULL,"
    " vault_id VARCHAR(36) NOT NULL, path VARCHAR(255) NOT NULL)",
    "CREATE INDEX ix_search_file_keys_skill_id ON search_file_keys (skill_id)",
    "CREATE VIRTUAL TABLE search_meta USING fts5("
    "name, slug, description, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE search_body USING fts5(body, content='', tokenize='trigram')",
    """CREATE TRIGGER search_skills_ai AFTER INSERT ON skills BEGIN
  INSERT INTO search_skill_keys (skill_id) VALUES (new.id);
  INSERT INTO search_meta (rowid, name, slug, description)
    SELECT id, new.name, new.slug, new.description FROM search_skill_keys
    WHERE skill_id = new.id;
END""",
    """CREATE TRIGGER search_skills_au AFTER UPDATE OF name, slug, description ON skills BEGIN
  INSERT INTO search_meta (search_meta, rowid, name, slug, description)
    SELECT 'delete', id, old.name, old.slug, old.description FROM search_skill_keys
    WHERE skill_id = old.id;
  INSERT INTO search_meta (rowid, name, slug, description)
    SELECT id, new.name, new.slug, new.description FROM search_skill_keys
    WHERE skill_id = old.id;
END""",
    """CREATE TRIGGER search_skills_move AFTER UPDATE OF vault_id ON skills BEGIN
  UPDATE search_file_keys SET vault_id = new.vault_id WHERE skill_id = new.id;
END""",
    """CREATE TRIGGER search_skills_ad AFTER DELETE ON skills BEGIN
  INSERT INTO search_meta (search_meta, rowid, name, slug, description)
    SELECT 'delete', id, old.name, old.slug, old.description FROM search_skill_keys
    WHERE skill_id = old.id;
  DELETE FROM search_skill_keys WHERE skill_id = old.id;
END""",
    """CREATE TRIGGER search_files_ai AFTER INSERT ON skill_files
WHEN instr(new.content, x'00') = 0 BEGIN
  INSERT INTO search_file_keys (file_id, skill_id, skill_key, vault_id, path)
    SELECT new.id, new.skill_id, k.id, s.vault_id, new.path
    FROM skills s JOIN search_skill_keys k ON k.skill_id = s.id WHERE s.id = new.skill_id;
  INSERT INTO search_body (rowid, body)
    SELECT id, CAST(new.content AS TEXT) FROM search_file_keys WHERE file_id = new.id;
END""",
    """CREATE TRIGGER search_files_au AFTER UPDATE ON skill_files BEGIN
  INSERT INTO search_body (search_body, rowid, body)
    SELECT 'delete', id, CAST(old.content AS TEXT) FROM search_file_keys
    WHERE file_id = old.id;
  DELETE FROM search_file_keys WHERE file_id = old.id;
  INSERT INTO search_file_keys (file_id, skill_id, skill_key, vault_id, path)
    SELECT new.id, new.skill_id, k.id, s.vault_id, new.path
    FROM skills s JOIN search_skill_keys k ON k.skill_id = s.id
    WHERE s.id = new.skill_id AND instr(new.content, x'00') = 0;
  INSERT INTO search_body (rowid, body)
    SELECT id, CAST(new.content AS TEXT) FROM search_file_keys WHERE file_id = new.id;
END""",
    """CREATE TRIGGER search_files_ad AFTER DELETE ON skill_files BEGIN
  INSERT INTO search_body (search_body, rowid, body)
    SELECT 'delete', id, CAST(old.content AS TEXT) FROM search_file_keys
    WHERE file_id = old.id;
  DELETE FROM search_file_keys WHERE file_id = old.id;
END""",
    # Skills and files written before this migration.
    "INSERT INTO search_skill_keys (skill_id) SELECT id FROM skills",
    "INSERT INTO search_meta (rowid, name, slug, description)"
    " SELECT k.id, s.name, s.slug, s.description"
    " FROM skills s JOIN search_skill_keys k ON k.skill_id = s.id",
    "INSERT INTO search_file_keys (file_id, skill_id, skill_key, vault_id, path)"
    " SELECT f.id, f.skill_id, k.id, s.vault_id, f.path FROM skill_files f"
    " JOIN skills s ON s.id = f.skill_id JOIN search_skill_keys k ON k.skill_id = s.id"
    " WHERE instr(f.content, x'00') = 0",
    "INSERT INTO search_body (rowid, body) SELECT k.id, CAST(f.content AS TEXT)"
    " FROM skill_files f JOIN search_file_keys k ON k.file_id = f.id",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_files_ad",
    "DROP TRIGGER IF EXISTS search_files_au",
    "DROP TRIGGER IF EXISTS search_files_ai",
    "DROP TRIGGER IF EXISTS search_skills_ad",
    "DROP TRIGGER IF EXISTS search_skills_move",
    "DROP TRIGGER IF EXISTS search_skills_au",
    "DROP TRIGGER IF EXISTS search_skills_ai",
    "DROP TABLE IF EXISTS search_body",
    "DROP TABLE IF EXISTS search_meta",
    "DROP TABLE IF EXISTS search_file_keys",
    "DROP TABLE IF EXISTS search_skill_keys",
]

_POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE search_skills ("
    " skill_id VARCHAR(36) PRIMARY KEY REFERENCES skills (id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, slug TEXT NOT NULL, description TEXT NOT NULL)",
    "CREATE INDEX ix_search_skills_name ON search_skills USING gin (name gin_trgm_ops)",
    "CREATE INDEX ix_search_skills_slug ON search_skills USING gin (slug gin_trgm_ops)",
    "CREATE INDEX ix_search_skills_description ON search_skills"
    " USING gin (description gin_trgm_ops)",
    # vault_id is a copy, so that a content search filters its hits without a lookup in
    # ``skills`` per hit. body is lower-cased: the trigram index's recheck is then a LIKE,
    # several times cheaper than an ILIKE over the same text.
    "CREATE TABLE search_files ("
    " file_id VARCHAR(36) PRIMARY KEY REFERENCES skill_files (id) ON DELETE CASCADE,"
    " skill_id VARCHAR(36) NOT NULL, vault_id VARCHAR(36) NOT NULL,"
    " path TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX ix_search_files_skill_id ON search_files (skill_id)",
    # With the trigram index, a bitmap AND: only the caller's files are rechecked.
    "CREATE INDEX ix_search_files_vault_id ON search_files (vault_id)",
    "CREATE INDEX ix_search_files_body ON search_files USING gin (body gin_trgm_ops)",
    """CREATE FUNCTION search_skills_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_skills (skill_id, name, slug, description)
  VALUES (NEW.id, NEW.name, NEW.slug, NEW.description)
  ON CONFLICT (skill_id) DO UPDATE
  SET name = EXCLUDED.name, slug = EXCLUDED.slug, description = EXCLUDED.description;
  IF TG_OP = 'UPDATE' AND NEW.vault_id IS DISTINCT FROM OLD.vault_id THEN
    UPDATE search_files SET vault_id = NEW.vault_id WHERE skill_id = NEW.id;
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER search_skills_sync"
    " AFTER INSERT OR UPDATE OF name, slug, description, vault_id"
    " ON skills FOR EACH ROW EXECUTE FUNCTION search_skills_sync()",
    # The lower-cased text of a file, or NULL for a binary one.
    """CREATE FUNCTION search_text_of(content bytea) RETURNS text LANGUAGE plpgsql
IMMUTABLE AS $$
BEGIN
  IF position('\\x00'::bytea IN content) > 0 THEN
    RETURN NULL;
  END IF;
  RETURN lower(convert_from(content, 'UTF8'));
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
  RETURN NULL;
END $$""",
    """CREATE FUNCTION search_files_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  body text := search_text_of(NEW.content);
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM search_files WHERE file_id = OLD.id;
  END IF;
  IF body IS NOT NULL THEN
    INSERT INTO search_files (file_id, skill_id, vault_id, path, body)
    SELECT NEW.id, NEW.skill_id, s.vault_id, NEW.path, body FROM skills s
    WHERE s.id = NEW.skill_id;
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER search_files_sync AFTER INSERT OR UPDATE ON skill_files"
    " FOR EACH ROW EXECUTE FUNCTION search_files_sync()",
    # Skills and files written before this migration.
    "INSERT INTO search_skills (skill_id, name, slug, description)"
    " SELECT id, name, slug, description FROM skills",
    "INSERT INTO search_files (file_id, skill_id, vault_id, path, body)"
    " SELECT f.id, f.skill_id, s.vault_id, f.path, search_text_of(f.content)"
    " FROM skill_files f JOIN skills s ON s.id = f.skill_id"
    " WHERE search_text_of(f.content) IS NOT NULL",
]

_POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS search_files_sync ON skill_files",
    "DROP TRIGGER IF EXISTS search_skills_sync ON skills",
    "DROP FUNCTION IF EXISTS search_files_sync()",
    "DROP FUNCTION IF EXISTS search_skills_sync()",
    "DROP FUNCTION IF EXISTS search_text_of(bytea)",
    "DROP TABLE IF EXISTS search_files",
    "DROP TABLE IF EXISTS search_skills",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_UP if sqlite else _POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DOWN if sqlite else _POSTGRES_DOWN:
        op.execute(statement)
