"""A person signed in as a browser is (session cookie), for the console's pages."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx

from better_skills.server.http import session_cookie_name
from tests.vault.support import Person, add_person, services_of

ORIGIN = {"Origin": "http://testserver"}


async def browser_person(client: httpx.AsyncClient, name: str = "Ada") -> Person:
    return await add_person(client, name, kind="browser")


def cookies(client: httpx.AsyncClient, who: Person) -> dict[str, str]:
    return {session_cookie_name(services_of(client).settings): who.token}


def _as(client: httpx.AsyncClient, who: Person | None) -> None:
    client.cookies.clear()
    for name, value in (cookies(client, who) if who else {}).items():
        client.cookies.set(name, value)


async def page(client: httpx.AsyncClient, who: Person | None, url: str) -> httpx.Response:
    _as(client, who)
    return await client.get(url)


async def post(
    client: httpx.AsyncClient, who: Person, url: str, data: dict[str, str], **kwargs: Any
) -> httpx.Response:
    _as(client, who)
    headers = {**ORIGIN, **kwargs.pop("headers", {})}
    if "content" in kwargs:
        return await client.post(url, headers=headers, **kwargs)
    return await client.post(url, data=data, headers=headers, **kwargs)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r}"
    return unescape(match.group(1))


def text_of(response: httpx.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())
