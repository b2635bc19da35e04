"""The skill vault API (``/api/v1``, see ``api.md``) for the CLI's skill commands.

A thin facade over :class:`ApiClient` (deadlines, caps, the credential, error mapping), like
``AuthClient`` for the auth API and ``sync.remote.HttpRemote`` for the two sync endpoints. The
vault's own answers become the client's typed errors: 404 :class:`NotFound` (exit 3), 409 and
412 :class:`Conflict` (exit 5), any other 4xx :class:`Refused` with the server's description
and details; 401, 429 and 5xx keep :meth:`ApiClient.raise_for_error`'s mapping.

``SKILL`` arguments are resolved by :func:`parse_identifier` and :meth:`VaultClient.resolve`:
a UUID, ``vault/slug``, or a bare slug (ambiguous across vaults: :class:`Conflict` listing the
candidates as ``vault/slug``).

A little over 400 lines because it holds one short method per vault endpoint the CLI calls,
next to the one error mapping they share; split by resource, each part would need it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Self
from urllib.parse import quote

from better_skills.client.errors import Conflict, NotFound, Refused, UnexpectedResponse
from better_skills.client.text import clean

if TYPE_CHECKING:
    from better_skills.client._transport import ApiClient, ApiResponse

__all__ = ["Identifier", "InvalidIdentifier", "VaultClient", "parse_identifier"]

#: A whole skill with its files' content: 10 MiB of files, base64 and JSON around them.
MAX_SKILL_BYTES = 64 * 1024 * 1024
MAX_LIST_BYTES = 8 * 1024 * 1024
UPLOAD_TIMEOUT_SECONDS = 120.0

_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
#: A vault or skill slug as typed: starts with a letter or digit (so never ``.`` or ``..``).
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$")


class InvalidIdentifier(ValueError):
    """``SKILL`` is none of a UUID, ``vault/slug`` or a slug (a usage error)."""


@dataclass(frozen=True)
class Identifier:
    """A parsed ``SKILL`` argument: exactly one of ``id`` and ``slug`` is set."""

    id: str | None = None
    slug: str | None = None
    vault: str | None = None

    def __str__(self) -> str:
        if self.id is not None:
            return self.id
        return f"{self.vault}/{self.slug}" if self.vault else str(self.slug)


def parse_identifier(text: str) -> Identifier:
    """``SKILL`` as given on the command line: a UUID, ``vault/slug`` or a bare slug."""
    value = text.strip()
    if _UUID.match(value):
        return Identifier(id=value.lower())
    parts = value.split("/")
    if len(parts) > 2 or not all(_SEGMENT.match(part) for part in parts):
        raise InvalidIdentifier(
            f"{clean(text, max_length=120)!r} is not a skill: give its id (a UUID), "
            "VAULT/SLUG, or SLUG."
        )
    if len(parts) == 2:
        return Identifier(vault=parts[0].lower(), slug=parts[1].lower())
    return Identifier(slug=value.lower())


def candidates_of(details: object) -> list[str]:
    """The ``vault/slug`` candidates of a 409 answer's ``details``."""
    found = []
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            found.append(clean(item["path"], max_length=200))
    return found


