"""``better-skills adopt DIR...``: upload skill folders of your own into a vault, then let sync
manage them (the onboarding path).

Each folder is checked with the server's rules first, uploaded (``POST /api/v1/skills``), then
**moved** (never deleted) to ``~/.better-skills/adopted/<time>/``, so the agent does not see the
skill twice; a sync then links the vault's copy into every chosen agent's folder.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option, server_option
from better_skills.cli.local import home_of
from better_skills.cli.output import safe
from better_skills.client.errors import ClientError
from better_skills.protocol.errors import OAuthError
from better_skills.sync.store import MARKER_NAME, now_iso

__all__ = ["AdoptOptions", "command", "run", "uploads"]


@dataclass(frozen=True)
class AdoptOptions:
    folders: tuple[str, ...]
    vault: str | None = None
    no_sync: bool = False
    as_json: bool = False
    server: str | None = None


@click.command("adopt", epilog=COMMAND_EPILOG)
@click.argument("folders", nargs=-1, required=True, metavar="DIR...")
@click.option("--vault", metavar="SLUG", help="The vault to upload into (default: personal).")
@click.option("--no-sync", is_flag=True, help="Upload and move only; do not sync afterwards.")
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context,
    folders: tuple[str, ...],
    vault: str | None,
    no_sync: bool,
    as_json: bool,
    server: str | None,
) -> int:
    """Upload your own skill folders into a vault, then manage them with sync.

    Each DIR is validated, uploaded, and moved to ~/.better-skills/adopted/ (kept, not deleted);
    then a sync links the vault's copy into your agents' folders. Exit 1 if any folder failed.
    """
    options = AdoptOptions(folders, vault, no_sync, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def uploads(files: dict[str, bytes]) -> list[dict[str, str]]:
    """The wire form of a folder: UTF-8 text as ``content``, other bytes as ``content_base64``."""
    out = []
    for path, data in sorted(files.items()):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\0" not in text:
            out.append({"path": path, "content": text})
        else:
            out.append({"path": path, "content_base64": base64.b64encode(data).decode()})
    return out


def run(options: AdoptOptions, deps: Deps) -> int:
    from better_skills.skillfmt.rules import check_folder

    out = deps.out
    server = deps.resolve_server(options.server)
    credential = deps.credentials(server)
    cwd = deps.cwd or Path.cwd()
    stamp = now_iso(datetime.now(UTC)).replace(":", "-").replace(".", "-")
    backup = home_of(deps) / ".better-skills" / "adopted" / stamp
    adopted: list[dict[str, Any]] = []
    failed: list[tuple[str, str]] = []

    with deps.api(server, credential) as api:
        for raw in options.folders:
            folder = cwd / Path(raw).expanduser()
            label = str(folder)
            if not (folder / "SKILL.md").is_file():
                failed.append((label, "not a skill folder (no SKILL.md)"))
                continue
            if (folder / MARKER_NAME).exists():
                failed.append((label, "already managed by better-skills sync"))
                continue
            report = check_folder(folder)
            if report.errors:
                first = report.errors[0]
                where = f"{first.path}: " if first.path else ""
                more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
                failed.append(
                    (label, f"{where}{first.message}{more}; see `better-skills validate`")
                )
                continue
            body: dict[str, Any] = {"files": uploads(report.files)}
            if options.vault:
                body["vault"] = options.vault
            try:
                skill = api.request_json(
                    "POST", "/api/v1/skills", json_body=body, expect=(201,), auth=True
                )
            except OAuthError as exc:
                failed.append((label, f"refused by the server: {exc.description or exc.error}"))
                continue
            # Moved, not deleted: the person can always get the original back.
            backup.mkdir(parents=True, exist_ok=True)
            moved_to = backup / folder.name
            try:
                shutil.move(os.fspath(folder), os.fspath(moved_to))
            except OSError as exc:
                failed.append((label, f"uploaded, but could not be moved aside: {exc.strerror}"))
                continue
            vault = skill.get("vault") or {}
            adopted.append(
                {
                    "folder": label,
                    "id": skill.get("id"),
                    "skill": f"{vault.get('slug')}/{skill.get('slug')}",
                    "movedTo": str(moved_to),
                }
            )

    synced = None
    if adopted and not options.no_sync:
        from better_skills.cli.commands import sync as sync_command

        synced = sync_command.run(sync_command.SyncOptions(server=options.server), deps)
    if options.as_json:
        out.json({"adopted": adopted, "failed": [{"folder": f, "error": e} for f, e in failed]})
    else:
        for item in adopted:
            out.info(f"adopted {safe(item['folder'])} as {safe(item['skill'])}")
            out.info(f"  the original is kept at {item['movedTo']}")
        for label, error in failed:
            out.error(f"{safe(label)}: {safe(error)}")
    if not adopted and not failed:
        raise ClientError("nothing to adopt")
    return 1 if failed or (synced not in (None, 0)) else 0
