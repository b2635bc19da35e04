"""Statements over accounts (the users table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from better_skills.server.direct import Row, Tx
from better_skills.server.models import users


async def insert_user(tx: Tx, values: dict[str, Any]) -> None:
    await tx.execute(insert(users).values(**values))


async def by_id(tx: Tx, user_id: str) -> Row | None:
    """Every column of one account."""
    return await tx.first(select(users).where(users.c.id == user_id))


async def by_email(tx: Tx, email: str) -> Row | None:
    """Every column of the account with this (normalised) email."""
    return await tx.first(select(users).where(users.c.email == email))
