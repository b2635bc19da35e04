"""Attacks through a victim's browser: cross-site request forgery (on the API and the page
forms), login CSRF, clickjacking of the approve button, and cross-origin reads."""

from __future__ import annotations

import pytest

from better_skills.protocol.device_flow import CLIENT_ID, Paths
from tests.security.helpers import (
    FORM,
    a_code_and_two_people,
    assert_page_error,
    assert_rfc_error,
    hidden,
    page_sign_up,
)
from tests.server.flow import ORIGIN, PASSWORD, claim, issue, poll, sign_up

#: Origin, CSRF and header checks run before any database work: one backend is enough.
pytestmark = [pytest.mark.anyio, pytest.mark.backends("sqlite")]
EVIL = "https://evil.example"
#: Headers a cross-site page can make a browser send, none of which names our origin.
FOREIGN = [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Origin": "null", "Referer": EVIL + "/phish"},
    {"Referer": EVIL + "/phish"},
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "https://testserver"},
    {"Referer": "http://testserver@evil.example/"},
    {},
]


async def test_cookie_authenticated_api_posts_need_our_origin(app) -> None:
    """The API's approve, deny and sign-out, called with the victim's cookie from another
    site, are refused with 403 and change nothing."""
    async with app() as a, a.client() as device, a.client("10.0.0.2") as victim:
        await sign_up(victim)  # the cookie is in the jar from here on
        code = await issue(device)
        assert (await claim(victim, code["user_code"])).status_code == 200
        for headers in FOREIGN:
            for path in (Paths.DEVICE_APPROVE, Paths.DEVICE_DENY):
                for send in (
                    {"json": {"userCode": code["user_code"]}},
                    {"data": {"userCode": code["user_code"]}},  # what an HTML form can send
                ):
                    response = await victim.post(path, headers=headers, **send)
                    assert assert_rfc_error(response, 403)["error"] == "forbidden", headers
            signed_out = await victim.post(Paths.SIGN_OUT, headers=headers)
            assert_rfc_error(signed_out, 403)
        assert (await victim.get(Paths.GET_SESSION)).json() is not None
        assert assert_rfc_error(await poll(device, code["device_code"]))["error"] == (
            "authorization_pending"
        )


async def test_page_forms_need_the_csrf_token_and_our_origin(app) -> None:
    async with a_code_and_two_people(app, page_sign_up) as (device, victim, attacker, code):
        page = await victim.get("/device", params={"user_code": code["user_code"]})
        token = hidden(page.text, "csrf_token")
        attackers_token = hidden((await attacker.get("/account")).text, "csrf_token")
        login_token = hidden((await device.get("/login")).text, "csrf_token")
        for verb in ("approve", "deny"):
            for csrf in ("", "x" * 43, attackers_token, login_token, token[:-1], token + "A"):
                forged = await victim.post(
                    f"/device/{verb}",
                    data={"user_code": code["user_code"], "csrf_token": csrf},
                    headers=ORIGIN,
                )
                assert_page_error(forged, 403)
            no_token = await victim.post(
                f"/device/{verb}", data={"user_code": code["user_code"]}, headers=ORIGIN
            )
            assert_page_error(no_token, 403)
            for headers in FOREIGN:  # the right token, but posted from another site
                cross = await victim.post(
                    f"/device/{verb}",
                    data={"user_code": code["user_code"], "csrf_token": token},
                    headers=headers,
                )
                assert_page_error(cross, 403)
        # Revoking a session and signing out are protected the same way.
        account = await victim.get("/account")
        for headers in FOREIGN:
            out = await victim.post(
                "/logout", data={"csrf_token": hidden(account.text, "csrf_token")}, headers=headers
            )
            assert_page_error(out, 403)
        assert assert_rfc_error(await poll(device, code["device_code"]))["error"] == (
            "authorization_pending"
        )
        # With both, it works: the defences do not stop the real page.
        ok = await victim.post(
            "/device/approve",
            data={"user_code": code["user_code"], "csrf_token": token},
            headers=ORIGIN,
        )
        assert ok.status_code == 303


