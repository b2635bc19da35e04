"""The browser pages, in process with the fake clock: forms, redirects, states and defences."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEFAULT_SCOPE, DEVICE_CODE_GRANT_TYPE
from tests.support.clock import FakeClock
from tests.support.flow import ORIGIN, PASSWORD, SITE, hidden

pytestmark = pytest.mark.anyio

DEVICE_AGENT = "better-skills/0.1.0 (Linux x86_64; Python 3.11)"
DEVICE_IP = "203.0.113.7"


# -- Helpers ------------------------------------------------------------------------------


def text_of(response: httpx.Response) -> str:
    """The page's text with tags removed and white space collapsed, for reading messages."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


@asynccontextmanager
async def browser(client: httpx.AsyncClient, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (own cookie jar, own address) on the same application."""
    transport = httpx.ASGITransport(app=client.app, client=(ip, 50001))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as other:
        yield other


async def issue(
    client: httpx.AsyncClient, scope: str = DEFAULT_SCOPE, **extra: str
) -> dict[str, Any]:
    async with browser(client, DEVICE_IP) as device:
        response = await device.post(
            "/api/auth/device/code",
            json={"client_id": CLIENT_ID, "scope": scope, **extra},
            headers={"User-Agent": DEVICE_AGENT},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def poll(client: httpx.AsyncClient, device_code: str) -> httpx.Response:
    return await client.post(
        "/api/auth/device/token",
        json={
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": device_code,
            "client_id": CLIENT_ID,
        },
        headers={"User-Agent": DEVICE_AGENT},
    )


async def login_form(client: httpx.AsyncClient, next_path: str | None = None) -> str:
    """GET /login (which sets the CSRF cookie); returns the form's CSRF token."""
    url = "/login" if next_path is None else f"/login?next={quote(next_path, safe='')}"
    response = await client.get(url)
    assert response.status_code == 200
    return hidden(response.text, "csrf_token")


async def sign_up(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    name: str = "Ada Lovelace",
    next_path: str = "/account",
) -> httpx.Response:
    token = await login_form(client)
    response = await client.post(
        "/signup",
        data={
            "name": name,
            "email": email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": next_path,
        },
        headers=ORIGIN,
    )
    assert response.status_code == 303, response.text
    return response


async def get_session(client: httpx.AsyncClient, **kwargs: Any) -> Any:
    return (await client.get("/api/auth/get-session", **kwargs)).json()


async def open_code(client: httpx.AsyncClient, user_code: str, **kwargs: Any) -> httpx.Response:
    return await client.get("/device", params={"user_code": user_code}, **kwargs)


async def claim(client: httpx.AsyncClient, user_code: str) -> httpx.Response:
    """The entry form's Continue (signed in): claims the code for this account."""
    csrf = hidden((await client.get("/device")).text, "csrf_token")
    return await client.post(
        "/device", data={"user_code": user_code, "csrf_token": csrf}, headers=ORIGIN
    )


async def decide(
    client: httpx.AsyncClient, verb: str, user_code: str, csrf: str, **kwargs: Any
) -> httpx.Response:
    headers = kwargs.pop("headers", ORIGIN)
    return await client.post(
        f"/device/{verb}",
        data={"user_code": user_code, "csrf_token": csrf},
        headers=headers,
        **kwargs,
    )


async def approve_flow(client: httpx.AsyncClient) -> dict[str, Any]:
    """Issue a code, open and approve it in ``client`` (signed in), redeem it; the token body."""
    code = await issue(client)
    page = await open_code(client, code["user_code"])
    response = await decide(client, "approve", code["user_code"], hidden(page.text, "csrf_token"))
    assert response.status_code == 303, response.text
    async with browser(client, DEVICE_IP) as device:
        token = await poll(device, code["device_code"])
    assert token.status_code == 200, token.text
    return token.json()


# -- Every page ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/device", "/device?user_code=x", "/account"])
async def test_pages_send_the_security_headers_and_no_store(app_client, path: str) -> None:
    async with app_client() as client:
        response = await client.get(path)
    assert response.status_code in (200, 303, 400)
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]
    if response.status_code != 303:
        assert headers["content-type"].startswith("text/html")
        html = response.text
        assert "<script" not in html
        assert ' style="' not in html  # the CSP allows no inline styles
        assert re.search(r'<link rel="stylesheet" href="/static/style\.css\?v=\w+">', html)
        # Under the header's no-referrer, browsers send "Origin: null" on form posts.
        assert '<meta name="referrer" content="same-origin">' in html
        assert "better-skills" in html


async def test_the_stylesheet_and_icon_are_served(app_client) -> None:
    async with app_client() as client:
        page = (await client.get("/")).text
        for href in re.findall(r'href="(/static/[^"]+)"', page):
            assert (await client.get(href)).status_code == 200


async def test_landing_page_links_to_the_device_and_account_pages(app_client) -> None:
    async with app_client() as client:
        response = await client.get("/")
        assert response.status_code == 200
        assert 'href="/device"' in response.text
        assert 'href="/login"' in response.text
        await sign_up(client)
        signed_in = await client.get("/")
        assert 'href="/account"' in signed_in.text
        assert "Ada Lovelace" in signed_in.text


# -- Sign up and sign in ------------------------------------------------------------------


