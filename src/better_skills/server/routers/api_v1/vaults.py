"""``/api/v1/me``, ``/api/v1/vaults`` and the member's own switch."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    WritePrincipal,
    errors_for,
    json_response,
)
from better_skills.server.schemas import Me, MembershipPatch, UserOut, VaultList, VaultOut

router = APIRouter(tags=["vaults"])


@router.get("/me", summary="The caller and their vaults", response_model=Me, responses=errors_for())
async def me(principal: CurrentPrincipal, svc: AppServices) -> Response:
    vaults = await svc.vaults.list_for(principal.user_id)
    return json_response(
        Me(
            user=UserOut(id=principal.user_id, name=principal.name, email=principal.email),
            vaults=[VaultOut.from_record(v) for v in vaults],
        )
    )


@router.get(
    "/vaults",
    summary="Every vault the caller belongs to",
    response_model=VaultList,
    responses=errors_for(),
)
async def list_vaults(principal: CurrentPrincipal, svc: AppServices) -> Response:
    vaults = await svc.vaults.list_for(principal.user_id)
    return json_response(VaultList(items=[VaultOut.from_record(v) for v in vaults]))


@router.patch(
    "/vaults/{vault_id}/membership",
    summary="The caller's own switch for a vault (a disabled vault is left out of sync)",
    response_model=VaultOut,
    responses=errors_for(415),
)
async def set_membership(
    vault_id: str, body: MembershipPatch, principal: WritePrincipal, svc: AppServices
) -> Response:
    vault = await svc.vaults.set_enabled(principal.user_id, vault_id, body.enabled)
    return json_response(VaultOut.from_record(vault))
