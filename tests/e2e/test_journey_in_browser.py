"""Issue 14's journey where the browser and the CLI meet over a share (Debian's Chromium, a
server process, two real CLIs with their own HOMEs). The parts covered elsewhere (team
creation and invitations, a share link signed out, the console's render/edit/sync/stale edit)
are not repeated: here Ada shares a CLI-made skill with the skill page's Share button; Bob
installs the link the page shows and imports it with his CLI, syncs, and sees the copy in his
console; Ada revokes it with ``unshare``, and the link is a 404 page in the browser and exit 3
for the CLI. Screenshots at 1280 and 390 px.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from better_skills.protocol.shares import share_install_key
from tests.e2e.test_console_in_browser import (
    cli_logged_in,
    new_context,
    shots,
    sign_up,
    write_skill,
)
from tests.support.live_cli import unique_email
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_share_made_in_the_browser_reaches_another_persons_cli(
    shared_server: LiveServer, chromium: Any, tmp_path: Path
) -> None:
    (tmp_path / "ada").mkdir()
    (tmp_path / "bob").mkdir()
    ada_context, ada_page, ada_problems = new_context(chromium, 1280)
    sign_up(ada_page, shared_server, "Ada Lovelace", unique_email())
    ada = cli_logged_in(ada_page, shared_server, tmp_path / "ada")
    helper = write_skill(
        tmp_path / "helper",
        {"SKILL.md": "---\nname: helper\ndescription: Helps.\n---\n# Helper\n"},
    )
    made = ada.run("create", "--from", str(helper), "--json")
    assert made.returncode == 0, made.stderr
    helper_id = json.loads(made.stdout)["skill"]["id"]
    main = write_skill(
        tmp_path / "deploy",
        {
            "SKILL.md": "---\nname: deploy-checklist\ndescription: Ship safely.\n---\n"
            f"# Deploy\n\nFirst read [[skill:{helper_id}]].\n",
            "scripts/run.sh": "echo hi\n",
        },
    )
    made = ada.run("create", "--from", str(main), "--json")
    assert made.returncode == 0, made.stderr
    main_id = json.loads(made.stdout)["skill"]["id"]

    # The skill page's Share button makes the share and shows its page.
    ada_page.goto(f"{shared_server.url}/vault/skills/{main_id}")
    ada_page.click("button:has-text('Share')")
    ada_page.wait_for_url("**/share/*")
    url = ada_page.url.split("?")[0]
    share_id = url.rsplit("/", 1)[1]
    assert url == f"{shared_server.url}/share/{share_id}"
    command = ada_page.locator("pre.command").first.inner_text()
    assert command.strip() == f"better-skills install-share {url}"
    assert ada_page.locator("h1").first.inner_text() == "deploy-checklist"
    shots(ada_page, "journey-share-made")
    listed = json.loads(ada.run("shares", "--json").stdout)
    assert [s["id"] for s in listed["items"]] == [share_id]

    # Bob installs the link the page shows, then imports it and syncs.
    bob_context, bob_page, bob_problems = new_context(chromium, 1280)
    sign_up(bob_page, shared_server, "Bob Builder", unique_email("bob"))
    bob = cli_logged_in(bob_page, shared_server, tmp_path / "bob")
    bob_home = Path(bob.env["HOME"])
    installed = bob.run(*command.split()[1:], timeout=60)
    assert installed.returncode == 0, installed.stderr
    assert "installed 2 shared skill(s)" in installed.stderr + installed.stdout
    agent_copy = bob_home / ".claude" / "skills" / share_install_key(share_id, "deploy-checklist")
    assert "# Deploy" in (agent_copy / "SKILL.md").read_text()
    assert (agent_copy / "scripts" / "run.sh").read_text() == "echo hi\n"

    imported = bob.run("import-share", url, "--json")
    assert imported.returncode == 0, imported.stderr
    copies = json.loads(imported.stdout)["skills"]
    assert {s["slug"] for s in copies} == {"deploy-checklist", "helper"}
    assert {s["id"] for s in copies}.isdisjoint({main_id, helper_id})
    synced = bob.run("sync", timeout=60)
    assert synced.returncode == 0, synced.stderr
    synced_md = bob_home / ".claude" / "skills" / "personal--deploy-checklist" / "SKILL.md"
    assert "# Deploy" in synced_md.read_text()
    bob_page.goto(f"{shared_server.url}/vault")
    bob_page.wait_for_selector("a.skill-name:has-text('deploy-checklist')")
    assert bob_page.locator("a.skill-name:has-text('helper')").count() == 1
    shots(bob_page, "journey-imported-vault")
    # The copy is Bob's own; Ada's skill page stays hers.
    bob_page.click("a.skill-name:has-text('deploy-checklist')")
    bob_page.wait_for_selector(".markdown h1:has-text('Deploy')")
    assert main_id not in bob_page.url
    missing = bob_page.goto(f"{shared_server.url}/vault/skills/{main_id}")
    assert missing is not None and missing.status == 404

    # Ada revokes the share: the link is gone for the browser and for the CLI.
    revoked = ada.run("unshare", url)
    assert revoked.returncode == 0, revoked.stderr
    gone = bob_page.goto(url)
    assert gone is not None and gone.status == 404
    assert "deploy" not in bob_page.inner_text("main").lower()
    shots(bob_page, "journey-share-revoked")
    again = bob.run("install-share", url, timeout=60)
    assert again.returncode == 3, (again.returncode, again.stderr)
    assert "Traceback" not in again.stderr
    # Bob's imported copy and Ada's skills outlive the share.
    assert "# Deploy" in synced_md.read_text()
    ada_skills = json.loads(ada.run("list", "--json").stdout)
    assert {main_id, helper_id} <= {s["id"] for s in ada_skills["items"]}

    for context in (ada_context, bob_context):
        context.close()
    assert ada_problems == [] and bob_problems == []
