"""Property-based tests (hypothesis) of the request parsers: for *any* input they return a
well-formed value or raise the RFC error they are meant to raise, never anything else.

``PROPERTY_EXAMPLES`` sets the examples per property (200 in CI).
"""

from __future__ import annotations

import ipaddress
import json
import os
import string
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from better_skills.protocol import errors
from better_skills.protocol.device_flow import (
    USER_CODE_ALPHABET,
    USER_CODE_LENGTH,
    format_user_code,
    normalize_user_code,
)
from better_skills.server.http import (
    MAX_BODY,
    bearer_token,
    client_ip,
    origin_is_trusted,
    parse_form,
    parse_hop,
    parse_json,
    read_params,
)
from better_skills.server.settings import load_settings

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "200"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def settings_with(**env: str) -> Any:
    return load_settings(
        {"DATABASE_URL": "sqlite:///unused.db", "PUBLIC_URL": "http://testserver", **env},
        Path("/nonexistent/.env"),
    )


# -- parse_form ---------------------------------------------------------------------------

field_names = st.text(min_size=1, max_size=20)
form_dicts = st.dictionaries(field_names, st.text(max_size=50), max_size=64)


@PROPERTY
@given(form_dicts)
def test_parse_form_round_trips_any_form(fields: dict[str, str]) -> None:
    assert parse_form(urlencode(fields).encode()) == fields


@PROPERTY
@given(st.binary(max_size=300))
def test_parse_form_returns_strings_or_refuses(body: bytes) -> None:
    try:
        parsed = parse_form(body)
    except errors.InvalidRequest:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())
    assert len(parsed) <= 64


@PROPERTY
@given(form_dicts.filter(bool), st.data())
def test_parse_form_refuses_any_repeated_field(fields: dict[str, str], data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(fields)))
    body = urlencode(fields) + "&" + urlencode({name: data.draw(st.text(max_size=10))})
    with pytest.raises(errors.InvalidRequest, match="repeated"):
        parse_form(body.encode())


@PROPERTY
@given(st.binary(min_size=1, max_size=8).filter(lambda b: not _is_utf8(b)))
def test_parse_form_refuses_invalid_utf8(raw: bytes) -> None:
    escaped = "".join(f"%{b:02X}" for b in raw)
    for body in (f"a={escaped}", f"{escaped}=1", f"a=1&b={escaped}"):
        with pytest.raises(errors.InvalidRequest):
            parse_form(body.encode())


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@PROPERTY
@given(st.integers(min_value=65, max_value=500))
def test_parse_form_refuses_too_many_fields(count: int) -> None:
    with pytest.raises(errors.InvalidRequest):
        parse_form("&".join(f"f{i}=x" for i in range(count)).encode())


# -- parse_json ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_parse_json_round_trips_any_object(value: dict[str, Any]) -> None:
    assert parse_json(json.dumps(value).encode()) == value
    assert parse_json(json.dumps(value, ensure_ascii=False).encode()) == value


@PROPERTY
@given(json_values.filter(lambda v: not isinstance(v, dict)))
def test_parse_json_refuses_anything_but_an_object(value: Any) -> None:
    with pytest.raises(errors.InvalidRequest):
        parse_json(json.dumps(value).encode())


@PROPERTY
@given(st.binary(max_size=300))
def test_parse_json_returns_an_object_or_refuses(body: bytes) -> None:
    try:
        parsed = parse_json(body)
    except errors.InvalidRequest:
        return
    assert isinstance(parsed, dict)


#: Nesting that any Python parses (its recursion limit is about 1,000 levels).
SHALLOW = 500


@PROPERTY
@given(
    st.integers(min_value=1, max_value=SHALLOW) | st.integers(SHALLOW + 1, MAX_BODY // 2),
    st.sampled_from(["[]", "{}"]),
)
def test_parse_json_parses_shallow_nesting_and_refuses_deeper_with_a_400(
    depth: int, brackets: str
) -> None:
    """Nesting up to SHALLOW levels parses; deeper nesting that fits the body cap parses or
    is refused as invalid_request (RecursionError must not escape as a 500)."""
    opening, closing = brackets
    body = (
        ('{"a":' * depth + "1" + "}" * depth)
        if opening == "{"
        else ('{"a":' + opening * depth + closing * depth + "}")
    )
    if depth <= SHALLOW:
        assert isinstance(parse_json(body.encode()), dict)
        return
    try:
        parsed = parse_json(body.encode())
    except errors.InvalidRequest as refused:
        assert refused.error == "invalid_request"
    else:
        assert isinstance(parsed, dict)


# -- read_params --------------------------------------------------------------------------

REQUIRED, OPTIONAL, FLAGS, IGNORED = ["client_id"], ["scope"], ["rememberMe"], ["callbackURL"]
KNOWN = REQUIRED + OPTIONAL + FLAGS + IGNORED
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    "application/xml",
]
field_values = (
    st.text(max_size=30)
    | st.sampled_from(["better-skills-cli", "", "a\x00b", "\ud800", "true", "on"])
    | st.booleans()
    | st.integers()
    | st.none()
    | st.lists(st.text(max_size=3), max_size=2)
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from([*KNOWN, "unknown", ""]), field_values, max_size=5).map(
        lambda d: json.dumps(d).encode()
    ),
    st.dictionaries(st.sampled_from([*KNOWN, "unknown"]), st.text(max_size=20), max_size=5).map(
        lambda d: urlencode(d).encode()
    ),
    st.binary(max_size=200),
)


