"""The hot reads (routers/api_v1/hot_reads.py) answer exactly as the FastAPI routes do.

Each request is sent twice to one app: with the hot routes on, then off (every request then
reaches the FastAPI route); status, headers and body bytes must be equal. A counter on the
hot routes shows which requests they served, so a test cannot pass by the fast path never
running; the rest (HEAD, parameters FastAPI refuses or coerces) must have been declined.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from better_skills.server import models
from better_skills.server.routers.api_v1.hot_reads import HotRead, install
from better_skills.server.services import to_ms
from tests.vault.support import add_person, add_team_vault, created, services_of, skill_md

pytestmark = pytest.mark.anyio


def hot_routes(client: httpx.AsyncClient) -> list[HotRead]:
    routes = [r for r in client.app.router.routes if isinstance(r, HotRead)]  # type: ignore[attr-defined]
    assert len(routes) == 3
    return routes


async def both_ways(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]
) -> tuple[int, int]:
    """Send the request with the hot routes on and off; assert the answers are equal.
    Returns (status, how many times a hot route answered)."""
    routes = hot_routes(client)
    served = 0
    originals = [r.answer for r in routes]

    def counting(answer: Any) -> Any:
        async def counted(request: Any, query: Any) -> Any:
            nonlocal served
            served += 1
            return await answer(request, query)

        return counted

    try:
        for r in routes:
            r.answer = counting(r.answer)
        fast = await client.request(method, url, headers=headers)
        for r in routes:
            r.enabled = False
        slow = await client.request(method, url, headers=headers)
    finally:
        for r, original in zip(routes, originals, strict=True):
            r.answer, r.enabled = original, True
    assert fast.status_code == slow.status_code, (url, fast.text[:300], slow.text[:300])
    assert fast.headers.multi_items() == slow.headers.multi_items(), url
    assert fast.content == slow.content, url
    return fast.status_code, served


@pytest.fixture
async def world(client: httpx.AsyncClient) -> dict[str, Any]:
    ada = await add_person(client, "Ada", kind="browser")
    bob = await add_person(client, "Bob")
    await add_team_vault(client, "crew", {ada.id: "owner", bob.id: "member"})
    mine = await created(client, ada, {"SKILL.md": skill_md("mine", "Zürich ☃ </script>")})
    for i in range(3):
        await created(client, ada, {"SKILL.md": skill_md(f"crew-{i}")}, vault="crew")
    made = await client.post(
        "/api/v1/tokens", json={"name": "ci", "expires_in_days": 30}, headers=ada.auth
    )
    assert made.status_code == 201, made.text
    manifest = await client.get("/api/v1/sync/manifest", headers=ada.auth)
    page = (await client.get("/api/v1/skills?limit=2", headers=ada.auth)).json()
    return {
        "ada": ada,
        "bob": bob,
        "mine": mine,
        "pat": {"Authorization": f"Bearer {made.json()['token']}"},
        "manifest_etag": manifest.headers["etag"],
        "cursor": page["next_cursor"],
    }


async def test_hot_and_fastapi_answers_are_equal(client: httpx.AsyncClient, world: dict) -> None:
    ada, bob, mine = world["ada"], world["bob"], world["mine"]
    sid = mine["id"]
    skill_etag = (await client.get(f"/api/v1/skills/{sid}", headers=ada.auth)).headers["etag"]
    etag = world["manifest_etag"]
    cookie = {"Cookie": f"better_skills_session={ada.token}"}
    bob_cookie = {"Cookie": f"better_skills_session={bob.token}"}  # a device token: refused
    # (method, url, headers, served by a hot route?)
    cases: list[tuple[str, str, dict[str, str], bool]] = [
        ("GET", "/api/v1/skills", ada.auth, True),
        ("GET", "/api/v1/skills?limit=2", ada.auth, True),
        ("GET", f"/api/v1/skills?limit=2&cursor={world['cursor']}", ada.auth, True),
        ("GET", "/api/v1/skills?limit=100&q=crew&vault=crew", ada.auth, True),
        ("GET", "/api/v1/skills?vault=nowhere", ada.auth, True),
        ("GET", "/api/v1/skills?cursor=garbage", ada.auth, True),
        ("GET", "/api/v1/skills?q=", ada.auth, True),
        ("GET", "/api/v1/skills?limit=3&limit=1", ada.auth, True),
        ("GET", "/api/v1/skills?unknown=1", ada.auth, True),
        ("GET", "/api/v1/skills", bob.auth, True),
        ("GET", "/api/v1/skills", world["pat"], True),
        ("GET", "/api/v1/skills", cookie, True),
        ("GET", "/api/v1/skills", bob_cookie, True),
        ("GET", "/api/v1/skills", {}, True),
        ("GET", "/api/v1/skills", {"Authorization": "Bearer nope"}, True),
        ("GET", "/api/v1/skills", {"Authorization": "Basic abc"}, True),
        ("GET", "/api/v1/skills", {**ada.auth, "Accept": "text/html"}, True),
        ("GET", "/api/v1/skills?limit=0", ada.auth, False),
        ("GET", "/api/v1/skills?limit=101", ada.auth, False),
        ("GET", "/api/v1/skills?limit=abc", ada.auth, False),
        ("GET", "/api/v1/skills?limit=", ada.auth, False),
        ("GET", "/api/v1/skills?limit=020", ada.auth, False),
        ("GET", "/api/v1/skills?limit=1e1", ada.auth, False),
        ("GET", "/api/v1/skills?q=" + "x" * 201, ada.auth, False),
        ("GET", "/api/v1/skills?q=" + "x" * 200, ada.auth, True),
        ("GET", "/api/v1/skills?vault=" + "v" * 101, ada.auth, False),
        ("GET", "/api/v1/skills?cursor=" + "c" * 201, ada.auth, False),
        ("GET", "/api/v1/skills?q=%FF%00", ada.auth, True),
        ("HEAD", "/api/v1/skills", ada.auth, False),
        ("GET", "/api/v1/skills/", ada.auth, False),
        ("GET", f"/api/v1/skills/{sid}", ada.auth, True),
        ("GET", f"/api/v1/skills/{sid}?content=1", ada.auth, True),
        ("GET", f"/api/v1/skills/{sid}?content=true", world["pat"], True),
        ("GET", f"/api/v1/skills/{sid}?content=0", ada.auth, True),
        ("GET", f"/api/v1/skills/{sid}?content=yes", ada.auth, False),
        ("GET", f"/api/v1/skills/{sid}?content=maybe", ada.auth, False),
        ("GET", f"/api/v1/skills/{sid}", {**ada.auth, "If-None-Match": skill_etag}, True),
        ("GET", f"/api/v1/skills/{sid}", {**ada.auth, "If-None-Match": "W/" + skill_etag}, True),
        ("GET", f"/api/v1/skills/{sid}", {**ada.auth, "If-None-Match": '"stale"'}, True),
        ("GET", f"/api/v1/skills/{sid}", bob.auth, True),  # not his: 404
        ("GET", f"/api/v1/skills/{sid}", {}, True),
        ("GET", "/api/v1/skills/00000000-0000-0000-0000-000000000000", ada.auth, True),
        ("GET", "/api/v1/skills/not-a-uuid", ada.auth, True),
        ("GET", "/api/v1/skills/%E2%98%83", ada.auth, True),
        ("GET", "/api/v1/skills/search?q=crew", ada.auth, False),
        ("GET", "/api/v1/skills/by-slug/mine", ada.auth, False),
        ("HEAD", f"/api/v1/skills/{sid}", ada.auth, False),
        ("GET", "/api/v1/sync/manifest", ada.auth, True),
        ("GET", "/api/v1/sync/manifest", {**ada.auth, "If-None-Match": etag}, True),
        ("GET", "/api/v1/sync/manifest", {**ada.auth, "If-None-Match": f'"x", W/{etag}'}, True),
        ("GET", "/api/v1/sync/manifest", {**ada.auth, "If-None-Match": '"old"'}, True),
        ("GET", "/api/v1/sync/manifest?include_disabled=1", ada.auth, True),
        ("GET", "/api/v1/sync/manifest?include_disabled=on", ada.auth, False),
        ("GET", "/api/v1/sync/manifest?include_disabled=2", ada.auth, False),
        ("GET", "/api/v1/sync/manifest", world["pat"], True),
        ("GET", "/api/v1/sync/manifest", {"Authorization": "Bearer nope"}, True),
        ("POST", "/api/v1/sync/manifest", ada.auth, False),
    ]
    statuses = set()
    for method, url, headers, hot in cases:
        status, served = await both_ways(client, method, url, headers)
        assert served == (1 if hot else 0), (method, url, served)
        statuses.add(status)
    assert {200, 304, 400, 401, 404, 405} <= statuses


async def test_expired_and_revoked_credentials_are_refused_alike(
    client: httpx.AsyncClient, world: dict
) -> None:
    ada = world["ada"]
    sid = world["mine"]["id"]
    pat_id = (await client.get("/api/v1/tokens", headers=ada.auth)).json()
    token_id = (pat_id["items"] if isinstance(pat_id, dict) else pat_id)[0]["id"]
    assert (await client.delete(f"/api/v1/tokens/{token_id}", headers=ada.auth)).status_code == 204
    services = services_of(client)
    async with services.db.engine.begin() as conn:
        await conn.execute(
            update(models.sessions)
            .where(models.sessions.c.user_id == ada.id)
            .values(expires_at=to_ms(services.clock()) - 1)
        )
    for headers in (ada.auth, world["pat"]):
        for url in ("/api/v1/skills", f"/api/v1/skills/{sid}", "/api/v1/sync/manifest"):
            status, served = await both_ways(client, "GET", url, headers)
            assert (status, served) == (401, 1), url


async def test_a_test_override_of_the_caller_goes_to_fastapi(
    client: httpx.AsyncClient, world: dict
) -> None:
    from better_skills.server.dependencies import current_principal
    from better_skills.server.principal import Principal

    app = client.app  # type: ignore[attr-defined]
    bob = world["bob"]
    app.dependency_overrides[current_principal] = lambda: Principal(
        user_id=bob.id, session_id="s", token_kind="device"
    )
    try:
        answer = await client.get("/api/v1/skills")  # no credential: the override's caller
    finally:
        app.dependency_overrides.clear()
    assert answer.status_code == 200
    assert {i["vault"]["slug"] for i in answer.json()["items"]} == {"crew", "system-default"}


def test_an_earlier_route_that_could_take_the_path_stops_the_start() -> None:
    from fastapi import APIRouter, FastAPI

    from better_skills.server.routers import api_v1

    app = FastAPI()
    shadow = APIRouter()

    @shadow.get("/api/v1/skills/{anything}/")
    @shadow.get("/api/v1/{kind}/{anything}")
    async def grab(kind: str = "", anything: str = "") -> None: ...

    app.include_router(shadow)
    app.include_router(api_v1.router)
    with pytest.raises(RuntimeError, match="shadowed"):
        install(app.router.routes)
