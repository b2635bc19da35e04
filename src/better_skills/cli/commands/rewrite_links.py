"""``better-skills rewrite-links DIR``: local links to files of the folder become draft
mentions ``[[resource:new:PATH]]`` (original-system.md §4.6)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from better_skills.cli.common import AppState, Deps, json_option
from better_skills.cli.skill_folder import (
    FOLDER_EPILOG,
    FolderError,
    ignored_server_option,
    show_path,
    write_files,
)

__all__ = ["RewriteLinksOptions", "command", "run"]

#: The files whose links are rewritten, besides SKILL.md (as the original).
TEXT_SUFFIXES = (".md", ".mdx", ".txt")


@dataclass(frozen=True)
class RewriteLinksOptions:
    folder: Path
    dry_run: bool = False
    as_json: bool = False


@click.command("rewrite-links", epilog=FOLDER_EPILOG)
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@json_option
@ignored_server_option
@click.pass_context
def command(
    ctx: click.Context, folder: Path, dry_run: bool, as_json: bool, _server: str | None
) -> int:
    """Turn local links to files of the folder DIR into draft mentions [[resource:new:PATH]].

    Rewrites SKILL.md (not its frontmatter) and the folder's .md, .mdx and .txt files: Markdown
    links [text](path) (not images), autolinks <path>, wiki links [[path]] and bare paths, when
    they name a file of the folder (from the root, relative to the file, or by a file name only
    one file has). Code spans and fenced code blocks are left alone; a second run changes
    nothing. Files that do not change are not touched.
    """
    return run(
        RewriteLinksOptions(folder, dry_run, as_json), Deps.default(ctx.ensure_object(AppState))
    )


def run(options: RewriteLinksOptions, deps: Deps) -> int:
    from better_skills.skillfmt.mentions import is_text
    from better_skills.skillfmt.rewrite import rewrite_links
    from better_skills.skillfmt.rules import SKILL_MD, read_folder

    out = deps.out
    root = deps.cwd / options.folder if deps.cwd else options.folder
    shown = show_path(options.folder)
    if not root.exists():
        raise FolderError("not_found", f"Folder not found: {shown}.")
    if not root.is_dir():
        raise FolderError("not_a_directory", f"{shown} is not a folder.")
    if not (root / SKILL_MD).is_file():
        raise FolderError("missing_skill_md", f"SKILL.md not found in {shown}.")

    files, problems = read_folder(root)
    for problem in problems:
        where = f"{show_path(problem.path)}: " if problem.path else ""
        out.warn(f"{where}{problem.message} (skipped)")
    texts = {
        path: data.decode("utf-8")
        for path, data in files.items()
        if (path == SKILL_MD or path.lower().endswith(TEXT_SUFFIXES)) and is_text(data)
    }
    known = [path for path in files if path != SKILL_MD]
    changed = rewrite_links(texts, known)
    total = sum(count for _, count in changed.values())

    if not options.dry_run and changed:
        try:
            write_files(root, {path: text.encode("utf-8") for path, (text, _) in changed.items()})
        except OSError as exc:
            raise FolderError("write_failed", f"Cannot write in {shown}: {exc}.") from exc

    if options.as_json:
        out.json(
            {
                "dryRun": options.dry_run,
                "replacements": total,
                "files": [{"path": p, "replacements": c} for p, (_, c) in changed.items()],
                "scanned": len(texts),
            }
        )
        return 0
    out.data("dry run complete" if options.dry_run else "link rewrite complete")
    if not changed:
        out.data("no local links to rewrite")
    else:
        verb = "would be rewritten" if options.dry_run else "rewritten"
        out.data(f"{total} link(s) {verb} in {len(changed)} file(s)")
        for path, (_, count) in changed.items():
            out.data(f"- {show_path(path)}: {count}")
    out.data(f"scanned {len(texts)} file(s)")
    return 0
