"""A harness for command tests: in-memory streams, a stub browser, a fake server and clock."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from better_skills.cli import common
from better_skills.cli.common import AppState, Deps
from better_skills.cli.output import Output
from better_skills.client.session_store import SessionStore, StoredSession
from tests.client.fakes import BASE_URL, FakeAuthServer, fake_clock
from tests.support.clock import FakeClock


@dataclass
class StubBrowser:
    reason: str | None = None
    result: bool = True
    opened: list[str] = field(default_factory=list)

    def unavailable_reason(self) -> str | None:
        return self.reason

    def open(self, url: str) -> bool:
        self.opened.append(url)
        return self.result


class TTYStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass
class Harness:
    tmp_path: Path
    server: FakeAuthServer = field(default_factory=FakeAuthServer)
    clock: FakeClock = field(default_factory=fake_clock)
    browser: StubBrowser = field(default_factory=StubBrowser)
    environ: dict[str, str] = field(default_factory=lambda: {"SERVER_URL": BASE_URL})
    stdin_text: str = ""
    interactive: bool = False
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.session_path = self.tmp_path / "config" / "better-skills" / "session.json"
        self.store = SessionStore(self.session_path, on_notice=self.notices.append)

    def deps(self, state: AppState | None = None) -> Deps:
        out = Output(
            self.stdout, self.stderr, stdin=io.StringIO(self.stdin_text), environ=self.environ
        )
        return Deps(
            out=out,
            environ=self.environ,
            store=self.store,
            browser=self.browser,
            clock=self.clock,
            api_factory=self.server.factory(self.clock),
            state=state or AppState(),
            cwd=self.tmp_path,
            interactive=self.interactive,
        )

    @property
    def out(self) -> str:
        return self.stdout.getvalue()

    @property
    def err(self) -> str:
        return self.stderr.getvalue()

    def save_session(
        self,
        token: str = "old-token",  # noqa: S107
        *,
        hours: float = 8,
        server: str | None = BASE_URL,
    ) -> StoredSession:
        """A session as ours writes it (bound to ``server``); ``server=None``: the original's."""
        from datetime import timedelta

        now = self.clock.now()
        session = StoredSession(token, "Bearer", now, now + timedelta(hours=hours), server)
        self.store.save(session)
        return session


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


@pytest.fixture
def run_cli(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., int]]:
    """Run ``better-skills ARGS`` in-process through ``main.run`` with the harness's deps."""
    from better_skills.cli import main

    monkeypatch.setattr(common.Deps, "default", classmethod(lambda cls, state: harness.deps(state)))

    def run(*args: str) -> int:
        return main.run(list(args))

    yield run
