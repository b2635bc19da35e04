"""The caller's address: the socket, or X-Forwarded-For only behind a trusted proxy."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from better_skills.server.http import client_ip
from better_skills.server.settings import load_settings


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ("", "203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("10.0.0.0/8", "203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "garbage", "10.0.0.5"),
        ("10.0.0.0/8", "10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_client_ip(
    proxies: str, peer: str, forwarded: str | None, expected: str, tmp_path: Path
) -> None:
    settings = load_settings({"TRUSTED_PROXIES": proxies}, tmp_path / ".env")
    assert client_ip(request_from(peer, forwarded), settings) == expected
