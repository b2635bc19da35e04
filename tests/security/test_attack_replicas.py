"""The same attacks against two replicas sharing one PostgreSQL database: an attacker who
spreads requests over both gets no more than from one."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from tests.support.flow import PASSWORD
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.backends("postgres")
WRONG = ["BCDF-BCDF", "GHJK-GHJK", "LMNP-LMNP", "QRST-QRST"]


def guess(url: str, i: int, ip: str, token: str | None = None) -> int:
    headers = {"X-Forwarded-For": ip}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.get(
        url + Paths.DEVICE_VERIFY,
        params={"user_code": WRONG[i % len(WRONG)]},
        headers=headers,
        timeout=20,
    )
    assert response.status_code in (400, 429), response.text
    assert response.json()["error"] in ("invalid_request", "too_many_requests")
    return response.status_code


def test_guessing_limits_hold_across_two_replicas(
    server_factory: Callable[..., LiveServer], database_url: str
) -> None:
    env = {
        "POLL_INTERVAL": "1",
        "RATE_LIMIT_USER_CODE": "6/15m",
        "RATE_LIMIT_SIGN_IN": "5/15m",
        "RATE_LIMIT_SIGN_IN_EMAIL": "5/15m",  # one account from many addresses (below)
        "TRUSTED_PROXIES": "127.0.0.1/32",  # so that the test can speak for many addresses
    }
    first = server_factory(database_url, **env)
    second = server_factory(database_url, **env)
    urls = [first.url, second.url]

    # One address, alternating replicas.
    statuses = [guess(urls[i % 2], i, "198.51.100.9") for i in range(12)]
    assert statuses == [400] * 6 + [429] * 6

    # One address, a parallel burst spread over both replicas.
    with ThreadPoolExecutor(20) as pool:
        burst = list(pool.map(lambda i: guess(urls[i % 2], i, "198.51.100.10"), range(40)))
    assert burst.count(400) == 6 and burst.count(429) == 34

    # One account, a new address for every guess, alternating replicas.
    person = first.browser()
    token = person.sign_up("Mallory", "mallory@example.com", PASSWORD)["token"]
    person.close()
    statuses = [guess(urls[i % 2], i, f"203.0.113.{i + 1}", token) for i in range(12)]
    assert statuses == [400] * 6 + [429] * 6

    # Password guessing on one account from many addresses, in parallel over both replicas.
    def sign_in(i: int) -> int:
        response = httpx.post(
            urls[i % 2] + Paths.SIGN_IN_EMAIL,
            json={"email": "mallory@example.com", "password": f"guess {i}"},
            headers={"X-Forwarded-For": f"192.0.2.{i + 1}"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(20) as pool:
        attempts = list(pool.map(sign_in, range(30)))
    assert attempts.count(401) == 5 and attempts.count(429) == 25, attempts


def test_a_code_is_redeemed_once_across_two_replicas_and_stays_dead(
    server_factory: Callable[..., LiveServer], database_url: str
) -> None:
    first = server_factory(database_url, POLL_INTERVAL="1")
    second = server_factory(database_url, POLL_INTERVAL="1")
    issued = httpx.post(first.url + Paths.DEVICE_CODE, json={"client_id": CLIENT_ID}).json()
    person = second.browser()
    person.sign_up("Ada", "ada@example.com", PASSWORD)
    person.approve(issued["user_code"])
    body = {
        "grant_type": DEVICE_CODE_GRANT_TYPE,
        "device_code": issued["device_code"],
        "client_id": CLIENT_ID,
    }

    def redeem(i: int) -> httpx.Response:
        return httpx.post((first, second)[i % 2].url + Paths.DEVICE_TOKEN, data=body, timeout=30)

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(redeem, range(24)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1
    assert {a.json()["error"] for a in answers if a.status_code != 200} <= {
        "invalid_grant",
        "slow_down",
    }
    token = winners[0].json()["access_token"]
    for server in (first, second):
        replay = httpx.post(server.url + Paths.DEVICE_TOKEN, data=body, timeout=10)
        assert replay.json()["error"] == "invalid_grant"
    # Revoked on one replica, dead on the other at once.
    bearer = {"Authorization": f"Bearer {token}"}
    httpx.post(second.url + Paths.SIGN_OUT, headers=bearer).raise_for_status()
    assert httpx.get(first.url + Paths.GET_SESSION, headers=bearer).json() is None
    person.close()
