"""Secrets: code and token generation, keyed hashing at rest, passwords, CSRF tokens.

The database holds only HMAC-SHA256 digests of device codes, user codes and session tokens,
keyed with the server secret, so a stolen database yields no usable secret (RFC 8628 §5.2
asks that codes be as hard to guess as the risk requires; §5.1 that they be short-lived).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from better_skills.protocol.device_flow import USER_CODE_ALPHABET, USER_CODE_LENGTH

#: 32 bytes = 256 bits of entropy, sent as 43 URL-safe characters.
DEVICE_CODE_BYTES = 32
SESSION_TOKEN_BYTES = 32


def new_device_code() -> str:
    return secrets.token_urlsafe(DEVICE_CODE_BYTES)


def new_session_token() -> str:
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)


#: Personal access tokens start with this, so that people, secret scanners and the server
#: can tell one from a session token at a glance.
ACCESS_TOKEN_PREFIX = "bsk_"


def new_access_token() -> str:
    """A personal access token: the prefix and 256 random bits."""
    return ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(SESSION_TOKEN_BYTES)


def new_user_code() -> str:
    """8 characters of RFC 8628 §6.1's 20 consonants: 20**8, about 34.6 bits."""
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def new_id() -> str:
    """An opaque row id: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Hasher:
    """Keyed hashes with a purpose label, so a digest of one kind never matches another."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._key, purpose.encode() + b"\0" + value.encode(), hashlib.sha256)
        return mac.hexdigest()

    def device_code(self, code: str) -> str:
        return self.digest("device_code", code)

    def user_code(self, normalized: str) -> str:
        return self.digest("user_code", normalized)

    def session_token(self, token: str) -> str:
        return self.digest("session", token)

    def access_token(self, token: str) -> str:
        return self.digest("access_token", token)

    def rate_key(self, key: str) -> str:
        # Rate-limit keys hold IPs and emails; hashing keeps them out of the table in clear.
        return self.digest("rate", key)

    def csrf_token(self, binding: str) -> str:
        """A CSRF token bound to a session id (or a pre-session nonce)."""
        return self.digest("csrf", binding)[:43]

    def check_csrf(self, binding: str, token: str) -> bool:
        # Bytes, because compare_digest raises TypeError on non-ASCII str.
        expected = self.csrf_token(binding).encode()
        return bool(token) and hmac.compare_digest(expected, token.encode("utf-8", "replace"))


def load_or_create_secret(path: Path) -> bytes:
    """The server secret kept beside the SQLite database: made once, mode 0600."""
    try:
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_hex(32).encode()
    # O_EXCL: if two processes race to create it, one wins and the other reads the winner's.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return secret


@dataclass(frozen=True)
class HashCost:
    """argon2id's cost parameters; the defaults are RFC 9106's low-memory profile (the
    library's own defaults): 3 passes over 64 MiB in 4 lanes."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


#: The cost a server uses.
PRODUCTION_HASH_COST = HashCost()

#: A cheaper cost for the server processes the test suite starts (tests/support/live_server.py
#: sets it, as ``time_cost,memory_kib,parallelism``): hashing is not what those tests are about,
#: and at RFC 9106's cost each sign-up and sign-in costs a quarter of a CPU second. Never
#: documented as a setting; a server without it hashes at :data:`PRODUCTION_HASH_COST`.
TEST_HASH_COST_ENV = "_BETTER_SKILLS_TEST_HASH_COST"


def hash_cost_from_environment(environ: Mapping[str, str] = os.environ) -> HashCost:
    """:data:`PRODUCTION_HASH_COST`, unless the test suite set :data:`TEST_HASH_COST_ENV`."""
    value = environ.get(TEST_HASH_COST_ENV)
    if not value:
        return PRODUCTION_HASH_COST
    time_cost, memory_kib, parallelism = (int(part) for part in value.split(","))
    return HashCost(time_cost=time_cost, memory_kib=memory_kib, parallelism=parallelism)


class PasswordHasher:
    """argon2id at ``cost`` (RFC 9106's profile unless a test passes a cheaper one); imported
    lazily (it loads a C extension)."""

    def __init__(self, cost: HashCost = PRODUCTION_HASH_COST) -> None:
        from argon2 import PasswordHasher as _Argon2

        self._argon2 = _Argon2(
            time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
        )
        # A hash of a random password, verified when the email is unknown, so that the
        # response time does not tell whether an account exists.
        self._dummy = self._argon2.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._argon2.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False