async def _read(body: bytes, content_type: str, length: str | None) -> dict[str, Any]:
    headers = [(b"content-type", content_type.encode("latin-1"))]
    if length is not None:
        headers.append((b"content-length", length.encode()))
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": headers}, receive)
    return await read_params(
        request, required=REQUIRED, optional=OPTIONAL, flags=FLAGS, ignored=IGNORED
    )


@PROPERTY
@given(
    bodies,
    st.sampled_from(CONTENT_TYPES),
    st.none() | st.sampled_from(["0", "5", "-1", "abc", str(MAX_BODY + 1), "99999999999"]),
)
def test_read_params_returns_checked_fields_or_a_4xx(
    body: bytes, content_type: str, length: str | None
) -> None:
    try:
        params = anyio.run(_read, body, content_type, length)
    except errors.OAuthError as exc:
        assert 400 <= exc.status_code < 500
        assert exc.error and isinstance(exc.description, str)
        json.dumps(exc.to_dict()).encode("utf-8")  # the error itself can be sent
        return
    assert set(params) <= set(REQUIRED + OPTIONAL + FLAGS)
    assert params["client_id"]
    for name, value in params.items():
        if name in FLAGS:
            assert isinstance(value, bool)
        else:
            assert isinstance(value, str)
            assert "\x00" not in value
            value.encode("utf-8")  # storable and hashable


# -- client_ip ----------------------------------------------------------------------------

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
addresses = ipv4 | ipv6
hops = addresses | st.sampled_from(["garbage", "", "unknown", "1.2.3", "::ffff:1.2.3.4", " "])
networks = st.lists(
    st.sampled_from(["10.0.0.0/8", "127.0.0.1/32", "192.168.0.0/16", "::1/128", "fd00::/8"]),
    max_size=3,
    unique=True,
)


def request_from(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def trusted(address: str, proxies: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net) for net in proxies)


@PROPERTY
@given(networks, addresses, st.none() | st.lists(hops, max_size=5).map(", ".join))
def test_client_ip_is_the_peer_or_a_forwarded_address(
    proxies: list[str], peer: str, forwarded: str | None
) -> None:
    found = client_ip(
        request_from(peer, forwarded), settings_with(TRUSTED_PROXIES=",".join(proxies))
    )
    if not proxies or not trusted(peer, proxies):
        assert found == peer  # an untrusted peer cannot choose its address
    if forwarded is None:
        assert found == peer
    if found is None:
        # Only when a trusted proxy wrote a hop that names no address: never the proxy itself
        assert forwarded is not None and any(parse_hop(h) is None for h in forwarded.split(","))
    else:
        ipaddress.ip_address(found)  # always an address, never a raw header value


@PROPERTY
@given(
    networks.filter(bool),
    st.lists(hops, max_size=4),
    addresses,
)
def test_a_client_cannot_move_itself_by_prepending_hops(
    proxies: list[str], spoofed: list[str], real: str
) -> None:
    """What the client writes is left of what the proxy appends: it changes nothing."""
    settings = settings_with(TRUSTED_PROXIES=",".join(proxies))
    peer = str(ipaddress.ip_network(proxies[0]).network_address)
    if trusted(real, proxies):
        return
    honest = client_ip(request_from(peer, real), settings)
    forged = client_ip(request_from(peer, ", ".join([*spoofed, real])), settings)
    assert honest == forged == str(ipaddress.ip_address(real))


# -- Origin and Authorization -------------------------------------------------------------


@PROPERTY
@given(
    st.none() | st.text(max_size=40) | st.sampled_from(["null", "http://testserver/"]),
    st.none() | st.text(max_size=40) | st.just("http://testserver/device"),
)
def test_only_our_origin_is_trusted(origin: str | None, referer: str | None) -> None:
    headers = []
    for name, value in (("origin", origin), ("referer", referer)):
        if value is not None:
            try:
                headers.append((name.encode(), value.encode("latin-1")))
            except UnicodeEncodeError:
                return
    request = Request({"type": "http", "headers": headers})
    ok = origin_is_trusted(request, settings_with())
    if origin not in (None, "null"):
        assert ok == (origin.rstrip("/") == "http://testserver")
    elif ok:
        assert referer is not None and referer.startswith("http://testserver/")


