"""``better-skills clone SKILL [--to DIR] [--force]``: a skill's folder, byte for byte.

The files come with ``GET /api/v1/skills/{id}?content=1`` (each checked against its
``sha256``), are written only inside the folder (``skillfmt.paths.safe_join``), and the folder
gets a hidden marker (``.better-skills-clone.json``: skill id, vault, etag) that ``update``
uses to refuse overwriting a newer server copy.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_folder import FolderError, show_path
from better_skills.cli.skill_online import (
    CLONE_MARKER,
    SKILL_EPILOG,
    CloneMarker,
    identifier,
    label,
    marker_for,
    open_vault,
    summary,
    write_marker,
)
from better_skills.client.errors import UnexpectedResponse
from better_skills.skillfmt.paths import check_slug

__all__ = ["CloneOptions", "command", "run", "skill_files"]


@dataclass(frozen=True)
class CloneOptions:
    skill: str
    to: str | None = None
    force: bool = False
    as_json: bool = False
    server: str | None = None


@click.command("clone", epilog=SKILL_EPILOG)
@click.argument("skill", metavar="SKILL")
@click.option("--to", metavar="DIR", help="The folder to write (default ./SLUG).")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context, skill: str, to: str | None, force: bool, as_json: bool, server: str | None
) -> int:
    """Copy SKILL (an id, VAULT/SLUG or SLUG) into a folder, byte for byte.

    Refuses a folder that is not empty unless --force (then the skill's files are written
    over the folder's; other files are kept). `better-skills update SKILL --from DIR` sends
    the folder back.
    """
    options = CloneOptions(skill, to, force, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def skill_files(skill: dict[str, Any]) -> dict[str, bytes]:
    """The files of a ``?content=1`` answer, each checked against its ``sha256``."""
    files: dict[str, bytes] = {}
    if not isinstance(skill, dict) or not isinstance(skill.get("files") or [], list):
        raise UnexpectedResponse("The server's answer is not a skill with its files.")
    for item in skill.get("files") or []:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise UnexpectedResponse("The server sent a skill file without a path.")
        path = item["path"]
        if isinstance(item.get("content"), str):
            try:
                data = item["content"].encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): a traceback
                raise UnexpectedResponse(f"The server sent {safe(path)} garbled.") from None
        elif isinstance(item.get("content_base64"), str):
            try:
                data = base64.b64decode(item["content_base64"], validate=True)
            except ValueError:
                raise UnexpectedResponse(f"The server sent {safe(path)} garbled.") from None
        else:
            raise UnexpectedResponse(f"The server sent {safe(path)} without its content.")
        expected = item.get("sha256")
        if isinstance(expected, str) and hashlib.sha256(data).hexdigest() != expected.lower():
            raise UnexpectedResponse(f"{safe(path)} arrived damaged (its sha256 differs).")
        files[path] = data
    return files


def _placed(root: Path, files: dict[str, bytes]) -> dict[Path, bytes]:
    """Each file's destination, proven inside ``root`` before anything is written."""
    from better_skills.skillfmt.paths import UnsafePath, safe_join

    placed: dict[Path, bytes] = {}
    for path, data in files.items():
        try:
            placed[safe_join(root, path)] = data
        except UnsafePath:
            raise UnexpectedResponse(
                f"The server sent an unsafe file path ({safe(path)}); nothing was written."
            ) from None
    return placed


def _write_into(root: Path, files: dict[str, bytes]) -> None:
    real_root = os.path.realpath(root)
    for destination, data in _placed(root, files).items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        # A folder of the target that is a symbolic link must not lead the write elsewhere.
        parent = os.path.realpath(destination.parent)
        if os.path.commonpath([real_root, parent]) != real_root:
            raise FolderError(
                "symlink", f"{show_path(destination.parent)} leads out of the folder; not written."
            )
        temp = destination.with_name(f".tmp-{os.getpid()}-{destination.name}")
        temp.write_bytes(data)
        os.replace(temp, destination)


def _write_new(root: Path, files: dict[str, bytes], marker: CloneMarker) -> None:
    """A new (or empty) folder, all or nothing: written beside it, then renamed into place."""
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.clone-", dir=root.parent))
    try:
        _write_into(staging, files)
        write_marker(staging, marker)
        if root.is_dir():
            root.rmdir()  # empty, checked above
        os.rename(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run(options: CloneOptions, deps: Deps) -> int:
    out = deps.out
    wanted = identifier(options.skill)
    cwd = deps.cwd or Path.cwd()
    with open_vault(deps, options.server) as vault_api:
        skill = vault_api.resolve(wanted, content=True)
        server = vault_api.api.base_url
    slug = str(skill.get("slug") or "skill")
    if not options.to and check_slug(slug) is not None:
        # The default folder is ./SLUG: a slug from a hostile server such as "../../x" or
        # "/tmp/x" would put the folder anywhere (issue 18). The server only stores valid ones.
        raise UnexpectedResponse(
            f"The server sent a skill slug that is not a folder name ({safe(slug, max_length=80)});"
            " nothing was written. Choose the folder with --to DIR."
        )
    target = cwd / Path(options.to).expanduser() if options.to else cwd / slug
    if target.exists() and not target.is_dir():
        raise FolderError("not_a_directory", f"{show_path(target)} is not a folder.")
    if target.is_dir() and any(target.iterdir()) and not options.force:
        raise FolderError(
            "folder_not_empty",
            f"{show_path(target)} is not empty; use --force to write into it, or --to DIR.",
        )
    files = skill_files(skill)
    root = Path(os.path.abspath(target))
    marker = marker_for(skill, server)
    if root.is_dir() and any(root.iterdir()):
        _write_into(root, files)  # --force: each file replaced atomically, other files kept
        write_marker(root, marker)
    else:
        _write_new(root, files, marker)

    if options.as_json:
        out.json(
            {
                "skill": summary(skill),
                "folder": str(root),
                "files": sorted(files),
                "marker": CLONE_MARKER,
            }
        )
        return 0
    out.success(f"Cloned {label(skill)} into {show_path(root)} ({len(files)} files).")
    out.info(
        f"Send changes back with `better-skills update {label(skill)}"
        f" --from {safe(target, max_length=1000)}`."
    )
    return 0
