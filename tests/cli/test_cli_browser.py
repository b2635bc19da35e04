"""When a browser can be opened, and opening it through webbrowser."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import pytest

from better_skills.cli.browser import SystemBrowser


@pytest.mark.parametrize(
    ("environ", "platform", "reason"),
    [
        ({"DISPLAY": ":0"}, "linux", None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({}, "linux", "there is no graphical display"),
        ({}, "darwin", None),
        ({}, "win32", None),
        ({"DISPLAY": ":0", "SSH_CONNECTION": "1 2 3 4"}, "linux", "this is an SSH session"),
        ({"SSH_TTY": "/dev/pts/1"}, "darwin", "this is an SSH session"),
        ({"BROWSER": "firefox", "SSH_CONNECTION": "1 2 3 4"}, "linux", None),
        ({"BROWSER": "echo"}, "linux", None),
    ],
)
def test_unavailable_reason(environ: dict[str, str], platform: str, reason: str | None) -> None:
    assert SystemBrowser(environ, platform).unavailable_reason() == reason


def test_open_uses_webbrowser(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, int]] = []

    def fake_open(url: str, new: int = 0) -> bool:
        opened.append((url, new))
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    assert SystemBrowser({}, "darwin").open("http://x/device") is True
    assert opened == [("http://x/device", 2)]


def test_a_failing_browser_returns_false(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(url: str, new: int = 0) -> bool:
        raise webbrowser.Error("no runnable browser")

    monkeypatch.setattr(webbrowser, "open", fail)
    assert SystemBrowser({}, "darwin").open("http://x") is False


def test_a_launcher_that_fails_after_starting_is_not_an_opened_browser(tmp_path: Path) -> None:
    """Issue 15 item 7: "Opened the login page in your browser" was printed even when xdg-open
    failed a moment after it started (webbrowser only checks that the process exists)."""
    import shutil
    import subprocess
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "xdg-open"
    launcher.write_text("#!/bin/sh\nsleep 0.3\necho 'no browser' >&2\nexit 4\n")
    launcher.chmod(0o755)
    for tool in ("sh", "sleep", "echo"):  # only these: no real browser on this PATH
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    env = {
        "PATH": str(bin_dir),
        "DISPLAY": ":99",
        "HOME": str(tmp_path),
    }
    script = (
        "from better_skills.cli.browser import SystemBrowser;"
        "print(SystemBrowser().open('http://127.0.0.1:9/device'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "False", result.stderr
    launcher.write_text("#!/bin/sh\nexit 0\n")
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "True", result.stderr
