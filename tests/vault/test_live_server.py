"""The vault API against real server processes (two workers, which seed the system vault
at the same moment on start)."""

from __future__ import annotations

import base64
import io
import socket
import tarfile
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.vault.support import skill_md, uploads

FOLDER = {
    "SKILL.md": b"---\nname: live  # a YAML comment\ndescription: Over real HTTP.\n---\nBody\n",
    "assets/bytes.bin": bytes(range(256)),
    "references/guide.md": b"Guide\n",
}


def _sign_up(http: httpx.Client, name: str) -> dict[str, str]:
    response = http.post(
        "/api/auth/sign-up/email",
        json={"name": name, "email": f"{name.lower()}@example.com", "password": "a long password"},
    )
    response.raise_for_status()
    http.cookies.clear()  # the API is called with the bearer token, like the CLI
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_round_trip_race_and_manifest_over_real_http(server_factory) -> None:
    server = server_factory(WORKERS="2")
    with server.client() as http:
        auth = _sign_up(http, "Live")
        me = http.get("/api/v1/me", headers=auth).json()
        assert {v["slug"] for v in me["vaults"]} == {"personal", "system-default"}
        listed = http.get("/api/v1/skills?vault=system-default", headers=auth).json()
        assert [i["slug"] for i in listed["items"]] == ["better-skills"]  # seeded once

        created = http.post("/api/v1/skills", json={"files": uploads(FOLDER)}, headers=auth)
        assert created.status_code == 201, created.text
        skill = created.json()
        url = f"/api/v1/skills/{skill['id']}"
        full = http.get(f"{url}?content=1", headers=auth).json()
        back = {
            f["path"]: f["content"].encode()
            if "content" in f
            else base64.b64decode(f["content_base64"])
            for f in full["files"]
        }
        assert back == FOLDER
        for path, data in FOLDER.items():
            assert http.get(f"{url}/files/{path}", headers=auth).content == data
        archive = http.get(f"{url}/archive", headers=auth)
        with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
            assert {m.name: tar.extractfile(m).read() for m in tar.getmembers()} == FOLDER  # type: ignore[union-attr]

        # The If-Match race, across two worker processes.
        def put(body: str) -> httpx.Response:
            with server.client() as own:
                return own.put(
                    url,
                    json={"files": uploads({"SKILL.md": skill_md("live", body=body)})},
                    headers={**auth, "If-Match": skill["etag"]},
                )

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(put, ["one\n", "two\n"]))
        assert sorted(r.status_code for r in results) == [200, 412]

        manifest = http.get("/api/v1/sync/manifest", headers=auth)
        etag = manifest.headers["etag"]
        cached = http.get("/api/v1/sync/manifest", headers={**auth, "If-None-Match": etag})
        assert cached.status_code == 304

        # A declared body above the cap is refused before it is sent whole (a raw socket:
        # httpx will not declare more than it sends).
        token = auth["Authorization"]
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /api/v1/skills HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Authorization: {token}\r\n".encode()
                + b"Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{"
            )
            answer = b""
            while b"payload_too_large" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"payload_too_large" in answer
