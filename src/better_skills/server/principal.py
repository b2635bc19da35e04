"""Who is calling an /api/v1 endpoint: the principal every vault service takes."""

from __future__ import annotations

from dataclasses import dataclass

#: Scopes a principal can hold. Sessions (device login, browser cookie) hold all of them;
#: personal access tokens may hold fewer.
VAULT_READ = "vault:read"
VAULT_WRITE = "vault:write"
ALL_SCOPES = frozenset({VAULT_READ, VAULT_WRITE})
#: Scopes granted by write: a token that may write may read.
_IMPLIED = {VAULT_WRITE: VAULT_READ}


def vault_scopes(granted: str | None) -> frozenset[str]:
    """The vault scopes of a stored grant (space separated, as a device login stores it).

    A grant that names no ``vault:`` scope at all (the original CLI asks for ``openid profile
    email``; browser sessions and access tokens store none) holds every scope, so that those
    clients keep working; one that names some holds exactly those (and what they imply).
    Unknown ``vault:`` scopes grant nothing."""
    asked = [s for s in (granted or "").split() if s.startswith("vault:")]
    if not asked:
        return ALL_SCOPES
    held = {s for s in asked if s in ALL_SCOPES}
    held.update(_IMPLIED[s] for s in list(held) if s in _IMPLIED)
    return frozenset(held)


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
