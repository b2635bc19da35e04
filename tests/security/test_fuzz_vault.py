"""Schemathesis against the vault surfaces (issue 18 item 1): every ``/api/v1/*`` operation
(vaults, skills, search, sync, tokens) and every ``/trpc`` procedure, from the server's own
OpenAPI document (which documents each procedure with the input schema of the pydantic model
it validates with), in process over ASGI.

For every answer: no 5xx; every 4xx in the documented shape (``{"error", "error_description",
"details"?}`` for ``/api/v1``, the tRPC error envelope for ``/trpc``); ``Retry-After`` on a
429; the security headers; and schemathesis's own checks (documented status codes, content
types and response schemas; schema-violating requests refused with a 4xx).

Positive cases carry a real bearer token most of the time, and half of the time real ids
(skills, files, vaults, tokens, slugs) in their path parameters and inputs, so they get past
the 404 into the code behind it.

Cases: ``FUZZ_VAULT_EXAMPLES`` per generation mode and backend (CI: 40, about 10 s a
backend). The long pass, ``BS_FUZZ_LONG=1`` (2,500 per mode and backend: 10,000 on both;
or 5,000 per mode on one backend, as run for docs/security.md):

    BS_FUZZ_LONG=1 FUZZ_VAULT_EXAMPLES=5000 .venv/bin/pytest tests/security/test_fuzz_vault.py \
        -s --backends sqlite

The count that really ran is printed.
"""

from __future__ import annotations

import json
import os
import sys
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

from tests.security.fuzzing import fuzz_both_modes
from tests.support.app import cheap_hash_cost

LONG = os.environ.get("BS_FUZZ_LONG") == "1"
EXAMPLES = int(os.environ.get("FUZZ_VAULT_EXAMPLES", "2500" if LONG else "40"))
VAULT_PATHS = r"^/(api/v1|trpc)/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]
            }
        }
    }
)
TOTALS: dict[str, int] = {}
#: Input fields of the procedures that name a skill, a vault or a file; seeded with real ones.
ID_FIELDS = {"id": "skill_id", "skillId": "skill_id", "vaultId": "vault_id"}
SLUG_FIELDS = {"slug": "slug", "skillSlug": "slug", "resourcePath": "path", "vaultSlug": "vault"}
PATH_PARAMS = {
    "skill_id": "skill_id",
    "vault_id": "vault_id",
    "slug": "slug",
    "path": "path",
    "token_id": "token_id",
}


def check_answer(case: Any, response: Any) -> None:
    status = response.status_code
    path = case.operation.path
    headers = {name.lower(): ", ".join(values) for name, values in response.headers.items()}
    assert status < 500, f"{status} from {case.method} {path}: {response.text[:300]}"
    assert headers.get("x-content-type-options") == "nosniff"
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", "")
    if status == 429:
        assert int(headers["retry-after"]) >= 1
    if status < 400:
        return
    body = json.loads(response.text)
    if path.startswith("/trpc/"):
        error = body["error"]
        assert set(error) == {"message", "code", "data"}, body
        assert isinstance(error["code"], int) and error["code"] < 0, body
        assert isinstance(error["message"], str) and error["message"], body
        assert error["data"]["httpStatus"] == status, body
        assert isinstance(error["data"]["code"], str), body
    else:
        assert isinstance(body, dict), body
        assert isinstance(body.get("error"), str) and body["error"], body
        assert isinstance(body.get("error_description"), str), body
        assert set(body) <= {"error", "error_description", "details"}, body
        for detail in body.get("details") or []:
            assert isinstance(detail["message"], str), body


def seed_values(session: Any, services: Any) -> dict[str, list[str]]:
    """A signed-up account with skills (one with a reference file), and a token id."""
    signed = session.post(
        "/api/auth/sign-up/email",
        json={"name": "Fuzz", "email": "vaultfuzz@example.com", "password": "fuzzing password 1"},
    )
    assert signed.status_code == 200, signed.text
    token = signed.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    skills = []
    for n in range(4):
        body = f"---\nname: fuzz-{n}\ndescription: Fuzz skill {n}.\n---\n# Fuzz {n}\n"
        files = [{"path": "SKILL.md", "content": body}]
        files.append({"path": "references/notes.md", "content": f"notes {n}\n"})
        made = session.post("/api/v1/skills", json={"files": files}, headers=auth)
        assert made.status_code == 201, made.text
        skills.append(made.json())
    session.cookies.clear()
    system = session.get("/api/v1/skills?vault=system-default", headers=auth).json()["items"]
    return {
        "token": [token],
        "skill_id": [s["id"] for s in skills] + [system[0]["id"]],
        "vault_id": [skills[0]["vault"]["id"], system[0]["vault"]["id"]],
        "vault": ["personal", "system-default"],
        "slug": [s["slug"] for s in skills],
        "path": ["SKILL.md", "references/notes.md"],
        "token_id": ["unknown-token-id"],
    }


