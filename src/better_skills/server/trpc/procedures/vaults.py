"""``vaults.*``: the caller's vault memberships and the switch that turns one on or off."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from better_skills.protocol import errors
from better_skills.server.services.vaults import Vault
from better_skills.server.trpc import shapes
from better_skills.server.trpc.envelope import TrpcError
from better_skills.server.trpc.registry import Context, Input, procedure


class SetEnabled(Input):
    vaultId: str = Field(min_length=1, max_length=100)
    isEnabled: bool


def _membership(v: Vault) -> dict[str, Any]:
    return {
        "membershipId": f"{v.id}:member",
        "vaultId": v.id,
        "role": v.role,
        "isEnabled": v.enabled,
        "canRead": True,
        "canWrite": v.can_write,
        "canAdmin": v.can_admin,
        "isReadOnly": not v.can_write,
        "membershipCreatedAt": None,
        "vault": {
            "id": v.id,
            "slug": v.slug,
            "name": v.name,
            "type": shapes.vault_type(v.type),
            "color": v.color,
            "isSystemManaged": v.type == "system",
        },
    }


@procedure("vaults.listMine", "query")
async def list_mine(ctx: Context, _: Any) -> list[dict[str, Any]]:
    return [_membership(v) for v in (await ctx.vaults()).values()]


@procedure("vaults.setEnabled", "mutation", SetEnabled)
async def set_enabled(ctx: Context, body: SetEnabled) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    try:
        await ctx.svc.vaults.set_enabled(user, body.vaultId, body.isEnabled)
    except errors.NotFound:
        raise TrpcError("NOT_FOUND", "Vault membership not found") from None
    return {"success": True, "vaultId": body.vaultId, "isEnabled": body.isEnabled}
