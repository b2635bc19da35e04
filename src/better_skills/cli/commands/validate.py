"""``better-skills validate DIR``: check a skill folder before it is uploaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from better_skills.cli.common import AppState, Deps, json_option
from better_skills.cli.output import safe
from better_skills.cli.skill_folder import ignored_server_option, show_path

__all__ = ["ValidateOptions", "command", "run"]

EPILOG = "Works offline. Exit codes: 0 valid, 1 invalid (or warnings with --strict), 2 usage."


@dataclass(frozen=True)
class ValidateOptions:
    folder: Path
    strict: bool = False
    as_json: bool = False


@click.command("validate", epilog=EPILOG)
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@json_option
@ignored_server_option
@click.pass_context
def command(
    ctx: click.Context, folder: Path, strict: bool, as_json: bool, _server: str | None
) -> int:
    """Check the skill folder DIR: the server's rules (errors), the Agent Skills specification
    and mention coverage (warnings).

    Errors are what the server would refuse: SKILL.md and its frontmatter (name, description),
    paths, hidden files, sizes, mention syntax, drafts [[resource:new:PATH]] that name no file.
    Warnings do not fail the check unless --strict: specification findings the server allows
    (name format, unknown fields, folder name) and files no mention reaches.
    """
    return run(ValidateOptions(folder, strict, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: ValidateOptions, deps: Deps) -> int:
    from better_skills.skillfmt.rules import check_folder  # YAML and skills-ref: only here

    report = check_folder((deps.cwd or Path.cwd()) / options.folder)
    errors, warnings = report.errors, report.warnings
    ok = not errors and not (options.strict and warnings)
    out = deps.out
    if options.as_json:
        out.json(
            {
                "ok": ok,
                "errors": [p.as_dict() for p in errors],
                "warnings": [p.as_dict() for p in warnings],
                "files": len(report.files),
                "mentions": report.mentions,
            }
        )
        return 0 if ok else 1
    for problem in [*errors, *warnings]:
        kind = "error" if problem.severity == "error" else "warn"
        colour = "red" if kind == "error" else "yellow"
        where = _where(problem.path, problem.line)
        mark = out.style(out.symbol(kind), colour, "bold", err=False)
        out.data(f"{mark} {where}{safe(problem.message, max_length=2000)} [{problem.code}]")
    summary = (
        f"{len(report.files)} file(s), {report.mentions} mention(s), "
        f"{_count(len(errors), 'error')}, {_count(len(warnings), 'warning')}"
    )
    folder = show_path(options.folder)
    if ok:
        out.success(f"{folder} is valid: {summary}.")
    elif errors:
        out.error(f"{folder} is not valid: {summary}.")
    else:
        out.error(f"{folder} has warnings, and --strict makes them fail: {summary}.")
    return 0 if ok else 1


def _where(path: str | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{show_path(path)}:{line}: " if line is not None else f"{show_path(path)}: "


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
