"""An in-memory vault that answers the sync protocol (manifest with ETag, bundle), for unit
tests of the planner and executor without a server process."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from better_skills.skillfmt.hashing import content_hash, etag, file_sha256
from better_skills.sync.agents import load_table
from better_skills.sync.apply import Bundle
from better_skills.sync.engine import SyncOutcome, SyncRequest, run_sync
from better_skills.sync.remote import Manifest, parse_manifest

SERVER = "http://127.0.0.1:9"


@dataclass
class FakeSkill:
    id: str
    vault: str
    slug: str
    files: dict[str, bytes]
    enabled: bool = True


@dataclass
class FakeVault:
    skills: dict[str, FakeSkill] = field(default_factory=dict)
    requests: int = 0
    bundle_calls: list[list[str]] = field(default_factory=list)
    fail_bundle: Exception | None = None

    def add(
        self,
        vault: str,
        slug: str,
        files: Mapping[str, bytes] | None = None,
        *,
        skill_id: str | None = None,
    ) -> FakeSkill:
        skill_id = skill_id or str(uuid.uuid4())
        files = dict(
            files or {"SKILL.md": f"---\nname: {slug}\ndescription: d\n---\nbody\n".encode()}
        )
        self.skills[skill_id] = FakeSkill(skill_id, vault, slug, files)
        return self.skills[skill_id]

    def _hash(self, skill: FakeSkill) -> str:
        return content_hash((p, file_sha256(d)) for p, d in skill.files.items())

    def _manifest_json(self, include_disabled: bool) -> dict[str, object]:
        items = [
            {
                "id": s.id,
                "vault": {
                    "id": f"v-{s.vault}",
                    "slug": s.vault,
                    "name": s.vault.title(),
                    "type": "personal",
                },
                "slug": s.slug,
                "name": s.slug,
                "description": "d",
                "content_hash": self._hash(s),
                "updated_at": "2026-01-01T00:00:00.000Z",
            }
            for s in self.skills.values()
            if s.enabled or include_disabled
        ]
        return {"items": items, "generated_at": "2026-01-01T00:00:00Z"}

    # the Remote protocol
    def manifest(self, *, include_disabled: bool, etag: str | None) -> Manifest | None:
        self.requests += 1
        data = self._manifest_json(include_disabled)
        tag = _etag(data)
        if etag == tag:
            return None
        return parse_manifest(data, tag)

    def bundle(self, ids: Sequence[str]) -> Mapping[str, Bundle]:
        self.requests += 1
        self.bundle_calls.append(list(ids))
        if self.fail_bundle is not None:
            raise self.fail_bundle
        return {
            i: Bundle(i, self._hash(self.skills[i]), dict(self.skills[i].files))
            for i in ids
            if i in self.skills
        }

    def __enter__(self) -> FakeVault:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _etag(data: object) -> str:
    import json

    return etag(file_sha256(json.dumps(data, sort_keys=True).encode()))


def sync(
    home: Path,
    vault: FakeVault,
    agents: Sequence[str] = ("claude-code", "codex"),
    **kwargs: object,
) -> SyncOutcome:
    symlink = kwargs.pop("symlink", None)
    environ = kwargs.pop("environ", {"HOME": str(home)})
    request = SyncRequest(
        home=home, environ=environ, agents=list(agents), server_url=SERVER, **kwargs
    )  # type: ignore[arg-type]
    extra = {"symlink": symlink} if symlink else {}
    return run_sync(request, vault, load_table(), **extra)  # type: ignore[arg-type]


def scripted_vault(stage: int) -> FakeVault:
    """A deterministic vault: stage 0 has skills s0..s9; stage 1 changed s0..s3, deleted
    s4..s6 and added n0..n4 (for the kill-and-resume test, which runs in two processes)."""
    vault = FakeVault()
    for n in range(10):
        if stage == 1 and 4 <= n <= 6:
            continue
        body = f"v{stage if n < 4 else 0} of s{n}\n".encode()
        files = {"SKILL.md": body, "references/a.md": b"a" * 100, "scripts/x.sh": b"x\n"}
        vault.add("personal", f"s{n}", files, skill_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"s{n}")))
    if stage == 1:
        for n in range(5):
            vault.add("team", f"n{n}", skill_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"n{n}")))
    return vault
