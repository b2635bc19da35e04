"""The permission bypass matrix (issue 18 item 2): every id-based endpoint of ``/api/v1`` and
every ``/trpc`` procedure, called against someone else's skill or vault by

* ``stranger``: a second user with a vault of their own (the target is in the owner's
  personal vault);
* ``non_member``: a user who is not a member of the team vault holding the target;
* ``read_only``: a ``member`` of that team vault (may read, may not write);
* ``system``: any user against the system vault's skills (read-only for everyone);
* ``expired``: the owner's own session token, expired;
* ``revoked``: the owner's own personal access token, revoked.

Team management (members, invitations, transfer, renaming: kind "manage") is for the vault's
owner and admins: a non-member gets 404, a member 403, anyone against the system vault 400 (it
is not a team vault). Accepting or declining an invitation sent to someone else is 404 for
everyone. Shares: creating one of a skill the caller may not share is 403/404 (anyone may
share a system skill: they can read it); revoking or importing someone else's (or a revoked)
share is 404. A share's own public reads are checked in ``test_shares_are_gone_once_revoked``.

Reads of what the caller cannot read are 404 (401 without a live credential); writes are 403
or 404 (401); list-like reads never show the target; and every table that holds vault data
(skills, files, links, vaults, memberships, invitations, shares, users, tokens) is read
before and after each call and must be unchanged. Mentions of another vault's skill or file
are refused on every write.

The matrix is data: to cover a new endpoint or procedure, add one :class:`Call` line to
``CALLS`` (placeholders such as ``{skill_id}`` are filled from :class:`Target`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select, update

from better_skills.server import models
from better_skills.server.http import session_cookie_name
from better_skills.server.services import to_ms
from tests.vault.support import Person, add_person, add_team_vault, created, skill_md, uploads

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(app_client: Any) -> Any:
    async with app_client(RATE_LIMIT_WRITES="0/1m") as opened:
        yield opened


MARKER = "zorblaxquux"  # a word only the target skill holds: list answers must not show it


@dataclass(frozen=True)
class Call:
    """One way to reach a target. ``surface`` "api" (``path`` with ``{placeholders}``, a JSON
    ``body`` template) or "trpc" (``path`` is the procedure, ``body`` its input). ``kind``:
    "read" (404), "write" (403 or 404), or "list" (200 without the target in it).
    "manage" (owner or admin only: 404, 403 for a member, 400 on the system vault).
    ``member_may``: a read-only member may do this to their own membership (not a bypass);
    an int above 1 is the success status. ``system_may``: the success status for anyone
    against the system vault's skill (0: not allowed)."""

    surface: str
    method: str
    path: str
    kind: str
    body: Any = None
    member_may: bool | int = False
    system_may: int = 0

    @property
    def name(self) -> str:
        return f"{self.surface}:{self.method} {self.path}"


R, W, L, M = "read", "write", "list", "manage"
OWN_UPDATE = {"files": [{"path": "SKILL.md", "content": "{own_md}"}]}

