"""The in-process harness of the benchmarks that call the application as an ASGI app.

``hot_reads_bench.py``, ``writes_bench.py`` and ``inproc.py`` measure CPU per request with no
sockets, no uvicorn and no load generator: the application built here (cheap password
hashing, a benchmark secret), requests sent by :func:`call` straight into it, and people
signed up over the API by :func:`sign_up`. The imports of the application stay inside the
functions (``run.py`` too imports it), so that ``inproc.py --src`` can put another checkout's
``src`` first on the path before anything of the server is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Argon2id at its cheapest: sign-ups are set-up, not what is measured.
CHEAP_HASH = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}
BASE_URL = "http://testserver"


def settings(url: str, folder: Path, *, raised_limits: bool = True) -> Any:
    """The server's settings for a benchmark database at ``url``; with ``raised_limits`` the
    abuse limits are raised (not switched off) as ``run.py`` raises them."""
    import run as base

    from better_skills.server.settings import load_settings

    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "PUBLIC_URL": BASE_URL,
        "XDG_DATA_HOME": str(folder / "data"),
    }
    if raised_limits:
        env.update(base.RAISED_LIMITS)
    return load_settings(env, folder / ".env")


def create(url: str, folder: Path, *, raised_limits: bool = True) -> Any:
    """The application (not started: enter ``app.router.lifespan_context(app)``)."""
    from better_skills.server.app import create_app
    from better_skills.server.security import HashCost

    return create_app(
        settings(url, folder, raised_limits=raised_limits), hash_cost=HashCost(**CHEAP_HASH)
    )


async def call(
    app: Any,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    method: str = "GET",
    body: bytes | None = None,
) -> tuple[int, int]:
    """One request through the whole ASGI stack (middleware, router, handlers): its status
    and the size of its body. With ``body`` it carries that body and its Content-Length."""
    if body is not None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    status = 0
    size = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


async def sign_up(
    client: Any,
    name: str = "B",
    email: str = "b@example.com",
    password: str = "bench-password-1",  # noqa: S107
) -> dict[str, Any]:
    """A person signed up over the API (``client``: an httpx client on the app): the answer,
    with ``token`` and ``user``."""
    made = await client.post(
        "/api/auth/sign-up/email",
        json={"name": name, "email": email, "password": password},
        headers={"Origin": BASE_URL},
    )
    made.raise_for_status()
    answer: dict[str, Any] = made.json()
    return answer
