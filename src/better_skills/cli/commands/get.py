"""``better-skills get SKILL [--file PATH]``: a skill's details and its ``SKILL.md``, or the
content of one file."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_online import (
    SKILL_EPILOG,
    clean_block,
    identifier,
    label,
    open_vault,
    short_time,
    summary,
)
from better_skills.client.errors import ClientError

__all__ = ["GetOptions", "command", "run"]


@dataclass(frozen=True)
class GetOptions:
    skill: str
    file: str | None = None
    as_json: bool = False
    server: str | None = None


@click.command("get", epilog=SKILL_EPILOG)
@click.argument("skill", metavar="SKILL")
@click.option("--file", "file_", metavar="PATH", help="Print this file of the skill instead.")
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context, skill: str, file_: str | None, as_json: bool, server: str | None
) -> int:
    """Show SKILL (an id, VAULT/SLUG or SLUG): its details and its SKILL.md.

    With --file, print that file's content as it is (bytes unchanged when stdout is not a
    terminal, so `get SKILL --file logo.png > logo.png` works).
    """
    options = GetOptions(skill, file_, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def _files(skill: dict[str, Any]) -> list[dict[str, Any]]:
    files = skill.get("files")
    return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []


def run(options: GetOptions, deps: Deps) -> int:
    out = deps.out
    wanted = identifier(options.skill)
    path = options.file or "SKILL.md"
    with open_vault(deps, options.server) as vault_api:
        skill = vault_api.resolve(wanted)
        data = vault_api.file(str(skill["id"]), path)
    text: str | None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None

    if options.as_json:
        import base64

        body: dict[str, Any] = {"path": path, "size": len(data)}
        if text is not None:
            body["content"] = text
        else:
            body["content_base64"] = base64.b64encode(data).decode()
        result: dict[str, Any] = {"skill": summary(skill), "file": body}
        if options.file is None:
            result["skill"]["frontmatter"] = skill.get("frontmatter")
            result["skill"]["files"] = [
                {k: f.get(k) for k in ("path", "kind", "size", "sha256", "media_type")}
                for f in _files(skill)
            ]
        out.json(result)
        return 0

    if options.file is not None:
        if not _isatty(out.stdout):
            sys.stdout.buffer.write(data)  # byte for byte into a pipe or file
            sys.stdout.buffer.flush()
        elif text is None:
            raise ClientError(
                f"{safe(path)} is a binary file ({len(data)} bytes); not printed to a terminal.",
                hints=(f"Redirect it: better-skills get {options.skill} --file {path} > FILE",),
            )
        else:
            out.data(clean_block(text))
        return 0

    out.table(
        [
            ("Skill", label(skill)),
            ("Name", safe(skill.get("name"), max_length=100)),
            ("Description", safe(skill.get("description"), max_length=1024)),
            ("Id", safe(skill.get("id"), max_length=40)),
            ("Updated", short_time(skill.get("updated_at"))),
            ("Files", ", ".join(safe(f.get("path"), max_length=200) for f in _files(skill))),
        ]
    )
    out.data()
    out.data(clean_block(text if text is not None else ""))
    return 0


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
