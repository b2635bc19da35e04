"""The TEAM_VAULTS setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from better_skills.server.settings import SettingsError, load_settings


def _load(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    base = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite", "SECRET_KEY": "k" * 40}
    return load_settings({**base, **env}, tmp_path / ".env")


def test_team_vaults_defaults_to_anyone_and_accepts_admins(tmp_path: Path) -> None:
    assert _load(tmp_path).team_vaults == "anyone"
    assert _load(tmp_path, TEAM_VAULTS=" Admins ").team_vaults == "admins"


def test_a_bad_team_vaults_value_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TEAM_VAULTS: expected anyone or admins"):
        _load(tmp_path, TEAM_VAULTS="everyone")