class VaultClient:
    """The ``/api/v1`` endpoints the skill commands use, over one :class:`ApiClient`."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.api.close()

    # -- vaults ----------------------------------------------------------------------------

    def vaults(self) -> list[dict[str, Any]]:
        """``GET /api/v1/vaults``: every vault the caller belongs to."""
        return _items(self._json("GET", "/api/v1/vaults"))

    def set_enabled(self, vault_id: str, enabled: bool) -> dict[str, Any]:
        """``PATCH /api/v1/vaults/{id}/membership``: the caller's switch for that vault."""
        path = f"/api/v1/vaults/{_segment(vault_id)}/membership"
        return _object(self._json("PATCH", path, json_body={"enabled": enabled}))

    def find_vault(self, name: str) -> dict[str, Any]:
        """A vault of the caller by slug or id (:class:`NotFound` otherwise)."""
        wanted = name.strip().lower()
        for vault in self.vaults():
            if wanted in (str(vault.get("slug", "")).lower(), str(vault.get("id", "")).lower()):
                return vault
        raise NotFound(
            f"You have no vault {clean(name, max_length=100)!r}.",
            hints=("Run `better-skills vaults` to see yours.",),
        )

    # -- skills ----------------------------------------------------------------------------

    def list_skills(
        self,
        *,
        query: str | None = None,
        vault: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """``GET /api/v1/skills``: one page, ``{items, next_cursor}``."""
        params = {"limit": str(limit)}
        if query:
            params["q"] = query
        if vault:
            params["vault"] = vault
        if cursor:
            params["cursor"] = cursor
        page = _object(self._json("GET", "/api/v1/skills", params=params, max_bytes=MAX_LIST_BYTES))
        return {"items": _items(page), "next_cursor": page.get("next_cursor")}

    def search(self, query: str, *, limit: int = 20) -> dict[str, Any]:
        """``GET /api/v1/skills/search``: ranked hits with ``match``, ``score``, ``snippet``;
        ``total_exact`` false when ``total`` is only a lower bound (absent: exact)."""
        params = {"q": query, "limit": str(limit)}
        data = _object(
            self._json("GET", "/api/v1/skills/search", params=params, max_bytes=MAX_LIST_BYTES)
        )
        exact = data.get("total_exact") is not False
        return {"items": _items(data), "total": data.get("total"), "total_exact": exact}

    def skill(self, skill_id: str, *, content: bool = False) -> dict[str, Any]:
        """``GET /api/v1/skills/{id}`` (``content`` adds every file's content)."""
        return _object(
            self._json(
                "GET",
                f"/api/v1/skills/{_segment(skill_id)}",
                params={"content": "1"} if content else None,
                max_bytes=MAX_SKILL_BYTES,
            )
        )

    def skill_by_slug(
        self, slug: str, *, vault: str | None = None, content: bool = False
    ) -> dict[str, Any]:
        """``GET /api/v1/skills/by-slug/{slug}``; several matches: :class:`Conflict`."""
        params = {"vault": vault} if vault else {}
        if content:
            params["content"] = "1"
        return _object(
            self._json(
                "GET",
                f"/api/v1/skills/by-slug/{_segment(slug)}",
                params=params or None,
                max_bytes=MAX_SKILL_BYTES,
            )
        )

    def resolve(self, identifier: Identifier, *, content: bool = False) -> dict[str, Any]:
        """The skill ``identifier`` names (one request)."""
        if identifier.id is not None:
            return self.skill(identifier.id, content=content)
        assert identifier.slug is not None
        return self.skill_by_slug(identifier.slug, vault=identifier.vault, content=content)

    def file(self, skill_id: str, path: str) -> bytes:
        """``GET /api/v1/skills/{id}/files/{path}``: the raw bytes of one file."""
        url = f"/api/v1/skills/{_segment(skill_id)}/files/{quote(path, safe='/')}"
        response = self.api.send("GET", url, auth=True, max_bytes=MAX_SKILL_BYTES)
        self._check(response, (200,))
        return response.body

    def create(
        self, files: list[dict[str, str]], *, vault: str | None = None, slug: str | None = None
    ) -> dict[str, Any]:
        """``POST /api/v1/skills``: one request, drafts resolved by the server."""
        body = _skill_body(files, vault, slug)
        return _object(self._json("POST", "/api/v1/skills", json_body=body, expect=(201,)))

    def replace(
        self,
        skill_id: str,
        files: list[dict[str, str]],
        *,
        slug: str | None = None,
        vault: str | None = None,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """``PUT /api/v1/skills/{id}`` with ``If-Match``: 412 (stale) is :class:`Conflict`."""
        body = _skill_body(files, vault, slug)
        headers = {"If-Match": if_match} if if_match else None
        path = f"/api/v1/skills/{_segment(skill_id)}"
        return _object(self._json("PUT", path, json_body=body, headers=headers))

    def delete(self, skill_id: str, *, if_match: str | None = None) -> None:
        """``DELETE /api/v1/skills/{id}``."""
        headers = {"If-Match": if_match} if if_match else None
        response = self.api.send(
            "DELETE", f"/api/v1/skills/{_segment(skill_id)}", headers=headers, auth=True
        )
        self._check(response, (204, 200))

    def references(self, skill_id: str) -> list[dict[str, Any]]:
        """``GET /api/v1/skills/{id}/references``: ``[{skill, via_path}]``."""
        path = f"/api/v1/skills/{_segment(skill_id)}/references"
        return _items(self._json("GET", path, max_bytes=MAX_LIST_BYTES))

    # -- plumbing --------------------------------------------------------------------------

    def _json(
        self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **options: Any
    ) -> Any:
        from better_skills.client._transport import Timeout

        if "json_body" in options:
            options.setdefault("timeout", Timeout(total=UPLOAD_TIMEOUT_SECONDS, connect=5.0))
        response = self.api.send(method, path, auth=True, **options)
        self._check(response, expect)
        data = self.api.json(response)
        if response.credential is not None:
            self.api.accepted(response.credential)
        return data

    def _check(self, response: ApiResponse, expect: tuple[int, ...]) -> None:
        status = response.status_code
        if status in expect:
            return
        if status in (401, 429) or status >= 500 or status < 400:
            self.api.raise_for_error(response)
        self._refuse(response)

    def _refuse(self, response: ApiResponse) -> NoReturn:
        """A 4xx of the vault API as a typed error with the server's own sentence."""
        fields = response.error_fields()
        code = fields.get("error")
        if not isinstance(code, str) or not code:
            self.api.raise_for_error(response)  # not our error shape: not a better-skills server
        description = fields.get("error_description")
        message = clean(description, max_length=300) if isinstance(description, str) else ""
        details = [
            {
                "path": clean(d.get("path") or "", max_length=300),
                "message": clean(d.get("message") or ""),
            }
            for d in fields.get("details") or []
            if isinstance(d, dict)
        ]
        status = response.status_code
        if status == 404:
            raise NotFound(message or "Not found.")
        if status == 412:
            raise Conflict(
                message or "The skill changed on the server since you last read it.",
                data={"reason": "stale"},
            )
        if status == 409:
            candidates = candidates_of(fields.get("details"))
            hints = tuple(f"  {c}" for c in candidates)
            if candidates:
                hints = ("Name one of them as VAULT/SLUG:", *hints)
            raise Conflict(message or "Conflict.", hints=hints, data={"candidates": candidates})
        hints = tuple(
            f"{d['path']}: {d['message']}" if d["path"] else d["message"] for d in details[:20]
        )
        raise Refused(
            clean(code, max_length=64),
            message or f"The server refused the request (HTTP {status}).",
            hints=hints,
            data={"details": details} if details else None,
        )

    # -- team vaults (issue 14, branch teams) ----------------------------------------------

    def create_vault(
        self, name: str, *, slug: str | None = None, color: str | None = None
    ) -> dict[str, Any]:
        """``POST /api/v1/vaults``: a new team vault, the caller its owner."""
        body: dict[str, Any] = {"name": name}
        if slug:
            body["slug"] = slug
        if color:
            body["color"] = color
        return _object(self._json("POST", "/api/v1/vaults", json_body=body, expect=(201,)))

    def members(self, vault: str) -> list[dict[str, Any]]:
        """``GET /api/v1/vaults/{id}/members`` (``vault`` is an id or a slug)."""
        path = f"/api/v1/vaults/{_segment(vault)}/members"
        return _items(self._json("GET", path, max_bytes=MAX_LIST_BYTES))

    def set_role(self, vault: str, user: str, role: str) -> dict[str, Any]:
        """``PATCH /api/v1/vaults/{id}/members/{user}`` (``user`` is an id or an email)."""
        path = f"/api/v1/vaults/{_segment(vault)}/members/{_segment(user)}"
        return _object(self._json("PATCH", path, json_body={"role": role}))

    def remove_member(self, vault: str, user: str) -> None:
        """``DELETE /api/v1/vaults/{id}/members/{user}``."""
        path = f"/api/v1/vaults/{_segment(vault)}/members/{_segment(user)}"
        self._check(self.api.send("DELETE", path, auth=True), (204,))

    def invite(self, vault: str, email: str, role: str = "member") -> dict[str, Any]:
        """``POST /api/v1/vaults/{id}/invitations``: valid 14 days."""
        path = f"/api/v1/vaults/{_segment(vault)}/invitations"
        body = {"email": email, "role": role}
        return _object(self._json("POST", path, json_body=body, expect=(201,)))

    def vault_invitations(self, vault: str) -> list[dict[str, Any]]:
        """``GET /api/v1/vaults/{id}/invitations``: the vault's pending invitations."""
        path = f"/api/v1/vaults/{_segment(vault)}/invitations"
        return _items(self._json("GET", path, max_bytes=MAX_LIST_BYTES))

    def revoke_invitation(self, vault: str, invitation_id: str) -> None:
        """``DELETE /api/v1/vaults/{id}/invitations/{invitation_id}``."""
        path = f"/api/v1/vaults/{_segment(vault)}/invitations/{_segment(invitation_id)}"
        self._check(self.api.send("DELETE", path, auth=True), (204,))

    def invitations(self) -> list[dict[str, Any]]:
        """``GET /api/v1/invitations``: pending invitations to the caller's email."""
        return _items(self._json("GET", "/api/v1/invitations", max_bytes=MAX_LIST_BYTES))

    def answer_invitation(self, invitation_id: str, *, accept: bool) -> dict[str, Any]:
        """``POST /api/v1/invitations/{id}/accept`` (the vault) or ``/decline``."""
        verb = "accept" if accept else "decline"
        path = f"/api/v1/invitations/{_segment(invitation_id)}/{verb}"
        return _object(self._json("POST", path, json_body={}))

    def leave(self, vault: str) -> None:
        """``POST /api/v1/vaults/{id}/leave``."""
        path = f"/api/v1/vaults/{_segment(vault)}/leave"
        self._check(self.api.send("POST", path, auth=True), (204,))

    def transfer(self, vault: str, user: str) -> dict[str, Any]:
        """``POST /api/v1/vaults/{id}/transfer``: ``user`` becomes the owner."""
        path = f"/api/v1/vaults/{_segment(vault)}/transfer"
        return _object(self._json("POST", path, json_body={"user_id": user}))


def _segment(value: str) -> str:
    """One URL path segment, percent-encoded (a slug or id never changes the path: ``.`` and
    ``..``, which URL normalisation would resolve, are encoded too)."""
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def _skill_body(files: list[dict[str, str]], vault: str | None, slug: str | None) -> dict[str, Any]:
    """The body of a skill's create or replace: the files, and the vault and slug when given."""
    body: dict[str, Any] = {"files": files}
    if vault:
        body["vault"] = vault
    if slug:
        body["slug"] = slug
    return body


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UnexpectedResponse("The server's answer is not a JSON object.")
    return data


def _items(data: Any) -> list[dict[str, Any]]:
    items = _object(data).get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise UnexpectedResponse("The server's answer has no list of items.")
    return items


# -- Shares (issue 14) ---------------------------------------------------------------------
# Kept in one block: the share endpoints of api.md. Reading a share needs no account; creating,
# listing, importing and revoking are the signed-in user's.


class ShareClient(VaultClient):
    """``/api/v1`` shares: :meth:`share_bundle` and :meth:`share_info` are sent without a
    credential (a share URL may name another server: no token goes there)."""

    def share(self, skill_id: str) -> dict[str, Any]:
        """``POST /api/v1/skills/{id}/shares``: the new share, with its ``url``."""
        path = f"/api/v1/skills/{_segment(skill_id)}/shares"
        return _object(self._json("POST", path, expect=(201,), max_bytes=MAX_LIST_BYTES))

    def shares(self) -> list[dict[str, Any]]:
        """``GET /api/v1/shares``: the caller's live shares, newest first."""
        return _items(self._json("GET", "/api/v1/shares", max_bytes=MAX_LIST_BYTES))

    def unshare(self, share_id: str) -> None:
        """``DELETE /api/v1/shares/{id}``; someone else's or unknown: :class:`NotFound`."""
        response = self.api.send("DELETE", f"/api/v1/shares/{_segment(share_id)}", auth=True)
        self._check(response, (204,))

    def import_share(self, share_id: str) -> dict[str, Any]:
        """``POST /api/v1/shares/{id}/import``: ``{root_skill_id, skills, imported_*}``."""
        path = f"/api/v1/shares/{_segment(share_id)}/import"
        return _object(self._json("POST", path, expect=(201,), max_bytes=MAX_LIST_BYTES))

    def share_info(self, share_id: str) -> dict[str, Any]:
        """``GET /api/v1/shares/{id}`` (public)."""
        return self._public(f"/api/v1/shares/{_segment(share_id)}", MAX_LIST_BYTES)

    def share_bundle(self, share_id: str) -> dict[str, Any]:
        """``GET /api/v1/shares/{id}/bundle`` (public): the sync bundle's shape."""
        return self._public(f"/api/v1/shares/{_segment(share_id)}/bundle", MAX_SKILL_BYTES)

    def _public(self, path: str, max_bytes: int) -> dict[str, Any]:
        response = self.api.send("GET", path, auth=False, max_bytes=max_bytes)
        self._check(response, (200,))
        return _object(self.api.json(response))
