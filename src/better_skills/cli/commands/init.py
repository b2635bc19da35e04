"""``better-skills init NAME``: scaffold a new skill folder that passes ``validate``."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import click

from better_skills.cli.common import AppState, Deps, json_option
from better_skills.cli.skill_folder import (
    FOLDER_EPILOG,
    FolderError,
    ignored_server_option,
    show_path,
)

__all__ = ["InitOptions", "command", "run", "scaffold"]

#: The Agent Skills specification's name: lowercase letters and digits, single hyphens between.
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: skillfmt.rules.MAX_NAME, copied so that init does not load the YAML parser (13 ms) for
#: one number; tests/cli/test_cli_init.py keeps the two equal.
MAX_NAME = 64


@dataclass(frozen=True)
class InitOptions:
    name: str
    to: Path | None = None
    as_json: bool = False


@click.command("init", epilog=FOLDER_EPILOG)
@click.argument("name")
@click.option(
    "--to",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="The folder to create (default ./NAME). It may exist if it is empty.",
)
@json_option
@ignored_server_option
@click.pass_context
def command(
    ctx: click.Context, name: str, to: Path | None, as_json: bool, _server: str | None
) -> int:
    """Create a skill folder with a SKILL.md that passes `better-skills validate`.

    NAME is the skill's name: lowercase letters, digits and single hyphens (e.g. deploy-app),
    at most 64 characters. Nothing is overwritten: a folder that exists must be empty.
    """
    return run(InitOptions(name, to, as_json), Deps.default(ctx.ensure_object(AppState)))


def scaffold(name: str) -> str:
    """The new ``SKILL.md``."""
    return f"""---
name: {name}
description: Say what this skill does and when an agent should use it (one or two sentences).
---

# {name}

Write the instructions an agent follows, step by step.

## When to use

- ...

## Steps

1. ...

Put longer material in `references/`, scripts in `scripts/` and templates in `assets/`, and
mention each file where it is needed, for example `[[resource:new:references/guide.md]]`
(run `better-skills validate` to check that every draft mention names a file).
"""


def run(options: InitOptions, deps: Deps) -> int:
    out = deps.out
    name = options.name
    if len(name) > MAX_NAME or not NAME.fullmatch(name):
        message = (
            f"{show_path(name)!r} is not a skill name: use lowercase letters, digits and single "
            f"hyphens, at most {MAX_NAME} characters (e.g. deploy-app)."
        )
        raise click.UsageError(message)
    base = deps.cwd or Path.cwd()
    folder = base / (options.to if options.to is not None else Path(name))
    shown = show_path(options.to if options.to is not None else name)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            raise FolderError("not_a_directory", f"{shown} exists and is not a folder.")
        if any(os.scandir(folder)):
            raise FolderError(
                "folder_not_empty",
                f"{shown} already exists and is not empty; choose another folder with --to.",
            )
    created = not folder.exists()
    skill_md = folder / "SKILL.md"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(skill_md, "xb") as handle:  # x: never over a file that appeared meanwhile
            try:
                handle.write(scaffold(name).encode())
            except BaseException:
                skill_md.unlink()
                raise
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise FolderError("write_failed", f"Cannot create {shown}: {exc.strerror}.") from exc
    if options.as_json:
        out.json({"name": name, "folder": str(folder), "files": ["SKILL.md"]})
    else:
        out.success(f"Created {shown}/SKILL.md.")
        out.info(f"Edit it, then check it with `better-skills validate {shown}`.")
        if folder.name != name:
            out.warn(
                f"The folder name {folder.name!r} differs from the skill name {name!r}; "
                "the Agent Skills specification wants them equal (validate warns)."
            )
    return 0
