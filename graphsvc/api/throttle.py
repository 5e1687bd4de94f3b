"""Wrong API keys, counted per client address: after too many, the address must wait.

A key has 192 random bits, but nothing stopped a client from trying hundreds of keys a
second. Every wrong key (sent as ``Authorization: Bearer`` to the API, or typed into the
login form of ``/visual``) counts against the address it came from. After
``GRAPHSVC_AUTH_FAILURE_LIMIT`` wrong keys within a minute the address is refused for a
while: every attempt from it, with a valid key or not, is answered 429 with
``Retry-After``, so that guessing cannot go on. Each further time it is refused, the wait
doubles (1 minute, 2, 4 … at most a day); after a day without a wrong key the address
starts afresh. A request without any key is no guess and is not counted.

The counts are kept in memory, per worker process, for at most ``MAX_CLIENTS`` addresses
(the least recently seen are forgotten first), so that an attacker changing addresses
cannot make them grow without bound. A client is the address the connection comes from
(behind a reverse proxy: the address uvicorn takes from ``X-Forwarded-For`` of a trusted
proxy). The key itself is never logged: the one warning per refusal names the address.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from graphsvc.api.errors import TooManyAttempts
from graphsvc.keys import KeyStore, Principal

log = logging.getLogger(__name__)

WINDOW = 60.0  # seconds in which the failures are counted
FIRST_WAIT = 60.0  # seconds the first refusal lasts; each next one doubles it
LONGEST_WAIT = 24 * 3600.0
FORGET_AFTER = 24 * 3600.0  # seconds without a failure after which the doubling starts afresh
MAX_CLIENTS = 10_000


@dataclass(slots=True)
class _Client:
    first: float  # when the failures now counted began
    failures: int = 0
    refused_until: float = 0.0
    refusals: int = 0  # how many times this address has been refused (the wait doubles)
    last_failure: float = 0.0


class FailureThrottle:
    """Wrong keys per client address, and whether an address must wait."""

    def __init__(self, limit: int, *, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.max_clients, self.clock = limit, max_clients, clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()  # routes run in a thread pool

    def __len__(self) -> int:
        return len(self._clients)

    def check(self, client: str) -> None:
        """``TooManyAttempts`` while the address must wait."""
        with self._lock:
            c = self._clients.get(client)
            wait = c.refused_until - self.clock() if c is not None else 0.0
        if wait > 0:
            raise TooManyAttempts(math.ceil(wait))

    def failed(self, client: str) -> None:
        """Count one wrong key from the address; refuse it for a while when there are too many."""
        with self._lock:
            now = self.clock()
            c = self._clients.get(client)
            if c is None or now - c.last_failure > FORGET_AFTER:
                c = _Client(first=now)
            elif now - c.first > WINDOW:
                c.first, c.failures = now, 0
            self._clients[client] = c
            self._clients.move_to_end(client)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)  # the least recently failed
            c.failures += 1
            c.last_failure = now
            if c.failures < self.limit:
                return
            wait = min(FIRST_WAIT * 2 ** c.refusals, LONGEST_WAIT)
            c.refusals += 1
            c.refused_until = now + wait
            c.first, c.failures = c.refused_until, 0  # counting starts again after the wait
            refusals = c.refusals
        log.warning("%d wrong API keys from %s within %d seconds: refusing every attempt from "
                    "it for %d seconds (refusal %d)", self.limit, client, WINDOW, wait, refusals)


def client_of(request: Request) -> str:
    """The address a request comes from (what the throttle counts by)."""
    return request.client.host if request.client else "unknown"


def check_client(request: Request) -> None:
    """``TooManyAttempts`` while the request's address must wait."""
    throttle: FailureThrottle = request.app.state.throttle
    throttle.check(client_of(request))


def authenticate(request: Request, token: str) -> Principal | None:
    """The principal of a valid key; None for a wrong one, which is counted against the
    request's address. ``TooManyAttempts`` while the address must wait, whatever the key."""
    throttle: FailureThrottle = request.app.state.throttle
    client = client_of(request)
    throttle.check(client)
    keys: KeyStore = request.app.state.keys
    principal = keys.authenticate(token)
    if principal is None:
        throttle.failed(client)
    return principal
