"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

One browser is launched per session (per xdist worker) and reused; each role gets its own
browser context so sessions and cookies never mix. Every test collected here is marked
``browser``, which the root conftest turns into a skip when Chromium is absent (or a
failure under REQUIRE_BROWSER=1).
"""

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
SCREENSHOT_DIR = E2E_DIR.parents[1] / "artifacts" / "screenshots"

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}

# Generous enough for a loaded CI machine, short enough that a broken page fails fast.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: the root conftest turns the marker into a skip in the same hook.
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM_PATH,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    """Relative URLs (``page.goto("/")``) resolve against the live server."""
    return {**browser_context_args, "base_url": live_server.url}


ContextFactory = Callable[..., BrowserContext]


def _context_factory(new_context, defaults: dict) -> ContextFactory:
    def make(**overrides) -> BrowserContext:
        context = new_context(**{**defaults, **overrides})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        return context

    return make


@pytest.fixture
def new_desktop_context(new_context) -> ContextFactory:
    """Returns a factory: each call opens a fresh 1280x800 desktop context (own cookies)."""
    return _context_factory(new_context, DESKTOP)


@pytest.fixture
def new_phone_context(new_context) -> ContextFactory:
    """Returns a factory: each call opens a fresh 390x844 touch phone context."""
    return _context_factory(new_context, PHONE)


@pytest.fixture
def desktop_context(new_desktop_context) -> BrowserContext:
    return new_desktop_context()


@pytest.fixture
def phone_context(new_phone_context) -> BrowserContext:
    return new_phone_context()


CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


class SmsInbox:
    """Reads the texts LocmemSmsBackend captured. The live server runs in this process, so
    ``notifications.sms.outbox`` is the very list the server appends to."""

    @property
    def outbox(self) -> list:
        from notifications import sms

        return sms.outbox

    def count(self) -> int:
        return len(self.outbox)

    def code(self, phone: str, *, after: int = 0, timeout: float = 5.0) -> str:
        """The 6-digit code in the newest text to ``phone`` among those sent after the
        first ``after`` texts (pass ``count()`` taken before the action that sends it)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in reversed(self.outbox[after:]):
                if message.phone == phone and (match := CODE_RE.search(message.text)):
                    return match.group(1)
            if time.monotonic() > deadline:
                sent = [(m.phone, m.text) for m in self.outbox]
                raise AssertionError(f"no SMS code for {phone}; outbox: {sent}")
            time.sleep(0.05)


@pytest.fixture
def sms() -> SmsInbox:
    return SmsInbox()


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, "leader-home")`` saves a full-page PNG under
    artifacts/screenshots/ (git-ignored)."""

    def save(page: Page, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
