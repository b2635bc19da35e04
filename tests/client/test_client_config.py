"""SERVER_URL resolution: --server, environment, .env in the project root, default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from better_skills.client.config import (
    DEFAULT_SERVER_URL,
    find_dotenv,
    normalize_server_url,
    read_dotenv,
    resolve_server_url,
    token_from_env,
)
from better_skills.client.errors import ConfigError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """home/project (a git repository)/src/deep, with cwd at the deepest folder."""
    home = tmp_path / "home"
    deep = home / "project" / "src" / "deep"
    deep.mkdir(parents=True)
    (home / "project" / ".git").mkdir()
    return deep


def resolve(cwd: Path, flag: str | None = None, **environ: str):
    return resolve_server_url(flag, environ=environ, cwd=cwd, home=cwd.parents[2])


def test_default_when_nothing_is_set(project: Path) -> None:
    server = resolve(project)
    assert server.url == DEFAULT_SERVER_URL == "http://localhost:3000"
    assert server.source == "the default"


def test_dotenv_in_the_project_root_is_used(project: Path) -> None:
    root = project.parents[1]
    (root / ".env").write_text("# settings\nexport SERVER_URL='https://dotenv.example/'\n")
    server = resolve(project)
    assert server.url == "https://dotenv.example"
    assert str(root / ".env") in server.source


def test_the_nearest_dotenv_wins(project: Path) -> None:
    (project.parents[1] / ".env").write_text("SERVER_URL=https://root.example\n")
    (project / ".env").write_text("SERVER_URL=https://near.example\n")
    assert resolve(project).url == "https://near.example"


def test_a_dotenv_without_server_url_falls_back_to_the_default(project: Path) -> None:
    (project / ".env").write_text("PORT=4000\n")
    assert resolve(project).url == DEFAULT_SERVER_URL


def test_the_search_stops_at_the_git_root(project: Path) -> None:
    home = project.parents[2]
    (home / ".env").write_text("SERVER_URL=https://home.example\n")
    assert resolve(project).url == DEFAULT_SERVER_URL


def test_a_dotenv_above_the_project_is_never_read(tmp_path: Path) -> None:
    """Issue 16 item 1: the search walked up to home or /, so a .env planted in a shared
    parent folder (the system's temporary folder) steered every run below it."""
    home = tmp_path / "home"
    cwd = home / "a" / "b"
    cwd.mkdir(parents=True)
    (tmp_path / ".env").write_text("SERVER_URL=https://above-home.example\n")
    (home / ".env").write_text("SERVER_URL=https://home.example\n")
    (home / "a" / ".env").write_text("SERVER_URL=https://parent.example\n")
    assert resolve_server_url(environ={}, cwd=cwd, home=home).url == DEFAULT_SERVER_URL
    (cwd / ".env").write_text("SERVER_URL=https://here.example\n")
    assert resolve_server_url(environ={}, cwd=cwd, home=home).url == "https://here.example"


def test_a_world_writable_dotenv_is_ignored_with_a_notice(project: Path) -> None:
    dotenv = project / ".env"
    dotenv.write_text("SERVER_URL=https://planted.example\n")
    os.chmod(dotenv, 0o666)  # noqa: S103 - the point of the test
    notices: list[str] = []
    server = resolve_server_url(environ={}, cwd=project, on_notice=notices.append)
    assert server.url == DEFAULT_SERVER_URL
    assert notices == [
        f"Ignored {dotenv}: other users can write to it (chmod o-w {dotenv} to use it)."
    ]
    os.chmod(dotenv, 0o644)
    assert resolve_server_url(environ={}, cwd=project).url == "https://planted.example"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_dotenv_of_another_user_is_ignored(project: Path) -> None:
    dotenv = project.parents[1] / ".env"  # at the git root
    dotenv.write_text("SERVER_URL=https://planted.example\n")
    os.chown(dotenv, 65534, 65534)
    notices: list[str] = []
    server = resolve_server_url(environ={}, cwd=project, on_notice=notices.append)
    assert server.url == DEFAULT_SERVER_URL
    assert notices == [f"Ignored {dotenv}: it belongs to another user."]


def test_environment_beats_dotenv(project: Path) -> None:
    (project / ".env").write_text("SERVER_URL=https://dotenv.example\n")
    server = resolve(project, SERVER_URL="http://env.example:8080/")
    assert server.url == "http://env.example:8080"
    assert server.source == "the SERVER_URL environment variable"


def test_flag_beats_everything(project: Path) -> None:
    (project / ".env").write_text("SERVER_URL=https://dotenv.example\n")
    server = resolve(project, "https://flag.example//", SERVER_URL="http://env.example")
    assert (server.url, server.source) == ("https://flag.example", "--server")


def test_an_empty_environment_variable_counts_as_unset(project: Path) -> None:
    assert resolve(project, SERVER_URL="  ").url == DEFAULT_SERVER_URL


@pytest.mark.parametrize(
    "raw",
    [
        "localhost:3000",
        "ftp://example.com",
        "http://",
        "http://exa mple.com",
        "http://example.com:99999",
        "http://example.com:port",
        "http://user:pw@example.com",
        "https://example.com/?x=1",
        "https://example.com/#frag",
        "http://example.com\x1b[2J",
    ],
)
def test_invalid_urls_name_their_source(project: Path, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(project, SERVER_URL=raw)
    assert "SERVER_URL environment variable" in caught.value.message
    assert caught.value.hints


def test_an_invalid_dotenv_url_names_the_file(project: Path) -> None:
    (project / ".env").write_text("SERVER_URL=not a url\n")
    with pytest.raises(ConfigError, match=r"SERVER_URL in .*\.env"):
        resolve(project)


def test_a_path_prefix_is_kept() -> None:
    assert normalize_server_url("https://example.com/skills/", "x") == "https://example.com/skills"


def test_dotenv_parsing(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "\n".join(
            [
                "# comment",
                "A=1",
                "export B = two ",
                'C="quoted # not a comment"',
                "D=value # a comment",
                "E='single'",
                "not a pair",
                "=nokey",
            ]
        )
    )
    assert read_dotenv(path) == {
        "A": "1",
        "B": "two",
        "C": "quoted # not a comment",
        "D": "value",
        "E": "single",
    }


def test_an_unreadable_dotenv_is_ignored(tmp_path: Path) -> None:
    assert read_dotenv(tmp_path / "missing") == {}
    (tmp_path / ".env").mkdir()
    assert find_dotenv(tmp_path, tmp_path) is None


def test_token_from_env() -> None:
    assert token_from_env({}) is None
    assert token_from_env({"BETTER_SKILLS_TOKEN": " "}) is None
    assert token_from_env({"BETTER_SKILLS_TOKEN": " abc.DEF_123 "}) == "abc.DEF_123"
    with pytest.raises(ConfigError, match="BETTER_SKILLS_TOKEN"):
        token_from_env({"BETTER_SKILLS_TOKEN": "two words"})


def test_same_server() -> None:
    from better_skills.client.config import same_server

    assert same_server("http://localhost:3000", "HTTP://LocalHost:3000/")
    assert same_server("https://a.example", "https://a.example:443")
    assert not same_server("http://a.example", "https://a.example")
    assert not same_server("http://a.example:3000", "http://a.example:3001")
    assert not same_server("http://a.example", "http://a.example.evil")
    assert not same_server("http://a.example/x", "http://a.example/y")