def seeded(draw_case: Any, seeds: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    @st.composite
    def strategy(draw: Callable[..., Any]) -> Any:
        case = draw(draw_case)
        if draw(st.integers(0, 9)) < 8:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {seeds['token'][0]}"}
        if not draw(st.booleans()):
            return case
        for name in list(case.path_parameters or {}):
            if name in PATH_PARAMS:
                case.path_parameters[name] = draw(st.sampled_from(seeds[PATH_PARAMS[name]]))
        containers = []
        if isinstance(case.body, dict):
            containers.append(case.body)
        query_input = None
        if case.query and isinstance(case.query.get("input"), str):
            # schemathesis sends a JSON ``content`` parameter already serialised
            query_input = json.loads(case.query["input"])
            if isinstance(query_input, dict):
                containers.append(query_input)
        for container in containers:
            for name in list(container):
                kind = ID_FIELDS.get(name) or SLUG_FIELDS.get(name)
                if kind is not None:
                    container[name] = draw(st.sampled_from(seeds[kind]))
            if "ids" in container and isinstance(container["ids"], list):
                container["ids"] = draw(st.lists(st.sampled_from(seeds["skill_id"]), max_size=5))
        if isinstance(query_input, dict):
            case.query["input"] = json.dumps(query_input)
        return case

    return strategy()


def run_fuzz(app: Any, examples: int) -> dict[str, int]:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=CONFIG)
    schema = schema.include(path_regex=VAULT_PATHS)
    counts = {"cases": 0, "2xx": 0, "3xx": 0, "4xx": 0, "operations": 0}
    counts["operations"] = sum(1 for _ in schema.get_all_operations())
    with asgi.get_client(app) as session:
        seeds = seed_values(session, app.state.services)

        def exercise(case: Any, checks: list[Any]) -> None:
            response = case.call(session=session)
            counts["cases"] += 1
            counts[f"{response.status_code // 100}xx"] = (
                counts.get(f"{response.status_code // 100}xx", 0) + 1
            )
            check_answer(case, response)
            case.validate_response(response, checks=checks)
            if LONG and counts["cases"] % 250 == 0:  # the long pass shows how far it got
                print(f"schemathesis vault: {counts}", file=sys.stderr, flush=True)

        fuzz_both_modes(schema, CHECKS, lambda s: seeded(s, seeds), exercise, examples)
    return counts


@pytest.mark.timeout(120 + EXAMPLES)
def test_the_vault_surfaces_give_no_5xx_and_only_documented_errors(
    settings_factory: Callable[..., Any], backend: str
) -> None:
    from better_skills.server.app import create_app

    app = create_app(
        settings_factory(RATE_LIMIT_WRITES="0/1m", RATE_LIMIT_SIGN_UP="0/1m"),
        hash_cost=cheap_hash_cost(),
    )
    try:
        counts = run_fuzz(app, EXAMPLES)
    finally:
        asgi.shutdown_lifespans()
    for key, value in counts.items():
        TOTALS[key] = TOTALS.get(key, 0) + value
    print(f"\nschemathesis vault [{backend}]: {counts['cases']} cases ({counts})")
    assert counts["operations"] >= 30  # every /api/v1 endpoint and /trpc procedure
    assert counts["cases"] >= EXAMPLES
    assert counts["2xx"] > 0 and counts["4xx"] > 0


@pytest.fixture(scope="module", autouse=True)
def report_totals() -> Any:
    yield
    if TOTALS:
        print(f"\nschemathesis vault total: {TOTALS}")


def test_every_trpc_procedure_is_documented_with_its_input_schema() -> None:
    from better_skills.server.routers.trpc import document_procedures
    from better_skills.server.trpc.procedures import PROCEDURES

    document: dict[str, Any] = {"paths": {}}
    document_procedures(document)
    schemas = document["components"]["schemas"]
    for name, proc in PROCEDURES.items():
        method = "get" if proc.kind == "query" else "post"
        operation = document["paths"][f"/trpc/{name}"][method]
        assert {"200", "400", "401", "404", "429"} <= set(operation["responses"])
        if proc.model is None:
            continue
        if method == "get":
            (param,) = operation["parameters"]
            ref = param["content"]["application/json"]["schema"]["$ref"]
        else:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[1]]
        assert set(schema["properties"]) == set(proc.model.model_fields), name
