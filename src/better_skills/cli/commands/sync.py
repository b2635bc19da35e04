"""``better-skills sync``: every skill of your enabled vaults into every chosen agent's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option, server_option
from better_skills.cli.local import choose_agents, home_of

__all__ = ["SyncOptions", "command", "run"]

#: A progress line is worth showing only when there is more than this to do.
PROGRESS_AFTER = 5


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    force: bool = False
    project: str | None = None
    include_disabled: bool = False
    as_json: bool = False
    server: str | None = None


@click.command("sync", epilog=COMMAND_EPILOG)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--force", is_flag=True, help="Replace or remove skills you edited locally.")
@click.option(
    "--project",
    is_flag=False,
    flag_value=".",
    default=None,
    metavar="[DIR]",
    help="Install into the agents' project folders of DIR (default: here), not the global ones.",
)
@click.option(
    "--include-disabled", is_flag=True, help="Also install the skills of vaults you disabled."
)
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context,
    dry_run: bool,
    force: bool,
    project: str | None,
    include_disabled: bool,
    as_json: bool,
    server: str | None,
) -> int:
    """Install the skills of your vaults for every agent you chose (`better-skills config`).

    Each skill is stored once in ~/.better-skills/skills/ and linked into each agent's skills
    folder. Skills you edited locally are kept (and reported) unless --force; folders of your
    own are never touched. Exit 1 if anything failed, 4 if not logged in.
    """
    options = SyncOptions(dry_run, force, project, include_disabled, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: SyncOptions, deps: Deps) -> int:
    from better_skills.sync.engine import SyncRequest, run_sync

    out = deps.out
    server = deps.resolve_server(options.server)
    credential = deps.credentials(server)  # before anything else: not logged in is exit 4
    table, agents = choose_agents(deps, save=not options.dry_run)
    if not agents:
        out.error("no agents selected", ["Run `better-skills config` to choose agents."])
        return 1
    project = None
    if options.project is not None:
        base = deps.cwd or Path.cwd()
        project = (base / Path(options.project).expanduser()).resolve()
        if not project.is_dir():
            raise click.UsageError(f"--project: {project} is not a folder")
    names = ", ".join(table.agents[a].name for a in agents)
    if not options.as_json:
        out.info(f"targets: {names}" + (f" (project {project})" if project else ""))

    request = SyncRequest(
        home=home_of(deps),
        environ=deps.environ,
        agents=agents,
        server_url=server.url,
        project=project,
        dry_run=options.dry_run,
        force=options.force,
        include_disabled=options.include_disabled,
    )
    from better_skills.sync import remote as remote_module

    with (
        out.status() as status,
        deps.api(server, credential) as api,
        remote_module.HttpRemote(api) as remote,
    ):
        progress = None
        if not options.as_json:

            def progress(done: int, total: int) -> None:
                if total > PROGRESS_AFTER:
                    status.update(lambda: f"syncing {done}/{total}", key=f"{done // 50}")

        outcome = run_sync(request, remote, table, progress=progress)

    plan, result = outcome.plan, outcome.result
    if options.as_json:
        value: dict[str, Any] = {
            "dryRun": options.dry_run,
            "store": str(outcome.root),
            "agents": agents,
            "plan": [a.to_json() for a in plan.actions],
            "requests": outcome.requests,
        }
        if result is not None:
            value["summary"] = result.to_json()
        out.json(value)
    elif options.dry_run:
        _print_plan(out, plan)
    else:
        assert result is not None
        _print_summary(out, result)
    return 1 if result is not None and result.failed else 0


def _print_plan(out: Any, plan: Any) -> None:
    from better_skills.cli.output import safe

    if not plan.actions:
        out.data("nothing to do: everything is up to date")
        return
    for action in plan.actions:
        line = f"{action.kind:<8} {safe(action.key)}  ({safe(action.label)})"
        if action.reason:
            line += f": {safe(action.reason)}"
        out.data(line)
        for path in action.links:
            out.data(f"           link   {safe(path, max_length=4096)}")
        for path in action.unlinks:
            out.data(f"           unlink {safe(path, max_length=4096)}")


def _print_summary(out: Any, result: Any) -> None:
    from better_skills.cli.output import safe

    changed = len(result.added) + len(result.updated) + len(result.removed) + len(result.relinked)
    for title, labels in (
        ("added", result.added),
        ("updated", result.updated),
        ("relinked", result.relinked),
        ("removed", result.removed),
    ):
        if labels:
            out.info(f"{title}: {', '.join(safe(label) for label in labels)}")
    for label, reason in result.kept:
        out.warn(f"kept {safe(label)}: {reason}")
    for label, reason in result.skipped:
        out.warn(f"skipped {safe(label)}: {safe(reason)}")
    for label, error in result.failed:
        out.error(f"failed {safe(label)}: {safe(error)}")
    counts = (
        f"{len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.removed)} removed, {len(result.kept)} kept because modified, "
        f"{len(result.failed)} failed"
    )
    if not changed and not result.failed and not result.kept:
        out.success(f"everything up to date ({counts})")
    elif result.failed:
        out.error(f"sync finished with failures: {counts}")
    else:
        out.success(f"sync done: {counts}")
