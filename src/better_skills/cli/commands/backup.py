"""``better-skills backup`` (original-system.md §6.9): copy local, unmanaged skill folders into
a backup folder (``raw/`` untouched, ``work/`` to edit) before onboarding them."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option
from better_skills.cli.local import choose_agents, home_of, parse_agent_list
from better_skills.sync.agents import load_table
from better_skills.sync.store import MARKER_NAME, now_iso

__all__ = ["BackupOptions", "command", "discover", "run"]


@dataclass(frozen=True)
class BackupOptions:
    source: str | None = None
    out: str | None = None
    agents: tuple[str, ...] = ()
    as_json: bool = False


@click.command("backup", epilog=COMMAND_EPILOG)
@click.option("--source", metavar="DIR", help="Back up this folder (itself may be a skill).")
@click.option("--out", "out_dir", metavar="DIR", help="Where to write (default: a temp folder).")
@click.option("--agent", "agents", multiple=True, metavar="ID", help="Back up this agent's folder.")
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    source: str | None,
    out_dir: str | None,
    agents: tuple[str, ...],
    as_json: bool,
) -> int:
    """Copy your own skill folders (those sync does not manage) into a backup folder.

    Without --source or --agent, the folders of your configured agents are backed up.
    """
    options = BackupOptions(source, out_dir, agents, as_json)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def discover(root: Path, *, root_is_skill: bool) -> list[Path]:
    """Folders holding a SKILL.md under ``root`` (depth first, directory symlinks followed,
    each real folder once); nested skills are found too."""
    found: list[Path] = []
    seen: set[str] = set()

    def walk(folder: Path, is_root: bool) -> None:
        real = os.path.realpath(folder)
        if real in seen:
            return
        seen.add(real)
        if (not is_root or root_is_skill) and (folder / "SKILL.md").is_file():
            found.append(folder)
        try:
            children = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for child in children:
            if child.is_dir():  # follows symlinks, as the original
                walk(Path(child.path), False)

    if root.is_dir():
        walk(root, True)
    return found


def run(options: BackupOptions, deps: Deps) -> int:
    out = deps.out
    home = home_of(deps)
    cwd = deps.cwd or Path.cwd()
    table = load_table()
    roots: list[tuple[Path, bool]]
    if options.source:
        roots = [((cwd / Path(options.source).expanduser()).resolve(), True)]
    else:
        if options.agents:
            try:
                agents = parse_agent_list(",".join(options.agents), table)
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
        else:
            table, agents = choose_agents(deps)
        if not agents:
            out.error("no agents selected (run better-skills config or pass --agent)")
            return 1
        groups = table.install_dirs(agents, home=home, environ=deps.environ)
        roots = [(g.path, False) for g in groups]

    if options.out:
        target = (cwd / Path(options.out).expanduser()).resolve()
    else:
        stamp = now_iso(datetime.now(UTC)).replace(":", "-").replace(".", "-")
        target = Path(tempfile.gettempdir()) / "better-skills-backup" / stamp
    raw, work = target / "raw", target / "work"
    raw.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)

    discovered = copied = skipped = 0
    failures: list[tuple[str, str]] = []
    for root, root_is_skill in roots:
        for folder in discover(root, root_is_skill=root_is_skill):
            discovered += 1
            if (folder / MARKER_NAME).exists():
                skipped += 1  # managed by better-skills sync
                continue
            name = f"{copied + len(failures) + 1:03d}-{folder.name}"
            try:
                shutil.copytree(folder, raw / name, symlinks=False)
                shutil.copytree(folder, work / name, symlinks=False)
                copied += 1
            except (OSError, shutil.Error) as exc:
                failures.append((str(folder), str(exc)))

    summary = {
        "tmp": str(target),
        "raw": str(raw),
        "work": str(work),
        "discovered": discovered,
        "copied": copied,
        "skipped": skipped,
        "failed": [{"source": s, "error": e} for s, e in failures],
    }
    if options.as_json:
        out.json(summary)
    else:
        out.info("backup complete")
        out.data(f"tmp: {target}")
        out.data(f"raw: {raw}")
        out.data(f"work: {work}")
        out.data(
            f"summary: discovered={discovered}, copied={copied}, skipped={skipped}, "
            f"failed={len(failures)}"
        )
        for source, error in failures:
            out.error(f"{source}: {error}")
        if not failures:
            out.info("next: edit work/ if needed, then run create/update from work/ folders")
    return 1 if failures else 0
