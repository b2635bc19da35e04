"""Team vaults (issue 14): create and change a team vault, its members, invitations,
leaving and transferring ownership. Ids in paths are vault ids or slugs, and a member is
named by user id or email; whoever is not a member of the vault gets 404."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from better_skills.server import fields
from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    WritePrincipal,
    errors_for,
    json_response,
)
from better_skills.server.schemas import Strict, VaultOut
from better_skills.server.services.teams import Invitation, Member
from better_skills.server.timefmt import iso_ms

router = APIRouter(tags=["teams"])

Grantable = Literal["admin", "member"]


# -- Requests --------------------------------------------------------------------------------


class CreateVault(Strict):
    name: str = Field(min_length=1, max_length=fields.VAULT_NAME)
    slug: str | None = Field(None, max_length=64, description="Default: the name made URL-safe")
    color: str | None = Field(None, max_length=32, description="#RRGGBB")


class PatchVault(Strict):
    name: str | None = Field(None, min_length=1, max_length=fields.VAULT_NAME)
    color: str | None = Field(None, max_length=32, description="#RRGGBB, or null for none")


class PatchMember(Strict):
    role: Grantable


class CreateInvitation(Strict):
    email: str = Field(min_length=3, max_length=fields.EMAIL_COLUMN)
    role: Grantable = "member"


class Transfer(Strict):
    user_id: str = Field(
        min_length=1, max_length=fields.EMAIL_COLUMN, description="A member's user id or email"
    )


# -- Responses -------------------------------------------------------------------------------


class MemberOut(BaseModel):
    user_id: str
    name: str
    email: str
    role: Literal["owner", "admin", "member"]
    enabled: bool
    joined_at: str

    @classmethod
    def from_record(cls, m: Member) -> MemberOut:
        return cls(
            user_id=m.user_id,
            name=m.name,
            email=m.email,
            role=m.role,  # type: ignore[arg-type]
            enabled=m.enabled,
            joined_at=iso_ms(m.joined_at),
        )


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None


class InvitationVaultOut(BaseModel):
    id: str
    slug: str
    name: str
    type: Literal["personal", "team", "system"]
    color: str | None


class InviterOut(BaseModel):
    id: str
    name: str | None


class InvitationOut(BaseModel):
    id: str
    vault: InvitationVaultOut
    email: str
    role: Grantable
    status: Literal["pending", "accepted", "declined", "revoked"]
    invited_by: InviterOut | None
    created_at: str
    expires_at: str
    url: str = Field(description="The settings page where the invitee answers it")

    @classmethod
    def from_record(cls, i: Invitation, public_url: str) -> InvitationOut:
        return cls(
            id=i.id,
            vault=InvitationVaultOut(
                id=i.vault_id,
                slug=i.vault_slug,
                name=i.vault_name,
                type=i.vault_type,  # type: ignore[arg-type]
                color=i.vault_color,
            ),
            email=i.email,
            role=i.role,  # type: ignore[arg-type]
            status=i.status,  # type: ignore[arg-type]
            invited_by=InviterOut(id=i.invited_by, name=i.inviter_name) if i.invited_by else None,
            created_at=iso_ms(i.created_at),
            expires_at=iso_ms(i.expires_at),
            url=invitation_url(public_url, i.id),
        )


class InvitationList(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None = None


def invitation_url(public_url: str, invitation_id: str) -> str:
    return f"{public_url}/settings?invitation={invitation_id}"


def _no_content() -> Response:
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


# -- Team vaults -----------------------------------------------------------------------------


@router.post(
    "/vaults",
    status_code=201,
    summary="Create a team vault; the caller is its owner (TEAM_VAULTS=admins: admins only)",
    response_model=VaultOut,
    responses=errors_for(409, 415),
)
async def create_vault(body: CreateVault, principal: WritePrincipal, svc: AppServices) -> Response:
    vault = await svc.teams.create_vault(principal.user_id, body.name, body.slug, body.color)
    return json_response(VaultOut.from_record(vault), 201)


@router.get(
    "/vaults/{vault_id}",
    summary="One of the caller's vaults, by id or slug",
    response_model=VaultOut,
    responses=errors_for(),
)
async def get_vault(vault_id: str, principal: CurrentPrincipal, svc: AppServices) -> Response:
    vault = await svc.vaults.get_for(principal.user_id, vault_id)
    return json_response(VaultOut.from_record(vault))


@router.patch(
    "/vaults/{vault_id}",
    summary="Rename a team vault or change its colour (owner or admin)",
    response_model=VaultOut,
    responses=errors_for(415),
)
async def patch_vault(
    vault_id: str, body: PatchVault, principal: WritePrincipal, svc: AppServices
) -> Response:
    vault = await svc.teams.update_vault(
        principal.user_id,
        vault_id,
        name=body.name,
        color=body.color,
        set_color="color" in body.model_fields_set,
    )
    return json_response(VaultOut.from_record(vault))


@router.post(
    "/vaults/{vault_id}/leave",
    status_code=204,
    summary="Leave a team vault (the owner must transfer ownership first)",
    responses=errors_for(),
)
async def leave(vault_id: str, principal: WritePrincipal, svc: AppServices) -> Response:
    await svc.teams.leave(principal.user_id, vault_id)
    return _no_content()


@router.post(
    "/vaults/{vault_id}/transfer",
    summary="Make another member the owner (owner only); the old owner becomes an admin",
    response_model=VaultOut,
    responses=errors_for(415),
)
async def transfer(
    vault_id: str, body: Transfer, principal: WritePrincipal, svc: AppServices
) -> Response:
    vault = await svc.teams.transfer(principal.user_id, vault_id, body.user_id)
    return json_response(VaultOut.from_record(vault))


# -- Members ---------------------------------------------------------------------------------


@router.get(
    "/vaults/{vault_id}/members",
    summary="The members of a team vault (owner or admin)",
    response_model=MemberList,
    responses=errors_for(),
)
async def list_members(vault_id: str, principal: CurrentPrincipal, svc: AppServices) -> Response:
    _vault, members = await svc.teams.members(principal.user_id, vault_id)
    return json_response(MemberList(items=[MemberOut.from_record(m) for m in members]))


@router.patch(
    "/vaults/{vault_id}/members/{user_id}",
    summary="Change a member's role to admin or member (owner or admin; not the owner's)",
    response_model=MemberOut,
    responses=errors_for(415),
)
async def change_role(
    vault_id: str, user_id: str, body: PatchMember, principal: WritePrincipal, svc: AppServices
) -> Response:
    member = await svc.teams.change_role(principal.user_id, vault_id, user_id, body.role)
    return json_response(MemberOut.from_record(member))


@router.delete(
    "/vaults/{vault_id}/members/{user_id}",
    status_code=204,
    summary="Remove a member (owner or admin; never the owner)",
    responses=errors_for(),
)
async def remove_member(
    vault_id: str, user_id: str, principal: WritePrincipal, svc: AppServices
) -> Response:
    await svc.teams.remove_member(principal.user_id, vault_id, user_id)
    return _no_content()


# -- Invitations -----------------------------------------------------------------------------


@router.get(
    "/vaults/{vault_id}/invitations",
    summary="A team vault's pending invitations (owner or admin)",
    response_model=InvitationList,
    responses=errors_for(),
)
async def list_vault_invitations(
    vault_id: str, principal: CurrentPrincipal, svc: AppServices
) -> Response:
    found = await svc.teams.vault_invitations(principal.user_id, vault_id)
    url = svc.settings.public_url
    return json_response(InvitationList(items=[InvitationOut.from_record(i, url) for i in found]))


@router.post(
    "/vaults/{vault_id}/invitations",
    status_code=201,
    summary="Invite an email address (valid 14 days; inviting again refreshes it)",
    response_model=InvitationOut,
    responses=errors_for(409, 415),
)
async def invite(
    vault_id: str, body: CreateInvitation, principal: WritePrincipal, svc: AppServices
) -> Response:
    found = await svc.teams.invite(
        principal.user_id, principal.email, vault_id, body.email, body.role
    )
    return json_response(InvitationOut.from_record(found, svc.settings.public_url), 201)


@router.delete(
    "/vaults/{vault_id}/invitations/{invitation_id}",
    status_code=204,
    summary="Revoke a pending invitation (owner or admin)",
    responses=errors_for(),
)
async def revoke_invitation(
    vault_id: str, invitation_id: str, principal: WritePrincipal, svc: AppServices
) -> Response:
    await svc.teams.revoke_invitation(principal.user_id, vault_id, invitation_id)
    return _no_content()


@router.get(
    "/invitations",
    summary="Pending, unexpired invitations to the caller's email",
    response_model=InvitationList,
    responses=errors_for(),
)
async def my_invitations(principal: CurrentPrincipal, svc: AppServices) -> Response:
    found = await svc.teams.my_invitations(principal.user_id)
    url = svc.settings.public_url
    return json_response(InvitationList(items=[InvitationOut.from_record(i, url) for i in found]))


@router.post(
    "/invitations/{invitation_id}/accept",
    summary="Accept an invitation: the vault the caller has joined",
    response_model=VaultOut,
    responses=errors_for(),
)
async def accept(invitation_id: str, principal: WritePrincipal, svc: AppServices) -> Response:
    vault = await svc.teams.accept(principal.user_id, invitation_id)
    return json_response(VaultOut.from_record(vault))


@router.post(
    "/invitations/{invitation_id}/decline",
    summary="Decline an invitation",
    response_model=InvitationOut,
    responses=errors_for(),
)
async def decline(invitation_id: str, principal: WritePrincipal, svc: AppServices) -> Response:
    found = await svc.teams.decline(principal.user_id, invitation_id)
    return json_response(InvitationOut.from_record(found, svc.settings.public_url))
