"""What the local-side commands (sync, config, status, unmanaged, backup) share: the home
folder, the agent table, choosing agents (config file, first-use detection, the picker)."""

from __future__ import annotations

from pathlib import Path

from better_skills.cli.common import Deps
from better_skills.sync.agents import AgentTable, load_table
from better_skills.sync.config import Config, config_path, load_config, save_config

__all__ = [
    "choose_agents",
    "home_of",
    "parse_agent_list",
    "pick_agents",
    "resolve_agents",
]


def home_of(deps: Deps) -> Path:
    home = deps.environ.get("HOME", "").strip()
    return Path(home) if home else Path.home()


def parse_agent_list(text: str, table: AgentTable) -> list[str]:
    """``a,b,c`` → table ids in table order; an unknown id is a usage error (ValueError)."""
    chosen = []
    for raw in text.replace(" ", ",").split(","):
        if not raw.strip():
            continue
        agent = table.canonical_id(raw)
        if agent is None:
            raise ValueError(f"unknown agent: {raw.strip()} (see `better-skills config --show`)")
        chosen.append(agent)
    return [a for a in table.agents if a in chosen]


def pick_agents(deps: Deps, table: AgentTable, selected: list[str]) -> list[str] | None:
    """A multi-select on the terminal: numbers or ids, comma-separated, toggle the selection;
    Enter accepts it. ``None`` when cancelled (end of input or ``q``)."""
    out = deps.out
    current = list(selected)
    home = home_of(deps)
    ids = list(table.agents)
    while True:
        out.info("Agents (the ones marked * get the skills):")
        for number, agent_id in enumerate(ids, 1):
            mark = "*" if agent_id in current else " "
            folder = table.global_dir(agent_id, home=home, environ=deps.environ)
            where = str(folder).replace(str(home), "~", 1) if folder else "(project only)"
            out.info(f"  {mark} {number:>2}. {table.agents[agent_id].name} [{agent_id}]  {where}")
        out.stderr.write("Toggle numbers or ids (e.g. 2,5,cursor), Enter to accept, q to cancel: ")
        out.stderr.flush()
        line = out.stdin.readline()
        if not line or line.strip().lower() == "q":
            return None
        answer = line.strip()
        if not answer:
            if current:
                return [a for a in ids if a in current]
            out.warn("Select at least one agent.")
            continue
        for token in answer.replace(" ", ",").split(","):
            token = token.strip()
            if not token:
                continue
            agent = ids[int(token) - 1] if token.isdigit() and 0 < int(token) <= len(ids) else None
            agent = agent or table.canonical_id(token)
            if agent is None:
                out.warn(f"No agent {token!r}.")
            elif agent in current:
                current.remove(agent)
            else:
                current.append(agent)


def resolve_agents(deps: Deps, table: AgentTable | None = None, *, save: bool = True) -> list[str]:
    """The configured agents; on first use the installed ones (picker on a terminal), saved
    unless ``save`` is false (a dry run changes nothing)."""
    table = table or load_table()
    path = config_path(deps.environ, home_of(deps))
    config = load_config(path, table)
    if config is not None:
        return config.agents
    detected = table.detect_installed(home=home_of(deps), environ=deps.environ)
    proposal = detected or list(table.defaults)
    if deps.interactive:
        deps.out.info("No agent configuration yet: pick the agents that get your skills.")
        chosen = pick_agents(deps, table, proposal)
        if not chosen:
            return []
    else:
        chosen = proposal
    chosen = [a for a in table.agents if a in chosen]  # table order, as the file keeps it
    if not save:
        return chosen
    save_config(path, Config(chosen))
    names = ", ".join(table.agents[a].name for a in chosen)
    how = "detected" if detected else "default"
    deps.out.info(
        f"Saved agent configuration ({how}): {names}; change it with `better-skills config`."
    )
    return chosen


def choose_agents(deps: Deps, *, save: bool = True) -> tuple[AgentTable, list[str]]:
    table = load_table()
    return table, resolve_agents(deps, table, save=save)
