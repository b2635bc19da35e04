"""When a browser can be opened, and opening it through webbrowser."""

from __future__ import annotations

import webbrowser

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
