"""User accounts: sign-up and sign-in with email and an argon2id-hashed password."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from better_skills.server.db import Database
from better_skills.server.models import users
from better_skills.server.security import PasswordHasher, new_id
from better_skills.server.services import Caller, Clock, audit, to_ms
from better_skills.server.services.rate_limit import RateLimiter, address_bucket
from better_skills.server.services.sessions import NewSession, SessionService
from better_skills.server.services.vaults import bootstrap_user
from better_skills.server.settings import RateLimit

MIN_PASSWORD = 8
MAX_PASSWORD = 128
MAX_NAME = 200
#: argon2id hashes computed at once. Each takes 64 MiB while it runs: a burst of sign-ins
#: from many addresses queues here instead of taking gigabytes in the thread pool (40 threads).
HASH_CONCURRENCY = max(2, os.cpu_count() or 2)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """A sign-up or sign-in failure in better-auth's shape: ``{"code", "message"}``."""

    def __init__(self, code: str, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code


def normalize_email(raw: str) -> str:
    """Trimmed, NFKC-normalised and lower-cased, so one mailbox is one account."""
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise AccountError("INVALID_EMAIL", "Enter a valid email address.")
    return email


def validate_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise AccountError("INVALID_NAME", "Enter your name.")
    if len(name) > MAX_NAME or any(unicodedata.category(c) == "Cc" for c in name):
        raise AccountError("INVALID_NAME", f"Names are at most {MAX_NAME} printable characters.")
    return name


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            "PASSWORD_TOO_SHORT", f"Use a password of at least {MIN_PASSWORD} characters."
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError("PASSWORD_TOO_LONG", f"Use at most {MAX_PASSWORD} characters.")
    return password


@dataclass(frozen=True)
class SignedIn:
    user: dict[str, Any]
    session: NewSession


def public_user(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "email": row.email,
        "emailVerified": bool(row.email_verified),
        "image": row.image,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


class AccountService:
    def __init__(
        self,
        db: Database,
        sessions: SessionService,
        limiter: RateLimiter,
        clock: Clock,
        sign_in_limit: RateLimit,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._limiter = limiter
        self._clock = clock
        self._sign_in_limit = sign_in_limit
        self._passwords: PasswordHasher | None = None
        self._hash_slots: anyio.CapacityLimiter | None = None

    @property
    def passwords(self) -> PasswordHasher:
        if self._passwords is None:
            self._passwords = PasswordHasher()
        return self._passwords

    async def _in_hash_slot(self, function: Any, *args: Any) -> Any:
        """Run an argon2id computation in a worker thread, at most HASH_CONCURRENCY at once."""
        if self._hash_slots is None:  # made lazily: it belongs to the running event loop
            self._hash_slots = anyio.CapacityLimiter(HASH_CONCURRENCY)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._hash_slots)

    async def sign_up(self, name: str, email: str, password: str, caller: Caller) -> SignedIn:
        name, email = validate_name(name), normalize_email(email)
        validate_password(password)
        password_hash = await self._in_hash_slot(self.passwords.hash, password)
        now = to_ms(self._clock())
        user_id = new_id()
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(users).values(
                        id=user_id,
                        name=name,
                        email=email,
                        email_verified=False,
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                    )
                )
                await bootstrap_user(conn, user_id, name, now)  # personal + system vault
                session = await self._sessions.create(conn, user_id, caller, kind="browser")
                await audit.record(conn, now, "sign_up", user_id=user_id, ip=caller.ip)
                await audit.record(conn, now, "sign_in", user_id=user_id, ip=caller.ip)
                row = (await conn.execute(select(users).where(users.c.id == user_id))).one()
        except IntegrityError:
            raise AccountError(
                "USER_ALREADY_EXISTS",
                "An account with this email already exists. Sign in instead.",
                422,
            ) from None
        return SignedIn(public_user(row), session)

    async def sign_in(self, email: str, password: str, caller: Caller) -> SignedIn:
        now = to_ms(self._clock())
        try:
            email = normalize_email(email)
        except AccountError:
            email = email.strip().lower()[:320]
        keys = [f"sign_in:ip:{address_bucket(caller.ip)}", f"sign_in:email:{email}"]
        # Count the attempt before the (slow) password check and give it back on success:
        # concurrent guesses cannot all pass the limit while their hashes are computed.
        async with self._db.write() as conn:
            reservation = await self._limiter.reserve(
                conn, keys, self._sign_in_limit, now, "Too many failed sign-in attempts."
            )
            row = (await conn.execute(select(users).where(users.c.email == email))).first()
        stored = row.password_hash if row is not None else None
        ok = await self._in_hash_slot(self.passwords.verify, stored, password[:MAX_PASSWORD])
        async with self._db.write() as conn:
            if not ok or row is None:
                await audit.record(
                    conn, now, "sign_in_failed", user_id=row.id if row else None, ip=caller.ip
                )
            else:
                await self._limiter.refund(conn, reservation)
                session = await self._sessions.create(conn, row.id, caller, kind="browser")
                await audit.record(conn, now, "sign_in", user_id=row.id, ip=caller.ip)
        if not ok or row is None:
            raise AccountError("INVALID_EMAIL_OR_PASSWORD", "Invalid email or password", 401)
        return SignedIn(public_user(row), session)
