"""User accounts: sign-up and sign-in with email and an argon2id-hashed password."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from better_skills.protocol.errors import TooManyRequests
from better_skills.server import fields
from better_skills.server.db import Database
from better_skills.server.direct import Conflict, Tx
from better_skills.server.queries import accounts as q
from better_skills.server.queries import audit as audit_queries
from better_skills.server.security import (
    PRODUCTION_HASH_COST,
    HashCost,
    PasswordHasher,
    new_id,
)
from better_skills.server.services import Caller, Clock, audit, to_ms
from better_skills.server.services.auth_records import User
from better_skills.server.services.rate_limit import RateLimiter, Reservation, address_bucket
from better_skills.server.services.sessions import NewSession, SessionService
from better_skills.server.services.vaults import bootstrap_user
from better_skills.server.settings import Settings

#: argon2id hashes computed at once. Each takes 64 MiB while it runs: a burst of sign-ins
#: from many addresses queues here instead of taking gigabytes in the thread pool (40 threads).
HASH_CONCURRENCY = max(2, os.cpu_count() or 2)
#: Sign-ups hash in a budget of their own, smaller: a flood of sign-ups queues behind itself
#: and never in front of the sign-ins of people who already have an account.
SIGN_UP_HASH_CONCURRENCY = max(1, HASH_CONCURRENCY // 2)
#: An address "with a good record" for an account: one it signed in from this recently.
KNOWN_ADDRESS_MS = 30 * 86_400_000
KNOWN_ADDRESS_LOOKBACK = 50
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
    if len(email) > fields.EMAIL or not _EMAIL.match(email):
        raise AccountError("INVALID_EMAIL", "Enter a valid email address.")
    return email


def validate_name(raw: str) -> str:
    """Collapsed white space, without format characters: bidi overrides and isolates
    (U+202A-202E, U+2066-2069), zero-width and invisible characters, soft hyphens and tag
    characters would let a name reorder or hide what a page shows beside it."""
    cleaned = "".join(c for c in raw if unicodedata.category(c) not in ("Cf", "Cs", "Co"))
    name = " ".join(cleaned.split())
    if not name:
        raise AccountError("INVALID_NAME", "Enter your name.")
    if len(name) > fields.USER_NAME or any(unicodedata.category(c) == "Cc" for c in name):
        raise AccountError(
            "INVALID_NAME", f"Names are at most {fields.USER_NAME} printable characters."
        )
    return name


def validate_password(password: str) -> str:
    if len(password) < fields.PASSWORD_MIN:
        raise AccountError(
            "PASSWORD_TOO_SHORT", f"Use a password of at least {fields.PASSWORD_MIN} characters."
        )
    return validate_password_length(password)


def validate_password_length(password: str) -> str:
    """The same refusal of over-long passwords at sign-up and at sign-in."""
    if len(password) > fields.PASSWORD_MAX:
        raise AccountError(
            "PASSWORD_TOO_LONG", f"Passwords are at most {fields.PASSWORD_MAX} characters."
        )
    return password


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: NewSession


class AccountService:
    def __init__(
        self,
        db: Database,
        sessions: SessionService,
        limiter: RateLimiter,
        clock: Clock,
        settings: Settings,
        hash_cost: HashCost = PRODUCTION_HASH_COST,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._limiter = limiter
        self._clock = clock
        self._sign_in_limit = settings.sign_in_limit
        self._sign_in_email_limit = settings.sign_in_email_limit
        self._sign_up_limit = settings.sign_up_limit
        self._hash_cost = hash_cost
        self._passwords: PasswordHasher | None = None
        self._hash_slots: anyio.CapacityLimiter | None = None
        self._sign_up_slots: anyio.CapacityLimiter | None = None

    @property
    def passwords(self) -> PasswordHasher:
        if self._passwords is None:
            self._passwords = PasswordHasher(self._hash_cost)
        return self._passwords

    async def _in_hash_slot(self, function: Any, *args: Any) -> Any:
        """Run a sign-in's argon2id computation in a worker thread, at most HASH_CONCURRENCY
        at once."""
        if self._hash_slots is None:  # made lazily: it belongs to the running event loop
            self._hash_slots = anyio.CapacityLimiter(HASH_CONCURRENCY)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._hash_slots)

    async def _in_sign_up_slot(self, function: Any, *args: Any) -> Any:
        """Run a sign-up's hash in the sign-ups' own, smaller budget (see
        SIGN_UP_HASH_CONCURRENCY): 40 concurrent sign-ups used to queue every sign-in behind
        them (120 ms became 7-12 s)."""
        if self._sign_up_slots is None:
            self._sign_up_slots = anyio.CapacityLimiter(SIGN_UP_HASH_CONCURRENCY)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._sign_up_slots)

    async def sign_up(self, name: str, email: str, password: str, caller: Caller) -> SignedIn:
        name, email = validate_name(name), normalize_email(email)
        validate_password(password)
        # Counted before the (slow, memory-hungry) hash, in the database so that replicas
        # share it; every attempt counts, a duplicate email too.
        wait = await self._limiter.count(
            self._db,
            f"sign_up:ip:{address_bucket(caller.ip)}",
            self._sign_up_limit,
            to_ms(self._clock()),
        )
        if wait is not None:
            raise TooManyRequests("Too many accounts created from this address.", retry_after=wait)
        password_hash = await self._in_sign_up_slot(self.passwords.hash, password)
        now = to_ms(self._clock())
        user_id = new_id()
        try:
            async with self._db.write() as tx:
                await q.insert_user(
                    tx,
                    {
                        "id": user_id,
                        "name": name,
                        "email": email,
                        "email_verified": False,
                        "password_hash": password_hash,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                await bootstrap_user(tx, user_id, name, now)  # personal + system vault
                session = await self._sessions.create(tx, user_id, caller, kind="browser")
                await audit.record(tx, now, "sign_up", user_id=user_id, ip=caller.ip)
                await audit.record(tx, now, "sign_in", user_id=user_id, ip=caller.ip)
                row = await q.by_id(tx, user_id)
        except Conflict:
            raise AccountError(
                "USER_ALREADY_EXISTS",
                "An account with this email already exists. Sign in instead.",
                422,
            ) from None
        return SignedIn(User.of_row(row), session)

    async def sign_in(self, email: str, password: str, caller: Caller) -> SignedIn:
        # Refused as at sign-up, not cut: no account has a longer password, and a silent
        # cut let a password be right when its first 128 characters were.
        validate_password_length(password)
        now = to_ms(self._clock())
        try:
            email = normalize_email(email)
        except AccountError:
            email = email.strip().lower()[: fields.EMAIL_COLUMN]
        bucket = address_bucket(caller.ip)
        rule = self._sign_in_limit
        # Count the attempt before the (slow) password check and give it back on success:
        # concurrent guesses cannot all pass the limit while their hashes are computed.
        # Per address, and per (email, address) pair: wrong passwords from one address never
        # lock the account's owner out at another.
        async with self._db.write() as tx:
            reservation = await self._limiter.reserve_each(
                tx,
                [(f"sign_in:ip:{bucket}", rule), (f"sign_in:pair:{bucket}:{email}", rule)],
                now,
                "Too many failed sign-in attempts.",
            )
            row = await q.by_email(tx, email)
            email_reservation = await self._reserve_email(tx, email, row, caller, now)
        stored = row.password_hash if row is not None else None
        ok = await self._in_hash_slot(self.passwords.verify, stored, password)
        async with self._db.write() as tx:
            if not ok or row is None:
                await audit.record(
                    tx, now, "sign_in_failed", user_id=row.id if row else None, ip=caller.ip
                )
            else:
                await self._limiter.refund(tx, reservation)
                await self._limiter.refund(tx, email_reservation)
                session = await self._sessions.create(tx, row.id, caller, kind="browser")
                await audit.record(tx, now, "sign_in", user_id=row.id, ip=caller.ip)
        if not ok or row is None:
            raise AccountError("INVALID_EMAIL_OR_PASSWORD", "Invalid email or password", 401)
        return SignedIn(User.of_row(row), session)

    async def _reserve_email(
        self, tx: Tx, email: str, row: Any, caller: Caller, now: int
    ) -> Reservation:
        """The per-email ceiling (``RATE_LIMIT_SIGN_IN_EMAIL``), against guessing one account
        from many addresses. Over it, an address this account signed in from in the last 30
        days still gets through (on its own per-address limits): a botnet can slow the
        owner's sign-ins from new places, not lock the owner out of the usual ones."""
        try:
            return await self._limiter.reserve_each(
                tx,
                [(f"sign_in:email:{email}", self._sign_in_email_limit)],
                now,
                "Too many failed sign-in attempts for this account.",
            )
        except TooManyRequests:
            if row is None or not await self._known_address(tx, row.id, caller, now):
                raise
            return Reservation()

    async def _known_address(self, tx: Tx, user_id: str, caller: Caller, now: int) -> bool:
        """Whether ``user_id`` signed in (or signed up) from the caller's address bucket in
        the last :data:`KNOWN_ADDRESS_MS`."""
        if caller.ip is None:
            return False
        addresses = await audit_queries.recent_addresses(
            tx, user_id, "sign_in", now - KNOWN_ADDRESS_MS, KNOWN_ADDRESS_LOOKBACK
        )
        bucket = address_bucket(caller.ip)
        return any(address_bucket(ip) == bucket for ip in addresses)
