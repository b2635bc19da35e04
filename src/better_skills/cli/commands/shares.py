"""Shares: ``share SKILL`` (prints the link), ``shares`` (yours), ``unshare ID``,
``install-share URL|ID`` (into your agents, not your vault) and ``import-share URL|ID`` (a
copy in your personal vault)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from better_skills.cli.common import AppState, Deps, exit_codes_epilog, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_online import identifier
from better_skills.client.errors import ClientError, UnexpectedResponse

if TYPE_CHECKING:
    from better_skills.client.vault import ShareClient

__all__ = [
    "import_command",
    "install_command",
    "list_command",
    "share_command",
    "unshare_command",
]

SHARE_EPILOG = exit_codes_epilog(
    {
        0: "ok",
        1: "error (server unreachable, refused, a skill not installed, ...)",
        2: "usage error (e.g. not a share link or id)",
        3: "not found: no such skill or share (or revoked, or not yours)",
        4: "not authenticated: run `better-skills login`",
        130: "interrupted (Ctrl-C)",
    }
)
BAD_REF = "{!r} is not a share: give its link (https://HOST/share/ID) or its id."


@dataclass(frozen=True)
class ShareRef:
    id: str
    #: The server a link names (scheme://host[:port]); None for a bare id.
    origin: str | None


def share_ref(text: str) -> ShareRef:
    from better_skills.protocol.shares import is_share_id, parse_share_ref

    share_id = parse_share_ref(text)
    if share_id is None:
        raise click.UsageError(BAD_REF.format(safe(text, max_length=120)))
    if is_share_id(text.strip()):
        return ShareRef(share_id, None)
    parts = urlsplit(text.strip())
    return ShareRef(share_id, f"{parts.scheme}://{parts.netloc}")


def _signed_in(deps: Deps, server_flag: str | None) -> ShareClient:
    from better_skills.client.vault import ShareClient

    server = deps.resolve_server(server_flag)
    return ShareClient(deps.api(server, deps.credentials(server)))


def _shown(share: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "url", "skill_id", "slug", "name", "description", "skill_count", "created_at")
    return {key: share.get(key) for key in keys}


# -- share / shares / unshare ---------------------------------------------------------------


@click.command("share", epilog=SHARE_EPILOG)
@click.argument("skill", metavar="SKILL")
@json_option
@server_option
@click.pass_context
def share_command(ctx: click.Context, skill: str, as_json: bool, server: str | None) -> int:
    """Share SKILL (an id, VAULT/SLUG or SLUG) and print its link.

    The share is a frozen copy of the skill and the skills it mentions: later changes do not
    reach it. Anyone with the link can read and install it; revoke it with `unshare`.
    """
    deps = Deps.default(ctx.ensure_object(AppState))
    wanted = identifier(skill)
    with _signed_in(deps, server) as api:
        found = api.resolve(wanted)
        made = api.share(str(found["id"]))
    if as_json:
        deps.out.json(_shown(made))
        return 0
    url = made.get("url")
    if not isinstance(url, str):
        raise UnexpectedResponse("The server's answer has no share link.")
    count = len(made.get("skills") or [])
    extra = f" and {count - 1} skill(s) it mentions" if count > 1 else ""
    name = safe(str(found.get("name")))
    deps.out.info(f"Shared {name}{extra}. Anyone with this link can read it:")
    deps.out.data(safe(url, max_length=500))
    return 0


@click.command("shares", epilog=SHARE_EPILOG)
@json_option
@server_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool, server: str | None) -> int:
    """List your shares that are not revoked, newest first."""
    deps = Deps.default(ctx.ensure_object(AppState))
    with _signed_in(deps, server) as api:
        items = api.shares()
    if as_json:
        deps.out.json({"items": [_shown(s) for s in items]})
        return 0
    if not items:
        deps.out.info("You have no shares. Create one with `better-skills share SKILL`.")
        return 0
    for s in items:
        deps.out.data(
            f"{safe(str(s.get('id')), max_length=40)}  {safe(str(s.get('name')), max_length=80)}"
            f"  {safe(str(s.get('url')), max_length=300)}  ({safe(str(s.get('created_at')))})"
        )
    return 0


@click.command("unshare", epilog=SHARE_EPILOG)
@click.argument("share", metavar="URL|ID")
@json_option
@server_option
@click.pass_context
def unshare_command(ctx: click.Context, share: str, as_json: bool, server: str | None) -> int:
    """Revoke one of your shares: its link stops working at once (copies already made stay)."""
    deps = Deps.default(ctx.ensure_object(AppState))
    ref = share_ref(share)
    with _signed_in(deps, server) as api:
        api.unshare(ref.id)
    if as_json:
        deps.out.json({"id": ref.id, "revoked": True})
    else:
        deps.out.success(f"Revoked share {ref.id}.")
    return 0


# -- import-share -----------------------------------------------------------------------------


@click.command("import-share", epilog=SHARE_EPILOG)
@click.argument("share", metavar="URL|ID")
@json_option
@server_option
@click.pass_context
def import_command(ctx: click.Context, share: str, as_json: bool, server: str | None) -> int:
    """Copy a share's skills into your personal vault (new ids; a taken slug gets -copy)."""
    deps = Deps.default(ctx.ensure_object(AppState))
    ref = share_ref(share)
    with _signed_in(deps, server) as api:
        result = api.import_share(ref.id)
    if as_json:
        deps.out.json(result)
        return 0
    skills = [s for s in result.get("skills") or [] if isinstance(s, dict)]
    names = ", ".join(f"personal/{safe(str(s.get('slug')), max_length=80)}" for s in skills)
    deps.out.success(f"Imported {len(skills)} skill(s) into your personal vault: {names}")
    deps.out.info("Run `better-skills sync` to install them for your agents.")
    return 0