async def test_sign_up_sets_the_session_cookie_and_goes_to_next(app_client) -> None:
    async with app_client() as client:
        token = await login_form(client, "/device?user_code=BCDF-GHJK")
        response = await client.post(
            "/signup",
            data={
                "name": "Ada Lovelace",
                "email": "Ada@Example.com",
                "password": PASSWORD,
                "csrf_token": token,
                "next": "/device?user_code=BCDF-GHJK",
            },
            headers=ORIGIN,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/device?user_code=BCDF-GHJK"
        assert response.headers["cache-control"] == "no-store"
        cookie = next(
            c
            for c in response.headers.get_list("set-cookie")
            if c.startswith("better_skills_session=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        session = await get_session(client)
        assert session["user"]["email"] == "ada@example.com"


async def test_the_login_form_cookie_is_httponly_and_strict(app_client) -> None:
    async with app_client() as client:
        response = await client.get("/login")
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("better_skills_csrf=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    nonce = cookie.split(";", 1)[0].split("=", 1)[1]
    assert nonce not in response.text  # the form holds a keyed hash of it, not the nonce
    html = response.text
    for label in ("signin-email", "signin-password", "signup-name", "signup-email"):
        assert f'<label for="{label}">' in html
    assert 'autocomplete="current-password"' in html
    assert 'autocomplete="new-password"' in html


async def test_sign_in_with_the_right_and_the_wrong_password(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
    async with app_client() as client:
        token = await login_form(client)
        wrong = await client.post(
            "/login",
            data={"email": "ada@example.com", "password": "nope-nope", "csrf_token": token},
            headers=ORIGIN,
        )
        assert wrong.status_code == 401
        assert "Invalid email or password" in text_of(wrong)
        assert 'value="ada@example.com"' in wrong.text  # the email is kept...
        assert "nope-nope" not in wrong.text  # ...the password never
        assert await get_session(client) is None

        token = hidden(wrong.text, "csrf_token")
        right = await client.post(
            "/login",
            data={
                "email": " ADA@example.com ",
                "password": PASSWORD,
                "csrf_token": token,
                "next": "/device",
            },
            headers=ORIGIN,
        )
        assert right.status_code == 303
        assert right.headers["location"] == "/device"
        assert (await get_session(client))["user"]["name"] == "Ada Lovelace"


async def test_signing_in_again_ends_the_previous_browser_session(app_client) -> None:
    async with app_client() as client:
        token = await login_form(client)
        await sign_up(client)  # the login cookie's nonce, and so the token, stays the same
        first = (await get_session(client))["session"]["id"]
        # Signed in already: the login page sends the person on.
        assert (await client.get("/login?next=/device")).headers["location"] == "/device"
        again = await client.post(
            "/login",
            data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": token},
            headers=ORIGIN,
        )
        assert again.status_code == 303
        page = await client.get("/account")
        assert text_of(page).count("This browser") == 1
        assert first not in page.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        (
            {"email": "ada@example.com"},
            422,
            "An account with this email already exists",
        ),
        ({"password": "short"}, 400, "at least 8 characters"),
        ({"email": "not-an-email"}, 400, "Enter a valid email address"),
        ({"name": "   "}, 400, "Enter your name"),
    ],
)
async def test_sign_up_errors_rerender_the_form(
    app_client, fields: dict[str, str], status: int, message: str
) -> None:
    async with app_client() as client:
        await sign_up(client)
    async with app_client() as client:
        token = await login_form(client)
        data = {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            **fields,
        }
        response = await client.post("/signup", data=data, headers=ORIGIN)
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert message in text_of(response)
        assert 'aria-invalid="true"' in response.text
        assert PASSWORD not in response.text
        assert await get_session(client) is None


async def test_empty_sign_in_fields_are_a_400(app_client) -> None:
    async with app_client() as client:
        token = await login_form(client)
        response = await client.post(
            "/login", data={"email": "", "password": "", "csrf_token": token}, headers=ORIGIN
        )
    assert response.status_code == 400
    assert "Enter your email address and password" in text_of(response)


async def test_sign_in_is_rate_limited_with_retry_after(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
    async with app_client() as client:
        token = await login_form(client)
        data = {"email": "ada@example.com", "password": "wrong-password", "csrf_token": token}
        for _ in range(10):
            assert (await client.post("/login", data=data, headers=ORIGIN)).status_code == 401
        limited = await client.post("/login", data={**data, "password": PASSWORD}, headers=ORIGIN)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Try again in" in text_of(limited)


async def test_sign_up_is_rate_limited_with_its_own_message(app_client) -> None:
    async with app_client(RATE_LIMIT_SIGN_UP="1/1h") as client:
        await sign_up(client)
        client.cookies.clear()
        token = await login_form(client)
        data = {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "password": PASSWORD,
            "csrf_token": token,
        }
        limited = await client.post("/signup", data=data, headers=ORIGIN)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many accounts created from this address. Try again in" in text_of(limited)
    assert "sign-in attempts" not in text_of(limited)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/account",
        "/\\evil.example",
        "/\\/evil.example",
        "https://evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/%0a/evil.example\n",
        "evil.example",
        "",
    ],
)
async def test_next_only_follows_same_site_paths(app_client, target: str) -> None:
    async with app_client() as client:
        page = await client.get("/login", params={"next": target})
        assert hidden(page.text, "next") == "/account"
        token = hidden(page.text, "csrf_token")
        response = await client.post(
            "/signup",
            data={
                "name": "Ada",
                "email": "ada@example.com",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
            headers=ORIGIN,
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/welcome"  # sign-up's default, not an outside page


async def test_next_keeps_a_same_site_path_with_its_query(app_client) -> None:
    async with app_client() as client:
        page = await client.get("/login", params={"next": "/device?user_code=BCDF-GHJK"})
    assert hidden(page.text, "next") == "/device?user_code=BCDF-GHJK"
    assert "connect your terminal" in text_of(page)


@pytest.mark.parametrize("path", ["/login", "/signup"])
@pytest.mark.parametrize(
    "breakage", ["missing token", "wrong token", "no cookie", "token for another nonce"]
)
async def test_signed_out_forms_need_the_double_submit_token(
    app_client, path: str, breakage: str
) -> None:
    async with app_client() as client:
        if path == "/login":  # an account to sign in to, made in another browser
            async with browser(client, "127.0.0.3") as elsewhere:
                await sign_up(elsewhere)
        token = await login_form(client)
        data = {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}
        if path == "/login":
            del data["name"]
        if breakage == "wrong token":
            data["csrf_token"] = token[:-2] + "xx"
        elif breakage == "no cookie":
            data["csrf_token"] = token
            client.cookies.clear()
        elif breakage == "token for another nonce":
            async with browser(client, "127.0.0.2") as other:
                data["csrf_token"] = await login_form(other)
        response = await client.post(path, data=data, headers=ORIGIN)
        assert response.status_code == 403
        assert "This form has expired" in text_of(response)
        assert await get_session(client) is None
        # The page offers a fresh, working token.
        retry = {**data, "csrf_token": hidden(response.text, "csrf_token")}
        assert (await client.post(path, data=retry, headers=ORIGIN)).status_code == 303
        assert (await get_session(client))["user"]["email"] == "ada@example.com"


async def test_a_non_ascii_csrf_token_is_refused_not_an_error(app_client) -> None:
    async with app_client() as client:
        await login_form(client)
        response = await client.post(
            "/login",
            data={"email": "a@example.com", "password": PASSWORD, "csrf_token": "é" * 43},
            headers=ORIGIN,
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {},
        {"Referer": "https://evil.example/login"},
        {"Origin": "http://testserver.evil.example"},
    ],
)
async def test_signed_out_forms_refuse_foreign_origins(app_client, headers: dict) -> None:
    async with app_client() as client:
        token = await login_form(client)
        response = await client.post(
            "/signup",
            data={
                "name": "Ada",
                "email": "ada@example.com",
                "password": PASSWORD,
                "csrf_token": token,
            },
            headers=headers,
        )
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "Request refused" in text_of(response)
        assert await get_session(client) is None


async def test_a_same_site_referer_is_enough_without_origin(app_client) -> None:
    async with app_client() as client:
        token = await login_form(client)
        response = await client.post(
            "/signup",
            data={
                "name": "Ada",
                "email": "ada@example.com",
                "password": PASSWORD,
                "csrf_token": token,
            },
            headers={"Referer": f"{SITE}/login"},
        )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"email=a&email=b", "application/x-www-form-urlencoded", 400),
        (b"email=%ff", "application/x-www-form-urlencoded", 400),
        (b"surprise=1", "application/x-www-form-urlencoded", 400),
        (b"x" * (64 * 1024 + 1), "application/x-www-form-urlencoded", 413),
        (b"<xml/>", "text/xml", 415),
        (b"email=a%00b", "application/x-www-form-urlencoded", 400),
        (b'{"email": "\\ud800", "password": "\\udfff"}', "application/json", 400),
    ],
)
async def test_malformed_form_bodies_render_a_page_not_a_500(
    app_client, content: bytes, content_type: str, status: int
) -> None:
    async with app_client() as client:
        await login_form(client)
        for path in ("/login", "/signup", "/logout", "/device/approve"):
            response = await client.post(
                path, content=content, headers={**ORIGIN, "Content-Type": content_type}
            )
            assert response.status_code == status, (path, response.text)
            assert response.headers["content-type"].startswith("text/html")