#: Every id-based endpoint and procedure (and the list-like ones, which must hide the target).
CALLS: list[Call] = [
    # /api/v1
    Call("api", "GET", "/api/v1/skills/{skill_id}", R),
    Call("api", "GET", "/api/v1/skills/{skill_id}?content=1", R),
    Call("api", "GET", "/api/v1/skills/{skill_id}/files/SKILL.md", R),
    Call("api", "GET", "/api/v1/skills/{skill_id}/files/{resource}", R),
    Call("api", "GET", "/api/v1/skills/{skill_id}/archive", R),
    Call("api", "GET", "/api/v1/skills/{skill_id}/references", R),
    Call("api", "GET", "/api/v1/skills/by-slug/{slug}?vault={vault_id}", R),
    Call("api", "GET", "/api/v1/skills?vault={vault_id}", R),
    Call("api", "PUT", "/api/v1/skills/{skill_id}", W, {"files": "{files}"}),
    Call("api", "PUT", "/api/v1/skills/{skill_id}", W, {"files": "{files}", "vault": "{own}"}),
    Call("api", "DELETE", "/api/v1/skills/{skill_id}", W),
    Call("api", "POST", "/api/v1/skills", W, {"files": "{files}", "vault": "{vault_id}"}),
    Call("api", "PUT", "/api/v1/skills/{own_id}", W, {"files": "{files}", "vault": "{vault_id}"}),
    Call("api", "PATCH", "/api/v1/vaults/{vault_id}/membership", W, {"enabled": False}, True),
    Call("api", "DELETE", "/api/v1/tokens/{token_id}", W),
    Call("api", "GET", "/api/v1/skills?q=" + MARKER, L),
    Call("api", "GET", "/api/v1/skills/search?q=" + MARKER, L),
    Call("api", "GET", "/api/v1/sync/manifest?include_disabled=1", L),
    Call("api", "POST", "/api/v1/sync/bundle", L, {"ids": ["{skill_id}"]}),
    Call("api", "GET", "/api/v1/vaults", L),
    # /api/v1 team vaults ({vault_id} is the target's vault; {member_id} a third member)
    Call("api", "GET", "/api/v1/vaults/{vault_id}", R),
    Call("api", "PATCH", "/api/v1/vaults/{vault_id}", M, {"name": "pwned"}),
    Call("api", "GET", "/api/v1/vaults/{vault_id}/members", M),
    Call("api", "PATCH", "/api/v1/vaults/{vault_id}/members/{member_id}", M, {"role": "admin"}),
    Call("api", "DELETE", "/api/v1/vaults/{vault_id}/members/{member_id}", M),
    Call("api", "POST", "/api/v1/vaults/{vault_id}/transfer", M, {"user_id": "{member_id}"}),
    Call("api", "GET", "/api/v1/vaults/{vault_id}/invitations", M),
    Call("api", "POST", "/api/v1/vaults/{vault_id}/invitations", M, {"email": "x@example.com"}),
    Call("api", "DELETE", "/api/v1/vaults/{vault_id}/invitations/{invitation_id}", M),
    Call("api", "POST", "/api/v1/invitations/{invitation_id}/accept", W),
    Call("api", "POST", "/api/v1/invitations/{invitation_id}/decline", W),
    Call("api", "GET", "/api/v1/invitations", L),
    # /api/v1 shares ({share_id}: the owner's share of the target; {revoked_share}: revoked)
    Call("api", "POST", "/api/v1/skills/{skill_id}/shares", W, system_may=201),
    Call("api", "DELETE", "/api/v1/shares/{share_id}", W),
    Call("api", "POST", "/api/v1/shares/{revoked_share}/import", W),
    Call("api", "GET", "/api/v1/shares", L),
    # /trpc
    Call("trpc", "GET", "skills.getById", R, {"id": "{skill_id}"}),
    Call("trpc", "GET", "skills.getBySlug", R, {"slug": "{slug}", "vaultSlug": "{vault_slug}"}),
    Call("trpc", "GET", "skills.references", R, {"skillId": "{skill_id}"}),
    Call(
        "trpc",
        "GET",
        "skills.getResourceBySkillIdAndPath",
        R,
        {"skillId": "{skill_id}", "resourcePath": "{resource}"},
    ),
    Call(
        "trpc",
        "GET",
        "skills.getResourceByPath",
        R,
        {"skillSlug": "{slug}", "resourcePath": "{resource}"},
    ),
    Call("trpc", "POST", "skills.update", W, {"id": "{skill_id}", "description": "pwned"}),
    Call("trpc", "POST", "skills.update", W, {"id": "{own_id}", "vaultId": "{vault_id}"}),
    Call("trpc", "POST", "skills.delete", W, {"id": "{skill_id}"}),
    Call(
        "trpc",
        "POST",
        "skills.create",
        W,
        {
            "slug": "planted",
            "name": "planted",
            "description": "Planted.",
            "skillMarkdown": "# x\n",
            "vaultId": "{vault_id}",
        },
    ),
    Call("trpc", "POST", "vaults.setEnabled", W, {"vaultId": "{vault_id}", "isEnabled": False}, 1),
    Call("trpc", "GET", "skills.list", L, {"search": MARKER}),
    Call("trpc", "GET", "skills.listByOwner", L, {"search": MARKER}),
    Call("trpc", "GET", "skills.syncPage", L, {"limit": 100}),
    Call("trpc", "GET", "skills.search", L, {"query": MARKER}),
    Call("trpc", "GET", "vaults.listMine", L),
    Call("trpc", "GET", "skills.graphForSkill", L, {"skillId": "{skill_id}"}),
    # Last: a member may leave (and is a non-member from then on).
    Call("api", "POST", "/api/v1/vaults/{vault_id}/leave", M, member_may=204),
]

#: Writes whose files mention the target: refused whoever the caller is (issue 18 item 2).
MENTIONS = ["[[skill:{skill_id}]]", "[[resource:{file_id}]]"]

