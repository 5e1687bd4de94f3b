"""Forms that change state on the diagram pages (log in, log out): refused unless sent by
this site's own page.

Two checks, both on every such form (``refusal``):

- **a form token bound to a pre-session cookie.** A page with a form (``form_token``) gives
  the browser a random ``gs_form`` cookie (HttpOnly, SameSite=Strict, no login needed) and
  puts HMAC(install secret, cookie) in the form as a hidden field. A post must carry both,
  matching. Another site can neither read the token nor make the browser send the cookie
  along (SameSite=Strict), and a cookie it plants (from a sibling host) has no token it
  could compute.
- **the Origin header** (else the Referer's origin) must be this site: the origin set in
  ``GRAPHSVC_PUBLIC_ORIGIN`` when there is one (behind a reverse proxy that changes the
  Host header), else the host the request names (Host header; the scheme is not compared,
  since a proxy may end TLS). ``Origin: null`` (a sandboxed frame, a ``data:`` page, a page
  that asked for no referrer) is refused: this site's own pages send their origin
  (``Referrer-Policy: same-origin``). A post with neither header (not a browser) is judged
  by the token alone.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from graphsvc.keys import KeyStore

COOKIE = "gs_form"
FIELD = "csrf"  # the hidden field of every form that changes state
PATH = "/visual"  # where the forms are posted


def _sign(request: Request, binding: str) -> str:
    keys: KeyStore = request.app.state.keys  # the install's secret, under this purpose alone
    return keys.mac("visual-form", binding)


@dataclass(frozen=True, slots=True)
class FormToken:
    """The token for the forms of one page, and the pre-session cookie to give the browser
    when it has none yet."""

    value: str
    new_cookie: str | None

    def field(self) -> str:
        """The hidden input to put in a form (the value is hex: nothing to escape)."""
        return f'<input type="hidden" name="{FIELD}" value="{self.value}">'

    def keep(self, request: Request, response: Response) -> Response:
        """Set the pre-session cookie on the response of the page, when it is new."""
        if self.new_cookie is not None:
            response.set_cookie(COOKIE, self.new_cookie, path=PATH, httponly=True,
                                samesite="strict", secure=request.url.scheme == "https")
        return response


def form_token(request: Request) -> FormToken:
    """The form token of this browser (a new pre-session cookie when it sent none)."""
    binding = request.cookies.get(COOKIE)
    new = None
    if not binding:
        binding = new = secrets.token_urlsafe(32)
    return FormToken(_sign(request, binding), new)


def _netloc(origin: str) -> str:
    """host[:port] of an origin or a Host header, lower case, without the default ports."""
    host = origin.strip().lower()
    for default in (":80", ":443"):
        if host.endswith(default):
            return host[: -len(default)]
    return host


def _sender(request: Request) -> str | None:
    """The origin the browser says the form was sent from (None: it says nothing)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.strip()
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


def foreign_origin(request: Request) -> str | None:
    """The origin of a form sent from anywhere but this site; None when sent from here, or
    when the browser did not say."""
    sender = _sender(request)
    if sender is None:
        return None
    if sender.lower() == "null":
        return "null"
    public = request.app.state.settings.public_origin
    if public:  # behind a proxy: the address users open, as configured
        return None if sender.rstrip("/").lower() in public.split(",") else sender
    own = request.headers.get("host") or ""
    if own and _netloc(urlsplit(sender).netloc) == _netloc(own):
        return None
    return sender


def refusal(request: Request, sent: str | None) -> str | None:
    """Why a posted form is refused (words for the page, Chinese then English); None when it
    came from this site's own page with its token."""
    foreign = foreign_origin(request)
    if foreign is not None:
        where = "无来源（null）" if foreign == "null" else foreign
        return (f"已拒绝：这个表单不是从本站页面提交的（来自 {where}）。"
                "请直接打开本站的页面再操作。"
                f"如果本站在反向代理之后，请管理员把 GRAPHSVC_PUBLIC_ORIGIN 设为浏览器中的网址。"
                f"\nRefused: this form was sent from {foreign}, not from a page of this site. "
                "Open this site's page and send it from there. If graphsvc runs behind a "
                "reverse proxy, the administrator sets GRAPHSVC_PUBLIC_ORIGIN to the address "
                "users open.")
    binding = request.cookies.get(COOKIE)
    if not binding or not sent or not hmac.compare_digest(
            _sign(request, binding).encode("ascii"), sent.encode("utf-8", "surrogatepass")):
        return ("已拒绝：表单已过期或不完整（缺少本站页面给出的表单令牌，或浏览器未保留 Cookie）。"
                "请重新打开页面再操作。\nRefused: the form's token is missing or does not "
                "match this browser (the page is too old, or cookies are off). Open the page "
                "again and send the form from there.")
    return None