# -- The device page ----------------------------------------------------------------------


async def test_the_code_entry_form(app_client) -> None:
    async with app_client() as client:
        response = await client.get("/device")
    assert response.status_code == 200
    html = response.text
    assert '<label for="user-code">' in html
    assert 'name="user_code"' in html
    assert 'autocomplete="off"' in html
    assert 'autocapitalize="characters"' in html
    assert 'inputmode="text"' in html
    assert "XXXX-XXXX" in html
    assert 'method="post" action="/device"' in html


async def test_signed_out_visitors_are_sent_to_sign_in_and_back(app_client) -> None:
    async with app_client() as client:
        code = await issue(client)
        raw = code["user_code"].lower().replace("-", " ")
        response = await open_code(client, raw)
        assert response.status_code == 303
        back = f"/device?user_code={code['user_code']}"
        assert response.headers["location"] == f"/login?next={quote(back, safe='')}"
        await sign_up(client, next_path=back)
        page = await client.get(back)
        assert page.status_code == 200
        assert "A terminal wants to use your account" in text_of(page)


async def test_the_request_page_shows_who_is_asking(app_client, clock: FakeClock) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        clock.advance(5 * 60)
        response = await open_code(client, code["user_code"])
        assert response.status_code == 200
        html, text = response.text, text_of(response)
        assert code["user_code"] in text
        assert CLIENT_ID in text
        for scope in DEFAULT_SCOPE.split():
            assert re.search(rf"<li>[^<]*<code[^>]*>{scope}</code></li>", html), scope
        assert DEVICE_IP in text
        assert DEVICE_AGENT in text
        # The fake clock starts at 2027-01-15 08:00 UTC.
        assert "15 Jan 2027, 08:00 UTC (5 minutes ago)" in text
        assert "15 Jan 2027, 08:30 UTC (in 25 minutes)" in text
        assert "Never approve a code you did not request yourself" in text
        assert '<time datetime="2027-01-15T08:00:00Z">' in html
        # A readable program name, and the email beside the name where the person decides.
        assert "better-skills CLI 0.1.0 on Linux" in text
        assert "as <bdi>Ada Lovelace</bdi> (<strong>ada@example.com</strong>)" in html
        for verb in ("approve", "deny"):
            form = re.search(
                rf'<form method="post" action="/device/{verb}">(.*?)</form>', html, re.S
            )
            assert form, verb
            assert hidden(form.group(1), "user_code") == code["user_code"]
            assert hidden(form.group(1), "csrf_token")


