"""Sign in, sign up and sign out, as pages."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from better_skills.protocol import errors
from better_skills.protocol.device_flow import Paths
from better_skills.server import fields
from better_skills.server.dependencies import caller, services
from better_skills.server.http import delete_session_cookie, set_session_cookie
from better_skills.server.routers.pages._console import WELCOME_PAGE
from better_skills.server.routers.pages._forms import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    Form,
    cookie_token,
    echo,
    form_post,
    login_cookie_name,
    login_nonce,
    login_token,
    login_url,
    page_session,
    safe_next,
)
from better_skills.server.routers.pages._render import redirect, render, retry_headers, retry_text
from better_skills.server.services.accounts import AccountError, SignedIn

router = APIRouter()

#: What ``?done=`` after a redirect to the sign-in page says.
LOGIN_NOTICES = {
    "everywhere": "You are signed out everywhere: every browser and terminal of your account.",
}
ACCOUNT_ERROR_FIELDS = {
    "INVALID_EMAIL": "email",
    "USER_ALREADY_EXISTS": "email",
    "INVALID_NAME": "name",
    "PASSWORD_TOO_SHORT": "password",
    "PASSWORD_TOO_LONG": "password",
}


@dataclass
class LoginForm:
    """What the sign-in page shows: kept values, one error and the field it belongs to."""

    form: str = ""  # "signin" or "signup": which form the error is about
    error: str = ""
    field: str = ""
    email: str = ""
    name: str = ""


def login_page(
    request: Request,
    next_path: str,
    state: LoginForm | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    notice_text: str = "",
) -> HTMLResponse:
    nonce = login_nonce(request) or secrets.token_urlsafe(32)
    response = render(
        "login.html",
        status=status,
        headers=headers,
        user=None,
        next=next_path,
        for_device=next_path.startswith(Paths.DEVICE_PAGE),
        csrf_token=login_token(request, nonce),
        state=state or LoginForm(),
        min_password=fields.PASSWORD_MIN,
        notice_text=notice_text,
    )
    response.set_cookie(
        login_cookie_name(request),
        nonce,
        path="/",
        httponly=True,
        samesite="strict",
        secure=services(request).settings.secure_cookies,
    )
    return response


@router.get(Paths.LOGIN_PAGE)
async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if await page_session(request) is not None:
        return redirect(next_path)
    done = request.query_params.get("done")
    return login_page(request, next_path, notice_text=LOGIN_NOTICES.get(done or "", ""))


async def _signed_out_form(request: Request, form: str, fields: list[str]) -> Form | Response:
    """The guard for the two signed-out forms; refusals re-render the sign-in page."""

    def refuse(params: dict[str, str] | None, status: int, message: str) -> Response:
        if params is None:
            return login_page(request, Paths.ACCOUNT_PAGE, LoginForm(form, message), status=status)
        state = LoginForm(form, message, email=echo(params.get("email"), EMAIL_LENGTH))
        state.name = echo(params.get("name"), NAME_LENGTH)
        return login_page(request, safe_next(params.get("next")), state, status=status)

    return await form_post(request, ["email", "password", "next", *fields], signed_out=refuse)


async def _signed_in(
    request: Request,
    form: Form,
    state: LoginForm,
    call: Callable[[], Awaitable[SignedIn]],
    *,
    default: str = Paths.ACCOUNT_PAGE,
) -> Response:
    """Run a sign-in or sign-up; its success sets the cookie, its failure re-renders.
    ``default`` replaces the account page as where to go next (sign-up: the welcome page)."""
    next_path = safe_next(form.params.get("next"))
    if next_path == Paths.ACCOUNT_PAGE:
        next_path = default
    try:
        signed = await call()
    except AccountError as exc:
        state.error = exc.message
        state.field = ACCOUNT_ERROR_FIELDS.get(exc.code, "")
        return login_page(request, next_path, state, status=exc.status_code)
    except errors.TooManyRequests as exc:
        # The service says which limit: failed sign-ins, or accounts made from one address.
        state.error = f"{exc.description} {retry_text(request, exc.retry_after or 60)}"
        return login_page(request, next_path, state, status=429, headers=retry_headers(exc))
    # A new sign-in replaces this browser's previous session rather than orphaning it.
    old = cookie_token(request)
    if old:
        await services(request).sessions.sign_out(old, caller(request))
    response = redirect(next_path)
    set_session_cookie(request, response, signed.session.token)
    return response


@router.post(Paths.LOGIN_PAGE)
async def login_submit(request: Request) -> Response:
    form = await _signed_out_form(request, "signin", [])
    if not isinstance(form, Form):
        return form
    email, password = form.params.get("email", ""), form.params.get("password", "")
    state = LoginForm("signin", email=echo(email, EMAIL_LENGTH))
    if not email.strip() or not password:
        state.error = "Enter your email address and password."
        state.field = "email" if not email.strip() else "password"
        return login_page(request, safe_next(form.params.get("next")), state, status=400)
    accounts = services(request).accounts
    return await _signed_in(
        request, form, state, lambda: accounts.sign_in(email, password, caller(request))
    )


@router.post(Paths.SIGN_UP_PAGE)
async def signup_submit(request: Request) -> Response:
    form = await _signed_out_form(request, "signup", ["name"])
    if not isinstance(form, Form):
        return form
    email, name = form.params.get("email", ""), form.params.get("name", "")
    state = LoginForm("signup", email=echo(email, EMAIL_LENGTH), name=echo(name, NAME_LENGTH))
    accounts = services(request).accounts
    return await _signed_in(
        request,
        form,
        state,
        lambda: accounts.sign_up(name, email, form.params.get("password", ""), caller(request)),
        # A new account goes to the welcome page (unless it came for something else, such
        # as a device code): the three steps to connect a terminal.
        default=WELCOME_PAGE,
    )


@router.post(Paths.LOGOUT_PAGE)
async def logout(request: Request) -> Response:
    form = await form_post(request, ["next"], heading="Could not sign out")
    if not isinstance(form, Form):
        return form
    token = cookie_token(request)
    if form.view is not None:
        await services(request).sessions.sign_out(token or "", caller(request))
    target = safe_next(form.params.get("next"), default="")
    response = redirect(login_url(target) if target else Paths.LOGIN_PAGE)
    delete_session_cookie(response, services(request).settings)
    return response