#: The tables whose rows must not change (sessions, the audit log and rate-limit counters
#: legitimately record the attempt).
TABLES = [
    models.users,
    models.access_tokens,
    models.vaults,
    models.vault_memberships,
    models.skills,
    models.skill_files,
    models.skill_links,
    models.vault_invitations,
    models.skill_shares,
    models.skill_share_files,
]


@dataclass
class Target:
    """The thing attacked and the values the call templates refer to."""

    values: dict[str, Any] = field(default_factory=dict)

    def fill(self, template: Any) -> Any:
        if isinstance(template, str):
            whole = template[1:-1]
            if template.startswith("{") and template.endswith("}") and whole in self.values:
                return self.values[whole]  # a placeholder alone keeps its type (a list)
            return template.format(**self.values)
        if isinstance(template, dict):
            return {k: self.fill(v) for k, v in template.items()}
        if isinstance(template, list):
            return [self.fill(v) for v in template]
        return template


async def snapshot(client: httpx.AsyncClient) -> dict[str, list[tuple[Any, ...]]]:
    services = client.app.state.services  # type: ignore[attr-defined]
    out = {}
    async with services.db.engine.connect() as conn:
        for table in TABLES:
            columns = [c for c in table.c if c.name not in ("last_used_at",)]
            rows = (await conn.execute(select(*columns))).all()
            out[table.name] = sorted(tuple(r) for r in rows)
    return out


async def call(client: httpx.AsyncClient, c: Call, target: Target, auth: dict) -> httpx.Response:
    body = target.fill(c.body)
    if c.surface == "api":
        path = target.fill(c.path)
        kwargs: dict[str, Any] = {"headers": auth}
        if body is not None:
            kwargs["json"] = body
        return await client.request(c.method, path, **kwargs)
    if c.method == "GET":
        encoded = quote(json.dumps(body if body is not None else {}), safe="")
        return await client.get(f"/trpc/{c.path}?input={encoded}", headers=auth)
    return await client.post(
        f"/trpc/{c.path}",
        content=json.dumps(body if body is not None else {}),
        headers={"Content-Type": "application/json", **auth},
    )


def status_and_code(c: Call, response: httpx.Response) -> tuple[int, str]:
    """The status and error code, checking the documented error shape of the surface."""
    body = response.json()
    if c.surface == "api":
        assert isinstance(body["error"], str) and isinstance(body["error_description"], str)
        return response.status_code, body["error"]
    error = body["error"]
    assert isinstance(error["code"], int) and isinstance(error["message"], str)
    assert error["data"]["path"] == c.path and error["data"]["httpStatus"] == response.status_code
    return response.status_code, error["data"]["code"]


async def setup(client: httpx.AsyncClient) -> dict[str, Any]:
    """Owner, team vault, targets, and one caller (with its own skill) per attacker kind."""
    owner = await add_person(client, "Owner", kind="browser")
    callers = {k: await add_person(client, k) for k in ("stranger", "non_member", "read_only")}
    callers["system"] = callers["stranger"]
    bystander = await add_person(client, "bystander")
    team_id = await add_team_vault(
        client,
        "acme",
        {owner.id: "owner", callers["read_only"].id: "member", bystander.id: "member"},
    )
    invited = await client.post(
        f"/api/v1/vaults/{team_id}/invitations",
        json={"email": f"{MARKER}@example.com"},
        headers=owner.auth,
    )
    assert invited.status_code == 201, invited.text
    files = {
        "SKILL.md": skill_md("target-skill", description=f"The {MARKER} skill."),
        "references/notes.md": f"{MARKER} notes\n".encode(),
    }
    personal = await created(client, owner, files)
    team = await created(client, owner, files, vault="acme")
    system_items = await client.get("/api/v1/skills?vault=system-default", headers=owner.auth)
    system = await client.get(
        f"/api/v1/skills/{system_items.json()['items'][0]['id']}", headers=owner.auth
    )
    made = await client.post(
        "/api/v1/tokens", json={"name": "ci", "expires_in_days": 30}, headers=owner.auth
    )
    assert made.status_code == 201, made.text
    pat = made.json()
    shares = {}
    for where, skill in (("personal", personal), ("team", team), ("system", system.json())):
        live, revoked = [
            await client.post(f"/api/v1/skills/{skill['id']}/shares", headers=owner.auth)
            for _ in range(2)
        ]
        assert live.status_code == revoked.status_code == 201, (live.text, revoked.text)
        gone = await client.delete(f"/api/v1/shares/{revoked.json()['id']}", headers=owner.auth)
        assert gone.status_code == 204, gone.text
        shares[where] = (live.json()["id"], revoked.json()["id"])
    own = {}
    for name in ("stranger", "non_member", "read_only"):
        mine = await created(client, callers[name], {"SKILL.md": skill_md(f"own-{name}")})
        own[name] = mine
    return {
        "owner": owner,
        "callers": callers,
        "targets": {"personal": personal, "team": team, "system": system.json()},
        "team_id": team_id,
        "pat": pat,
        "own": own,
        "files": files,
        "member_id": bystander.id,
        "invitation_id": invited.json()["id"],
        "shares": shares,
    }