async def test_approve_then_the_terminal_gets_a_token(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        page = await open_code(client, code["user_code"])
        csrf = hidden(page.text, "csrf_token")
        response = await decide(client, "approve", code["user_code"], csrf)
        assert response.status_code == 303
        done = await client.get(response.headers["location"])
        assert "Approved. You can return to your terminal." in text_of(done)
        async with browser(client, DEVICE_IP) as device:
            token = await poll(device, code["device_code"])
        assert token.status_code == 200
        again = await open_code(client, code["user_code"])
        assert again.status_code == 200
        assert "This request was approved" in text_of(again)
        assert "<title>Already approved" in again.text
        assert "/device/approve" not in again.text
        twice = await decide(client, "approve", code["user_code"], csrf)
        assert twice.status_code == 400
        assert "already approved or denied" in text_of(twice)


async def test_deny_then_the_terminal_is_refused(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        page = await open_code(client, code["user_code"])
        response = await decide(client, "deny", code["user_code"], hidden(page.text, "csrf_token"))
        assert response.status_code == 303
        assert "Denied." in text_of(await client.get(response.headers["location"]))
        async with browser(client, DEVICE_IP) as device:
            refused = await poll(device, code["device_code"])
        assert refused.json()["error"] == "access_denied"
        again = await open_code(client, code["user_code"])
        assert "This request was denied" in text_of(again)
        assert "<title>Already denied" in again.text
        assert "/device/deny" not in again.text


async def test_a_wrong_code_rerenders_the_entry_form(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        response = await open_code(client, "BCDF-GHJK")
    assert response.status_code == 400
    assert "That code is not valid" in text_of(response)
    assert 'value="BCDF-GHJK"' in response.text
    assert 'aria-invalid="true"' in response.text


@pytest.mark.parametrize(
    "raw",
    [
        "B" * 10_000,
        "ÀÉÎÕÜ-ÇÑ",
        "BCDF\x00GHJK",
        "BCDF\x1bGHJK",
        "BCDF\u202eGHJK",
        "AEIO-UAEI",
        "BCDF-GHJK-LMNP",
        "",
        "   ",
        "<script>",
    ],
)
async def test_malformed_codes_are_a_400_never_a_500(app_client, raw: str) -> None:
    async with app_client() as client:
        signed_out = await open_code(client, raw)
        await sign_up(client)
        signed_in = await open_code(client, raw)
    for response in (signed_out, signed_in):
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert "<script>" not in response.text
        assert "X" * 100 not in response.text


async def test_wrong_codes_are_rate_limited_with_retry_after(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        wrong = "BCDF-GHJK" if code["user_code"] != "BCDF-GHJK" else "BCDF-GHJL"
        for _ in range(10):
            assert (await open_code(client, wrong)).status_code == 400
        limited = await open_code(client, code["user_code"])
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many wrong codes" in text_of(limited)
    # A token bucket: one more guess comes back after 90 s (15 minutes / 10).
    assert "Try again in 2 minutes (at 08:01 UTC)." in text_of(limited)
    assert limited.headers["cache-control"] == "no-store"


async def test_an_expired_code(app_client, clock: FakeClock) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        page = await open_code(client, code["user_code"])
        clock.advance(1801)
        expired = await open_code(client, code["user_code"])
        assert expired.status_code == 400
        assert "This code has expired. Run better-skills login again" in text_of(expired)
        assert "<code>better-skills login</code>" in expired.text
        assert "`" not in text_of(expired)
        late = await decide(client, "approve", code["user_code"], hidden(page.text, "csrf_token"))
        assert late.status_code == 400
        assert "This code has expired" in text_of(late)


async def test_a_code_claimed_by_another_account(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        assert (await claim(client, code["user_code"])).status_code == 303
        async with browser(client, "198.51.100.9") as mallory:
            await sign_up(mallory, email="mallory@example.com", name="Mallory")
            response = await claim(mallory, code["user_code"])
            assert response.status_code == 403
            assert "another account" in text_of(response)
            assert "Approve" not in text_of(response)
            csrf = hidden(response.text, "csrf_token")
            refused = await decide(mallory, "approve", code["user_code"], csrf)
            assert refused.status_code == 403
            # Its "use another account" button signs out and comes back to the code.
            out = await mallory.post(
                "/logout",
                data={"csrf_token": csrf, "next": hidden(response.text, "next")},
                headers=ORIGIN,
            )
            assert out.status_code == 303
            back = quote(f"/device?user_code={code['user_code']}", safe="")
            assert out.headers["location"] == f"/login?next={back}"


async def test_looking_at_a_code_does_not_claim_it(app_client) -> None:
    """A GET only shows; the first account to Continue or approve owns the code."""
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        assert (await open_code(client, code["user_code"])).status_code == 200
        async with browser(client, "198.51.100.9") as other:
            await sign_up(other, email="grace@example.com", name="Grace Hopper")
            page = await open_code(other, code["user_code"])
            assert page.status_code == 200
            approved = await decide(
                other, "approve", code["user_code"], hidden(page.text, "csrf_token")
            )
            assert approved.status_code == 303
        # The first viewer never claimed it, so it is now Grace's.
        csrf = hidden((await client.get("/device")).text, "csrf_token")
        refused = await decide(client, "approve", code["user_code"], csrf)
        assert refused.status_code == 403
        assert "another account" in text_of(refused)


async def test_continue_claims_the_code_and_shows_it(app_client) -> None:
    async with app_client() as client:
        code = await issue(client)
        # Signed out: sign in first, then back to the code.
        out = await client.post("/device", data={"user_code": code["user_code"]}, headers=ORIGIN)
        assert out.status_code == 303
        back = quote(f"/device?user_code={code['user_code']}", safe="")
        assert out.headers["location"] == f"/login?next={back}"
        await sign_up(client)
        claimed = await claim(client, code["user_code"].lower())
        assert claimed.status_code == 303
        assert claimed.headers["location"] == f"/device?user_code={code['user_code']}"
        page = await client.get(claimed.headers["location"])
        assert "A terminal wants to use your account" in text_of(page)
        async with browser(client, "198.51.100.9") as other:
            await sign_up(other, email="grace@example.com", name="Grace Hopper")
            assert (await claim(other, code["user_code"])).status_code == 403
        wrong = await claim(
            client, "BCDF-GHJK" if code["user_code"] != "BCDF-GHJK" else "BCDF-GHJL"
        )
        assert wrong.status_code == 400
        assert "That code is not valid" in text_of(wrong)
        assert (await claim(client, "nope")).status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "https://evil.example"},
        {"Referer": "http://[evil"},
    ],
)
async def test_a_cross_site_look_up_never_claims_and_never_counts(
    app_client, headers: dict[str, str]
) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        wrong = "BCDF-GHJK" if code["user_code"] != "BCDF-GHJK" else "BCDF-GHJL"
        for _ in range(12):
            page = await open_code(client, wrong, headers=headers)
            assert page.status_code == 200
            assert "Check the code" in text_of(page)
            assert 'method="post" action="/device"' in page.text
            assert hidden(page.text, "csrf_token")
        shown = await open_code(client, code["user_code"], headers=headers)
        assert "/device/approve" not in shown.text  # only the form to Continue
        # Nothing was counted against this address or account, and nothing was claimed.
        mine = await open_code(client, code["user_code"])
        assert mine.status_code == 200
        async with browser(client, "198.51.100.9") as other:
            await sign_up(other, email="grace@example.com", name="Grace Hopper")
            assert (await claim(other, code["user_code"])).status_code == 303


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}])
async def test_a_same_site_or_typed_look_up_shows_the_request(
    app_client, headers: dict[str, str]
) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        page = await open_code(client, code["user_code"], headers={**headers, "Referer": SITE})
    assert page.status_code == 200
    assert "A terminal wants to use your account" in text_of(page)


