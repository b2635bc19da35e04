"""User agents as a person reads them: "Chrome on Linux", "better-skills CLI 0.1.0 on macOS".

Browsers are recognised with ua-parser (the maintained uap-core rules); our own CLI, which
ua-parser does not know, by its product token. The first parse compiles the rules (about a
second), so pages call :func:`describe_agents` in a worker thread, never on the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from starlette.concurrency import run_in_threadpool

#: ``better-skills-cli/0.1.0 (linux; Python 3.11)``, and the older ``better-skills/…`` form.
_OWN_CLI = re.compile(r"better-skills(?:-cli)?/([\w.+-]{1,32})\s*(?:\(([^;)]{0,64}))?")
_PLATFORMS = (("linux", "Linux"), ("darwin", "macOS"), ("mac", "macOS"), ("win", "Windows"))
_OS_NAMES = {"Mac OS X": "macOS"}
#: User agents longer than this are not worth parsing (real ones are a few hundred bytes).
MAX_AGENT = 1024


def _platform(token: str | None) -> str | None:
    lowered = (token or "").strip().lower()
    for prefix, name in _PLATFORMS:
        if lowered.startswith(prefix):
            return name
    return None


@lru_cache(maxsize=512)
def describe_agent(agent: str | None) -> str | None:
    """A short readable name for a user agent, or None when nothing is recognised."""
    if not agent or len(agent) > MAX_AGENT:
        return None
    own = _OWN_CLI.match(agent)
    if own:
        name, platform = f"better-skills CLI {own.group(1)}", _platform(own.group(2))
        return f"{name} on {platform}" if platform else name
    from ua_parser import parse  # imported here: loading its rules takes a moment

    result = parse(agent)
    browser = result.user_agent.family if result.user_agent else None
    system = result.os.family if result.os else None
    system = _OS_NAMES.get(system or "", system)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


async def describe_agents(agents: Iterable[str | None]) -> dict[str | None, str | None]:
    """:func:`describe_agent` for each, in a worker thread."""
    unique = list(dict.fromkeys(agents))
    names = await run_in_threadpool(lambda: [describe_agent(agent) for agent in unique])
    return dict(zip(unique, names, strict=True))
