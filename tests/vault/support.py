"""Helpers for the vault tests: people, team vaults, skill folders, uploads."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from better_skills.server.models import users
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.security import new_id
from better_skills.server.services import Caller, to_ms
from better_skills.server.services.vaults import bootstrap_user

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def services_of(client: httpx.AsyncClient) -> Any:
    return client.app.state.services  # type: ignore[attr-defined]


async def add_person(
    client: httpx.AsyncClient, name: str = "Ada", kind: str = "device", scope: str | None = None
) -> Person:
    """A user as sign-up makes one (personal vault, system membership) and a device session
    (granted ``scope``); without the password hash, which would make every test slow."""
    services = services_of(client)
    now = to_ms(services.clock())
    user_id = new_id()
    async with services.db.write() as conn:
        await conn.execute(
            users.insert().values(
                id=user_id,
                name=name,
                email=f"{user_id.lower()}@example.com",
                email_verified=False,
                password_hash=None,
                created_at=now,
                updated_at=now,
            )
        )
        await bootstrap_user(conn, user_id, name, now)
        session = await services.sessions.create(conn, user_id, Caller(), kind=kind, scope=scope)
    return Person(user_id, name, session.token)


async def add_team_vault(
    client: httpx.AsyncClient, slug: str, members: dict[str, str], vault_type: str = "team"
) -> str:
    """A team vault with ``members`` (user id -> role); the model has no API for it yet."""
    from better_skills.server.models import vaults

    services = services_of(client)
    now = to_ms(services.clock())
    vault_id = str(uuid.uuid4())
    async with services.db.write() as conn:
        await conn.execute(
            vaults.insert().values(
                id=vault_id,
                type=vault_type,
                slug=slug,
                name=slug.title(),
                color=None,
                owner_user_id=None,
                created_at=now,
                updated_at=now,
            )
        )
        for user_id, role in members.items():
            await vault_queries.insert_membership(conn, vault_id, user_id, role, now)
    return vault_id


def skill_md(
    name: str = "demo-skill",
    description: str = "A skill for tests.",
    body: str = "# Demo\n",
    extra: str = "",
) -> bytes:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n{body}".encode()


def uploads(files: dict[str, bytes]) -> list[dict[str, str]]:
    """The wire form of a folder: text as ``content``, anything else as ``content_base64``."""
    out = []
    for path, data in files.items():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\0" not in text:
            out.append({"path": path, "content": text})
        else:
            out.append({"path": path, "content_base64": base64.b64encode(data).decode()})
    return out


async def create(
    client: httpx.AsyncClient,
    who: Person,
    files: dict[str, bytes] | None = None,
    **fields: Any,
) -> httpx.Response:
    files = files if files is not None else {"SKILL.md": skill_md()}
    return await client.post(
        "/api/v1/skills", json={"files": uploads(files), **fields}, headers=who.auth
    )


async def created(
    client: httpx.AsyncClient, who: Person, files: dict[str, bytes] | None = None, **fields: Any
) -> dict[str, Any]:
    response = await create(client, who, files, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["error_description"], str) and body["error_description"]
    return body
