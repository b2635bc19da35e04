"""``better-skills config``: choose the agents whose skills folders `sync` fills."""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option
from better_skills.cli.local import home_of, parse_agent_list, pick_agents
from better_skills.sync.agents import load_table
from better_skills.sync.config import Config, config_path, load_config, save_config

__all__ = ["ConfigOptions", "command", "run"]


@dataclass(frozen=True)
class ConfigOptions:
    agents: str | None = None
    show: bool = False
    as_json: bool = False


@click.command("config", epilog=COMMAND_EPILOG)
@click.option("--agents", metavar="A,B,C", help="Set the agents without the picker.")
@click.option("--show", is_flag=True, help="Show the configuration and every known agent.")
@json_option
@click.pass_context
def command(ctx: click.Context, agents: str | None, show: bool, as_json: bool) -> int:
    """Choose the coding agents that get your skills.

    On a terminal a picker opens (the installed agents are proposed the first time); elsewhere
    pass --agents claude-code,codex. The choice is kept in
    $XDG_CONFIG_HOME/better-skills/config.json.
    """
    return run(ConfigOptions(agents, show, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: ConfigOptions, deps: Deps) -> int:
    out = deps.out
    table = load_table()
    home = home_of(deps)
    path = config_path(deps.environ, home)
    config = load_config(path, table)
    current = config.agents if config else []

    if options.show or (options.agents is None and not deps.interactive):
        detected = table.detect_installed(home=home, environ=deps.environ)
        rows = []
        for agent_id, agent in table.agents.items():
            folder = table.global_dir(agent_id, home=home, environ=deps.environ)
            rows.append(
                {
                    "id": agent_id,
                    "name": agent.name,
                    "globalDir": str(folder) if folder else None,
                    "projectDir": agent.project_dirs[0] if agent.project_dirs else None,
                    "selected": agent_id in current,
                    "detected": agent_id in detected,
                }
            )
        if options.as_json:
            out.json({"configFile": str(path), "agents": current, "table": rows})
            return 0
        if current:
            out.data("current agents: " + ", ".join(table.agents[a].name for a in current))
        else:
            out.data("no agent configuration found yet")
        out.data(f"config file: {path}")
        out.data("")
        for row in rows:
            mark = "*" if row["selected"] else ("+" if row["detected"] else " ")
            where = row["globalDir"] or f"(project only: {row['projectDir']})"
            out.data(f"{mark} {row['id']:<16} {row['name']:<20} {where}")
        out.data("")
        out.data("* selected   + detected on this machine")
        if not options.show:
            out.info("Pass --agents a,b,c to choose (no terminal for the picker).")
        return 0

    if options.agents is not None:
        try:
            chosen = parse_agent_list(options.agents, table)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        if not chosen:
            raise click.UsageError("--agents: name at least one agent")
    else:
        proposal = current or table.detect_installed(home=home, environ=deps.environ)
        chosen = pick_agents(deps, table, proposal or list(table.defaults)) or []
        if not chosen:
            out.info("cancelled")
            return 0

    added = [table.agents[a].name for a in chosen if a not in current]
    removed = [table.agents[a].name for a in current if a not in chosen]
    save_config(path, Config(chosen, config.extra if config else {}))
    if options.as_json:
        out.json({"configFile": str(path), "agents": chosen})
        return 0
    if added:
        out.info("added: " + ", ".join(added))
    if removed:
        out.info("removed: " + ", ".join(removed) + " (their links go at the next sync)")
    if not added and not removed:
        out.info("no changes")
    out.success("configuration saved")
    return 0
