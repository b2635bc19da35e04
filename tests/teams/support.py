"""Helpers for the team vault tests: a team of four and the email of a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.vault.support import Person, add_person, assert_error


def email_of(person: Person) -> str:
    """The address ``tests.vault.support.add_person`` gives a person."""
    return f"{person.id.lower()}@example.com"


@dataclass(frozen=True)
class Team:
    vault_id: str
    owner: Person
    admin: Person
    member: Person
    outsider: Person


async def create_vault(
    client: httpx.AsyncClient, who: Person, name: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post("/api/v1/vaults", json={"name": name, **fields}, headers=who.auth)
    assert response.status_code == 201, response.text
    return response.json()


async def join(
    client: httpx.AsyncClient, vault_id: str, inviter: Person, who: Person, role: str
) -> None:
    """Invite ``who`` and accept, through the API."""
    response = await client.post(
        f"/api/v1/vaults/{vault_id}/invitations",
        json={"email": email_of(who), "role": role},
        headers=inviter.auth,
    )
    assert response.status_code == 201, response.text
    accepted = await client.post(
        f"/api/v1/invitations/{response.json()['id']}/accept", headers=who.auth
    )
    assert accepted.status_code == 200, accepted.text


async def make_team(client: httpx.AsyncClient, slug: str = "acme") -> Team:
    owner = await add_person(client, "Olive")
    admin = await add_person(client, "Adam")
    member = await add_person(client, "Mia")
    outsider = await add_person(client, "Xavier")
    vault = await create_vault(client, owner, slug.title(), slug=slug)
    await join(client, vault["id"], owner, admin, "admin")
    await join(client, vault["id"], owner, member, "member")
    return Team(vault["id"], owner, admin, member, outsider)


__all__ = [
    "Person",
    "Team",
    "add_person",
    "assert_error",
    "create_vault",
    "email_of",
    "join",
    "make_team",
]
