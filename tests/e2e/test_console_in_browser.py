"""The web console in Debian's Chromium against a server process, with the real CLI.

A new person signs up and lands on /welcome; logs the CLI in by approving its code in the
browser; a skill made with ``better-skills create`` shows on /vault and renders; an edit in the
browser reaches ``better-skills sync``; a stale edit is refused with the text kept; hostile
content runs no script. Screenshots of every console page at 1280 and 390 px wide.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.console.xss_vectors import DESCRIPTION, FILE_NAME, NAME, hostile_markdown
from tests.e2e.conftest import screenshot
from tests.support.live_cli import Cli, unique_email
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1280, 390)
PASSWORD = "correct horse battery staple"


def new_context(chromium: Any, width: int) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        # A page answered with a deliberate 4xx (a stale edit's 409, a 404) logs its status
        # as "Failed to load resource"; that is the page working, not an error on it.
        deliberate = re.search(r"Failed to load resource: .* status of 4\d\d", message.text)
        if message.type == "error" and not deliberate:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return context, page, problems


def shots(page: Any, name: str) -> None:
    """The current page at each width (the same page, resized)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + '.' + e.className).slice(0, 5)"""
        )
        assert fits, (name, width, wide)
        screenshot(page, f"console-{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def sign_up(page: Any, server: LiveServer, name: str, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#signup-name", name)
    page.fill("#signup-email", email)
    page.fill("#signup-password", PASSWORD)
    page.click("button:has-text('Create account')")
    page.wait_for_url("**/welcome")


def cli_logged_in(page: Any, server: LiveServer, tmp_path: Path) -> Cli:
    """The real CLI with its own HOME, logged in by approving its code in ``page``."""
    cli = Cli(tmp_path, server.url)
    home = tmp_path / "home"
    home.mkdir()
    cli.env.update({"HOME": str(home)})
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        cli.env.pop(name, None)
    login = cli.start_login()
    try:
        code = login.user_code()
        page.goto(f"{server.url}/device?user_code={code}")
        page.click("button:has-text('Approve')")
        page.wait_for_selector("text=Approved.")
        status, _, stderr = login.wait()
    finally:
        login.kill()
    assert status == 0, stderr
    assert cli.run("config", "--agents", "claude-code").returncode == 0
    return cli


def write_skill(folder: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder


def test_console_journey(shared_server: LiveServer, chromium: Any, tmp_path: Path) -> None:
    context, page, problems = new_context(chromium, 1280)
    sign_up(page, shared_server, "Ada Lovelace", unique_email())
    assert "better-skills sync" in page.inner_text("main")
    assert f"better-skills login --server {shared_server.url}" in page.inner_text("main")
    shots(page, "welcome")

    cli = cli_logged_in(page, shared_server, tmp_path)
    folder = write_skill(
        tmp_path / "deploy",
        {
            "SKILL.md": "---\nname: deploy\ndescription: Ship the app.\n---\n# Deploy\n\n"
            "Read [[resource:new:references/steps.md]] first.\n\n```sh\nmake deploy\n```\n",
            "references/steps.md": "# Steps\n\n1. Build\n2. Ship\n",
            "scripts/check.py": "import sys\nprint(sys.argv)\n",
        },
    )
    made = cli.run("create", "--from", str(folder), "--json")
    assert made.returncode == 0, made.stderr
    deploy_id = json.loads(made.stdout)["skill"]["id"]
    release = write_skill(
        tmp_path / "release",
        {
            "SKILL.md": "---\nname: release\ndescription: Cut a release.\n---\n"
            f"Tag it, then follow [[skill:{deploy_id}]].\n"
        },
    )
    assert cli.run("create", "--from", str(release)).returncode == 0

    page.goto(f"{shared_server.url}/vault")
    page.wait_for_selector("a.skill-name:has-text('deploy')")
    shots(page, "vault")
    page.click("a.skill-name:has-text('deploy')")
    page.wait_for_selector(".markdown h1:has-text('Deploy')")
    assert page.locator(".markdown a:has-text('references/steps.md')").count() == 1
    assert page.locator(".markdown pre code span").count() > 0  # highlighted
    shots(page, "skill")
    page.click(".file-tree a:has-text('check.py')")
    page.wait_for_selector("pre.highlight")
    shots(page, "skill-code-file")
    skill_url = page.url.split("?")[0]

    # Edit SKILL.md in the browser; the change reaches sync.
    page.goto(f"{skill_url}?edit=1")
    old_text = page.input_value("#content")
    page.fill("#content", old_text.replace("# Deploy", "# Deploy v2"))
    shots(page, "skill-edit")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    page.wait_for_selector(".markdown h1:has-text('Deploy v2')")
    synced = cli.run("sync", timeout=60)
    assert synced.returncode == 0, synced.stderr
    home = Path(cli.env["HOME"])
    installed = home / ".claude" / "skills" / "personal--deploy" / "SKILL.md"
    assert "# Deploy v2" in installed.read_text()

    # A stale edit: this tab opened the editor before another tab saved.
    page.goto(f"{skill_url}?edit=1")
    other = context.new_page()
    other.goto(f"{skill_url}?edit=1")
    other.fill("#content", other.input_value("#content") + "\nFrom the other tab.\n")
    other.click("button:has-text('Save')")
    other.wait_for_selector("text=Saved.")
    mine = page.input_value("#content") + "\nMy careful paragraph.\n"
    page.fill("#content", mine)
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Someone changed this skill")
    assert "My careful paragraph." in page.input_value("#content")
    shots(page, "skill-stale-edit")

    page.goto(f"{shared_server.url}/vault/graph")
    page.wait_for_selector("svg.graph .graph-edge")
    shots(page, "graph")
    page.goto(f"{skill_url}/graph")
    page.wait_for_selector("svg.graph .graph-current")
    page.click("svg.graph a.graph-current")
    page.wait_for_url(f"{skill_url}")
    page.goto(f"{skill_url}/graph")
    shots(page, "skill-graph")
    context.close()
    assert problems == []

    # Another person: the skill's page is a 404 that names nothing.
    context, page, _ = new_context(chromium, 390)
    sign_up(page, shared_server, "Bob", unique_email("bob"))
    response = page.goto(skill_url)
    assert response is not None and response.status == 404
    assert "deploy" not in page.inner_text("main").lower()
    screenshot(page, "console-not-found-390")
    context.close()


def test_hostile_content_runs_no_script(
    shared_server: LiveServer, chromium: Any, tmp_path: Path
) -> None:
    context, page, problems = new_context(chromium, 1280)
    recorded: list[str] = []
    dialogs: list[str] = []
    context.route(
        "**/xss-recorder**", lambda route: (recorded.append(route.request.url), route.abort())
    )
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_up(page, shared_server, NAME, unique_email("mallory"))
    cli = cli_logged_in(page, shared_server, tmp_path)
    body = hostile_markdown()
    skill_md = (
        "---\n"
        f"name: {_yaml(NAME)}\n"
        f"description: {_yaml(DESCRIPTION)}\n"
        f"metadata:\n  author: {_yaml(DESCRIPTION)}\n"
        "---\n" + body
    )
    folder = write_skill(
        tmp_path / "hostile",
        {"SKILL.md": skill_md, FILE_NAME: body, "scripts/x.html": body, "x.svg": body},
    )
    made = cli.run("create", "--from", str(folder), "--slug", "hostile")
    assert made.returncode == 0, made.stderr

    urls = [
        f"{shared_server.url}/vault",
        f"{shared_server.url}/vault?q=xss",
        f"{shared_server.url}/vault/graph",
    ]
    page.goto(urls[0])
    page.click("a.skill-name")
    page.wait_for_selector(".markdown")
    skill_url = page.url.split("?")[0]
    urls += [
        skill_url,
        f"{skill_url}?edit=1",
        f"{skill_url}?file={_quote(FILE_NAME)}",
        f"{skill_url}?file=scripts%2Fx.html",
        f"{skill_url}?file=x.svg",
        f"{skill_url}/graph",
    ]
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("load")
        # Hover and click every link of the main part: a handler would run now.
        for link in page.locator("main .markdown a").all()[:40]:
            link.hover()
        assert page.evaluate("window.__xss") is None, url
        live = page.evaluate(
            """() => {
              const main = document.querySelector('main');
              const bad = [];
              for (const el of main.querySelectorAll('*')) {
                const tags = ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'STYLE', 'META', 'IMG'];
                if (tags.includes(el.tagName)) bad.push(el.tagName);
                for (const a of el.attributes) {
                  if (a.name.startsWith('on')) bad.push(el.tagName + '@' + a.name);
                  const urls = ['href', 'src', 'action', 'xlink:href', 'data'];
                  const scheme = /^\\s*(javascript|vbscript|data):/i;
                  if (urls.includes(a.name) && scheme.test(a.value))
                    bad.push(el.tagName + '@' + a.name + '=' + a.value);
                }
              }
              return bad;
            }"""
        )
        assert live == [], (url, live)
    shots(page, "hostile-skill-graph")
    page.goto(skill_url)
    shots(page, "hostile-skill")
    assert recorded == [] and dialogs == []
    # The page showed the vectors as text, so the test looked at them.
    assert "<script>window.__xss=1</script>" in page.inner_text("main")
    context.close()
    # CSP reports for blocked resources would be console errors; none is expected since
    # nothing hostile reaches the DOM as markup.
    assert problems == [], problems


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
