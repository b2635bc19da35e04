"""The better-auth 1.7 compatible API under ``/api/auth`` (see shared/reference/protocol.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from better_skills.protocol import errors
from better_skills.protocol.device_flow import HOSTNAME_FIELD, TOKEN_TYPE, Paths
from better_skills.server.auth_schemas import session_json, user_json
from better_skills.server.dependencies import (
    caller,
    current_session,
    is_cross_site,
    refuse_cross_site_sign_in,
    require_browser_session,
    require_trusted_origin,
    services,
    session_token,
)
from better_skills.server.http import (
    NO_STORE,
    delete_session_cookie,
    json_no_store,
    read_params,
    set_session_cookie,
)
from better_skills.server.routers.openapi_bodies import ERROR, STRING, body
from better_skills.server.services.accounts import SignedIn

router = APIRouter(tags=["auth"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: ERROR,
    401: ERROR,
    403: ERROR,
    413: ERROR,
    415: ERROR,
    429: ERROR,
}


@router.post(
    Paths.DEVICE_CODE,
    summary="Device authorization request (RFC 8628 §3.1)",
    openapi_extra=body(
        {"client_id": STRING, "scope": STRING, HOSTNAME_FIELD: STRING}, ["client_id"]
    ),
    responses=ERRORS,
)
async def device_code(request: Request) -> Response:
    # HOSTNAME_FIELD is our extra: the computer's name, shown where the login is approved.
    params = await read_params(request, required=["client_id"], optional=["scope", HOSTNAME_FIELD])
    issued = await services(request).device_flow.issue(
        params["client_id"], params.get("scope"), caller(request), params.get(HOSTNAME_FIELD)
    )
    page = services(request).settings.public_url + Paths.DEVICE_PAGE
    return json_no_store(
        {
            "device_code": issued.device_code,
            "user_code": issued.user_code,
            "verification_uri": page,
            "verification_uri_complete": f"{page}?user_code={issued.user_code}",
            "expires_in": issued.expires_in,
            "interval": issued.interval,
        }
    )


@router.post(
    Paths.DEVICE_TOKEN,
    summary="Device access token request (RFC 8628 §3.4)",
    openapi_extra=body(
        {"grant_type": STRING, "device_code": STRING, "client_id": STRING},
        ["grant_type", "device_code", "client_id"],
    ),
    responses=ERRORS,
)
async def device_token(request: Request) -> Response:
    params = await read_params(request, optional=["grant_type", "device_code", "client_id"])
    grant = await services(request).device_flow.poll(
        params.get("grant_type"),
        params.get("device_code"),
        params.get("client_id"),
        caller(request),
    )
    return json_no_store(
        {
            "access_token": grant.access_token,
            "token_type": TOKEN_TYPE,
            "expires_in": grant.expires_in,
            "scope": grant.scope or "",
        }
    )


@router.get(
    Paths.DEVICE_VERIFY,
    summary="Look up a user code; for a signed-in user also claim it",
    responses=ERRORS,
)
async def device_verify(request: Request, user_code: str = "") -> Response:
    if is_cross_site(request):
        # A top-level navigation from another site carries the SameSite=Lax cookie: it must
        # neither claim a code into the victim's account nor spend the victim's budget.
        raise errors.Forbidden("Cross-site request refused: open the code on this site.")
    view = await current_session(request)
    if view is not None and not view.is_browser:
        raise errors.Forbidden(
            "Open codes in a browser signed in with the password, not with a device login "
            "or an access token."
        )
    found = await services(request).device_flow.lookup(
        user_code, view.user.id if view else None, caller(request)
    )
    result: dict[str, Any] = {"user_code": found.user_code, "status": found.status}
    if found.claimed_by_caller:
        result.update(client_id=found.client_id, scope=found.scope or "")
    return json_no_store(result)


async def _decide(request: Request, approve: bool) -> Response:
    view = await require_browser_session(request)
    params = await read_params(request, optional=["userCode", "user_code"])
    code = params.get("userCode") or params.get("user_code") or ""
    await services(request).device_flow.decide(code, view.user.id, approve, caller(request))
    return json_no_store({"success": True})


DECIDE_BODY = body({"userCode": STRING, "user_code": STRING}, [])


@router.post(
    Paths.DEVICE_APPROVE,
    summary="Approve a claimed code",
    openapi_extra=DECIDE_BODY,
    responses=ERRORS,
)
async def device_approve(request: Request) -> Response:
    return await _decide(request, approve=True)


@router.post(
    Paths.DEVICE_DENY, summary="Deny a claimed code", openapi_extra=DECIDE_BODY, responses=ERRORS
)
async def device_deny(request: Request) -> Response:
    return await _decide(request, approve=False)


@router.get(Paths.GET_SESSION, summary="The current session and user, or null")
async def get_session(request: Request) -> Response:
    view = await current_session(request)
    return json_no_store(session_json(view) if view else None)


@router.post(
    Paths.SIGN_OUT, summary="End the current session", responses=ERRORS, openapi_extra=body({}, [])
)
async def sign_out(request: Request) -> Response:
    token, from_cookie = session_token(request)
    if from_cookie:
        require_trusted_origin(request)
    await read_params(request, ignored=[])  # the body is optional but must be well-formed
    ended, kind = False, None
    if token is not None:
        result = await services(request).sessions.sign_out_detail(token, caller(request))
        ended, kind = result.ended, result.kind
    # "success" for better-auth clients (always true, as theirs is); "signed_out" tells
    # ours whether a session really ended here, and "token_kind" what the token was.
    response = json_no_store({"success": True, "signed_out": ended, "token_kind": kind})
    delete_session_cookie(response, services(request).settings)
    return response


def signed_in_response(request: Request, signed: SignedIn, extra: dict[str, Any]) -> Response:
    response = JSONResponse(
        {**extra, "token": signed.session.token, "user": user_json(signed.user)},
        headers=NO_STORE,
    )
    set_session_cookie(request, response, signed.session.token)
    return response


@router.post(
    Paths.SIGN_UP_EMAIL,
    summary="Create an account and sign in",
    openapi_extra=body(
        {
            "name": STRING,
            "email": STRING,
            "password": STRING,
            "image": STRING,
            "callbackURL": STRING,
            "rememberMe": {"type": "boolean"},
        },
        ["name", "email", "password"],
    ),
    responses={**ERRORS, 422: ERROR},
)
async def sign_up_email(request: Request) -> Response:
    refuse_cross_site_sign_in(request)
    params = await read_params(
        request,
        required=["name", "email", "password"],
        flags=["rememberMe"],
        ignored=["image", "callbackURL"],
    )
    signed = await services(request).accounts.sign_up(
        params["name"], params["email"], params["password"], caller(request)
    )
    return signed_in_response(request, signed, {})


@router.post(
    Paths.SIGN_IN_EMAIL,
    summary="Sign in with email and password",
    openapi_extra=body(
        {
            "email": STRING,
            "password": STRING,
            "callbackURL": STRING,
            "rememberMe": {"type": "boolean"},
        },
        ["email", "password"],
    ),
    responses=ERRORS,
)
async def sign_in_email(request: Request) -> Response:
    refuse_cross_site_sign_in(request)
    params = await read_params(
        request, required=["email", "password"], flags=["rememberMe"], ignored=["callbackURL"]
    )
    signed = await services(request).accounts.sign_in(
        params["email"], params["password"], caller(request)
    )
    return signed_in_response(request, signed, {"redirect": False})
