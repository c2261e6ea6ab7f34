"""A live API server and a real Chromium for browser tests (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# As root, without a sandbox; no background traffic (the machine has no network beyond localhost).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def serve_api() -> Iterator[str]:
    """The API on a free localhost port, served by uvicorn in a thread of this process (same database)."""
    import uvicorn

    from api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch_chromium(playwright):
    """Debian's Chromium through Playwright; skipped locally when it is not installed (``make test`` installs it)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI: `make test` must install it")
        pytest.skip("chromium is not installed: `make test` installs it")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def sign_in(page, server: str, name: str, password: str, next_path: str = "/") -> None:
    """Sign in through the /login form as a person would; lands on ``next_path`` with a session and CSRF cookie."""
    from urllib.parse import quote

    page.goto(f"{server}/login?next={quote(next_path, safe='')}")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{server}{next_path}")
