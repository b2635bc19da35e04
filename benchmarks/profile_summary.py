"""Summarise py-spy's collapsed stacks (``run.py --profile DIR`` writes them) as text tables.

    .venv/bin/python benchmarks/profile_summary.py DIR/sqlite-get-session.txt [--top 25]

Prints the share of samples per function, inclusive (the function or anything it calls is on
the stack) and by "area" (our code, SQLAlchemy, the driver, Starlette/FastAPI, uvicorn, the
event loop idling), so a profile can be read and quoted without a flame-graph viewer.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")

AREAS = [
    ("idle (event loop waiting)", ("select (selectors.py", "run_forever (", "uvloop")),
    ("better_skills", ("better_skills/",)),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("aiosqlite/sqlite3", ("aiosqlite/", "sqlite3/")),
    ("asyncpg", ("asyncpg/",)),
    ("fastapi", ("fastapi/",)),
    ("starlette", ("starlette/",)),
    ("uvicorn", ("uvicorn/",)),
    ("pydantic", ("pydantic",)),
]


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    file = match.group("file")
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({file})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--grep", help="only stacks containing this text")
    args = parser.parse_args(argv)
    for path in args.files:
        stacks = parse(path)
        if args.grep:
            stacks = [(s, n) for s, n in stacks if any(args.grep in f for f in s)]
        total = sum(n for _, n in stacks) or 1
        inclusive: Counter[str] = Counter()
        own: Counter[str] = Counter()
        areas: Counter[str] = Counter()
        for frames, count in stacks:
            for name in {short(f) for f in frames}:
                inclusive[name] += count
            own[short(frames[-1])] += count
            leaf = frames[-1]
            area = next(
                (label for label, keys in AREAS if any(k in leaf for k in keys)), "other (leaf)"
            )
            areas[area] += count
        print(f"== {path} ({total} samples)")
        print("-- leaf frame by area")
        for name, count in areas.most_common():
            print(f"{count / total:7.1%}  {name}")
        print("-- inclusive")
        for name, count in inclusive.most_common(args.top):
            print(f"{count / total:7.1%}  {name}")
        print("-- self")
        for name, count in own.most_common(args.top):
            print(f"{count / total:7.1%}  {name}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
