"""Hostile input by hand, where a schema-driven fuzzer does not reach: oversized and endless
bodies, deep nesting, broken encodings, repeated fields, header injection, open redirects.

Every answer must be a 4xx (RFC 6749 shaped on the API, an HTML page on the pages), never a
500, and nothing the attacker sends may reach a response header.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from tests.security.helpers import (
    API_POSTS,
    FORM,
    JSON,
    PAGE_POSTS,
    assert_page_error,
    assert_rfc_error,
    hidden,
    page_sign_up,
)
from tests.server.flow import ORIGIN, claim, issue, sign_up

pytestmark = pytest.mark.anyio
MIB = 1024 * 1024
#: Refused by the HTTP layer or the page code before any database work: one backend is
#: enough. What reaches the database (lone surrogates) runs on both.
SQLITE_ONLY = pytest.mark.backends("sqlite")


# -- Size ---------------------------------------------------------------------------------


@SQLITE_ONLY
async def test_a_one_mebibyte_body_is_refused_with_413(app) -> None:
    big_json = json.dumps({"client_id": "x" * MIB}).encode()
    big_form = b"client_id=" + b"x" * MIB
    async with app() as a, a.client() as client:
        # Signed in with a bearer token, so that approve and deny get as far as the body.
        bearer = {"Authorization": "Bearer " + (await sign_up(client))["token"]}
        client.cookies.clear()
        for path in API_POSTS:
            for body, headers in ((big_json, JSON), (big_form, FORM)):
                response = await client.post(path, content=body, headers={**headers, **bearer})
                assert_rfc_error(response, 413)
        for path in PAGE_POSTS:
            response = await client.post(path, content=big_form, headers={**FORM, **ORIGIN})
            assert_page_error(response, 413)


@SQLITE_ONLY
async def test_an_endless_body_without_length_is_cut_at_64_kib(app) -> None:
    """Chunked upload, no Content-Length: the server stops reading past the cap."""
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"client_id": "'
        while sent < 16 * MIB:  # a bound for the test; the server must stop long before
            sent += 64 * 1024
            yield b"x" * (64 * 1024)
        yield b'"}'

    async with app() as a, a.client() as client:
        response = await client.post(Paths.DEVICE_CODE, content=endless(), headers=JSON)
    assert_rfc_error(response, 413)
    assert sent <= 2 * 64 * 1024, f"the server read {sent} bytes before refusing"


@SQLITE_ONLY
async def test_a_lying_content_length_is_refused_before_reading(app) -> None:
    async with app() as a, a.client() as client:
        for declared in (str(10**15), "-1", "1e3", "0x10", "12 34"):
            response = await client.post(
                Paths.DEVICE_CODE,
                content=b'{"client_id": "better-skills-cli"}',
                headers={**JSON, "Content-Length": declared},
            )
            assert_rfc_error(response)


# -- Structure and encoding ---------------------------------------------------------------


MALFORMED_JSON = [
    b"[" * 30_000 + b"]" * 30_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"client_id": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    b'{"client_id": "better-skills-cli", "scope": {"a": {"b": {"c": []}}}}',
    b'{"client_id": 1e999999}',
    b'{"client_id": ' + b"9" * 5000 + b"}",
    b'{"client_id": NaN}',
    b'{"client_id": true}',
    b"null",
    b'"better-skills-cli"',
    b"{",
    b'{"client_id": "better-skills-cli"} trailing',
]


@SQLITE_ONLY
async def test_deep_nesting_and_malformed_json_are_a_400(app) -> None:
    async with app() as a, a.client() as client:
        bearer = {"Authorization": "Bearer " + (await sign_up(client))["token"]}
        client.cookies.clear()
        for body in MALFORMED_JSON:
            for path in API_POSTS:
                response = await client.post(path, content=body, headers={**JSON, **bearer})
                assert_rfc_error(response, 400)


INVALID_UTF8 = [
    (b'{"client_id": "\xff\xfe"}', JSON),
    (b'{"client_id": "better-skills-cli", "scope": "\xc3\x28"}', JSON),
    (b"client_id=%FF%FE", FORM),
    (b"client_id=better-skills-cli&scope=%C3%28", FORM),
    (b"client_id=\xff", FORM),
    (b"\xed\xa0\x80=1", FORM),
]


@SQLITE_ONLY
async def test_invalid_utf8_is_a_400(app) -> None:
    async with app() as a, a.client() as client:
        for body, headers in INVALID_UTF8:
            for path in (Paths.DEVICE_CODE, Paths.DEVICE_TOKEN, Paths.SIGN_IN_EMAIL):
                response = await client.post(path, content=body, headers=headers)
                assert_rfc_error(response, 400)
        for body, headers in INVALID_UTF8:
            response = await client.post("/login", content=body, headers={**headers, **ORIGIN})
            assert_page_error(response)
        # In a query string the bytes are decoded leniently, then refused as a code.
        for path in (f"{Paths.DEVICE_VERIFY}?user_code=%FF%FE%ED%A0%80", "/device?user_code=%FF"):
            response = await client.get(path)
            assert response.status_code == 400


#: JSON escapes of lone UTF-16 surrogates decode to Python strings that cannot be encoded as
#: UTF-8 again: hashing them or handing them to the database used to raise (a 500).
SURROGATE_BODIES = [
    (
        Paths.DEVICE_TOKEN,
        {"grant_type": DEVICE_CODE_GRANT_TYPE, "device_code": "\ud800", "client_id": CLIENT_ID},
    ),
    (Paths.DEVICE_CODE, {"client_id": "better-skills-cli\udfff"}),
    (Paths.SIGN_UP_EMAIL, {"name": "A\ud800", "email": "a@b.co", "password": "12345678910"}),
    (Paths.SIGN_UP_EMAIL, {"name": "A", "email": "a\ud800@b.co", "password": "12345678910"}),
    (Paths.SIGN_UP_EMAIL, {"name": "A", "email": "a@b.co", "password": "1234567\udbff"}),
    (Paths.SIGN_IN_EMAIL, {"email": "a\ud800@b.co", "password": "12345678910"}),
    (Paths.SIGN_IN_EMAIL, {"email": "a@b.co", "password": "1234567\ud800"}),
    (Paths.DEVICE_APPROVE, {"userCode": "BCDF\ud800GHJK"}),
]


async def test_lone_surrogates_in_json_strings_are_a_400(app) -> None:
    async with app() as a, a.client() as client:
        for path, body in SURROGATE_BODIES:
            raw = json.dumps(body).encode()  # ensure_ascii: "\ud800" travels as an escape
            response = await client.post(path, content=raw, headers={**JSON, **ORIGIN})
            error = assert_rfc_error(response)
            assert response.status_code in (400, 401), (path, response.text)
            if response.status_code == 400:
                assert error["error"] == "invalid_request", (path, error)


@SQLITE_ONLY
async def test_nul_and_control_characters_are_refused(app) -> None:
    async with app() as a, a.client() as client:
        for body in (
            {"client_id": "better-skills-cli\x00"},
            {"client_id": "better-skills-cli", "scope": "openid\x00profile"},
            {"client_id": "better-skills-cli", "scope": "openid\r\nprofile"},
        ):
            assert_rfc_error(await client.post(Paths.DEVICE_CODE, json=body), 400)
        assert_rfc_error(
            await client.post(Paths.DEVICE_CODE, content=b"client_id=a%00b", headers=FORM), 400
        )


# -- Repeated fields ----------------------------------------------------------------------


REPEATED = [
    (Paths.DEVICE_CODE, b"client_id=evil&client_id=better-skills-cli"),
    (Paths.DEVICE_CODE, b"client_id=better-skills-cli&scope=a&scope=b"),
    (
        Paths.DEVICE_TOKEN,
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        b"&device_code=a&device_code=b&client_id=better-skills-cli",
    ),
    (Paths.SIGN_IN_EMAIL, b"email=a%40b.co&email=c%40d.co&password=xxxxxxxxxx"),
    (Paths.SIGN_UP_EMAIL, b"name=A&email=a%40b.co&password=xxxxxxxxxx&password=yyyyyyyyyy"),
    (Paths.DEVICE_APPROVE, b"userCode=BCDFGHJK&userCode=BCDFGHJL"),
    (Paths.SIGN_OUT, b"a=1&a=1"),
]


@SQLITE_ONLY
async def test_a_repeated_form_field_is_refused(app) -> None:
    """Two values for one field could be read differently by a proxy and by us: refuse."""
    async with app() as a, a.client() as client:
        bearer = {"Authorization": "Bearer " + (await sign_up(client))["token"]}
        client.cookies.clear()
        for path, body in REPEATED:
            response = await client.post(path, content=body, headers={**FORM, **bearer})
            error = assert_rfc_error(response, 400)
            assert error["error"] == "invalid_request"
            assert "repeated" in error["error_description"], (path, error)


@SQLITE_ONLY
async def test_repeated_fields_on_the_pages_are_refused(app) -> None:
    async with app() as a, a.client() as client:
        form = await client.get("/login")
        assert form.status_code == 200
        response = await client.post(
            "/login",
            content=b"email=a%40b.co&email=c%40d.co&password=x&csrf_token=t",
            headers={**FORM, **ORIGIN},
        )
    assert_page_error(response, 400)


# -- Header injection in the user code ----------------------------------------------------

INJECTIONS = [
    "BCDF-GHJK\r\nSet-Cookie: better_skills_session=attacker",
    "BCDF-GHJK\nLocation: https://evil.example",
    "BCDF-GHJK\rX-Injected: 1",
    "BCDF\x00GHJK",
    "\x00",
    "BCDF-GHJK%0d%0aSet-Cookie:%20x=y",
    "BCDF-GHJK\u2028X-Injected: 1",
]


def assert_no_injected_header(response) -> None:
    names = {name.lower() for name in response.headers}
    assert "x-injected" not in names
    for value in response.headers.get_list("set-cookie"):
        assert "attacker" not in value and "x=y" not in value
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value and "\x00" not in value, (name, value)
    location = response.headers.get("location", "")
    assert "evil.example" not in location


@SQLITE_ONLY
async def test_header_injection_in_the_user_code(app) -> None:
    async with (
        app(RATE_LIMIT_USER_CODE="0/1m") as a,
        a.client() as anonymous,
        a.client("10.0.0.2") as person,
    ):
        await page_sign_up(person)
        code = await issue(anonymous)
        for raw in INJECTIONS:
            for client in (anonymous, person):
                api = await claim(client, raw)
                assert_rfc_error(api, 400)
                assert_no_injected_header(api)
                page = await client.get(Paths.DEVICE_PAGE, params={"user_code": raw})
                assert_page_error(page, 400)
                assert_no_injected_header(page)
            for path in (Paths.DEVICE_APPROVE, Paths.DEVICE_DENY):
                api = await person.post(path, json={"userCode": raw}, headers=ORIGIN)
                assert_rfc_error(api, 400)
                assert_no_injected_header(api)
        # A signed-out visitor with a real code is sent to sign in: the code travels
        # percent-encoded inside ``next``, never raw in the Location header.
        redirect = await anonymous.get(
            Paths.DEVICE_PAGE, params={"user_code": code["user_code"].lower()}
        )
        assert redirect.status_code == 303
        assert redirect.headers["location"].startswith("/login?next=%2Fdevice%3Fuser_code%3D")
        assert_no_injected_header(redirect)


# -- Open redirects -----------------------------------------------------------------------

EVIL_NEXT = [
    "//evil.example",
    "//evil.example/device",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "//evil.example\\@testserver",
    "/%0d%0aSet-Cookie:x=y",
]


def assert_same_site(location: str) -> None:
    assert location.startswith("/"), location
    assert not location.startswith("//"), location
    assert "\\" not in location and "evil.example" not in location, location


@SQLITE_ONLY
async def test_next_never_leaves_the_site(app) -> None:
    async with app() as a, a.client() as client, a.client() as other:
        await page_sign_up(client)
        for target in EVIL_NEXT:
            # Signed out, the form carries a safe ``next`` only.
            form = await other.get("/login", params={"next": target})
            assert form.status_code == 200
            assert "evil.example" not in form.text
            assert_same_site(hidden(form.text, "next"))
            # Signed in, /login forwards to ``next`` straight away.
            signed_in = await client.get("/login", params={"next": target})
            assert signed_in.status_code == 303
            assert_same_site(signed_in.headers["location"])
            assert_no_injected_header(signed_in)
            # A sign-in form posted with a hostile ``next``.
            posted = await other.post(
                "/login",
                data={
                    "email": "ada@example.com",
                    "password": "correct horse battery staple",
                    "csrf_token": hidden(form.text, "csrf_token"),
                    "next": target,
                },
                headers=ORIGIN,
            )
            assert posted.status_code == 303, posted.text[:300]
            assert_same_site(posted.headers["location"])
            assert_no_injected_header(posted)
            # Signing out with a hostile ``next`` lands on our own sign-in page.
            account = await other.get("/account")
            out = await other.post(
                "/logout",
                data={"csrf_token": hidden(account.text, "csrf_token"), "next": target},
                headers=ORIGIN,
            )
            assert out.status_code == 303, out.text[:300]
            assert_same_site(out.headers["location"])


@SQLITE_ONLY
async def test_the_login_redirect_of_the_device_page_encodes_next(app) -> None:
    async with app() as a, a.client() as client:
        code = await issue(client)
        response = await client.get(
            "/device?user_code=" + quote(code["user_code"]) + "&next=//evil.example"
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote(
        f"/device?user_code={code['user_code']}", safe=""
    )
