"""Schemathesis against the server's own OpenAPI document, in process over ASGI.

Every operation in ``/api/openapi.json`` outside the vault surfaces (``/api/auth/*``,
``/api/health``, the RFC 8414 metadata; ``/api/v1`` and ``/trpc`` are
tests/security/test_fuzz_vault.py's) gets schema-conforming ("positive") and schema-violating
("negative") requests. For every answer:

* no 5xx (the database is up, so not even a 503);
* every 4xx of the OAuth API is RFC 6749 shaped (``{"error", "error_description"}``, strings;
  sign-up and sign-in errors also carry better-auth's ``{"code", "message"}``); tRPC errors
  carry their numeric ``code``;
* no secret sent in the request (a password, a device code, a session token) comes back in the
  body or a header: the only secrets a response carries are new ones the contract hands out
  (sign-up/sign-in ``token``, ``device_code``, ``access_token``);
* the security headers are on every answer, and codes and tokens are sent ``no-store``;
* schemathesis's own checks: the response matches the documented status codes, content types
  and schemas, and schema-violating requests are refused.

Positive cases are seeded with real values half of the time (the configured client id, device
codes the server issued, a real account and its bearer token), so that they get past the first
check and into the device flow and the account code.

``FUZZ_EXAMPLES`` sets the number of generated cases per generation mode and backend (CI: 150;
``FUZZ_EXAMPLES=5000 pytest tests/security/test_fuzz_api.py -s --backends sqlite,postgres`` is
the long pass of 20,000). The count that really ran is printed.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from tests.security.fuzzing import fuzz_both_modes
from tests.support.app import cheap_hash_cost

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
PASSWORD = "fuzzing password 1234"
#: Request fields whose values are secrets: they must never come back in a response.
SECRET_FIELDS = ("password", "device_code", "access_token", "token")
#: Answers that hand out a secret: they must not be cached.
ISSUING = {Paths.DEVICE_CODE, Paths.DEVICE_TOKEN, Paths.SIGN_UP_EMAIL, Paths.SIGN_IN_EMAIL}
SCHEMATHESIS_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: A schema-violating request must be refused with a 4xx; 413 is how we refuse values past
#: ``maxLength`` once the body passes 64 KiB (schemathesis's default list lacks it).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 413, 415, 422, 429]
            }
        }
    }
)

#: Totals across the run, printed at the end of the session by the test itself.
TOTALS: dict[str, int] = {}


def looks_secret(value: Any) -> bool:
    """Long and varied enough that finding it in a response is not a coincidence."""
    return isinstance(value, str) and len(value) >= 10 and len(set(value)) >= 5


def sent_secrets(case: Any, request_headers: Any) -> list[str]:
    found = []
    containers = [case.body if isinstance(case.body, dict) else {}, case.query or {}]
    for container in containers:
        for name, value in container.items():
            if name in SECRET_FIELDS and looks_secret(value):
                found.append(value)
    authorization = request_headers.get("authorization", "")
    _, _, token = authorization.partition(" ")
    if looks_secret(token):
        found.append(token)
    return found


def forms_of(secret: str) -> list[str]:
    """How a secret could appear in a response: raw, JSON-escaped, repr-escaped, truncated."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}
    if len(secret) >= 24:
        forms.add(secret[:16])
    return [f for f in forms if looks_secret(f)]


def response_text(response: Any) -> str:
    headers = "\n".join(f"{k}: {', '.join(v)}" for k, v in response.headers.items())
    return response.text + "\n" + headers


def replaced(value: Any, secret: str, fresh: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, fresh)
    if isinstance(value, dict):
        return {k: replaced(v, secret, fresh) for k, v in value.items()}
    if isinstance(value, list):
        return [replaced(v, secret, fresh) for v in value]
    return value


def really_echoed(session: Any, case: Any, secret: str) -> bool:
    """A secret found in an answer may be a coincidence (a generated password such as
    "application/json" is in every Content-Type). Send the same request with a fresh random
    secret in its place: a server that echoes will echo that one too."""
    fresh = "zq" + secrets.token_urlsafe(18)
    kwargs = replaced(case.as_transport_kwargs(base_url="http://testserver"), secret, fresh)
    answer = session.request(**kwargs)
    text = answer.text + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    return any(form in text for form in forms_of(fresh))


def check_answer(session: Any, case: Any, response: Any) -> None:
    """Our own rules, on top of schemathesis's checks."""
    status = response.status_code
    path = case.operation.path
    text = response.text
    # schemathesis keeps every value of a header, under its lower-case name
    headers = {name.lower(): ", ".join(values) for name, values in response.headers.items()}
    assert status < 500, f"{status} from {case.method} {path}: {text[:300]}"
    assert headers.get("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", "")
    assert headers.get("x-content-type-options") == "nosniff"
    if 400 <= status < 500:
        body = json.loads(text)
        if path.startswith("/trpc/"):
            entry = body[0] if isinstance(body, list) else body
            assert isinstance(entry["error"]["code"], int), body
            assert isinstance(entry["error"]["message"], str), body
        else:
            assert isinstance(body, dict), body
            assert isinstance(body.get("error"), str) and body["error"], body
            assert isinstance(body.get("error_description"), str), body
            if "code" in body or "message" in body:
                assert path in (Paths.SIGN_UP_EMAIL, Paths.SIGN_IN_EMAIL), body
                assert isinstance(body["code"], str) and isinstance(body["message"], str), body
            assert "no-store" in headers.get("cache-control", ""), headers
    if status == 200 and path in ISSUING:
        assert headers.get("cache-control") == "no-store", headers
    everything = response_text(response)
    for secret in sent_secrets(case, response.request.headers):
        if any(form in everything for form in forms_of(secret)):
            assert not really_echoed(session, case, secret), (
                f"{path} echoed a secret {secret!r}: {everything[:400]}"
            )


