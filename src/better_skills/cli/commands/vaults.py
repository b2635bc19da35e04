"""``better-skills vaults``, ``enable VAULT``, ``disable VAULT``: your vaults, and the per-vault
switch (a disabled vault is left out of sync)."""

from __future__ import annotations

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


@click.command("vaults", epilog=SKILL_EPILOG)
@json_option
@server_option
@click.pass_context
def command(ctx: click.Context, as_json: bool, server: str | None) -> int:
    """List your vaults with your role, your access and whether sync includes them."""
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