def target_for(world: dict[str, Any], skill: dict[str, Any], own: dict[str, Any] | None) -> Target:
    notes = next((f for f in skill["files"] if f["path"] != "SKILL.md"), skill["files"][0])
    file_id = notes.get("id") or ""
    where = next(w for w, t in world["targets"].items() if t["id"] == skill["id"])
    share_id, revoked_share = world["shares"][where]
    return Target(
        {
            "skill_id": skill["id"],
            "slug": skill["slug"],
            "vault_id": skill["vault"]["id"],
            "vault_slug": skill["vault"]["slug"],
            "token_id": world["pat"]["id"],
            "own_id": (own or {}).get("id", skill["id"]),
            "own": "personal",
            "file_id": file_id,
            "resource": notes["path"],
            "files": uploads({"SKILL.md": skill_md("replaced", description="pwned")}),
            "member_id": world["member_id"],
            "invitation_id": world["invitation_id"],
            "share_id": share_id,
            "revoked_share": revoked_share,
        }
    )


#: attacker -> (which target, the caller's credential)
ATTACKERS = ["stranger", "non_member", "read_only", "system", "expired", "revoked"]
TARGET_OF = {
    "stranger": "personal",
    "non_member": "team",
    "read_only": "team",
    "system": "system",
    "expired": "personal",
    "revoked": "personal",
}


async def credential(client: httpx.AsyncClient, world: dict[str, Any], attacker: str) -> dict:
    if attacker == "expired":
        services = client.app.state.services  # type: ignore[attr-defined]
        # The owner's session itself, expired, attacks the owner's skill.
        owner: Person = world["owner"]
        async with services.db.engine.begin() as conn:
            await conn.execute(
                update(models.sessions)
                .where(models.sessions.c.user_id == owner.id)
                .values(expires_at=to_ms(services.clock()) - 1)
            )
        return owner.auth
    if attacker == "revoked":
        pat = world["pat"]
        revoked = await client.delete(f"/api/v1/tokens/{pat['id']}", headers=world["owner"].auth)
        assert revoked.status_code == 204, revoked.text
        return {"Authorization": f"Bearer {pat['token']}"}
    return world["callers"][attacker].auth


def allowed(attacker: str, c: Call) -> tuple[set[int], bool]:
    """(acceptable statuses, whether the target may be seen) for one call."""
    if attacker in ("expired", "revoked"):
        return {401}, False
    readable = attacker in ("read_only", "system")
    if attacker == "system" and c.system_may:
        return {c.system_may}, True
    if c.kind == M:
        if attacker == "system":
            return {400}, True  # the system vault is not a team vault: nothing to manage
        if readable and c.member_may:
            return {int(c.member_may)}, True
        return ({403, 404} if readable else {404}), False
    if c.kind == L:
        return {200}, readable
    if c.kind == R:
        if readable:
            return {200}, True
        return {404}, False
    if readable and c.member_may:
        return {200}, True
    if c.path == "/api/v1/tokens/{token_id}":
        return {404}, False
    return ({403, 404} if readable else {404}), readable


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_no_caller_reads_or_changes_what_is_not_theirs(client, attacker: str) -> None:
    world = await setup(client)
    skill = world["targets"][TARGET_OF[attacker]]
    own = world["own"].get("read_only" if attacker == "system" else attacker)
    target = target_for(world, skill, own)
    auth = await credential(client, world, attacker)
    checked = 0
    for c in CALLS:
        if c.kind == L and attacker in ("read_only", "system"):
            continue  # they may list it: not a bypass
        if c.path == "/api/v1/tokens/{token_id}" and attacker in ("expired", "revoked"):
            continue
        before = await snapshot(client)
        response = await call(client, c, target, auth)
        statuses, may_see = allowed(attacker, c)
        assert response.status_code in statuses, (attacker, c.name, response.text[:300])
        assert response.status_code < 500
        if response.status_code >= 400:
            status_and_code(c, response)
        if not may_see:
            assert skill["id"] not in response.text, (attacker, c.name)
            assert MARKER not in response.text, (attacker, c.name)
            if c.kind == L:  # an empty graph or list: not even the name
                assert skill["slug"] not in response.text, (attacker, c.name)
        if not ((c.member_may or c.system_may) and response.status_code < 300):
            assert await snapshot(client) == before, (attacker, c.name)
        checked += 1
    assert checked >= 20