def seeded(draw_case: Any, seeds: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Positive cases with real values put in, half of the time."""

    @st.composite
    def strategy(draw: Callable[..., Any]) -> Any:
        case = draw(draw_case)
        if not draw(st.booleans()) or not isinstance(case.body, dict):
            return case
        body = dict(case.body)
        path = case.operation.path
        if "client_id" in body or path in (Paths.DEVICE_CODE, Paths.DEVICE_TOKEN):
            body["client_id"] = CLIENT_ID
        if path == Paths.DEVICE_TOKEN:
            body["grant_type"] = DEVICE_CODE_GRANT_TYPE
            body["device_code"] = draw(st.sampled_from(seeds["device_codes"]))
        if path in (Paths.SIGN_IN_EMAIL, Paths.SIGN_UP_EMAIL):
            body["email"] = draw(st.sampled_from([seeds["email"], "new" + seeds["email"]]))
            body["password"] = draw(st.sampled_from([PASSWORD, PASSWORD + "!", "short"]))
        if path in (Paths.DEVICE_APPROVE, Paths.DEVICE_DENY) and draw(st.booleans()):
            body["userCode"] = draw(st.sampled_from(seeds["user_codes"]))
        case.body = body
        if draw(st.booleans()):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {seeds['token']}"}
        return case

    return strategy()


def run_fuzz(app: Any, examples: int) -> dict[str, int]:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=CONFIG)
    # The vault surfaces (/api/v1, every /trpc procedure) have their own, seeded pass:
    # tests/security/test_fuzz_vault.py.
    schema = schema.exclude(path_regex=r"^/(api/v1|trpc)/")
    counts = {"cases": 0, "2xx": 0, "4xx": 0}
    with asgi.get_client(app) as session:
        seeds = seed_values(session)

        def exercise(case: Any, checks: list[Any]) -> None:
            response = case.call(session=session)
            counts["cases"] += 1
            counts["2xx" if response.status_code < 300 else "4xx"] += 1
            check_answer(session, case, response)
            case.validate_response(response, checks=checks)

        fuzz_both_modes(schema, SCHEMATHESIS_CHECKS, lambda s: seeded(s, seeds), exercise, examples)
    return counts


def seed_values(session: Any) -> dict[str, Any]:
    email = "fuzz@example.com"
    signed = session.post(
        Paths.SIGN_UP_EMAIL,
        json={"name": "Fuzz", "email": email, "password": PASSWORD},
    )
    assert signed.status_code == 200, signed.text
    issued = [
        session.post(Paths.DEVICE_CODE, json={"client_id": CLIENT_ID}).json() for _ in range(5)
    ]
    session.cookies.clear()
    return {
        "email": email,
        "token": signed.json()["token"],
        "device_codes": [c["device_code"] for c in issued],
        "user_codes": [c["user_code"] for c in issued],
    }


def test_schemathesis_finds_no_5xx_no_bad_error_and_no_echoed_secret(
    settings_factory: Callable[..., Any], backend: str
) -> None:
    from better_skills.server.app import create_app

    env = {
        # Limits off, so that the fuzzer reaches the code behind them (tests/security/
        # test_attack_guessing.py and test_attack_polling.py attack the limits themselves).
        "RATE_LIMIT_USER_CODE": "0/1m",
        "RATE_LIMIT_SIGN_IN": "0/1m",
        "RATE_LIMIT_DEVICE_CODE": "0/1m",
        "POLL_INTERVAL": "1",
    }
    app = create_app(settings_factory(**env), hash_cost=cheap_hash_cost())
    try:
        counts = run_fuzz(app, EXAMPLES)
    finally:
        asgi.shutdown_lifespans()
    for key, value in counts.items():
        TOTALS[key] = TOTALS.get(key, 0) + value
    print(f"\nschemathesis [{backend}]: {counts['cases']} cases ({counts})")
    # Hypothesis may stop early once it has seen every distinct case: at least one mode's
    # worth (EXAMPLES of the 2 x EXAMPLES asked for) must have run.
    assert counts["cases"] >= EXAMPLES
    assert counts["2xx"] > 0 and counts["4xx"] > 0


@pytest.fixture(scope="module", autouse=True)
def report_totals() -> Any:
    yield
    if TOTALS:
        print(f"\nschemathesis total: {TOTALS}")
