"""The session file: location, exact format, permissions, atomicity, damaged files."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from better_skills.client import session_store as store_module
from better_skills.client.errors import SessionFileError, SessionStoreUnwritable
from better_skills.client.session_store import (
    SessionStore,
    StoredSession,
    default_session_path,
    format_timestamp,
    parse_timestamp,
)

CREATED = datetime(2024, 3, 15, 10, 30, tzinfo=UTC)
SESSION = StoredSession("tok-123", "Bearer", CREATED, CREATED + timedelta(hours=8))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "better-skills" / "session.json"


@pytest.fixture
def notices() -> list[str]:
    return []


@pytest.fixture
def store(path: Path, notices: list[str]) -> SessionStore:
    return SessionStore(path, on_notice=notices.append)


# -- location ------------------------------------------------------------------------------


def test_xdg_config_home_is_used(tmp_path: Path) -> None:
    expected = tmp_path / "better-skills" / "session.json"
    assert default_session_path({"XDG_CONFIG_HOME": str(tmp_path)}) == expected


def test_default_is_dot_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".config" / "better-skills" / "session.json"
    assert default_session_path({}) == expected
    assert default_session_path({"XDG_CONFIG_HOME": ""}) == expected
    # The XDG spec says a relative path is invalid and must be ignored.
    assert default_session_path({"XDG_CONFIG_HOME": "relative/dir"}) == expected


# -- format --------------------------------------------------------------------------------


def test_the_file_has_exactly_the_documented_format(store: SessionStore, path: Path) -> None:
    store.save(SESSION)
    data = json.loads(path.read_text())
    assert list(data) == ["version", "accessToken", "tokenType", "createdAt", "expiresAt"]
    assert data == {
        "version": 1,
        "accessToken": "tok-123",
        "tokenType": "Bearer",
        "createdAt": "2024-03-15T10:30:00.000Z",
        "expiresAt": "2024-03-15T18:30:00.000Z",
    }


def test_timestamps_have_milliseconds_and_z() -> None:
    moment = datetime(2024, 3, 15, 11, 30, 0, 123456, tzinfo=UTC)
    assert format_timestamp(moment) == "2024-03-15T11:30:00.123Z"
    local = moment.astimezone(timezone(timedelta(hours=2)))
    assert format_timestamp(local) == "2024-03-15T11:30:00.123Z"


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15T10:30:00.000Z",
        "2024-03-15T10:30:00Z",
        "2024-03-15T12:30:00+02:00",
        "2024-03-15T10:30:00",
    ],
)
def test_timestamps_parse_in_every_common_form(text: str) -> None:
    assert parse_timestamp(text) == CREATED


def test_round_trip(store: SessionStore) -> None:
    store.save(SESSION)
    assert store.load() == SESSION


def test_reads_a_file_written_by_the_typescript_cli(
    store: SessionStore, path: Path, notices: list[str]
) -> None:
    """The original writes with JSON.stringify(..., null, 2), mode 0644, in a 0755 folder."""
    path.parent.mkdir(parents=True, mode=0o755)
    os.chmod(path.parent, 0o755)  # noqa: S103 - the original CLI's folder mode
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "accessToken": "abcDEF123abcDEF123abcDEF123abcDE",
                "tokenType": "Bearer",
                "createdAt": "2024-03-15T10:30:00.000Z",
                "expiresAt": "2024-03-15T18:30:00.000Z",
            },
            indent=2,
        )
    )
    os.chmod(path, 0o644)
    loaded = store.load()
    assert loaded is not None
    assert loaded.access_token == "abcDEF123abcDEF123abcDEF123abcDE"
    assert loaded.expires_at == CREATED + timedelta(hours=8)
    # ...and tightens it, telling the user.
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert any("0644 to 0600" in notice for notice in notices)
    assert any("0755 to 0700" in notice for notice in notices)


def test_is_expired() -> None:
    assert not SESSION.is_expired(CREATED)
    assert SESSION.is_expired(CREATED + timedelta(hours=8))


# -- permissions and atomicity -------------------------------------------------------------


def test_file_is_0600_in_a_0700_folder(store: SessionStore, path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        store.save(SESSION)
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_a_loose_existing_folder_is_tightened_on_save(
    store: SessionStore, path: Path, notices: list[str]
) -> None:
    path.parent.mkdir(parents=True)
    os.chmod(path.parent, 0o777)  # noqa: S103 - the loose folder under test
    store.save(SESSION)
    assert mode(path.parent) == 0o700
    assert notices


def test_save_writes_a_temporary_file_in_the_same_folder_then_renames(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    fsyncs: list[int] = []
    real_replace, real_fsync = os.replace, os.fsync

    def spy_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        assert fsyncs, "the data must be synced before the rename"
        real_replace(src, dst)

    def spy_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(store_module.os, "replace", spy_replace)
    monkeypatch.setattr(store_module.os, "fsync", spy_fsync)
    store.save(SESSION)
    [(src, dst)] = calls
    assert Path(src).parent == path.parent
    assert dst == str(path)
    assert len(fsyncs) >= 2  # the file, then the folder


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(SESSION)
    before = path.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module.os, "fsync", failing_fsync)
    newer = StoredSession("tok-new", "Bearer", CREATED, CREATED + timedelta(hours=9))
    with pytest.raises(SessionStoreUnwritable, match="No space left"):
        store.save(newer)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["session.json"]


def test_an_interrupted_write_leaves_no_temporary(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(SESSION)
    assert list(path.parent.iterdir()) == []


def test_a_symlink_at_the_session_path_is_replaced_not_followed(
    store: SessionStore, path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious")
    path.parent.mkdir(parents=True)
    path.symlink_to(target)
    with pytest.raises(SessionFileError, match="symbolic link"):
        store.load()
    store.save(SESSION)
    assert target.read_text() == "precious"
    assert not path.is_symlink()
    assert store.load() == SESSION


def test_a_symlinked_folder_is_refused(store: SessionStore, path: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path.parent.parent.mkdir(parents=True)
    path.parent.symlink_to(elsewhere)
    with pytest.raises(SessionStoreUnwritable, match="symbolic link"):
        store.save(SESSION)
    assert list(elsewhere.iterdir()) == []


def test_an_unwritable_folder_gives_the_three_remedies(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = SessionStore(blocker / "better-skills" / "session.json")
    with pytest.raises(SessionStoreUnwritable) as caught:
        store.save(SESSION)
    hints = " ".join(caught.value.hints)
    assert "permissions" in hints
    assert "XDG_CONFIG_HOME" in hints
    assert "user" in hints


def test_permission_denied_gives_the_three_remedies(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def deny(file: str, flags: int, *args: int) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, *args)

    monkeypatch.setattr(store_module.os, "open", deny)
    with pytest.raises(SessionStoreUnwritable, match="Permission denied") as caught:
        store.save(SESSION)
    assert len(caught.value.hints) == 3


# -- damaged files -------------------------------------------------------------------------


def test_no_file_is_none(store: SessionStore) -> None:
    assert store.load() is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b'{"version": 1, "accessToken": "tok", "tokenTy', "is corrupt (not valid JSON)"),
        (b"\xff\xfe\x00garbage", "is corrupt (not valid JSON)"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"version": 2, "accessToken": "t"}', "version 2"),
        (b'{"accessToken": "t"}', "no valid version"),
        (b'{"version": "1"}', "no valid version"),
        (b'{"version": 1, "tokenType": "Bearer"}', "accessToken"),
        (b'{"version": 1, "accessToken": "a b"}', "accessToken"),
        (
            b'{"version": 1, "accessToken": "t", "tokenType": "Bearer", "createdAt": "yesterday",'
            b' "expiresAt": "2024-03-15T18:30:00.000Z"}',
            "createdAt",
        ),
        (
            b'{"version": 1, "accessToken": "t", "tokenType": "Bearer",'
            b' "createdAt": "2024-03-15T18:30:00.000Z"}',
            "expiresAt",
        ),
    ],
)
def test_damaged_files_are_reported_clearly(
    store: SessionStore, path: Path, content: bytes, reason: str
) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(SessionFileError) as caught:
        store.load()
    assert reason in caught.value.message
    assert str(path) in caught.value.message
    assert "better-skills login" in caught.value.hints[0]


def test_an_oversized_file_is_refused(store: SessionStore, path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b" " * (1024 * 1024))
    with pytest.raises(SessionFileError, match="too large"):
        store.load()


def test_a_directory_at_the_session_path(store: SessionStore, path: Path) -> None:
    path.mkdir(parents=True)
    with pytest.raises(SessionFileError, match=r"directory|regular file"):
        store.load()


# -- delete --------------------------------------------------------------------------------


def test_delete(store: SessionStore, path: Path) -> None:
    assert store.delete() is False
    store.save(SESSION)
    assert store.delete() is True
    assert not path.exists()


def test_delete_removes_a_symlink_itself(store: SessionStore, path: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious")
    path.parent.mkdir(parents=True)
    path.symlink_to(target)
    assert store.delete() is True
    assert target.read_text() == "precious"


def test_the_server_is_recorded_as_an_added_field(store: SessionStore, path: Path) -> None:
    bound = StoredSession(
        "tok-123", "Bearer", CREATED, CREATED + timedelta(hours=8), "https://a.example"
    )
    store.save(bound)
    data = json.loads(path.read_text())
    # The original CLI's five fields come first and unchanged; its reader ignores the sixth.
    assert list(data) == [
        "version",
        "accessToken",
        "tokenType",
        "createdAt",
        "expiresAt",
        "serverUrl",
    ]
    assert data["serverUrl"] == "https://a.example"
    assert store.load() == bound
    assert bound.credential().server == "https://a.example"


@pytest.mark.parametrize("server", [42, "ftp://a.example", "not a url", ""])
def test_a_malformed_server_field_is_a_damaged_file(
    store: SessionStore, path: Path, server: object
) -> None:
    store.save(SESSION)
    data = json.loads(path.read_text())
    data["serverUrl"] = server
    path.write_text(json.dumps(data))
    with pytest.raises(SessionFileError, match="serverUrl"):
        store.load()