#: Writes of one's own skill whose files mention a target (``{mention}``).
MENTION_WRITES = [
    Call("api", "POST", "/api/v1/skills", W, {"files": "{mention_files}"}),
    Call("api", "PUT", "/api/v1/skills/{own_id}", W, {"files": "{mention_files}"}),
    Call(
        "trpc",
        "POST",
        "skills.create",
        W,
        {"slug": "m", "name": "m", "description": "M.", "skillMarkdown": "{mention}"},
    ),
    Call("trpc", "POST", "skills.update", W, {"id": "{own_id}", "skillMarkdown": "{mention}"}),
]


@pytest.mark.parametrize("where", ["personal", "team", "system"])
async def test_mentions_cannot_point_into_another_vault(client, where: str) -> None:
    world = await setup(client)
    stranger = world["callers"]["non_member"]
    skill = world["targets"][where]
    full = await client.get(f"/api/v1/skills/{skill['id']}", headers=world["owner"].auth)
    target = target_for(world, full.json(), world["own"]["non_member"])
    for token in MENTIONS:
        mention = f"See {target.fill(token)}.\n"
        target.values["mention"] = mention
        target.values["mention_files"] = uploads({"SKILL.md": skill_md("mentioner", body=mention)})
        for c in MENTION_WRITES:
            before = await snapshot(client)
            response = await call(client, c, target, stranger.auth)
            assert response.status_code in (400, 404), (where, token, c.name, response.text[:300])
            status_and_code(c, response)
            assert await snapshot(client) == before, (where, token, c.name)


async def test_shares_are_gone_once_revoked_and_not_enumerable(client) -> None:
    """A share's reads are public (the id is the secret): a revoked share is 404 on every
    surface, ids are random UUIDs, and no listing shows another person's shares."""
    world = await setup(client)
    stranger = world["callers"]["stranger"]
    live, revoked = world["shares"]["personal"]
    for path in ("/api/v1/shares/{}", "/api/v1/shares/{}/bundle", "/share/{}"):
        shown = await client.get(path.format(live))
        assert shown.status_code == 200, (path, shown.text[:300])
        for who in ({}, stranger.auth, world["owner"].auth):
            gone = await client.get(path.format(revoked), headers=who)
            assert gone.status_code == 404, (path, gone.text[:300])
            assert MARKER not in gone.text
    for share_id in (live, revoked):
        parsed = uuid.UUID(share_id)
        assert parsed.version == 4 and str(parsed) == share_id  # 122 random bits
    neighbours = {str(uuid.UUID(int=uuid.UUID(live).int + d)) for d in (-1, 1)}
    for guess in (*neighbours, "1", "0" * 32, "../shares"):
        missing = await client.get(f"/api/v1/shares/{quote(guess, safe='')}")
        assert missing.status_code == 404, (guess, missing.text[:300])
        status_and_code(Call("api", "GET", "", R), missing)
    mine = await client.get("/api/v1/shares", headers=stranger.auth)
    assert mine.status_code == 200 and mine.json()["items"] == []
    owners = await client.get("/api/v1/shares", headers=world["owner"].auth)
    listed = {s["id"] for s in owners.json()["items"]}
    assert live in listed and revoked not in listed


#: The console's pages about one skill: another user's skill is a 404 page.
PAGES = ["/vault/skills/{id}", "/vault/skills/{id}?edit=1", "/vault/skills/{id}/graph"]


@pytest.mark.parametrize("where", ["personal", "team"])
async def test_console_pages_of_another_users_skill_are_404(client, where: str) -> None:
    world = await setup(client)
    skill = world["targets"][where]
    reader = await add_person(client, "reader", kind="browser")
    for path in PAGES:
        url = path.format(id=skill["id"])
        for who, status in ((world["owner"], 200), (reader, 404)):
            client.cookies.clear()
            client.cookies.set(session_cookie_name(client.app.state.services.settings), who.token)
            shown = await client.get(url)
            assert shown.status_code == status, (url, who.name, shown.text[:300])
            if status == 404:
                assert MARKER not in shown.text and "target-skill" not in shown.text
    client.cookies.clear()
