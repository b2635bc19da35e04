"""What the online skill commands (list, get, clone, create, update, ...) share: the vault
client of the signed-in user, ``SKILL`` resolution, the clone marker, and how a skill is shown.

Every server string passes through :func:`~better_skills.cli.output.safe` before it is printed;
``--json`` output keeps the server's values (JSON escapes them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from better_skills.cli.common import Deps, exit_codes_epilog
from better_skills.cli.output import safe
from better_skills.client.errors import ClientError

if TYPE_CHECKING:
    from better_skills.client.vault import Identifier, VaultClient

__all__ = [
    "CLONE_MARKER",
    "SKILL_EPILOG",
    "CloneMarker",
    "identifier",
    "label",
    "open_vault",
    "read_marker",
    "summary",
    "write_marker",
]

#: Hidden (so never uploaded): where a cloned folder came from, for ``update``'s ``If-Match``.
CLONE_MARKER = ".better-skills-clone.json"

SKILL_EPILOG = exit_codes_epilog(
    {
        0: "ok",
        1: "error (server unreachable, refused, invalid folder, ...)",
        2: "usage error",
        3: "not found: no such skill, vault or file (or not yours)",
        4: "not authenticated: run `better-skills login`",
        5: "conflict: ambiguous slug, taken slug, or changed on the server since the clone",
        130: "interrupted (Ctrl-C)",
    }
)

#: The ``SkillSummary`` fields of api.md: what ``--json`` prints for a skill.
SUMMARY_FIELDS = (
    "id",
    "vault",
    "slug",
    "name",
    "description",
    "content_hash",
    "etag",
    "file_count",
    "size",
    "created_at",
    "updated_at",
)


def open_vault(deps: Deps, server_flag: str | None) -> VaultClient:
    """The vault API of the server, as the signed-in user (exit 4 without a session)."""
    from better_skills.client.vault import VaultClient

    server = deps.resolve_server(server_flag)
    return VaultClient(deps.api(server, deps.credentials(server)))


def identifier(text: str) -> Identifier:
    """``SKILL`` parsed; a malformed one is a usage error (exit 2)."""
    from better_skills.client.vault import InvalidIdentifier, parse_identifier

    try:
        return parse_identifier(text)
    except InvalidIdentifier as exc:
        raise click.UsageError(str(exc)) from None


def summary(skill: Mapping[str, Any]) -> dict[str, Any]:
    """A skill's stable ``--json`` form: the contract's ``SkillSummary`` fields."""
    return {key: skill.get(key) for key in SUMMARY_FIELDS}


def vault_slug(skill: Mapping[str, Any]) -> str:
    vault = skill.get("vault")
    return str(vault.get("slug") or "") if isinstance(vault, dict) else ""


def label(skill: Mapping[str, Any]) -> str:
    """``vault/slug``, safe to print."""
    return safe(f"{vault_slug(skill)}/{skill.get('slug')}", max_length=250)


def short_time(value: object) -> str:
    """``2026-11-30 04:56`` from an ISO time (UTC), for tables."""
    text = safe(value or "", max_length=40)
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def columns(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    all_rows = [header, *rows]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(header) - 1)]
    lines = []
    for row in all_rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


@dataclass(frozen=True)
class CloneMarker:
    """What ``clone`` (and ``create``) record in a folder: which skill, and its ``etag``."""

    skill_id: str
    vault: str
    slug: str
    etag: str | None
    server: str

    def as_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "skill_id": self.skill_id,
            "vault": self.vault,
            "slug": self.slug,
            "etag": self.etag,
            "server": self.server,
        }


def read_marker(folder: Path) -> CloneMarker | None:
    """The folder's clone marker, or ``None`` (none, or unreadable: then ``update`` cannot
    check for a newer server copy, and says so)."""
    try:
        data = json.loads((folder / CLONE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("skill_id"), str):
        return None
    etag = data.get("etag")
    return CloneMarker(
        skill_id=data["skill_id"],
        vault=str(data.get("vault") or ""),
        slug=str(data.get("slug") or ""),
        etag=etag if isinstance(etag, str) else None,
        server=str(data.get("server") or ""),
    )


def marker_for(skill: Mapping[str, Any], server: str) -> CloneMarker:
    return CloneMarker(
        skill_id=str(skill.get("id")),
        vault=vault_slug(skill),
        slug=str(skill.get("slug") or ""),
        etag=skill.get("etag") if isinstance(skill.get("etag"), str) else None,
        server=server,
    )


def write_marker(folder: Path, marker: CloneMarker) -> None:
    """Write the marker atomically (a temporary file renamed over it)."""
    target = folder / CLONE_MARKER
    temp = folder / f"{CLONE_MARKER}.tmp-{os.getpid()}"
    try:
        temp.write_text(json.dumps(marker.as_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ClientError(f"Cannot write {target}: {exc.strerror or exc}.") from None


def clean_block(text: str) -> str:
    """A file's text for a terminal: lines and indentation kept, each line cleaned of escape
    sequences and control characters (see :func:`~better_skills.client.text.clean`)."""
    from better_skills.client.text import clean

    lines = []
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" \t"))
        lines.append(line[:indent] + clean(line[indent:], max_length=100_000))
    return "\n".join(lines)


def checked_folder(deps: Deps, folder: str) -> tuple[Path, dict[str, bytes]]:
    """``folder`` checked with the server's rules (``skillfmt.rules.check_folder``) before
    anything is sent: errors stop the command (exit 1), warnings are shown on stderr."""
    from better_skills.cli.skill_folder import FolderError, show_path
    from better_skills.skillfmt.rules import check_folder

    root = (deps.cwd or Path.cwd()) / Path(folder).expanduser()
    report = check_folder(root)
    for problem in report.warnings:
        where = f"{problem.path}: " if problem.path else ""
        deps.out.warn(f"{safe(where)}{safe(problem.message)}")
    if report.errors:
        for problem in report.errors[1:]:
            where = f"{problem.path}: " if problem.path else ""
            deps.out.error(f"{safe(where)}{safe(problem.message)}")
        first = report.errors[0]
        where = f"{first.path}: " if first.path else ""
        error = FolderError(
            "invalid_skill",
            f"{show_path(root)} is not a valid skill ({where}{first.message}); nothing was sent.",
        )
        error.data["problems"] = [problem.as_dict() for problem in report.errors]  # for --json
        raise error
    return root, report.files


def uploads(files: Mapping[str, bytes]) -> list[dict[str, str]]:
    """The wire form of a folder (``FileUpload``): UTF-8 text as ``content``, anything else
    as ``content_base64``, so binary files arrive byte for byte."""
    from better_skills.cli.commands.adopt import uploads as adopt_uploads

    return adopt_uploads(dict(files))
