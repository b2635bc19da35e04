"""The CLI's config file (original-system.md §6.1): which agents ``sync`` installs for.

``$XDG_CONFIG_HOME/better-skills/config.json`` (else ``~/.config/...``), ``{"version": 1,
"agents": [ids]}``; keys we do not know (``githubStarPromptedAt``...) are kept when saving, so
the original CLI and ours can share the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from better_skills.sync.agents import AgentTable
from better_skills.sync.files import dump_json, read_json, write_atomic

__all__ = ["CONFIG_VERSION", "Config", "config_path", "load_config", "save_config"]

CONFIG_VERSION = 1


@dataclass
class Config:
    """The agents chosen (table ids, in table order) and every other key of the file."""

    agents: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def config_path(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Beside the session file; a relative ``XDG_CONFIG_HOME`` is ignored (XDG spec)."""
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else (home or Path.home()) / ".config"
    return base / "better-skills" / "config.json"


def load_config(path: Path, table: AgentTable) -> Config | None:
    """The config, or ``None`` ("no config") when missing, invalid, of another version, or
    naming no agent we know. Unknown ids are dropped; aliases become table ids."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("version") != CONFIG_VERSION:
        return None
    raw = data.get("agents")
    if not isinstance(raw, list):
        return None
    chosen = {table.canonical_id(a) for a in raw if isinstance(a, str)}
    agents = [a for a in table.agents if a in chosen]
    if not agents:
        return None
    extra = {k: v for k, v in data.items() if k not in ("version", "agents")}
    return Config(agents, extra)


def save_config(path: Path, config: Config) -> None:
    """Write the file (pretty, 2-space), keeping the unknown keys read from the old one."""
    old = read_json(path)
    extra = dict(old) if isinstance(old, dict) and old.get("version") == CONFIG_VERSION else {}
    extra.update(config.extra)
    extra.pop("version", None)
    extra.pop("agents", None)
    write_atomic(path, dump_json({"version": CONFIG_VERSION, "agents": config.agents, **extra}))
