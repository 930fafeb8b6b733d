"""Who is calling: credentials from the session cookie or a Bearer header, and CSRF defence.

Credentials: the cookie ``projectw_session`` (HttpOnly, SameSite=Lax, path /, Secure when the
server is reached over HTTPS) or ``Authorization: Bearer <token>`` (sessions and API tokens
alike). A Bearer header wins over the cookie.

CSRF: a request authenticated by the cookie that is not GET, HEAD or OPTIONS must

* carry the header ``X-Requested-With`` (any value). Browsers send a custom header across
  origins only after a CORS preflight, which this server never grants, so a forged form or
  cross-site fetch cannot add it; and
* if the browser states an ``Origin`` (or, failing that, a ``Referer``), come from this
  server's own origin (the request's own scheme and host, or ``public_url``).

Bearer requests are exempt: a browser never attaches that header by itself. Requests without
credentials that change state (sign-in, sign-up, links) get the same origin check, so another
site cannot sign a visitor into an account of its choosing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.security import OAuth2PasswordBearer

from projectw.auth.accounts import Client
from projectw.auth.sessions import AuthContext, authenticate
from projectw.config import Settings
from projectw.errors import Forbidden, Unauthorized
from projectw.runtime import Runtime

COOKIE_NAME = "projectw_session"
CSRF_HEADER = "X-Requested-With"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Only for the OpenAPI document: lets Swagger's Authorize button sign in with the password form.
bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/auth/login", auto_error=False, description="Session or API token."
)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def client_of(request: Request) -> Client:
    address = request.client.host if request.client else "unknown"
    return Client(address=address, user_agent=request.headers.get("user-agent"))


def is_https(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.base_url().startswith("https://")


def set_session_cookie(
    response: Response, request: Request, settings: Settings, token: str
) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(settings.auth.session_idle_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def clear_session_cookie(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    """Refuse a state-changing request that a browser says comes from another site."""
    if request.method in SAFE_METHODS:
        return
    stated = request.headers.get("origin")
    if stated is None:
        referer = request.headers.get("referer")
        if referer is None:
            return
        stated = _origin(referer) or "null"
    own = {_origin(str(request.base_url)), _origin(_runtime(request).settings.base_url())}
    if stated.lower() not in own:
        raise Forbidden(
            "This request comes from another site and was refused.", code="csrf_origin_mismatch"
        )


def _check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    if not request.headers.get(CSRF_HEADER):
        raise Forbidden(
            f"Requests signed in by cookie must send the {CSRF_HEADER} header.",
            code="csrf_header_missing",
        )
    check_origin(request)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def resolve_auth(request: Request, response: Response, *, strict: bool) -> AuthContext | None:
    """The caller's context; None without credentials (or, unless strict, with bad ones)."""
    runtime = _runtime(request)
    token = _bearer(request)
    via_cookie = token is None
    if token is None:
        token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    if via_cookie:
        _check_csrf(request)
    context = await authenticate(runtime.db, runtime.settings.auth, token)
    if context is None:
        if not strict:
            return None
        raise Unauthorized(
            "Your session has ended or the token was revoked; sign in again.",
            code="invalid_token",
        )
    if via_cookie and context.refreshed and context.kind == "session":
        set_session_cookie(response, request, runtime.settings, token)
    request.state.auth = context
    return context


def token_from_request(request: Request) -> str | None:
    """The raw credential of this request, for sign-out."""
    return _bearer(request) or request.cookies.get(COOKIE_NAME)
