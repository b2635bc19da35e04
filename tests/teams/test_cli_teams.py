"""``better-skills vaults ...`` for team vaults, and ``better-skills-server admin ...``,
against a real server process."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.live_cli import Cli, logged_in, unique_email
from tests.support.live_server import LiveServer, server_executable


def run_json(cli: Cli, *args: str, code: int = 0) -> Any:
    done = cli.run(*args, "--json", timeout=60)
    assert done.returncode == code, (done.stdout, done.stderr)
    return json.loads(done.stdout)


def second_person(tmp_path: Path, server: LiveServer, name: str, email: str) -> Cli:
    """Another person, signed up in a browser; their CLI uses the sign-in's token."""
    person = server.browser()
    try:
        token = person.sign_up(name, email, "correct horse battery staple")["token"]
    finally:
        person.close()
    folder = tmp_path / name.lower()
    folder.mkdir()
    cli = Cli(folder, server.url)
    cli.env["BETTER_SKILLS_TOKEN"] = token
    return cli


def admin(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*server_executable(), "admin", *args],
        env=server.env,
        cwd=server.folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_team_vault_commands(tmp_path: Path, shared_server: LiveServer) -> None:
    ada_email, bob_email, carol_email = (unique_email(n) for n in ("ada", "bob", "carol"))
    # Team slugs are unique on a server, and other tests share this one.
    suffix = secrets.token_hex(3)
    team, team_slug = f"Acme Team {suffix}", f"acme-team-{suffix}"
    ada = Cli(tmp_path, shared_server.url)
    logged_in(ada, shared_server, ada_email)
    bob = second_person(tmp_path, shared_server, "Bob", bob_email)

    created = run_json(ada, "vaults", "create", team, "--color", "#112233")
    assert created["vault"]["slug"] == team_slug
    assert created["vault"]["role"] == "owner"
    again = ada.run("vaults", "create", team)
    assert again.returncode == 5, again.stderr
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    bad = ada.run("vaults", "create", "X", "--color", "blue")
    assert bad.returncode == 1 and "#RRGGBB" in bad.stderr

    invited = ada.run("vaults", "invite", team_slug, bob_email, "--role", "admin")
    assert invited.returncode == 0, invited.stderr
    assert f"{shared_server.url}/settings?invitation=" in invited.stdout
    waiting = run_json(bob, "vaults", "invitations")["items"]
    assert [(i["vault"]["slug"], i["role"]) for i in waiting] == [(team_slug, "admin")]
    listed = bob.run("vaults", "invitations")
    assert waiting[0]["id"] in listed.stdout and team_slug in listed.stdout
    accepted = bob.run("vaults", "accept", waiting[0]["id"])
    assert accepted.returncode == 0, accepted.stderr
    assert f"You joined {team_slug} as admin" in accepted.stderr
    assert bob.run("vaults", "accept", waiting[0]["id"]).returncode == 1
    assert bob.run("vaults", "accept", "no-such-invitation").returncode == 3

    members = run_json(ada, "vaults", "members", team_slug)
    assert [(m["email"], m["role"]) for m in members["items"]] == [
        (ada_email, "owner"),
        (bob_email, "admin"),
    ]
    shown = ada.run("vaults", "members", team_slug)
    assert bob_email in shown.stdout and "owner" in shown.stdout
    # Plain `vaults` still lists, now with the team vault.
    table = ada.run("vaults")
    assert table.returncode == 0 and team_slug in table.stdout
    assert team_slug in {v["slug"] for v in run_json(bob, "vaults")["items"]}

    role = run_json(ada, "vaults", "role", team_slug, bob_email, "member")
    assert role["member"]["role"] == "member"
    assert bob.run("vaults", "members", team_slug).returncode == 1  # members may not list
    owner_leaves = ada.run("vaults", "leave", team_slug)
    assert owner_leaves.returncode == 1 and "transfer" in owner_leaves.stderr
    assert ada.run("vaults", "remove", team_slug, "nobody@example.com").returncode == 3
    assert ada.run("vaults", "remove", team_slug, ada_email).returncode == 1
    left = bob.run("vaults", "leave", team_slug)
    assert left.returncode == 0, left.stderr
    assert bob.run("vaults", "members", team_slug).returncode == 3
    assert bob.run("vaults", "leave", "personal").returncode == 1

    # Invite again, decline; invite, revoke; invite, accept, remove.
    ada.run("vaults", "invite", team_slug, bob_email)
    invitation = run_json(bob, "vaults", "invitations")["items"][0]["id"]
    assert bob.run("vaults", "decline", invitation).returncode == 0
    assert run_json(bob, "vaults", "invitations")["items"] == []
    pending = run_json(ada, "vaults", "invite", team_slug, carol_email)["invitation"]
    assert ada.run("vaults", "revoke", team_slug, pending["id"]).returncode == 0
    assert run_json(ada, "vaults", "members", team_slug)["invitations"] == []
    ada.run("vaults", "invite", team_slug, bob_email)
    bob.run("vaults", "accept", run_json(bob, "vaults", "invitations")["items"][0]["id"])
    removed = ada.run("vaults", "remove", team_slug, bob_email)
    assert removed.returncode == 0, removed.stderr
    assert team_slug not in {v["slug"] for v in run_json(bob, "vaults")["items"]}


def test_admin_commands_and_team_vaults_admins(
    tmp_path: Path, server_factory: Callable[..., LiveServer]
) -> None:
    server = server_factory(TEAM_VAULTS="admins")
    bob = second_person(tmp_path, server, "Bob", "bob@example.com")
    refused = bob.run("vaults", "create", "Ops")
    assert refused.returncode == 1 and "administrators" in refused.stderr

    granted = admin(server, "grant", "BOB@example.com")
    assert granted.returncode == 0, granted.stderr
    assert "bob@example.com is now a server administrator" in granted.stdout
    assert run_json(bob, "vaults", "create", "Ops")["vault"]["slug"] == "ops"
    assert admin(server, "revoke", "bob@example.com").returncode == 0
    assert bob.run("vaults", "create", "Ops 2").returncode == 1

    made = admin(server, "create-vault", "Platform", "--owner", "bob@example.com", "--slug", "plat")
    assert made.returncode == 0, made.stderr
    assert "plat" in made.stdout
    vaults = {v["slug"]: v for v in run_json(bob, "vaults")["items"]}
    assert vaults["plat"]["role"] == "owner"
    for args, message in (
        (("create-vault", "X", "--owner", "nobody@example.com"), "No account"),
        (("create-vault", "Platform", "--owner", "bob@example.com", "--slug", "plat"), "exists"),
        (("create-vault", "X", "--owner", "bob@example.com", "--slug", "personal"), "reserved"),
        (("grant", "nobody@example.com"), "No account"),
    ):
        done = admin(server, *args)
        assert done.returncode == 4, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
    usage = admin(server)
    assert usage.returncode == 2
