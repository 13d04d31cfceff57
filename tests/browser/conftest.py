"""Browser tests: Debian's Chromium driven by Playwright's sync API against pytest-django's
live server. ``make test`` installs Chromium when it is missing (scripts/system-packages.sh);
no test downloads a browser.

One browser for the package, a fresh context (cookies, storage) per agent. Data is set up
through the factories and services in the test's own thread, and the live server serves it:
on PostgreSQL through its own connections, on in-memory SQLite through the test thread's
connection, which pytest-django hands to the server thread. Requests are therefore served
one at a time (``_one_at_a_time``): two threads must never use that one connection at once.
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)

from servicedesk.accounts.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "browser-test-pass"

# The live server's requests and the test thread's own database work take turns.
DATABASE_TURN = threading.RLock()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-packages.sh (make test does)")
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an event loop running in this thread while it lives,
        # and Django then refuses the test's own (synchronous) ORM calls: "You cannot call
        # this from an async context". Package scope: the loop must not outlive these tests,
        # or the other tests on the same xdist worker would run inside it too.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def _presets(transactional_db) -> None:
    """Every test here ends with a flush of every table (``transactional_db``), the presets
    the migrations seeded (priority bands, groups, SLA policies) included: seed them first."""
    with DATABASE_TURN:
        _seed()


@pytest.fixture(scope="package", autouse=True)
def _presets_for_the_tests_that_follow(django_db_blocker) -> Iterator[None]:
    """...and once more after the last flush, for the other tests on this worker."""
    yield
    with django_db_blocker.unblock():
        _seed()


def _seed() -> None:
    import importlib

    from django.apps import apps

    importlib.import_module("servicedesk.tickets.migrations.0002_seed_configuration").seed(
        apps, None
    )
    importlib.import_module("servicedesk.sla.migrations.0002_presets").seed(apps, None)


def _one_at_a_time(app):
    def serve(environ, start_response):
        with DATABASE_TURN:
            return app(environ, start_response)

    return serve


@pytest.fixture
def desk_url(live_server) -> str:
    """The live server's address; it serves one request at a time."""
    httpd = live_server.thread.httpd
    if not getattr(httpd, "_one_at_a_time", False):
        httpd.set_app(_one_at_a_time(httpd.get_app()))
        httpd._one_at_a_time = True
    return live_server.url


@dataclass
class Console:
    """What a page wrote to its console: errors, and Content-Security-Policy refusals."""

    errors: list[str] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.location.get('url', '')}: {message.text}")

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


@dataclass
class Person:
    """One person (or nobody signed in) in one browser context."""

    user: User | None
    context: BrowserContext
    page: Page
    console: Console
    base: str

    def go(self, path: str) -> Response | None:
        return self.page.goto(path)  # the context's base_url is the live server


@pytest.fixture
def browser_for(browser, desk_url, settings, request) -> Iterator[Callable[[User | None], Person]]:
    """``browser_for(user)``: a new browser context, ``user`` signed in (through a session made
    by Django's test client; the sign-in form itself is tested in test_desk), or nobody for
    ``None``. Each context must end without a Content-Security-Policy refusal (unless the
    test is a known failure)."""
    opened: list[Person] = []

    def open_as(user: User | None) -> Person:
        context = browser.new_context(
            base_url=desk_url, locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(5000)
        if user is not None:
            client = Client()
            with DATABASE_TURN:
                client.force_login(user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": desk_url}]
            )
        page = context.new_page()
        console = Console()
        page.on("console", console.record)
        page.on("pageerror", lambda error: console.errors.append(f"{page.url}: {error}"))
        person = Person(user=user, context=context, page=page, console=console, base=desk_url)
        opened.append(person)
        return person

    yield open_as
    for person in opened:
        person.context.close()
    if request.node.get_closest_marker("xfail") is None:
        assert [v for person in opened for v in person.console.csp_violations] == []


def with_password(user: User) -> User:
    with DATABASE_TURN:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user