# -- install-share ----------------------------------------------------------------------------


@click.command("install-share", epilog=SHARE_EPILOG)
@click.argument("share", metavar="URL|ID")
@json_option
@server_option
@click.pass_context
def install_command(ctx: click.Context, share: str, as_json: bool, server: str | None) -> int:
    """Install a share's skills for your agents, without copying them into any vault.

    A link names its server; a bare id uses yours. No login is needed. The skills go to
    ~/.better-skills/skills/shared-<id>-<slug> and are linked into each agent's folder;
    `sync` leaves them alone (it neither updates nor removes them).
    """
    from better_skills.cli.local import choose_agents, home_of
    from better_skills.client.vault import ShareClient
    from better_skills.sync.engine import LINK_MODE_ENV
    from better_skills.sync.share_install import install_share, parse_package
    from better_skills.sync.store import store_root

    deps = Deps.default(ctx.ensure_object(AppState))
    out = deps.out
    ref = share_ref(share)
    resolved = deps.resolve_server(ref.origin if ref.origin and server is None else server)
    table, agents = choose_agents(deps)
    if not agents:
        out.error("no agents selected", ["Run `better-skills config` to choose agents."])
        return 1
    if not as_json:
        out.info(f"targets: {', '.join(table.agents[a].name for a in agents)}")
    with ShareClient(deps.api(resolved)) as api:
        data = api.share_bundle(ref.id)
    try:
        package = parse_package(ref.id, data)
    except (ValueError, TypeError) as exc:
        raise UnexpectedResponse(f"The share could not be read: {exc}.") from None
    home = home_of(deps)
    groups = table.install_dirs(agents, home=home, environ=deps.environ, project=None)
    try:
        result = install_share(
            store_root(home),
            groups,
            package,
            server_url=resolved.url,
            copy_only=deps.environ.get(LINK_MODE_ENV, "").strip().lower() == "copy",
        )
    except OSError as exc:
        where = exc.filename or store_root(home)
        raise ClientError(f"cannot use the skills store: {where}: {exc.strerror or exc}") from None
    total = len(package.skills)
    if as_json:
        out.json(
            {
                "share": ref.id,
                "installed": result.installed,
                "skipped": [{"skill": s, "reason": r} for s, r in result.skipped],
                "failed": [{"skill": s, "error": e} for s, e in result.failed],
            }
        )
        return 1 if result.failed else 0
    for label, reason in result.skipped:
        out.warn(f"skipped {safe(label)}: {safe(reason)}")
    for label, error in result.failed:
        out.error(f"failed {safe(label)}: {safe(error)}")
    if result.failed:
        done, failed = len(result.installed), len(result.failed)
        out.error(f"installed {done}/{total} skill(s), {failed} failed")
        return 1
    out.success(f"installed {len(result.installed)} shared skill(s)")
    out.info("shared package installed locally")
    return 0