latin1_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)


@PROPERTY
@given(st.sampled_from(["Bearer ", "bearer ", "BEARER  ", "Basic ", "Bearer", ""]), latin1_text)
def test_bearer_token_is_the_bare_token_of_a_bearer_header(scheme: str, rest: str) -> None:
    """``Bearer <token>`` in any case gives the token without white space; any other header
    (another scheme, no token, no space after the scheme) gives None."""
    header = scheme + rest
    request = Request({"type": "http", "headers": [(b"authorization", header.encode("latin-1"))]})
    token = bearer_token(request)
    if scheme.lower().strip() == "bearer" and scheme.endswith(" "):
        assert token == (rest.strip() or None)
    elif scheme in ("Basic ", "Bearer"):
        assert token is None or header.lower().startswith("bearer ")
    if token is not None:
        assert token == token.strip() and token
        assert header.lower().startswith("bearer ")


# -- User codes ---------------------------------------------------------------------------

valid_codes = st.text(alphabet=USER_CODE_ALPHABET, min_size=USER_CODE_LENGTH, max_size=8)


@PROPERTY
@given(st.text(max_size=40))
def test_normalize_is_idempotent_and_strips_separators(raw: str) -> None:
    once = normalize_user_code(raw)
    assert normalize_user_code(once) == once
    assert not set(once) & set("- \t")
    assert once == once.upper()


@PROPERTY
@given(st.text(max_size=40))
def test_format_never_fails_and_keeps_the_code(raw: str) -> None:
    shown = format_user_code(raw)
    assert normalize_user_code(shown) == normalize_user_code(raw)


@PROPERTY
@given(valid_codes, st.data())
def test_any_way_of_typing_a_code_finds_it(code: str, data: Any) -> None:
    assert format_user_code(code) == f"{code[:4]}-{code[4:]}"
    typed = ""
    for char in code:
        typed += data.draw(st.sampled_from(["", "-", " ", "\t", "--"]))
        typed += data.draw(st.sampled_from([char, char.lower()]))
    typed += data.draw(st.sampled_from(["", " ", "-"]))
    assert normalize_user_code(typed) == code


@PROPERTY
@given(
    valid_codes,
    st.lists(
        st.tuples(st.integers(0, USER_CODE_LENGTH), st.sampled_from([*string.printable, "ß"])),
        max_size=3,
    ),
)
def test_only_alphabet_codes_normalize_to_a_valid_code(
    code: str, insertions: list[tuple[int, str]]
) -> None:
    """A code the server looks up is 8 letters of the alphabet after normalising, whatever
    was typed: the search space of a guess is never larger than 20**8. A valid code with
    characters typed into it stays valid exactly when they are separators."""
    typed = code.lower()
    for at, char in insertions:
        typed = typed[:at] + char + typed[at:]
    normalized = normalize_user_code(typed)
    valid = len(normalized) == USER_CODE_LENGTH and set(normalized) <= set(USER_CODE_ALPHABET)
    assert valid == all(char in "- \t" for _, char in insertions)
    if valid:
        assert normalized == code


# -- Redirect targets of the pages --------------------------------------------------------


@PROPERTY
@given(
    st.text(max_size=40)
    | st.text(alphabet="/\\:.@%?#\t\r\n abcdevil", max_size=20)
    | st.sampled_from(["//evil.example", "/\\evil", "/device?user_code=BCDF-GHJK"])
)
def test_next_is_a_same_site_path_or_the_default(raw: str) -> None:
    from better_skills.server.routers.pages import safe_next

    target = safe_next(raw)
    assert target == "/account" or target == raw
    assert target.startswith("/") and not target.startswith("//")
    assert "\\" not in target and target.isprintable() and " " not in target


# -- Rate-limit buckets -------------------------------------------------------------------


@PROPERTY
@given(st.ip_addresses(v=6), st.integers(min_value=0, max_value=2**64 - 1))
def test_every_address_of_an_ipv6_64_is_one_bucket(address: Any, host: int) -> None:
    from better_skills.server.services.rate_limit import address_bucket

    if address.ipv4_mapped is not None:
        return
    neighbour = ipaddress.IPv6Address((int(address) >> 64 << 64) | host)
    assert address_bucket(str(address)) == address_bucket(str(neighbour))
    other = ipaddress.IPv6Address(int(address) ^ (1 << 64))  # the next /64 over
    assert address_bucket(str(address)) != address_bucket(str(other))


@PROPERTY
@given(st.ip_addresses(v=4))
def test_ipv4_addresses_are_their_own_bucket(address: Any) -> None:
    from better_skills.server.services.rate_limit import address_bucket

    assert address_bucket(str(address)) == str(address)
    assert address_bucket(f"::ffff:{address}") == str(address)
