"""The benchmark vault's content: which vault each skill goes to, and each skill's rows.

Each skill has ``SKILL.md`` (frontmatter and a body of about 600 bytes), ``references/guide.md``
(about 1,500 bytes) and ``scripts/run.sh`` (about 200 bytes), words drawn from a fixed
vocabulary with a Zipf-like skew, so some words are in most skills and some in few. Two
planted words make the search scenarios' figures comparable between runs: :data:`COMMON` is
in the body of one skill in five, :data:`RARE` in one skill in 10,000 (at least one).
``SKILL.md`` links to its guide with a draft mention (``[[resource:new:...]]``, as the CLI
uploads it), and one skill in ten mentions the skill loaded before it in the same vault.

The rows are built by the server's own code (``SkillService.prepare`` with the default
limits, ``resolve_drafts``, ``new_skill_row``, ``skill_file_rows``), so a bulk-loaded skill is
stored exactly as ``POST /api/v1/skills`` would store it: the same frontmatter JSON, content
hash, file hashes, kinds and mention edges. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from better_skills.server.services.skills import (
    Prepared,
    SkillService,
    Upload,
    new_skill_row,
    skill_file_rows,
)
from better_skills.skillfmt.rules import Limits

MANIFEST_SKILLS = 1000
COMMON = "deploy"
RARE = "zanzibar"
TWO_LETTERS = "wi"
BATCH = 5000
#: One skill in this many mentions the skill loaded before it in the same vault.
MENTION_EVERY = 10

_SYLLABLES = [
    "ka", "lo", "mi", "wi", "ten", "ra", "vo", "sul", "pe", "dri", "no", "ha", "bel", "cor", "fi",
    "gan", "ju", "wex", "ty", "ost", "um", "lin", "sa", "tor", "ve", "pol", "ri", "den", "ya",
]  # fmt: skip

SKILL_COLUMNS = (
    "id", "vault_id", "slug", "name", "description", "frontmatter", "content_hash", "version",
    "file_count", "size", "created_by", "created_at", "updated_at",
)  # fmt: skip
FILE_COLUMNS = (
    "id", "skill_id", "path", "kind", "size", "sha256", "content", "created_at", "updated_at",
)  # fmt: skip
LINK_COLUMNS = ("source_skill_id", "source_file_id", "target_skill_id", "target_file_id", "kind")
AUDIT_COLUMNS = ("at", "event", "user_id", "client_id", "ip_address", "detail")


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if COMMON not in word and RARE not in word:
            words.add(word)
    return sorted(words)


class Text:
    """Zipf-skewed words from a fixed vocabulary."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = vocabulary(rng)
        self.cum: list[float] = []
        total = 0.0
        for rank in range(len(self.words)):
            total += 1 / (rank + 1)
            self.cum.append(total)

    def words_(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=n)

    def sentence(self, n: int) -> str:
        return " ".join(self.words_(n)).capitalize() + "."

    def paragraph(self, chars: int) -> str:
        out: list[str] = []
        size = 0
        while size < chars:
            s = self.sentence(self.rng.randint(6, 14))
            out.append(s)
            size += len(s) + 1
        return " ".join(out)


@dataclass(frozen=True)
class Share:
    """A vault's part of the load: its id, how many skills, and who writes them."""

    vault_id: str
    count: int
    writers: tuple[str, ...]  # created_by, in turn


def plan(
    skills: int,
    team_vault: str,
    personal: list[tuple[str, str]],
    team_skills: int = 500,
) -> list[Share]:
    """``personal`` is (user id, personal vault id) per user, the first user first: the team
    vault gets ``team_skills``, the first user's vault ``MANIFEST_SKILLS - team`` (so that user
    syncs exactly 1,000), the rest is spread evenly over the other users' vaults."""
    team = min(team_skills, skills)
    small = min(MANIFEST_SKILLS - team, skills - team)
    rest = skills - team - small
    others = personal[1:]
    members = tuple(user for user, _ in personal)
    # A team vault's members may only read it: its owner (the first person) writes it.
    parts = [Share(team_vault, team, members[:1]), Share(personal[0][1], small, members[:1])]
    for i, (user, vault) in enumerate(others):
        count = rest // len(others) + (1 if i < rest % len(others) else 0)
        parts.append(Share(vault, count, (user,)))
    return [p for p in parts if p.count > 0]


@dataclass
class Batch:
    """Rows in the tables' column orders (``*_COLUMNS``)."""

    skills: list[tuple] = field(default_factory=list)
    files: list[tuple] = field(default_factory=list)
    links: list[tuple] = field(default_factory=list)
    audit: list[tuple] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    """Skills ``first`` to ``first + count - 1`` (0-based, in load order) of the plan."""

    shares: tuple[Share, ...]
    first: int
    count: int
    seed: int
    start_ms: int
    verify_every: int