async def test_approve_redirects_to_a_result_page_that_reloads(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        page = await open_code(client, code["user_code"])
        pending = await client.get("/device/done", params={"user_code": code["user_code"]})
        assert pending.status_code == 303  # nothing decided yet: back to the request
        assert pending.headers["location"] == f"/device?user_code={code['user_code']}"
        response = await decide(
            client, "approve", code["user_code"], hidden(page.text, "csrf_token")
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/device/done?user_code={code['user_code']}"
        for _ in range(2):  # a reload shows the same, and sends nothing again
            done = await client.get(response.headers["location"])
            assert done.status_code == 200
            assert "<title>Approved" in done.text
            assert "Approved. You can return to your terminal." in text_of(done)
        client.cookies.clear()
        signed_out = await client.get(response.headers["location"])
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "breakage", ["missing token", "wrong token", "another session's token", "foreign origin"]
)
async def test_approve_needs_origin_and_session_csrf(app_client, breakage: str) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client)
        page = await open_code(client, code["user_code"])
        csrf = hidden(page.text, "csrf_token")
        headers = ORIGIN
        if breakage == "missing token":
            csrf = ""
        elif breakage == "wrong token":
            csrf = csrf[::-1]
        elif breakage == "another session's token":
            async with browser(client, "127.0.0.3") as other:
                await sign_up(other, email="other@example.com")
                other_code = await issue(client)
                other_page = await open_code(other, other_code["user_code"])
                csrf = hidden(other_page.text, "csrf_token")
        else:
            headers = {"Origin": "https://evil.example"}
        response = await decide(client, "approve", code["user_code"], csrf, headers=headers)
        assert response.status_code == 403
        assert "Request refused" in text_of(response)
        async with browser(client, DEVICE_IP) as device:
            pending = await poll(device, code["device_code"])
        assert pending.json()["error"] == "authorization_pending"