async def test_login_csrf_through_the_api_is_refused(app) -> None:
    """A cross-site HTML form can post form-encoded sign-in and sign-up bodies, and the victim's
    browser sends no cookie with it (SameSite=Lax): without an Origin check that signed the
    victim's browser into the attacker's account, whose approvals then go to the attacker."""
    async with app() as a, a.client("10.0.0.3") as attacker, a.client("10.0.0.2") as victim:
        await sign_up(attacker, "mallory@example.com")
        for headers in FOREIGN[:-1]:  # every header set a browser sends cross-site
            sign_in = await victim.post(
                Paths.SIGN_IN_EMAIL,
                data={"email": "mallory@example.com", "password": PASSWORD},
                headers=headers,
            )
            assert assert_rfc_error(sign_in, 403)["error"] == "forbidden", headers
            sign_up_ = await victim.post(
                Paths.SIGN_UP_EMAIL,
                data={"name": "M", "email": "m2@example.com", "password": PASSWORD},
                headers=headers,
            )
            assert_rfc_error(sign_up_, 403)
            assert "set-cookie" not in sign_in.headers and "set-cookie" not in sign_up_.headers
        assert not victim.cookies
        assert (await victim.get(Paths.GET_SESSION)).json() is None
        # Programs that are not browsers send no Origin, and keep working; so does our site.
        plain = await victim.post(
            Paths.SIGN_IN_EMAIL, json={"email": "mallory@example.com", "password": PASSWORD}
        )
        assert plain.status_code == 200
        victim.cookies.clear()
        ours = await victim.post(
            Paths.SIGN_IN_EMAIL,
            data={"email": "mallory@example.com", "password": PASSWORD},
            headers=ORIGIN,
        )
        assert ours.status_code == 200


async def test_the_login_page_refuses_cross_site_posts(app) -> None:
    async with app() as a, a.client() as victim:
        form = await victim.get("/login")
        token = hidden(form.text, "csrf_token")
        for path, data in (
            ("/login", {"email": "mallory@example.com", "password": PASSWORD}),
            ("/signup", {"name": "M", "email": "mallory@example.com", "password": PASSWORD}),
        ):
            for headers in FOREIGN:
                response = await victim.post(
                    path, data={**data, "csrf_token": token}, headers={**headers, **FORM}
                )
                assert_page_error(response, 403)
            no_token = await victim.post(path, data=data, headers=ORIGIN)
            assert_page_error(no_token, 403)


FRAMED = [
    "/device",
    "/device?user_code=BCDF-GHJK",
    "/device?user_code=%00",
    "/login",
    "/account",
    "/",
    "/no/such/page",
    Paths.DEVICE_VERIFY + "?user_code=x",
]


def assert_unframable(response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_no_page_can_be_framed(app) -> None:
    """Clickjacking: the approve button must not be placed under another site's decoy."""
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        for path in FRAMED:
            assert_unframable(await person.get(path))
        await page_sign_up(person)
        code = await issue(device)
        page = await person.get("/device", params={"user_code": code["user_code"]})
        assert 'action="/device/approve"' in page.text  # the page with the button itself
        assert_unframable(page)
        for path in FRAMED:
            assert_unframable(await person.get(path))
        done = await person.post(
            "/device/approve",
            data={"user_code": code["user_code"], "csrf_token": hidden(page.text, "csrf_token")},
            headers=ORIGIN,
        )
        assert done.status_code == 303
        assert_unframable(await person.get(done.headers["location"]))


async def test_no_cross_origin_reads(app) -> None:
    """No CORS: another site's script cannot read the session or the device status."""
    async with app() as a, a.client() as person:
        await sign_up(person)
        for method, path in (
            ("GET", Paths.GET_SESSION),
            ("GET", "/trpc/me"),
            ("OPTIONS", Paths.GET_SESSION),
            ("OPTIONS", Paths.DEVICE_APPROVE),
        ):
            response = await person.request(
                method,
                path,
                headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
            )
            assert "access-control-allow-origin" not in response.headers
            assert "access-control-allow-credentials" not in response.headers


async def test_the_session_cookie_is_out_of_reach_of_scripts_and_other_sites(app) -> None:
    async with app() as a, a.client() as person:
        api = await person.post(
            Paths.SIGN_UP_EMAIL,
            json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
            headers=ORIGIN,
        )
        cookie = api.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    async with app(PUBLIC_URL="https://skills.example") as a, a.client() as person:
        form = await person.get("/login")
        assert "__host-" in form.headers["set-cookie"].lower()
        api = await person.post(
            Paths.SIGN_UP_EMAIL,
            json={"name": "Ada", "email": "bob@example.com", "password": PASSWORD},
            headers={"Origin": "https://skills.example"},
        )
        cookie = api.headers["set-cookie"].lower()
        assert cookie.startswith("__host-") and "secure" in cookie and "httponly" in cookie
        assert api.headers["strict-transport-security"].startswith("max-age=")
        token = api.json()["token"]
        code = await issue(person)
        # A bearer token is a credential for programs: it needs no Origin, a cookie does.
        bearer = {"Authorization": f"Bearer {token}"}
        looked = await person.get(
            Paths.DEVICE_VERIFY, params={"user_code": code["user_code"]}, headers=bearer
        )
        assert looked.json()["client_id"] == CLIENT_ID
