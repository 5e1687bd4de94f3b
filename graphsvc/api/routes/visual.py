"""The diagram pages under ``/visual`` (not under ``/api/v1``: a browser cannot send a
Bearer header). ``/visual/login`` exchanges an API key for an HttpOnly, SameSite=Strict
session cookie signed with the install's key secret; every other page needs it
(else a redirect to the login page). Keys limited to townships see only their
townships' pages; anything else answers 404, as the API does.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from graphsvc.api import scope, throttle
from graphsvc.api.deps import AsOfDep, RulesDep, StoreDep
from graphsvc.api.errors import TooManyAttempts
from graphsvc.bundle.schema import Kind
from graphsvc.errors import NotFound
from graphsvc.keys import KeyStore, Principal
from visual.cache import keep_warm
from visual.render import Link, served_link

router = APIRouter(prefix="/visual", include_in_schema=False)

COOKIE = "gs_visual"
SESSION_SECONDS = 8 * 3600
SECURITY_HEADERS = {
    # the pages carry everything inline; forbid any fetch from elsewhere
    "Content-Security-Policy": ("default-src 'none'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; img-src data:; font-src data:; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
VIEW_KINDS = {"chain": Kind.PERSON, "delegate": Kind.PERSON, "member": Kind.PERSON,
              "household": Kind.HOUSEHOLD,
              "pairings": Kind.TOWNSHIP, "township": Kind.TOWNSHIP}


def _sign(keys: KeyStore, payload: str) -> str:
    # the install's HMAC secret (keys.secret) also signs sessions, under its own label
    secret = keys._secret_bytes()  # noqa: SLF001 - one secret per install, kept by KeyStore
    return hmac.new(secret, b"visual-session|" + payload.encode("ascii"), hashlib.sha256).hexdigest()


def make_session(keys: KeyStore, key_id: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = f"{key_id}.{expires}"
    return f"{payload}.{_sign(keys, payload)}"


def session_principal(keys: KeyStore, cookie: str | None) -> Principal | None:
    """The key behind a session cookie, while the cookie is genuine, fresh and the key unrevoked."""
    if not cookie or cookie.count(".") != 2:
        return None
    key_id, expires, sig = cookie.split(".")
    payload = f"{key_id}.{expires}"
    try:
        if not hmac.compare_digest(_sign(keys, payload), sig) or int(expires) < time.time():
            return None
        key = keys.get(key_id)
    except (NotFound, ValueError, UnicodeEncodeError):
        return None
    return key.principal() if key.active else None


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/visual/login", status_code=303)


def _principal(request: Request) -> Principal | None:
    return session_principal(request.app.state.keys, request.cookies.get(COOKIE))


def _link(request: Request) -> Link:
    """Links between pages that keep the date the reader asked for."""
    as_of = request.query_params.get("as_of")
    if not as_of:
        return served_link
    suffix = "?" + urlencode({"as_of": as_of})
    # the trends chart takes a period, not a day
    return lambda view, rid: served_link(view, rid) + ("" if view == "trends" else suffix)


@router.get("/login")
def login_form() -> HTMLResponse:
    """The login form."""
    from visual.pages import login_page

    return _html(login_page())


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()]) -> Response:
    """Exchange an API key for a session cookie."""
    from visual.pages import login_page

    keys: KeyStore = request.app.state.keys
    try:  # a wrong key counts against the address, as on the API
        principal = throttle.authenticate(request, key.strip())
    except TooManyAttempts as exc:
        page = _html(login_page(f"输错密钥的次数过多，请 {exc.retry_after} 秒后再试"), status=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if principal is None:
        return _html(login_page("密钥无效（未知、输错或已吊销）"), status=401)
    resp = RedirectResponse("/visual/", status_code=303)
    resp.set_cookie(COOKIE, make_session(keys, principal.key_id), max_age=SESSION_SECONDS,
                    path="/visual", httponly=True, samesite="strict",
                    secure=request.url.scheme == "https")
    return resp


@router.post("/logout")
def logout() -> Response:
    """Forget the session cookie."""
    resp = _to_login()
    resp.delete_cookie(COOKIE, path="/visual", httponly=True, samesite="strict")
    return resp


@router.get("")
@router.get("/")
def index(request: Request, store: StoreDep, rules: RulesDep, as_of: AsOfDep) -> Response:
    """Townships with coverage figures and links to their views."""
    from visual.pages import index_page

    principal = _principal(request)
    if principal is None:
        return _to_login()
    keep_warm(store, rules)
    towns = None if principal.every_township else principal.townships
    return _html(index_page(store, as_of=as_of, rules=rules, townships=towns,
                            link=_link(request)))


@router.get("/{view}")
@router.get("/{view}/{rid}")
def view_page(request: Request, view: str, store: StoreDep, rules: RulesDep, as_of: AsOfDep,
              rid: str | None = None,
              plan: Annotated[bool, Query(description="township view: show the repair plan "
                                          "(proposed liaisons, dashed) from the start")] = False,
              cap: Annotated[int | None, Query(ge=1, le=50, description="township view with "
                                               "the plan: at most this many households per "
                                               "member (default GRAPHSVC_REPAIR_CAP)")] = None,
              ) -> Response:
    """One diagram page."""
    from visual.views import NEEDS_ID, VIEWS

    principal = _principal(request)
    if principal is None:
        return _to_login()
    if view not in VIEWS:
        raise NotFound(f"no diagram view '{view}'; views: {', '.join(VIEWS)}")
    if rid is None:
        if view in NEEDS_ID:
            raise NotFound(f"the {view} view needs an id: /visual/{view}/ID")
        if not principal.every_township:  # the county is more than this key may see
            raise NotFound(f"this key sees only {', '.join(principal.townships)}")
    else:
        scope.visible(store, principal, VIEW_KINDS[view], rid)
    keep_warm(store, rules)
    args = (rid,) if rid is not None else ()
    settings = request.app.state.settings
    extra: dict[str, object] = {}
    if view == "township":
        extra = {"plan": True if plan else None, "cap": cap or settings.repair_cap}
    elif view in ("household", "member", "delegate"):
        extra = {"escalate_after_days": settings.escalate_after_days}
    page = VIEWS[view](store, *args, as_of=as_of, rules=rules, mask=not principal.pii,
                       link=_link(request),
                       townships=None if principal.every_township else principal.townships,
                       **extra)
    if principal.pii and view in ("chain", "delegate", "member", "household"):
        # households' names unmasked on this page: who saw them is logged
        request.app.state.keys.log_pii_read(principal, f"/visual/{view}/{{id}}", [rid or ""])
    return _html(page)
