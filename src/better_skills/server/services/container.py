"""Wires the services together once per process."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from better_skills.server.db import Database, create_engine
from better_skills.server.security import (
    PRODUCTION_HASH_COST,
    HashCost,
    Hasher,
    load_or_create_secret,
)
from better_skills.server.services import Clock, system_clock
from better_skills.server.services.accounts import AccountService
from better_skills.server.services.device_flow import DeviceFlowService
from better_skills.server.services.graph import GraphService
from better_skills.server.services.rate_limit import RateLimiter, WriteLimits
from better_skills.server.services.sessions import SessionService
from better_skills.server.services.shares import ShareService
from better_skills.server.services.skills import SkillService, limits_of
from better_skills.server.services.teams import TeamService
from better_skills.server.services.tokens import TokenService
from better_skills.server.services.vaults import VaultService
from better_skills.server.settings import Settings


def server_secret(settings: Settings) -> bytes:
    """``SECRET_KEY``, else the key file beside the SQLite database (made on first start)."""
    if settings.secret_key is not None:
        return settings.secret_key
    path = settings.sqlite_path
    if path is None:  # in-memory database: nothing outlives the process anyway
        return secrets.token_bytes(32)
    return load_or_create_secret(path.parent / "secret.key")


@dataclass
class Services:
    settings: Settings
    db: Database
    hasher: Hasher
    clock: Clock
    limiter: RateLimiter
    write_limits: WriteLimits
    sessions: SessionService
    accounts: AccountService
    device_flow: DeviceFlowService
    tokens: TokenService
    vaults: VaultService
    skills: SkillService
    shares: ShareService
    teams: TeamService
    graph: GraphService

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock = system_clock,
        hash_cost: HashCost = PRODUCTION_HASH_COST,
    ) -> Services:
        """Every service, on ``settings``; ``clock`` and the password ``hash_cost`` are for
        tests to inject."""
        db = Database(create_engine(settings), settings.database_pool_size)
        hasher = Hasher(server_secret(settings))
        limiter = RateLimiter(hasher)
        write_limits = WriteLimits(db, limiter, clock, settings.write_limit)
        sessions = SessionService(db, hasher, clock, settings.session_ttl)
        tokens = TokenService(db, hasher, clock)
        sessions.tokens = tokens  # one bearer lookup for sessions and access tokens
        accounts = AccountService(db, sessions, limiter, clock, settings, hash_cost)
        device_flow = DeviceFlowService(db, hasher, limiter, sessions, clock, settings)
        vaults = VaultService(db, clock)
        skills = SkillService(
            db,
            clock,
            limits_of(settings.max_file_bytes, settings.max_skill_bytes, settings.max_skill_files),
            write_limits,
        )
        return cls(
            settings,
            db,
            hasher,
            clock,
            limiter,
            write_limits,
            sessions,
            accounts,
            device_flow,
            tokens,
            vaults,
            skills,
            ShareService(db, clock, skills, write_limits),
            TeamService(db, clock, settings.team_vaults, write_limits),
            GraphService(db),
        )