async def test_approve_when_signed_out_asks_to_sign_in(app_client) -> None:
    async with app_client() as client:
        code = await issue(client)
        response = await decide(client, "approve", code["user_code"], "whatever")
    assert response.status_code == 401
    assert "Sign in again" in text_of(response)
    back = quote(f"/device?user_code={code['user_code']}", safe="")
    assert f'href="/login?next={back}"' in response.text


async def test_approving_a_code_that_was_never_opened_claims_it(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        csrf = hidden((await client.get("/account")).text, "csrf_token")
        code = await issue(client)
        response = await decide(client, "approve", code["user_code"], csrf)
        assert response.status_code == 303
        async with browser(client, DEVICE_IP) as device:
            assert (await poll(device, code["device_code"])).status_code == 200
        bad = await decide(client, "approve", "x" * 5000, csrf)
        assert bad.status_code == 400


# -- The account page ---------------------------------------------------------------------


async def test_account_sends_signed_out_visitors_to_sign_in(app_client) -> None:
    async with app_client() as client:
        response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"


async def test_account_lists_sessions_and_revokes_one(app_client, clock: FakeClock) -> None:
    async with app_client() as client:
        await sign_up(client)
        clock.advance(120)
        token = await approve_flow(client)
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await get_session(client, headers=bearer))["user"]["email"] == "ada@example.com"

        page = await client.get("/account")
        assert page.status_code == 200
        text = text_of(page)
        assert "Ada Lovelace" in text and "ada@example.com" in text
        assert text.count("This browser") == 1
        assert "Command line" in text and "Browser" in text
        assert CLIENT_ID in text or "command-line tool" in text
        assert DEVICE_IP in text
        assert "better-skills CLI 0.1.0 on Linux" in text and DEVICE_AGENT not in text
        assert "signed in 2 minutes ago" in text  # the browser session was made before then
        assert "Next: connect your terminal" not in text  # a terminal is connected
        forms = re.findall(r'action="/account/sessions/([\w-]+)/revoke"', page.text)
        assert len(forms) == 2
        device_id = (await get_session(client, headers=bearer))["session"]["id"]
        assert device_id in forms
        csrf = hidden(page.text, "csrf_token")

        revoked = await client.post(
            f"/account/sessions/{device_id}/revoke", data={"csrf_token": csrf}, headers=ORIGIN
        )
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/account?done=revoked"
        assert await get_session(client, headers=bearer) is None
        after = await client.get(revoked.headers["location"])
        assert "Session revoked" in text_of(after)
        assert device_id not in after.text
        assert (await get_session(client)) is not None  # this browser is still signed in

        gone = await client.post(
            f"/account/sessions/{device_id}/revoke", data={"csrf_token": csrf}, headers=ORIGIN
        )
        assert gone.status_code == 404


CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


async def test_account_names_browsers_and_leads_a_newcomer_to_the_cli(app_client) -> None:
    async with app_client() as client:
        client.headers["User-Agent"] = CHROME_ON_LINUX
        signed_up = await sign_up(client)
        assert signed_up.headers["location"] == "/welcome"
        page = await client.get("/account")
        text = text_of(page)
        assert "Chrome on Linux" in text
        assert CHROME_ON_LINUX not in text
        # After sign-up, the next step: connect a terminal.
        assert "Next: connect your terminal" in text
        assert "<code>better-skills login</code>" in page.text
        # A program nobody recognises keeps its raw name, so the person can still judge it.
        client.headers["User-Agent"] = "odd-program/1.0"
        client.cookies.clear()
        await sign_up(client, email="grace@example.com")
        assert "odd-program/1.0" in text_of(await client.get("/account"))


