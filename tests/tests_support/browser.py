"""Debian's chromium, headless, driven by playwright (never ``playwright install``), with every
request that is not to the local machine (or a local file) refused and recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, launched headless; closed at the end."""
    from playwright.sync_api import sync_playwright  # only the browser tests need playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Watched:
    """A page that records console errors, page errors, dialogs and refused requests."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.refused: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)
        self.context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("file", "data", "about", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def load(self, url: str) -> tuple[int, int]:
        self.page.goto(url)
        # a selector, not a function: the pages' Content-Security-Policy forbids eval
        self.page.wait_for_selector("body[data-drawn='1']", state="attached", timeout=15000)
        counts = self.page.evaluate(
            "[window.network.body.data.nodes.length, window.network.body.data.edges.length]")
        return int(counts[0]), int(counts[1])

    def close(self) -> None:
        self.context.close()
