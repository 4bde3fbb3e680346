"""Shared test set-up.

Tests run on PostgreSQL when DATABASE_URL points there (CI) and on SQLite otherwise.
Tests marked ``postgres`` skip on SQLite, and browser tests skip without Chromium,
unless REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 turn the skip into a failure.
"""

import os

import pytest

from accounts.models import ReviewStatus
from tests.factories import CommunityFactory, StaffFactory, SupplierFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _required(name: str) -> bool:
    return os.environ.get(name) == "1"


def pytest_configure(config):
    if _required("REQUIRE_POSTGRES"):
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
            raise pytest.UsageError(
                "REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL"
            )
    if _required("REQUIRE_BROWSER") and not os.path.exists(CHROMIUM_PATH):
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but {CHROMIUM_PATH} is missing")


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    has_browser = os.path.exists(CHROMIUM_PATH)
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    skip_browser = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM_PATH}")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "browser" in item.keywords and not has_browser:
            item.add_marker(skip_browser)


@pytest.fixture(autouse=True)
def _data_from_migrations(request, django_db_blocker):
    """Put back what data migrations load (the default categories), forget cached
    content type ids.

    Transactional tests end with a flush that empties every table; later tests in the same
    worker would otherwise find no categories.
    """
    uses_db = request.node.get_closest_marker("django_db") or (
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    from django.contrib.contenttypes.models import ContentType

    from catalog.categories import DEFAULT_CATEGORIES
    from catalog.models import Category
    from catalog.services import categories_ensure_defaults

    # The flush renumbers content types; a cached id from before it would point nowhere.
    ContentType.objects.clear_cache()
    with django_db_blocker.unblock():
        if Category.objects.count() < len(DEFAULT_CATEGORIES):
            categories_ensure_defaults()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Messages built outside a request (services, selectors) come out in English.

    Without this the language left active by an earlier test's request would decide, and
    results would depend on test order; requests still pick their own language.
    """
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_and_captured(settings):
    """Cheap password hashing, SMS captured in memory, no rate limits between tests."""
    from notifications import sms

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.ACCOUNT_RATE_LIMITS = False
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def sms_outbox():
    from notifications import sms

    return sms.outbox


@pytest.fixture(scope="session", autouse=True)
def _drop_stray_test_db_sessions(django_db_setup, django_db_blocker):
    """End leftover PostgreSQL sessions before the test database is dropped.

    Once Playwright's sync API has run in a worker, an event loop lives in its main thread
    and Django keys connections by async context as well as thread, so a test can leave a
    connection in a context nobody closes; it would block dropping the test database.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


# Users holding each role, shared by the app test suites.
@pytest.fixture
def member(db):
    """A signed-up user holding only the member role."""
    return UserFactory()


@pytest.fixture
def community(db):
    """An approved community; its leader holds the leader role."""
    return CommunityFactory()


@pytest.fixture
def leader(community):
    return community.leader


@pytest.fixture
def supplier(db):
    """An approved supplier organisation."""
    return SupplierFactory(status=ReviewStatus.APPROVED)


@pytest.fixture
def supplier_user(supplier):
    """The owner of an approved supplier; holds the supplier role."""
    return supplier.members.get(is_owner=True).user


@pytest.fixture
def staff(db):
    return StaffFactory()
