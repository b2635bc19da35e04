"""The caller's address: the socket, or X-Forwarded-For only behind a trusted proxy."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from better_skills.server.http import client_ip, parse_hop
from better_skills.server.settings import load_settings


def request_from(peer: str, *forwarded: str) -> Request:
    """A request from ``peer`` with one ``X-Forwarded-For`` line per ``forwarded`` value."""
    headers = [(b"x-forwarded-for", line.encode()) for line in forwarded]
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ("", "203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("10.0.0.0/8", "203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", None, "10.0.0.5"),
        # A proxy that writes the client's port, bracketed IPv6, quotes, empty elements
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 198.51.100.7:5678", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "[2001:db8::5]:443", "2001:db8::5"),
        ("10.0.0.0/8", "10.0.0.5", "[2001:db8::5]", "2001:db8::5"),
        ("10.0.0.0/8", "10.0.0.5", '"198.51.100.7"', "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.7,, ,", "198.51.100.7"),
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.7:5678, 10.0.0.9:80", "198.51.100.7"),
        # A dual-stack socket reports an IPv4 proxy as ::ffff:10.0.0.5
        ("10.0.0.0/8", "::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7"),
        # A trusted proxy that cannot name the client: unknown, never the proxy's address
        ("10.0.0.0/8", "10.0.0.5", "unknown", None),
        ("10.0.0.0/8", "10.0.0.5", "garbage", None),
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, unknown", None),
        # ...while what a client wrote left of a named client changes nothing
        ("10.0.0.0/8", "10.0.0.5", "unknown, [bad, 198.51.100.7", "198.51.100.7"),
    ],
)
def test_client_ip(
    proxies: str, peer: str, forwarded: str | None, expected: str | None, tmp_path: Path
) -> None:
    settings = load_settings({"TRUSTED_PROXIES": proxies}, tmp_path / ".env")
    lines = (forwarded,) if forwarded is not None else ()
    assert client_ip(request_from(peer, *lines), settings) == expected


def test_every_forwarded_for_line_counts(tmp_path: Path) -> None:
    """HAProxy's ``option forwardfor`` appends its own line after the client's forged one:
    reading only the first line believed the client (issue 16, item 2)."""
    settings = load_settings({"TRUSTED_PROXIES": "10.0.0.0/8"}, tmp_path / ".env")
    forged = request_from("10.0.0.5", "6.6.6.6", "198.51.100.7")
    assert client_ip(forged, settings) == "198.51.100.7"
    # Several lines, each a list, in order: the rightmost untrusted hop wins.
    chained = request_from("10.0.0.5", "1.1.1.1, 2.2.2.2", "198.51.100.7, 10.0.0.9")
    assert client_ip(chained, settings) == "198.51.100.7"


def test_clients_behind_a_proxy_that_writes_ports_are_not_one_bucket(tmp_path: Path) -> None:
    """Unparseable hops fell back to the proxy's address: every client shared its budget."""
    settings = load_settings({"TRUSTED_PROXIES": "10.0.0.0/8"}, tmp_path / ".env")
    found = {
        client_ip(request_from("10.0.0.5", hop), settings)
        for hop in ("198.51.100.7:5678", "198.51.100.8:5679", "[2001:db8::5]:443")
    }
    assert found == {"198.51.100.7", "198.51.100.8", "2001:db8::5"}


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 1.2.3.4:5678 ", "1.2.3.4"),
        ("[2001:db8::5]:443", "2001:db8::5"),
        ("2001:db8::5", "2001:db8::5"),
        ("fe80::1%eth0", "fe80::1"),
        ("unknown", None),
        ("_hidden", None),
        ("1.2.3.4:http", None),
        ("[2001:db8::5]x", None),
        ("[2001:db8::5", None),
        ("1.2.3", None),
        ("", None),
    ],
)
def test_parse_hop(hop: str, expected: str | None) -> None:
    found = parse_hop(hop)
    assert (str(found) if found is not None else None) == expected
