"""Who is calling an /api/v1 endpoint: the principal every vault service takes."""

from __future__ import annotations

from dataclasses import dataclass

#: Scopes a principal can hold. Sessions (device login, browser cookie) hold all of them;
#: personal access tokens may hold fewer.
VAULT_READ = "vault:read"
VAULT_WRITE = "vault:write"
ALL_SCOPES = frozenset({VAULT_READ, VAULT_WRITE})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``token_kind`` is ``"cookie"`` (the browser's session cookie), or for a bearer token the
    kind ``sessions.lookup`` reports: ``"device"`` (a device login), ``"browser"`` (a
    password sign-in's token) or ``"access_token"`` (a personal access token).
    """

    user_id: str
    session_id: str
    token_kind: str
    scopes: frozenset[str] = ALL_SCOPES
    name: str = ""
    email: str = ""

    def can(self, scope: str) -> bool:
        return scope in self.scopes
