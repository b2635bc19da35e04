"""The coding agents as data: the table in ``agents.toml``, where their folders are, which are
installed, and which share a folder.

Commands read this table and never branch on an agent's name (like the ``skills`` CLI's agent
list); adding an agent is one line in ``agents.toml``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "Agent",
    "AgentTable",
    "FolderGroup",
    "group_folders",
    "load_table",
]


@dataclass(frozen=True)
class Agent:
    """One row of ``agents.toml``; folders are still templates (``~``, ``{CFG}``...)."""

    id: str
    name: str
    global_dirs: tuple[str, ...] = ()
    project_dirs: tuple[str, ...] = ()
    home: str | None = None
    bins: tuple[str, ...] = ()
    pick_first_existing: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FolderGroup:
    """One skills folder and the agents (in table order) that read it: one link per group."""

    path: Path
    agents: tuple[str, ...]

    def label(self, table: AgentTable) -> str:
        return " / ".join(table.agents[a].name for a in self.agents)


class AgentTable:
    """The agents, in picker order, with folder resolution for one environment."""

    def __init__(
        self,
        agents: Iterable[Agent],
        bases: Mapping[str, tuple[str, str]],
        defaults: Iterable[str],
    ) -> None:
        self.agents: dict[str, Agent] = {agent.id: agent for agent in agents}
        self.bases = dict(bases)
        self.defaults = tuple(a for a in defaults if a in self.agents)
        self._alias = {alias: a.id for a in self.agents.values() for alias in a.aliases}

    def canonical_id(self, agent_id: str) -> str | None:
        """The table id for ``agent_id`` (an id or an alias), ``None`` when unknown."""
        agent_id = agent_id.strip().lower()
        if agent_id in self.agents:
            return agent_id
        return self._alias.get(agent_id)

    def expand(self, template: str, *, home: Path, environ: Mapping[str, str]) -> Path:
        """``{CFG}/x`` → ``$XDG_CONFIG_HOME/x`` (or ``~/.config/x``); ``~`` → ``home``."""
        text = template
        for name, (env, default) in self.bases.items():
            token = "{" + name + "}"
            if token in text:
                value = environ.get(env, "").strip() or default
                text = text.replace(token, value)
        if text == "~" or text.startswith("~/"):
            text = str(home) + text[1:]
        return Path(text)

    def global_dir(self, agent_id: str, *, home: Path, environ: Mapping[str, str]) -> Path | None:
        """Where ``sync`` installs this agent's skills for the user; ``None``: project only."""
        agent = self.agents[agent_id]
        if not agent.global_dirs:
            return None
        paths = [self.expand(t, home=home, environ=environ) for t in agent.global_dirs]
        if agent.pick_first_existing:
            for path in paths:
                if path.is_dir():
                    return path
        return paths[0]

    def all_global_dirs(
        self, agent_id: str, *, home: Path, environ: Mapping[str, str]
    ) -> list[Path]:
        """Every global folder the agent reads (the install folder first)."""
        first = self.global_dir(agent_id, home=home, environ=environ)
        paths = [
            self.expand(t, home=home, environ=environ) for t in self.agents[agent_id].global_dirs
        ]
        return list(dict.fromkeys(p for p in [first, *paths] if p is not None))

    def project_dir(self, agent_id: str, project: Path) -> Path | None:
        agent = self.agents[agent_id]
        return project / agent.project_dirs[0] if agent.project_dirs else None

    def install_dirs(
        self,
        agent_ids: Iterable[str],
        *,
        home: Path,
        environ: Mapping[str, str],
        project: Path | None = None,
    ) -> list[FolderGroup]:
        """The distinct folders to install into for these agents (project folders if given)."""
        pairs: list[tuple[str, Path]] = []
        for agent_id in agent_ids:
            if project is not None:
                path = self.project_dir(agent_id, project)
            else:
                path = self.global_dir(agent_id, home=home, environ=environ)
            if path is not None:
                pairs.append((agent_id, path))
        return group_folders(pairs)

    def detect_installed(
        self,
        *,
        home: Path,
        environ: Mapping[str, str],
        which: Callable[[str], str | None] | None = None,
    ) -> list[str]:
        """Agents that look installed: their config folder exists or an executable is on PATH."""
        if which is None:
            path = environ.get("PATH", os.defpath)

            def which(name: str) -> str | None:
                import shutil  # only on first use (detection): sync's start-up skips it

                return shutil.which(name, path=path)

        found = []
        for agent in self.agents.values():
            if agent.home is not None:
                config_dir: Path | None = self.expand(agent.home, home=home, environ=environ)
            elif agent.global_dirs:
                config_dir = self.expand(agent.global_dirs[0], home=home, environ=environ).parent
            else:
                config_dir = None
            if (config_dir is not None and config_dir.is_dir()) or any(
                which(name) for name in agent.bins
            ):
                found.append(agent.id)
        return found


def group_folders(pairs: Iterable[tuple[str, Path]]) -> list[FolderGroup]:
    """Group (agent, folder) pairs by folder, keeping first-seen order of folders and agents."""
    groups: dict[Path, list[str]] = {}
    for agent_id, path in pairs:
        members = groups.setdefault(Path(os.path.normpath(path)), [])
        if agent_id not in members:
            members.append(agent_id)
    return [FolderGroup(path, tuple(agents)) for path, agents in groups.items()]


def _tuple(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of strings")
    return tuple(value)


def parse_table(data: Mapping[str, object]) -> AgentTable:
    """Build the table from the parsed TOML (a broken row is a bug in the package: it raises)."""
    bases_raw = data.get("bases", {})
    agents_raw = data.get("agents", {})
    if not isinstance(bases_raw, dict) or not isinstance(agents_raw, dict):
        raise ValueError("agents.toml: [bases] and [agents] must be tables")
    bases = {name: (str(v["env"]), str(v["default"])) for name, v in bases_raw.items()}
    agents = []
    for agent_id, row in agents_raw.items():
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise ValueError(f"agents.toml: agent {agent_id!r} needs a name")
        agents.append(
            Agent(
                id=agent_id,
                name=row["name"],
                global_dirs=_tuple(row.get("global"), agent_id),
                project_dirs=_tuple(row.get("project"), agent_id),
                home=row.get("home"),
                bins=_tuple(row.get("bin"), agent_id),
                pick_first_existing=row.get("pick") == "first-existing",
                aliases=_tuple(row.get("aliases"), agent_id),
            )
        )
    return AgentTable(agents, bases, _tuple(data.get("defaults"), "defaults"))


@cache
def load_table() -> AgentTable:
    """The table shipped with the package (a file beside this module, read directly:
    ``importlib.resources`` took longer to import than the whole table takes to parse)."""
    text = Path(__file__).with_name("agents.toml").read_text("utf-8")
    return parse_table(tomllib.loads(text))
