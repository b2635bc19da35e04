"""The rules a skill must pass.

:func:`check_skill` is the server's rules: everything the server refuses that needs no database.
:func:`check_folder` is what ``better-skills validate`` runs: reading the folder, the server's
rules, the Agent Skills specification (through ``skills-ref``) and mention coverage.

Problem codes (stable; ``--json`` and the server's ``validation_failed`` carry them):

========================  =====================================================================
``missing_skill_md``      no ``SKILL.md`` at the root
``skill_md_not_text``     ``SKILL.md`` is not UTF-8 text
``invalid_frontmatter``   no frontmatter block, bad YAML, not a mapping
``invalid_name``          ``name`` missing, empty, not a string, or over 64 characters
``invalid_description``   ``description`` missing, empty, not a string, or over 1,024 characters
``invalid_compatibility`` ``compatibility`` not a string or over 500 characters
``invalid_path``          a path breaks a rule of :func:`~better_skills.skillfmt.paths.check_path`
``duplicate_path``        two paths are equal after Unicode NFC normalisation
``file_too_large``        one file over the per-file limit
``skill_too_large``       all files together over the per-skill limit
``too_many_files``        more files than the per-skill limit
``invalid_mention``       a mention-like token whose target is not a uuid or a draft
``missing_draft_target``  a draft ``[[resource:new:<path>]]`` names no file of the skill
``not_a_directory``       (folders) the folder does not exist or is not a folder
``unreadable``            (folders) a file could not be read, or is not a regular file
``symlink``               (folders) a symbolic link leaves the folder, or is broken
``spec``                  (warning) an Agent Skills specification finding the server allows
``unreferenced_file``     (warning) no mention reaches this file
========================  =====================================================================

About 450 lines, a quarter of them the table above: the rules, and the folder walk that feeds
them, stay in one module so that ``validate`` and the server refuse the same things by
construction.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from better_skills.skillfmt import mentions
from better_skills.skillfmt.frontmatter import FrontmatterError, parse_skill_md
from better_skills.skillfmt.paths import check_path, nfc, normalize_reference

__all__ = [
    "CLONE_MARKERS",
    "RESOURCE_IDS_FILE",
    "Limits",
    "Problem",
    "Report",
    "check_folder",
    "check_skill",
    "check_skill_frontmatter",
    "read_folder",
]

MiB = 1024 * 1024
SKILL_MD = "SKILL.md"
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500

#: The original CLI's clone marker: ``{resource uuid: path}``. Hidden, so never uploaded.
RESOURCE_IDS_FILE = ".resource-ids.json"
#: Hidden files a clone leaves in the folder (skipped like every hidden file).
CLONE_MARKERS = (RESOURCE_IDS_FILE,)


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = MiB
    max_skill_bytes: int = 10 * MiB
    max_files: int = 1000


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    path: str | None = None
    line: int | None = None
    severity: str = "error"  # or "warning"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "path": self.path, "line": self.line}


@dataclass
class Report:
    files: dict[str, bytes]
    problems: list[Problem] = field(default_factory=list)
    mentions: int = 0  # distinct mentions and drafts over all text files

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_skill(files: Mapping[str, bytes], limits: Limits = Limits()) -> list[Problem]:
    """Every problem the server would refuse this set of files for (errors only)."""
    return _check(files, limits).problems


def check_skill_frontmatter(
    files: Mapping[str, bytes], limits: Limits = Limits()
) -> tuple[list[Problem], dict[str, Any] | None]:
    """:func:`check_skill`, and the frontmatter it parsed (None without a usable
    ``SKILL.md``), so that a caller storing the skill does not parse the YAML again."""
    checked = _check(files, limits)
    return checked.problems, checked.frontmatter


@dataclass
class _Checked:
    """What checking found, kept so that ``check_folder`` reads nothing twice."""

    problems: list[Problem]
    frontmatter: dict[str, Any] | None  # None: no usable SKILL.md
    tokens: dict[str, list[mentions.Token]]  # live tokens of each text file


def _check(files: Mapping[str, bytes], limits: Limits) -> _Checked:
    problems: list[Problem] = []
    if len(files) > limits.max_files:
        problems.append(
            Problem("too_many_files", f"A skill holds at most {limits.max_files} files.")
        )
    total = sum(len(data) for data in files.values())
    if total > limits.max_skill_bytes:
        problems.append(
            Problem(
                "skill_too_large",
                f"The files add up to {total} bytes; a skill holds at most "
                f"{limits.max_skill_bytes} bytes.",
            )
        )
    seen: dict[str, str] = {}
    for path in sorted(files):
        problem = check_path(path)
        if problem is not None:
            problems.append(Problem("invalid_path", problem, path))
        normal = nfc(path)
        if normal in seen:
            problems.append(
                Problem(
                    "duplicate_path",
                    f"{path!r} and {seen[normal]!r} are the same path after Unicode normalisation.",
                    path,
                )
            )
        else:
            seen[normal] = path
        size = len(files[path])
        if size > limits.max_file_bytes:
            problems.append(_too_large(path, size, limits))

    frontmatter: dict[str, Any] | None = None
    if SKILL_MD not in files:
        problems.append(Problem("missing_skill_md", "SKILL.md is missing.", SKILL_MD))
    else:
        frontmatter, skill_md_problems = _check_skill_md(files[SKILL_MD])
        problems += skill_md_problems

    all_tokens: dict[str, list[mentions.Token]] = {}
    for path in sorted(files):
        data = files[path]
        if b"[[" not in data or not mentions.is_text(data):
            continue
        tokens, syntax = mentions.analyse(data.decode("utf-8"))
        all_tokens[path] = tokens
        for line, message in syntax:
            problems.append(Problem("invalid_mention", message, path, line))
        for token in tokens:
            if token.draft and nfc(token.target) not in seen:
                problems.append(
                    Problem(
                        "missing_draft_target",
                        f"[[resource:new:{token.target}]] names no file of this skill.",
                        path,
                        token.line,
                    )
                )
    return _Checked(problems, frontmatter, all_tokens)


def _too_large(path: str, size: int, limits: Limits) -> Problem:
    return Problem(
        "file_too_large",
        f"The file has {size} bytes; the limit is {limits.max_file_bytes} bytes.",
        path,
    )


def _check_skill_md(data: bytes) -> tuple[dict[str, Any] | None, list[Problem]]:
    if not mentions.is_text(data):
        return None, [Problem("skill_md_not_text", "SKILL.md is not UTF-8 text.", SKILL_MD)]
    try:
        meta = parse_skill_md(data.decode("utf-8")).frontmatter
    except FrontmatterError as exc:
        return None, [Problem("invalid_frontmatter", exc.message, SKILL_MD, exc.line)]
    problems: list[Problem] = []
    for key, code, limit in (
        ("name", "invalid_name", MAX_NAME),
        ("description", "invalid_description", MAX_DESCRIPTION),
    ):
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(
                Problem(code, f"The frontmatter needs a non-empty string '{key}'.", SKILL_MD)
            )
        elif len(value) > limit:
            problems.append(
                Problem(
                    code,
                    f"'{key}' has {len(value)} characters; at most {limit} are allowed.",
                    SKILL_MD,
                )
            )
    if "compatibility" in meta:
        value = meta["compatibility"]
        if not isinstance(value, str):
            problems.append(
                Problem("invalid_compatibility", "'compatibility' must be a string.", SKILL_MD)
            )
        elif len(value) > MAX_COMPATIBILITY:
            problems.append(
                Problem(
                    "invalid_compatibility",
                    f"'compatibility' has {len(value)} characters; at most "
                    f"{MAX_COMPATIBILITY} are allowed.",
                    SKILL_MD,
                )
            )
    return meta, problems


def read_folder(
    root: Path,
    limits: Limits = Limits(),
) -> tuple[dict[str, bytes], list[Problem]]:
    """The files a folder uploads, by path, and the problems of reading it.

    Hidden files and folders (the clone markers among them) are skipped. A symbolic link is
    followed only to a file inside the folder; one that leaves it, or is broken, is a problem.
    Files over ``limits.max_file_bytes`` are reported, not read; the walk stops after
    ``limits.max_files + 1`` files.
    """
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    real_root = os.path.realpath(root)
    pending: list[tuple[str, str]] = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            problems.append(Problem("unreadable", _os_reason(exc), prefix.rstrip("/") or None))
            continue
        subfolders: list[tuple[str, str]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            if len(files) > limits.max_files:
                return files, problems
            if not _is_utf8(entry.name):
                # os gives undecodable bytes as surrogates; such a name can be neither uploaded
                # nor printed as it is.
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                problems.append(Problem("invalid_path", "The name is not valid UTF-8.", shown))
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if os.path.commonpath([real_root, target]) != real_root:
                        problems.append(
                            Problem("symlink", "The symbolic link leads out of the folder.", rel)
                        )
                        continue
                    if not os.path.exists(target):
                        problems.append(Problem("symlink", "The symbolic link is broken.", rel))
                        continue
                    if os.path.isdir(target):
                        problems.append(
                            Problem(
                                "symlink",
                                "The symbolic link leads to a folder; it is not followed.",
                                rel,
                                severity="warning",
                            )
                        )
                        continue
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append((entry.path, rel + "/"))
                    continue
                info = entry.stat(follow_symlinks=True)
                if not stat.S_ISREG(info.st_mode):
                    problems.append(Problem("unreadable", "Not a regular file.", rel))
                    continue
                if info.st_size > limits.max_file_bytes:
                    problems.append(_too_large(rel, info.st_size, limits))
                    continue
                with open(entry.path, "rb") as handle:
                    files[rel] = handle.read(limits.max_file_bytes + 1)
            except OSError as exc:
                problems.append(Problem("unreadable", _os_reason(exc), rel))
        pending.extend(reversed(subfolders))
    return files, problems


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _os_reason(exc: OSError) -> str:
    return f"Cannot read it: {exc.strerror or exc}."


def check_folder(root: Path, limits: Limits = Limits()) -> Report:
    """Everything ``better-skills validate`` checks: the server's rules (errors), the Agent
    Skills specification where the server is more lenient (warnings), and files no mention
    reaches (warnings)."""
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        return Report({}, [Problem("not_a_directory", f"{root} {what}.")])
    files, problems = read_folder(root, limits)
    checked = _check(files, limits)
    problems += checked.problems
    if checked.frontmatter is not None:
        problems += _spec_warnings(root, checked.frontmatter)
    coverage, count = _coverage(root, files, checked.tokens)
    return Report(files, problems + coverage, count)


#: skills-ref messages for rules check_skill already enforces as errors.
_SERVER_RULES = (
    "Missing required field",
    "Field 'name' must be",
    "Field 'description' must be",
    "Field 'compatibility' must be",
    "Description exceeds",
    "Compatibility exceeds",
)


def _spec_warnings(root: Path, meta: dict[str, Any]) -> list[Problem]:
    try:
        validate_metadata = _skills_ref_validator()
    except ImportError:
        return [
            Problem(
                "spec",
                "skills-ref is not installed: the Agent Skills specification was not checked.",
                severity="warning",
            )
        ]
    messages = validate_metadata(dict(meta), Path(os.path.realpath(root)))
    return [
        Problem("spec", message, SKILL_MD, severity="warning")
        for message in messages
        if not (message.startswith(_SERVER_RULES) or "character limit" in message)
    ]


def _skills_ref_validator() -> Callable[[dict[str, Any], Path], list[str]]:
    """``skills_ref.validator.validate_metadata``, imported without loading strictyaml.

    skills-ref's package imports its YAML parser, strictyaml (with a vendored ruamel), at load
    time: about half the time of ``validate``. We parse with PyYAML and hand skills-ref the
    mapping, so strictyaml is not needed: a stand-in module imports the real one on first use
    of any of its names (should anything in the process ever use it).
    """
    if "strictyaml" not in sys.modules:
        stand_in = types.ModuleType("strictyaml")

        def load_real(name: str) -> Any:
            if sys.modules.get("strictyaml") is stand_in:
                del sys.modules["strictyaml"]
            return getattr(importlib.import_module("strictyaml"), name)

        stand_in.__getattr__ = load_real  # type: ignore[method-assign]
        sys.modules["strictyaml"] = stand_in
    from skills_ref.validator import validate_metadata

    return validate_metadata  # type: ignore[no-any-return]


def _coverage(
    root: Path, files: Mapping[str, bytes], tokens: Mapping[str, list[mentions.Token]]
) -> tuple[list[Problem], int]:
    """Files no mention reaches (warnings), and the number of distinct mentions."""
    known = {nfc(path): path for path in files}
    marker = _resource_ids(root)
    reached: set[str] = set()
    distinct: set[tuple[str, str, bool]] = set()
    unmapped = 0
    for file_tokens in tokens.values():
        for token in file_tokens:
            key = (token.kind, token.target, token.draft)
            if key in distinct:
                continue
            distinct.add(key)
            if token.draft:
                reached.add(nfc(token.target))
            elif token.kind == "resource":
                if marker is None:
                    unmapped += 1  # the original counts every resource id as internal
                elif token.target in marker:
                    reached.add(nfc(normalize_reference(marker[token.target])))
    unreached = [known[p] for p in sorted(known) if known[p] != SKILL_MD and p not in reached]
    if len(unreached) <= unmapped:
        return [], len(distinct)
    if unmapped:
        count = len(unreached) - unmapped
        return [
            Problem(
                "unreferenced_file",
                f"{count} file(s) not referenced by any mention.",
                severity="warning",
            )
        ], len(distinct)
    return [
        Problem(
            "unreferenced_file",
            "No mention reaches this file; write [[resource:new:<path>]] where it is needed.",
            path,
            severity="warning",
        )
        for path in unreached
    ], len(distinct)


def _resource_ids(root: Path) -> dict[str, str] | None:
    """The original clone marker ``{uuid: path}``, lower-cased ids; ``None`` if absent or bad."""
    try:
        data = json.loads((root / RESOURCE_IDS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return {str(k).lower(): v for k, v in data.items() if isinstance(v, str)}
