"""What routes depend on, as annotated shorthands: ``StoreDep``, ``PrincipalDep``, ``AsOfDep``…

Routes never import a driver nor read the environment: they take these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from graphsvc.api import scope, throttle
from graphsvc.api.errors import Forbidden, InvalidParameter, Unauthorized
from graphsvc.api.holder import StoreHolder
from graphsvc.bundle.validate import read_date
from graphsvc.config import Settings
from graphsvc.errors import StoreUnavailable
from graphsvc.keys import Principal
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

# -- settings, store --------------------------------------------------------------------------


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_rules(settings: SettingsDep) -> RuleSettings:
    return settings.rules()


RulesDep = Annotated[RuleSettings, Depends(get_rules)]


def get_store(request: Request) -> Iterator[Store]:
    """The process's store; 503 while it cannot be reached."""
    holder: StoreHolder = request.app.state.store
    store = holder.get()
    try:
        yield store
    except StoreUnavailable as exc:
        holder.mark_down(str(exc))
        raise


StoreDep = Annotated[Store, Depends(get_store)]

# -- who is calling ---------------------------------------------------------------------------

bearer = HTTPBearer(
    scheme_name="ApiKey", auto_error=False,
    description="An API key made with `graphsvc keys create`, sent as "
                "`Authorization: Bearer gs_…`.",
)


def get_principal(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                  ) -> Principal:
    """The caller's key; 401 without a valid one, 429 while its address must wait after too
    many wrong keys (``graphsvc.api.throttle``)."""
    if credentials is None:
        throttle.check_client(request)  # no key is no guess, but a refused address waits
        raise Unauthorized("send an API key as 'Authorization: Bearer gs_…'; "
                           "an administrator makes one with 'graphsvc keys create'")
    principal = throttle.authenticate(request, credentials.credentials)
    if principal is None:
        raise Unauthorized("the API key is not valid: unknown, mistyped or revoked")
    request.state.principal = principal  # for access logs and, later, the audit log
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_writer(principal: PrincipalDep) -> Principal:
    """The caller's key, when its role may change data; 403 otherwise."""
    if not principal.can_write:
        raise Forbidden(f"this key's role is {principal.role.value}: it may read but not change "
                        "data; ask for an editor key")
    return principal


WriterDep = Annotated[Principal, Depends(get_writer)]


def get_county_writer(principal: WriterDep) -> Principal:
    """A key that may change data in every township (bundle uploads touch any of them)."""
    if not principal.every_township:
        raise Forbidden("a bundle upload can touch every township, and this key is limited to "
                        f"{', '.join(principal.townships)}; use the single-record endpoints, or "
                        "a key for every township")
    return principal


CountyWriterDep = Annotated[Principal, Depends(get_county_writer)]

# -- query parameters shared by many routes ---------------------------------------------------


def get_as_of(as_of: Annotated[str | None, Query(
        description="the date the answer holds on, YYYY-MM-DD (default: today)",
        examples=["2026-06-30"], json_schema_extra={"format": "date"})] = None) -> dt.date:
    return parse_day("as_of", as_of) or dt.date.today()


def parse_day(name: str, value: str | None) -> dt.date | None:
    """The date in the query parameter ``name`` (None when not given); a clear 422 naming the
    parameter for anything but a real YYYY-MM-DD date."""
    if value is None:
        return None
    try:
        return read_date(value)  # the sentences of a bundle's date cells
    except ValueError as exc:
        raise InvalidParameter(name, str(exc)) from None


AsOfDep = Annotated[dt.date, Depends(get_as_of)]

Limit = Annotated[int, Query(ge=0, le=1000, description="at most this many rows (0 to 1000; "
                             "0 gives only the total)", examples=[100])]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="skip this many rows first",
                              examples=[0])]

TownshipQuery = Annotated[str | None, Query(
    description="only this township (a key limited to one township gets it by default; a key "
                "limited to several must name one of them)", examples=["T1"])]
VillageQuery = Annotated[str | None, Query(description="only this village", examples=["V1"])]


@dataclass(frozen=True, slots=True)
class Place:
    """The township and village a list is narrowed to, checked against the key."""

    township_id: str | None
    village_id: str | None


def get_place(store: StoreDep, principal: PrincipalDep, township_id: TownshipQuery = None,
              village_id: VillageQuery = None) -> Place:
    return Place(*scope.narrow(store, principal, township_id, village_id))


PlaceDep = Annotated[Place, Depends(get_place)]


def get_township(store: StoreDep, principal: PrincipalDep,
                 township_id: TownshipQuery = None) -> str | None:
    return scope.narrow(store, principal, township_id)[0]


TownshipDep = Annotated[str | None, Depends(get_township)]
