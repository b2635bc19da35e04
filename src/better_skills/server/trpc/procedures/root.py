"""The procedures at the root of the original's router: health, the caller, onboarding."""

from __future__ import annotations

from typing import Any

from better_skills.server.trpc.registry import Context, procedure


@procedure("healthCheck", "query")
async def health_check(ctx: Context, _: Any) -> str:
    return "OK"


@procedure("me", "query")
async def me(ctx: Context, _: Any) -> dict[str, Any]:
    p = await ctx.principal()
    return {"user": {"id": p.user_id, "name": p.name, "email": p.email}}


@procedure("hasActivated", "query")
async def has_activated(ctx: Context, _: Any) -> dict[str, bool]:
    # We keep no onboarding flag: a user who has a session has an account with its
    # personal vault and the default skills, which is all the original's onboarding sets up.
    await ctx.principal()
    return {"activated": True}


@procedure("completeOnboarding", "mutation")
async def complete_onboarding(ctx: Context, _: Any) -> dict[str, bool]:
    await ctx.principal()
    return {"activated": True}
