"""The diagram pages under ``/visual`` (not under ``/api/v1``: a browser cannot send a
Bearer header). ``/visual/login`` exchanges an API key for an HttpOnly, SameSite=Strict
session cookie holding a random session id; the session itself is kept on the server
(``graphsvc.sessions``), so ``/visual/logout`` ends it for good. Every other page needs it
(else a redirect to the login page). The login and logout forms carry a form token and are
refused when sent from another site (``graphsvc.api.csrf``). Keys limited to townships see
only their townships' pages; anything else answers 404, as the API does. An id may hold any
character: a '/' arrives encoded (%2F) within its segment, as under ``/api/v1``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from graphsvc.api import csrf, scope, throttle
from graphsvc.api.deps import AsOfDep, RulesDep, StoreDep
from graphsvc.api.errors import TooManyAttempts
from graphsvc.api.paths import PATH_ID
from graphsvc.errors import NotFound
from graphsvc.keys import KeyStore, Principal
from graphsvc.model import Kind
from graphsvc.sessions import SESSION_SECONDS, SessionStore
from visual.render import Link, Page, served_link, with_query
from visual.warmer import pages_asked

router = APIRouter(prefix="/visual", include_in_schema=False)

COOKIE = "gs_visual"
SECURITY_HEADERS = {
    # the pages carry everything inline; forbid any fetch from elsewhere
    "Content-Security-Policy": ("default-src 'none'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; img-src data:; font-src data:; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    # the address of a page goes to this same server only; and a form posted from a page
    # carries its true Origin (under no-referrer a browser sends 'Origin: null', which the
    # forms' origin check must refuse: a foreign page can ask for it too)
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
VIEW_KINDS = {"chain": Kind.PERSON, "delegate": Kind.PERSON, "member": Kind.PERSON,
              "household": Kind.HOUSEHOLD,
              "pairings": Kind.TOWNSHIP, "township": Kind.TOWNSHIP}
PERSONAL_VIEWS = {"chain", "delegate", "member", "household"}  # a pii read even with no household


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/visual/login", status_code=303)


def _sessions(request: Request) -> SessionStore:
    keys: KeyStore = request.app.state.keys
    return SessionStore(keys)


def _principal(request: Request) -> Principal | None:
    return _sessions(request).principal(request.cookies.get(COOKIE))


def _refused(reason: str, again: str, label: str) -> HTMLResponse:
    """A form not sent by this site's own page: 403, no cookie set or ended."""
    from visual.pages import refused_page

    return _html(refused_page(reason, again=again, again_label=label), status=403)


def _link(request: Request) -> Link:
    """Links between pages that keep the date the reader asked for."""
    as_of = request.query_params.get("as_of")
    if not as_of:
        return served_link
    suffix = urlencode({"as_of": as_of})
    # the trends chart takes a period, not a day
    return lambda view, rid: (served_link(view, rid) if view == "trends"
                              else with_query(served_link(view, rid), suffix))


@router.get("/login")
def login_form(request: Request) -> Response:
    """The login form."""
    from visual.pages import login_page

    token = csrf.form_token(request)
    return token.keep(request, _html(login_page(form=token.field())))


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()],
          form_token: Annotated[str | None, Form(alias=csrf.FIELD)] = None) -> Response:
    """Exchange an API key for a session cookie."""
    from visual.pages import login_page

    refused = csrf.refusal(request, form_token)
    if refused is not None:
        return _refused(refused, "/visual/login", "重新打开登录页 · open the login page again")
    try:  # a wrong key counts against the address, as on the API
        principal = throttle.authenticate(request, key.strip())
    except TooManyAttempts as exc:
        page = _html(login_page(f"输错密钥的次数过多，请 {exc.retry_after} 秒后再试",
                                form=csrf.form_token(request).field()), status=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if principal is None:
        return _html(login_page("密钥无效（未知、输错或已吊销）",
                                form=csrf.form_token(request).field()), status=401)
    resp = RedirectResponse("/visual/", status_code=303)
    resp.set_cookie(COOKIE, _sessions(request).create(principal.key_id),
                    max_age=SESSION_SECONDS, path="/visual", httponly=True, samesite="strict",
                    secure=request.url.scheme == "https")
    return resp


@router.post("/logout")
def logout(request: Request,
           form_token: Annotated[str | None, Form(alias=csrf.FIELD)] = None) -> Response:
    """End the session (on the server: the cookie is worth nothing after) and forget it."""
    refused = csrf.refusal(request, form_token)
    if refused is not None:
        return _refused(refused, "/visual/", "返回首页 · back to the index")
    _sessions(request).end(request.cookies.get(COOKIE))
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
    pages_asked(id(request.app))  # the warmer (started with the app) keeps the pages ready
    towns = None if principal.every_township else principal.townships
    token = csrf.form_token(request)  # for the logout form
    return token.keep(request, _html(index_page(store, as_of=as_of, rules=rules, townships=towns,
                                                link=_link(request), form=token.field())))


@router.get("/{view}")
@router.get("/{view}/{rid}")
def view_page(request: Request, view: str, store: StoreDep, rules: RulesDep, as_of: AsOfDep,
              # in the path, or (/visual/member?rid=..) in the query: an id '.' or '..'
              rid: Annotated[str | None, PATH_ID] = None,
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
    pages_asked(id(request.app))
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
    shown = page.households if isinstance(page, Page) else frozenset()
    if principal.pii and (shown or view in PERSONAL_VIEWS):
        # households' names and requests unmasked on this page: who saw which is logged, each
        # household drawn (the plan layer's too, shown or not: it is in the page), and the
        # page's own id, which says which page it was
        keys: KeyStore = request.app.state.keys
        keys.log_pii_read(principal, f"/visual/{view}/{{id}}" if rid is not None
                          else f"/visual/{view}", [*shown, *([rid] if rid is not None else [])])
    return _html(page)