def folder(text: Text, rng: random.Random, n: int, total: int, slug: str, name: str,
           description: str, mention: str | None) -> dict[str, bytes]:  # fmt: skip
    """The files of the ``n``-th skill (1-based) of ``total``."""
    body = text.paragraph(600)
    if n % 5 == 0:
        body += f" Then {COMMON} it."
    rare_every = max(1, min(10_000, total))
    if n % rare_every == 1 % rare_every:  # the first is in the shared team vault
        body += f" Bring it to {RARE}."
    body += "\n\nSee [[resource:new:references/guide.md]]."
    if mention:
        body += f" Works with [[skill:{mention}]]."
    words = name.lower().split()
    skill_md = f"---\nname: {slug}\ndescription: {description}\n---\n# {name}\n\n{body}\n"
    return {
        "SKILL.md": skill_md.encode(),
        "references/guide.md": f"# Guide\n\n{text.paragraph(1500)}\n".encode(),
        "scripts/run.sh": f"#!/bin/sh\n# {text.sentence(10)}\necho {words[0]}\n".encode(),
    }


def chunks(shares: list[Share], seed: int, start_ms: int, verify_every: int = 50) -> list[Chunk]:
    """The plan cut into :data:`BATCH`-skill chunks that can be built independently."""
    total = sum(s.count for s in shares)
    return [
        Chunk(tuple(shares), first, min(BATCH, total - first), seed, start_ms, verify_every)
        for first in range(0, total, BATCH)
    ]


def build(chunk: Chunk) -> Batch:
    """The rows of one chunk. Every ``verify_every``-th skill goes through the server's whole
    ``prepare`` (the rules and the YAML parser, the slow part), and the others are checked
    against what it gives: the frontmatter is always ``name`` and ``description`` as plain
    scalars, so the parse is known without parsing."""
    rng = random.Random(f"{chunk.seed}:{chunk.first}")
    text = Text(random.Random(chunk.seed))
    text.rng = rng
    service = object.__new__(SkillService)  # only its pure methods are used
    service.limits = Limits()
    total = sum(s.count for s in chunk.shares)
    batch = Batch()
    previous: str | None = None
    index = 0
    for share in chunk.shares:
        if index + share.count <= chunk.first:
            index += share.count
            continue
        for i in range(max(0, chunk.first - index), share.count):
            n = index + i + 1
            if n > chunk.first + chunk.count:
                return batch
            add_skill(batch, service, text, rng, share, i, n, total, chunk, previous)
            previous = batch.skills[-1][0]
        index += share.count
        previous = None
    return batch


def add_skill(batch: Batch, service: SkillService, text: Text, rng: random.Random,
              share: Share, i: int, n: int, total: int, chunk: Chunk,
              previous: str | None) -> None:  # fmt: skip
    skill_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    words = text.words_(rng.randint(2, 3))
    name = " ".join(words).title()
    slug = f"{'-'.join(words)}-{i}"[:64]
    description = text.sentence(rng.randint(8, 20))
    mention = previous if n % MENTION_EVERY == 0 else None
    files = folder(text, rng, n, total, slug, name, description, mention)
    ids = {p: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for p in files}
    prepared = Prepared(files, slug, description, {"name": slug, "description": description})
    if n % chunk.verify_every == 0:
        parsed = service.prepare(Upload(files), Limits())
        if parsed != prepared:
            raise AssertionError(f"the server prepares skill {n} differently: {parsed}")
    resolved = SkillService.resolve_drafts(prepared, ids)
    at = chunk.start_ms + n
    writer = share.writers[i % len(share.writers)]
    row = new_skill_row(skill_id, share.vault_id, slug, writer, at, prepared, resolved)
    row["frontmatter"] = json.dumps(row["frontmatter"])  # as SQLAlchemy's JSON type does
    batch.skills.append(tuple(row[c] for c in SKILL_COLUMNS))
    for f in skill_file_rows(skill_id, resolved, resolved.files, at):
        batch.files.append(tuple(f[c] for c in FILE_COLUMNS))
    batch.links += link_rows(skill_id, resolved.ids, resolved.links)
    batch.audit.append((at, "skill_create", writer, None, "127.0.0.1",
                        f"skill {skill_id} vault {share.vault_id} slug {slug}"))  # fmt: skip


def batches(
    shares: list[Share], seed: int, start_ms: int, *, processes: int = 2, verify_every: int = 50
) -> Iterator[Batch]:
    """Every skill's rows, in load order, built by ``processes`` worker processes (while the
    caller loads the previous batch)."""
    work = chunks(shares, seed, start_ms, verify_every)
    if processes <= 1 or len(work) <= 1:
        yield from map(build, work)
        return
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        yield from pool.imap(build, work)


def link_rows(skill_id: str, ids: dict[str, str], links: list[Any]) -> list[tuple]:
    """Mention edges as ``SkillService._link_rows`` makes them, for targets known to be in
    the skill's vault: a skill mention names no file; a resource of this skill is this skill."""
    rows = []
    for path, token in links:
        if token.kind == "skill":
            target: tuple[str, str | None] = (token.target, None)
        else:
            target = (skill_id, token.target)
        rows.append((skill_id, ids[path], target[0], target[1], "mention"))
    return rows
