"""``better-skills vaults``, ``enable VAULT``, ``disable VAULT``: your vaults, and the per-vault
switch (a disabled vault is left out of sync). ``vaults create|members|invite|...``: team
vaults, their members and invitations (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_online import SKILL_EPILOG, columns, open_vault

__all__ = ["SwitchOptions", "VaultsOptions", "command", "disable_command", "enable_command"]

VAULT_FIELDS = (
    "id",
    "slug",
    "name",
    "type",
    "role",
    "enabled",
    "can_write",
    "can_admin",
    "skill_count",
)


@dataclass(frozen=True)
class VaultsOptions:
    as_json: bool = False
    server: str | None = None


@dataclass(frozen=True)
class SwitchOptions:
    vault: str
    enabled: bool
    as_json: bool = False
    server: str | None = None


def vault_json(vault: dict[str, Any]) -> dict[str, Any]:
    return {key: vault.get(key) for key in VAULT_FIELDS}


def access(vault: dict[str, Any]) -> str:
    if vault.get("can_admin"):
        return "admin"
    return "write" if vault.get("can_write") else "read"


@click.group("vaults", epilog=SKILL_EPILOG, invoke_without_command=True)
@json_option
@server_option
@click.pass_context
def command(ctx: click.Context, as_json: bool, server: str | None) -> int:
    """List your vaults with your role, your access and whether sync includes them.

    The subcommands below create team vaults and manage their members and invitations.
    """
    if ctx.invoked_subcommand is not None:
        return 0
    return run(VaultsOptions(as_json, server), Deps.default(ctx.ensure_object(AppState)))


def run(options: VaultsOptions, deps: Deps) -> int:
    with open_vault(deps, options.server) as vault_api:
        vaults = vault_api.vaults()
    if options.as_json:
        deps.out.json({"items": [vault_json(v) for v in vaults]})
        return 0
    rows = [
        (
            safe(v.get("slug"), max_length=100),
            safe(v.get("name"), max_length=100),
            safe(v.get("type"), max_length=20),
            safe(v.get("role"), max_length=20),
            access(v),
            "yes" if v.get("enabled") else "no",
            str(v.get("skill_count", "")),
        )
        for v in vaults
    ]
    header = ("VAULT", "NAME", "TYPE", "ROLE", "ACCESS", "SYNCED", "SKILLS")
    for line in columns(rows, header):
        deps.out.data(line)
    return 0


def _switch(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"
    doc = (
        "Include VAULT (slug or id) in sync again."
        if enabled
        else "Leave VAULT (slug or id) out of sync; its skills stay on the server."
    )

    @click.command(verb, epilog=SKILL_EPILOG, help=doc)
    @click.argument("vault", metavar="VAULT")
    @json_option
    @server_option
    @click.pass_context
    def switch(ctx: click.Context, vault: str, as_json: bool, server: str | None) -> int:
        options = SwitchOptions(vault, enabled, as_json, server)
        return run_switch(options, Deps.default(ctx.ensure_object(AppState)))

    return switch


def run_switch(options: SwitchOptions, deps: Deps) -> int:
    with open_vault(deps, options.server) as vault_api:
        found = vault_api.find_vault(options.vault)
        vault = vault_api.set_enabled(str(found["id"]), options.enabled)
    if options.as_json:
        deps.out.json({"vault": vault_json(vault)})
        return 0
    state = "included in" if options.enabled else "left out of"
    deps.out.success(f"{safe(vault.get('slug'), max_length=100)} is {state} sync.")
    if not options.enabled:
        deps.out.info("Run `better-skills sync` to remove its skills from your agents.")
    return 0


enable_command = _switch(True)
disable_command = _switch(False)


# -- Team vaults (issue 14, branch teams) ------------------------------------------------------

MEMBER_FIELDS = ("user_id", "name", "email", "role", "enabled", "joined_at")
INVITATION_FIELDS = ("id", "vault", "email", "role", "status", "invited_by", "expires_at", "url")


def _team_command(name: str, help_text: str) -> Callable[[Callable[..., int]], click.Command]:
    """A ``vaults`` subcommand with ``--json`` and ``--server``, given the vault client."""

    def wrap(func: Callable[..., int]) -> click.Command:
        @click.pass_context
        def run_it(ctx: click.Context, /, as_json: bool, server: str | None, **args: Any) -> int:
            deps = Deps.default(ctx.ensure_object(AppState))
            with open_vault(deps, server) as vault_api:
                return int(func(vault_api, deps, as_json, **args) or 0)

        # The arguments and options declared on ``func`` belong to the command.
        run_it.__click_params__ = list(getattr(func, "__click_params__", []))  # type: ignore[attr-defined]
        run_it.__name__ = func.__name__
        decorated = server_option(json_option(run_it))
        return command.command(name, epilog=SKILL_EPILOG, help=help_text)(decorated)

    return wrap


def _short_date(value: object) -> str:
    return safe(value, max_length=40)[:10]


def _vault_done(deps: Deps, as_json: bool, vault: dict[str, Any], message: str) -> int:
    if as_json:
        deps.out.json({"vault": vault_json(vault)})
    else:
        deps.out.success(message)
    return 0


def _invitations_table(deps: Deps, items: list[dict[str, Any]], *, with_vault: bool) -> None:
    rows = []
    for i in items:
        raw = i.get("vault")
        vault: dict[str, Any] = raw if isinstance(raw, dict) else {}
        first = safe(vault.get("slug"), max_length=100) if with_vault else safe(i.get("email"))
        rows.append(
            (
                safe(i.get("id"), max_length=40),
                first,
                safe(i.get("role"), max_length=20),
                _short_date(i.get("expires_at")),
            )
        )
    header = ("INVITATION", "VAULT" if with_vault else "EMAIL", "ROLE", "EXPIRES")
    for line in columns(rows, header):
        deps.out.data(line)


@_team_command("create", "Create a team vault called NAME; you are its owner.")
@click.argument("name")
@click.option("--slug", help="The vault's slug (default: NAME made URL-safe).")
@click.option("--color", metavar="HEX", help="Its colour, #RRGGBB.")
def create_command(
    vault_api: Any, deps: Deps, as_json: bool, name: str, slug: str | None, color: str | None
) -> int:
    vault = vault_api.create_vault(name, slug=slug, color=color)
    slug_text = safe(vault.get("slug"), max_length=100)
    _vault_done(deps, as_json, vault, f"Created the team vault {slug_text}.")
    if not as_json:
        deps.out.info(f"Invite people with `better-skills vaults invite {slug_text} EMAIL`.")
    return 0


@_team_command("invitations", "List the invitations to join a team vault waiting for you.")
def invitations_command(vault_api: Any, deps: Deps, as_json: bool) -> int:
    items = vault_api.invitations()
    if as_json:
        deps.out.json({"items": [{k: i.get(k) for k in INVITATION_FIELDS} for i in items]})
        return 0
    if not items:
        deps.out.info("No invitations are waiting for you.")
        return 0
    _invitations_table(deps, items, with_vault=True)
    deps.out.info(
        "Answer with `better-skills vaults accept ID` or `better-skills vaults decline ID`."
    )
    return 0


@_team_command("accept", "Accept the invitation ID and join its vault.")
@click.argument("invitation_id", metavar="ID")
def accept_command(vault_api: Any, deps: Deps, as_json: bool, invitation_id: str) -> int:
    vault = vault_api.answer_invitation(invitation_id, accept=True)
    slug = safe(vault.get("slug"), max_length=100)
    role = safe(vault.get("role"), max_length=20)
    _vault_done(deps, as_json, vault, f"You joined {slug} as {role}.")
    if not as_json:
        deps.out.info("Run `better-skills sync` to install its skills.")
    return 0


@_team_command("decline", "Decline the invitation ID.")
@click.argument("invitation_id", metavar="ID")
def decline_command(vault_api: Any, deps: Deps, as_json: bool, invitation_id: str) -> int:
    found = vault_api.answer_invitation(invitation_id, accept=False)
    if as_json:
        deps.out.json({"invitation": {k: found.get(k) for k in INVITATION_FIELDS}})
    else:
        deps.out.success("Invitation declined.")
    return 0


@_team_command("members", "List the members of the team vault VAULT (owner or admin).")
@click.argument("vault", metavar="VAULT")
def members_command(vault_api: Any, deps: Deps, as_json: bool, vault: str) -> int:
    members = vault_api.members(vault)
    pending = vault_api.vault_invitations(vault)
    if as_json:
        deps.out.json(
            {
                "items": [{k: m.get(k) for k in MEMBER_FIELDS} for m in members],
                "invitations": [{k: i.get(k) for k in INVITATION_FIELDS} for i in pending],
            }
        )
        return 0
    rows = [
        (
            safe(m.get("name"), max_length=100),
            safe(m.get("email"), max_length=200),
            safe(m.get("role"), max_length=20),
            safe(m.get("user_id"), max_length=40),
            _short_date(m.get("joined_at")),
        )
        for m in members
    ]
    for line in columns(rows, ("NAME", "EMAIL", "ROLE", "USER", "JOINED")):
        deps.out.data(line)
    if pending:
        deps.out.data()
        deps.out.data("Pending invitations:")
        _invitations_table(deps, [i for i in pending if isinstance(i, dict)], with_vault=False)
    return 0


@_team_command("invite", "Invite EMAIL to the team vault VAULT (valid 14 days).")
@click.argument("vault", metavar="VAULT")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["member", "admin"]),
    default="member",
    show_default=True,
    help="member: read only; admin: read, write and manage.",
)
def invite_command(
    vault_api: Any, deps: Deps, as_json: bool, vault: str, email: str, role: str
) -> int:
    found = vault_api.invite(vault, email, role)
    if as_json:
        deps.out.json({"invitation": {k: found.get(k) for k in INVITATION_FIELDS}})
        return 0
    deps.out.success(f"Invited {safe(found.get('email'), max_length=200)} as {role}.")
    deps.out.info("No mail is sent: send them this link, or tell them to run")
    deps.out.info(f"`better-skills vaults accept {safe(found.get('id'), max_length=40)}`:")
    deps.out.data(safe(found.get("url"), max_length=500))
    return 0


@_team_command("revoke", "Revoke the pending invitation ID of the team vault VAULT.")
@click.argument("vault", metavar="VAULT")
@click.argument("invitation_id", metavar="ID")
def revoke_command(
    vault_api: Any, deps: Deps, as_json: bool, vault: str, invitation_id: str
) -> int:
    vault_api.revoke_invitation(vault, invitation_id)
    if as_json:
        deps.out.json({"revoked": invitation_id})
    else:
        deps.out.success("Invitation revoked.")
    return 0


@_team_command("role", "Give USER (user id or email) the role ROLE in the team vault VAULT.")
@click.argument("vault", metavar="VAULT")
@click.argument("user", metavar="USER")
@click.argument("role", type=click.Choice(["member", "admin"]))
def role_command(
    vault_api: Any, deps: Deps, as_json: bool, vault: str, user: str, role: str
) -> int:
    member = vault_api.set_role(vault, user, role)
    if as_json:
        deps.out.json({"member": {k: member.get(k) for k in MEMBER_FIELDS}})
    else:
        deps.out.success(f"{safe(member.get('email'), max_length=200)} is now {role}.")
    return 0


@_team_command("remove", "Remove USER (user id or email) from the team vault VAULT.")
@click.argument("vault", metavar="VAULT")
@click.argument("user", metavar="USER")
def remove_command(vault_api: Any, deps: Deps, as_json: bool, vault: str, user: str) -> int:
    vault_api.remove_member(vault, user)
    if as_json:
        deps.out.json({"removed": user})
    else:
        deps.out.success(
            f"Removed {safe(user, max_length=200)} from {safe(vault, max_length=100)}."
        )
    return 0


@_team_command("leave", "Leave the team vault VAULT (an owner transfers ownership first).")
@click.argument("vault", metavar="VAULT")
def leave_command(vault_api: Any, deps: Deps, as_json: bool, vault: str) -> int:
    vault_api.leave(vault)
    if as_json:
        deps.out.json({"left": vault})
    else:
        deps.out.success(f"You left {safe(vault, max_length=100)}.")
        deps.out.info("Run `better-skills sync` to remove its skills from your agents.")
    return 0


@_team_command("transfer", "Make USER (user id or email) the owner of VAULT; you become admin.")
@click.argument("vault", metavar="VAULT")
@click.argument("user", metavar="USER")
def transfer_command(vault_api: Any, deps: Deps, as_json: bool, vault: str, user: str) -> int:
    found = vault_api.transfer(vault, user)
    slug = safe(found.get("slug"), max_length=100)
    return _vault_done(deps, as_json, found, f"{safe(user, max_length=200)} now owns {slug}.")