async def test_revoke_needs_csrf_and_origin_and_your_own_session(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        token = await approve_flow(client)
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        device_id = (await get_session(client, headers=bearer))["session"]["id"]
        page = await client.get("/account")
        csrf = hidden(page.text, "csrf_token")
        url = f"/account/sessions/{device_id}/revoke"
        assert (await client.post(url, data={}, headers=ORIGIN)).status_code == 403
        assert (await client.post(url, data={"csrf_token": "x"}, headers=ORIGIN)).status_code == 403
        foreign = await client.post(
            url, data={"csrf_token": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        async with browser(client, "127.0.0.4") as other:
            await sign_up(other, email="eve@example.com", name="Eve")
            other_csrf = hidden((await other.get("/account")).text, "csrf_token")
            theirs = await other.post(url, data={"csrf_token": other_csrf}, headers=ORIGIN)
            assert theirs.status_code == 404
            weird = await other.post(
                "/account/sessions/%E2%80%AE..%2F/revoke",
                data={"csrf_token": other_csrf},
                headers=ORIGIN,
            )
            assert weird.status_code == 404
        assert (await get_session(client, headers=bearer)) is not None


async def test_revoking_the_current_session_signs_out(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        page = await client.get("/account")
        current = (await get_session(client))["session"]["id"]
        assert "Revoke and sign out" in text_of(page)
        response = await client.post(
            f"/account/sessions/{current}/revoke",
            data={"csrf_token": hidden(page.text, "csrf_token")},
            headers=ORIGIN,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert any(
            c.startswith("better_skills_session=") and "Max-Age=0" in c
            for c in response.headers.get_list("set-cookie")
        )
        assert await get_session(client) is None


async def test_sign_out(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        cookie = dict(client.cookies)
        page = await client.get("/account")
        csrf = hidden(page.text, "csrf_token")
        refused = await client.post("/logout", data={"csrf_token": "nope"}, headers=ORIGIN)
        assert refused.status_code == 403
        foreign = await client.post(
            "/logout", data={"csrf_token": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        assert await get_session(client) is not None

        response = await client.post("/logout", data={"csrf_token": csrf}, headers=ORIGIN)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert await get_session(client) is None
        client.cookies.update(cookie)  # the old cookie is dead on the server too
        assert await get_session(client) is None
        assert (await client.get("/account")).status_code == 303


async def test_sign_out_everywhere_ends_every_session(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        token = await approve_flow(client)
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        async with browser(client, "198.51.100.9") as laptop:
            csrf = await login_form(laptop)
            signed_in = await laptop.post(
                "/login",
                data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": csrf},
                headers=ORIGIN,
            )
            assert signed_in.status_code == 303
            page = await client.get("/account")
            assert "Sign out everywhere" in text_of(page)
            csrf = hidden(page.text, "csrf_token")
            url = "/account/sign-out-everywhere"
            for data, headers in (
                ({"csrf_token": "nope"}, ORIGIN),
                ({"csrf_token": csrf}, {"Origin": "https://evil.example"}),
            ):
                assert (await client.post(url, data=data, headers=headers)).status_code == 403
            assert await get_session(laptop) is not None

            done = await client.post(url, data={"csrf_token": csrf}, headers=ORIGIN)
            assert done.status_code == 303
            assert done.headers["location"] == "/login?done=everywhere"
            assert any(
                c.startswith("better_skills_session=") and "Max-Age=0" in c
                for c in done.headers.get_list("set-cookie")
            )
            assert await get_session(laptop) is None
            assert await get_session(client, headers=bearer) is None
        client.cookies.update(dict(client.cookies))
        assert await get_session(client) is None
        after = await client.get(done.headers["location"])
        assert "You are signed out everywhere" in text_of(after)


async def create_token(
    client: httpx.AsyncClient, name: str = "CI", days: str = "30"
) -> httpx.Response:
    csrf = hidden((await client.get("/account")).text, "csrf_token")
    return await client.post(
        "/account/tokens",
        data={"name": name, "expires_in_days": days, "csrf_token": csrf},
        headers=ORIGIN,
    )


async def test_personal_access_tokens_on_the_account_page(app_client, clock: FakeClock) -> None:
    async with app_client() as client:
        await sign_up(client)
        page = await client.get("/account")
        assert "Personal access tokens" in text_of(page)
        assert '<option value="365">1 year</option>' in page.text
        made = await create_token(client, name="nightly sync", days="7")
        assert made.status_code == 200, made.text
        assert made.headers["cache-control"] == "no-store"
        assert "Copy your new token now" in text_of(made)
        assert "expires in 7 days" in text_of(made)
        secret = re.search(r"bsk_[A-Za-z0-9_-]{40,}", made.text)
        assert secret, made.text
        bearer = {"Authorization": f"Bearer {secret.group(0)}"}
        assert (await get_session(client, headers=bearer))["user"]["email"] == "ada@example.com"

        clock.advance(120)
        listed = await client.get("/account")
        text = text_of(listed)
        assert "nightly sync" in text and "expires in 7 days" in text
        assert secret.group(0) not in listed.text  # shown once only
        forms = re.findall(r'action="/account/tokens/([\w-]+)/revoke"', listed.text)
        assert len(forms) == 1
        csrf = hidden(listed.text, "csrf_token")
        url = f"/account/tokens/{forms[0]}/revoke"
        assert (await client.post(url, data={"csrf_token": "x"}, headers=ORIGIN)).status_code == 403
        async with browser(client, "127.0.0.4") as other:
            await sign_up(other, email="eve@example.com", name="Eve")
            other_csrf = hidden((await other.get("/account")).text, "csrf_token")
            theirs = await other.post(url, data={"csrf_token": other_csrf}, headers=ORIGIN)
            assert theirs.status_code == 404
        assert await get_session(client, headers=bearer) is not None

        revoked = await client.post(url, data={"csrf_token": csrf}, headers=ORIGIN)
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/account?done=token-revoked"
        assert await get_session(client, headers=bearer) is None
        after = await client.get(revoked.headers["location"])
        assert "Token revoked" in text_of(after)
        assert "nightly sync" not in text_of(after)
        assert (
            await client.post(url, data={"csrf_token": csrf}, headers=ORIGIN)
        ).status_code == 404


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [
        ("   ", "30", "Give the token a name"),
        ("x" * 101, "30", "at most 100 characters"),
        ("CI", "400", "Choose when the token expires"),
        ("CI", "", "Choose when the token expires"),
        ("CI", "1.5", "Choose when the token expires"),
    ],
)
async def test_a_bad_token_form_is_shown_again_with_its_error(
    app_client, name: str, days: str, message: str
) -> None:
    async with app_client() as client:
        await sign_up(client)
        response = await create_token(client, name=name, days=days)
        assert response.status_code == 400
        assert message in text_of(response)
        assert 'aria-invalid="true"' in response.text
        assert "bsk_" not in response.text
        assert "Copy your new token now" not in text_of(response)


async def test_a_token_form_needs_csrf_and_a_browser_session(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        refused = await client.post(
            "/account/tokens", data={"name": "CI", "expires_in_days": "30"}, headers=ORIGIN
        )
        assert refused.status_code == 403
        client.cookies.clear()
        signed_out = await client.post(
            "/account/tokens", data={"name": "CI", "expires_in_days": "30"}, headers=ORIGIN
        )
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/login?next=%2Faccount"


async def test_user_input_is_escaped(app_client) -> None:
    async with app_client() as client:
        await sign_up(client, name='<img src=x onerror="alert(1)">')
        page = await client.get("/account")
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page.text


async def test_the_computer_name_shows_on_the_approval_and_account_pages(app_client) -> None:
    async with app_client() as client:
        await sign_up(client)
        code = await issue(client, hostname=" ada-laptop.local ")
        page = await open_code(client, code["user_code"])
        text = text_of(page)
        assert "better-skills CLI 0.1.0 on Linux on ada-laptop.local" in text
        assert "Computer ada-laptop.local (the name the terminal gave)" in text
        approved = await decide(
            client, "approve", code["user_code"], hidden(page.text, "csrf_token")
        )
        assert approved.status_code == 303
        async with browser(client, DEVICE_IP) as device:
            assert (await poll(device, code["device_code"])).status_code == 200
        account = text_of(await client.get("/account"))
        assert "better-skills CLI 0.1.0 on Linux on ada-laptop.local" in account
        # Without one (the original CLI sends none), the pages say so and nothing breaks.
        other = await issue(client)
        assert "Computer Not given" in text_of(await open_code(client, other["user_code"]))


@pytest.mark.parametrize(
    "hostname", ["", "   ", "a" * 254, "evil\u202ebox", "tab\tbed", "tag\U000e0041", "nul\x00"]
)
async def test_a_bad_computer_name_is_a_clear_400(app_client, hostname: str) -> None:
    async with app_client() as client:
        response = await client.post(
            "/api/auth/device/code", json={"client_id": CLIENT_ID, "hostname": hostname}
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "hostname" in response.json()["error_description"]


async def test_the_computer_name_may_come_in_a_form_body(app_client) -> None:
    async with app_client() as client:
        response = await client.post(
            "/api/auth/device/code", data={"client_id": CLIENT_ID, "hostname": "build-01"}
        )
        assert response.status_code == 200, response.text
        await sign_up(client)
        page = await open_code(client, response.json()["user_code"])
    assert "build-01" in text_of(page)


async def test_a_name_imitating_an_email_is_shown_with_the_real_email(app_client) -> None:
    """Issue 16: where a person decides, the account's email stands beside its name, and
    the name is isolated from the text around it (``<bdi>``) so bidi controls stay inside."""
    async with app_client() as client:
        await sign_up(client, name="\u202eSupport <admin@corp.example>")
        code = await issue(client)
        page = await open_code(client, code["user_code"])
    assert re.search(
        r"as <bdi>[^<]*Support &lt;admin@corp\.example&gt;</bdi> "
        r"\(<strong>ada@example\.com</strong>\)",
        page.text,
    ), page.text


async def test_behind_https_the_cookies_are_secure_host_cookies(app_client) -> None:
    site = "https://skills.example"
    async with app_client(PUBLIC_URL=site) as client:
        login = await client.get("/login")
        csrf_cookie = next(
            c for c in login.headers.get_list("set-cookie") if c.startswith("__Host-")
        )
        assert csrf_cookie.startswith("__Host-better_skills_csrf=")
        assert "Secure" in csrf_cookie and "Path=/" in csrf_cookie
        signed = await client.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
        )
        cookie = {"Cookie": f"__Host-better_skills_session={signed.json()['token']}"}
        client.cookies.clear()
        page = await client.get("/account", headers=cookie)
        assert page.status_code == 200
        out = await client.post(
            "/logout",
            data={"csrf_token": hidden(page.text, "csrf_token")},
            headers={**cookie, "Origin": site},
        )
        assert out.status_code == 303
        deleted = next(
            c
            for c in out.headers.get_list("set-cookie")
            if c.startswith("__Host-better_skills_session=")
        )
        # Without Secure a browser would refuse to overwrite the __Host- cookie.
        assert "Max-Age=0" in deleted and "Secure" in deleted and "Path=/" in deleted
        assert (await client.get("/api/auth/get-session", headers=cookie)).json() is None
