"""The app factory: assembles settings, the store, keys, routers and error handlers.

``graphsvc serve`` runs ``create_app`` under uvicorn (``factory=True``, so that each
worker process builds its own app and opens its own store).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import graphsvc
from graphsvc.api import errors
from graphsvc.api.headers import SafeAnswers
from graphsvc.api.holder import StoreHolder
from graphsvc.api.lanes import ReadGate
from graphsvc.api.limits import BodyLimit, body_bound, plan_bound, upload_bound
from graphsvc.api.paths import EncodedSlashes
from graphsvc.api.requestid import RequestId
from graphsvc.api.routes import API_PREFIX, api_router, health_router, trends, visual
from graphsvc.api.throttle import FailureThrottle
from graphsvc.config import Settings, get_settings
from graphsvc.keys import KeyStore
from graphsvc.stores.base import Store
from visual.warmer import start_warming, stop_warming

DESCRIPTION = """\
**Who supports whom in a county.** The three-contact chain (county committee member →
Party delegate → Party member → household) and unit–village pairing, with the coverage
rules of `spec/COVERAGE_RULES.md`: which households are covered, stale or uncovered
and why, the audits of delegates, members, committee members and pairings, and who
leaves a gap if they go.

Every request but `/health` carries an API key: `Authorization: Bearer gs_…` (an
administrator makes keys with `graphsvc keys create`). Roles: **admin** (everything),
**editor** (read and change data in its townships), **viewer** (read in its
townships). A key limited to townships reaches only those: lists are narrowed to
its township (a key with several must name one in `township_id`), records
outside them answer 404 to a read, and a write naming one is refused (403) in the same
words as a write naming an id that does not exist.

Reads answer exactly what `graphsvc … --format json` prints. Every read takes
`as_of` (default today). Every change is checked by the same rules as a bundle
import, and nothing is deleted: deactivating sets `inactive_since`, ending a
liaison, pairing or support sets `until`, so the past stays answerable.

Errors are JSON `{"detail": …}`: 401 without a valid key, 403 outside the key's
role or townships, 404 for an unknown id, 409 for a clash with what is stored,
413 for a body over its limit, 422 for a parameter or field that is not
allowed (naming it and what is allowed), 429 after too many wrong keys from one
address (every attempt from it waits the seconds of `Retry-After`), 503 while the
store cannot be reached.
"""

TAGS = [
    {"name": "households", "description": "Coverage status of households, one household's "
                                          "support, and changes to households."},
    {"name": "audit", "description": "The audits: delegates, members, committee members, "
                                     "pairings."},
    {"name": "people", "description": "Impact of a person leaving, and changes to people."},
    {"name": "summary", "description": "The county (or a township) in numbers."},
    {"name": "liaisons", "description": "The three-contact chain: add and end liaisons."},
    {"name": "pairings", "description": "Unit–village pairing (结对帮扶): add and end pairings."},
    {"name": "supports", "description": "Cadres supporting poor households (结穷亲)."},
    {"name": "contacts", "description": "Visits, calls and meetings with households."},
    {"name": "requests", "description": "Difficulties households raised in contacts, as they "
                                        "travel up the chain: a person's open requests, a "
                                        "township's overdue ones, and what was raised and "
                                        "resolved in a period (request texts masked without "
                                        "--pii)."},
    {"name": "trends", "description": "Coverage over time: households covered, stale and "
                                      "uncovered by reason on every week, month or quarter of "
                                      "a period (chart page: /visual/trends)."},
    {"name": "risks", "description": "Single points of failure: the people whose leaving would "
                                     "leave the most households uncovered."},
    {"name": "repair plans", "description": "Who should take over what lost its chain, and "
                                            "applying a plan (all or part) in one write."},
    {"name": "exports", "description": "Whole lists in one answer, JSON or CSV (for Excel; no "
                                       "cell runs as a formula)."},
    {"name": "imports", "description": "Upload a bundle (.zip, .xlsx or one .csv)."},
    {"name": "audit log", "description": "For admins: every write (who, which key, when, old "
                                         "and new values) and every read of unmasked personal "
                                         "data."},
    {"name": "health", "description": "Is the service up (no key needed)."},
]


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The HTTP API. Opens the store from ``settings`` at start-up unless ``store`` is given
    (a store handed in is not closed at shutdown: its maker closes it)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder = StoreHolder(settings, store)
        app.state.store = holder
        if store is None:
            await run_in_threadpool(holder.open)  # a store that is down is retried per request
        # the diagram pages' county-wide reads, kept ready for today while the app runs
        start_warming(id(app), holder.get, settings.rules())
        try:
            yield
        finally:
            # no warming query on a store being closed
            await run_in_threadpool(stop_warming, id(app))
            holder.close()

    app = FastAPI(
        title="graphsvc",
        version=graphsvc.__version__,
        summary="The three-contact chain and unit–village pairing of a county, as a graph.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = KeyStore(settings.data_dir)
    app.state.throttle = FailureThrottle(settings.auth_failure_limit)
    errors.install(app)
    app.add_middleware(EncodedSlashes, prefix=f"{API_PREFIX}/")  # ids holding '/' (%2F)
    app.add_middleware(EncodedSlashes, prefix="/visual/")  # and the diagram pages' ids
    app.add_middleware(BodyLimit,
                       default=body_bound(settings.max_body_bytes),
                       paths={f"{API_PREFIX}/imports": upload_bound(settings.max_upload_bytes),
                              f"{API_PREFIX}/repair-plans/apply":
                                  plan_bound(settings.max_upload_bytes)})
    app.add_middleware(ReadGate, limit=settings.read_concurrency)  # writes go first
    app.add_middleware(SafeAnswers)
    app.add_middleware(RequestId)  # last added runs first: every answer has its id
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(trends.visual_router)  # /visual/trends, before /visual/{view}
    app.include_router(visual.router)  # /visual: diagram pages, session-cookie login
    return app
