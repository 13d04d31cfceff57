"""Three parties, after Healthchecks: alice works at organisation A, bob is a customer of A,
charlie a customer of B. Every way in gets a "charlie cannot see A's ticket" test."""

import pytest

from servicedesk.accounts.models import CustomerRole, StaffRole
from tests.factories import CustomerFactory, OrganisationFactory, StaffFactory, make_ticket


@pytest.fixture(autouse=True)
def _cheap_passwords(settings):
    """PBKDF2 is slow by design; tests that create users need no such protection."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_configuration_memo():
    """Each test has its own database state: no configuration remembered from another."""
    from servicedesk.core import config_cache

    config_cache.clear()
    yield
    config_cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request activates its user's language in the thread; don't let it leak into the
    next test on the same worker."""
    yield
    from django.utils import timezone, translation

    translation.deactivate()
    timezone.deactivate()


@pytest.fixture
def org_a(db):
    return OrganisationFactory(name="Alpha Logistics Ltd")


@pytest.fixture
def org_b(db):
    return OrganisationFactory(
        name="Bravo Retail AS", country="NO", timezone="Europe/Oslo", language="nb"
    )


@pytest.fixture
def alice(db):
    """A service representative on the desk."""
    return StaffFactory(
        email="alice@desk.example",
        full_name="Alice Agent",
        staff_role=StaffRole.SERVICE_REPRESENTATIVE,
    )


@pytest.fixture
def admin_client(client, alice):
    """alice, made a superuser, logged in to the admin (replaces pytest-django's own)."""
    alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    return client


@pytest.fixture
def bob(org_a):
    """An end user of organisation A."""
    return CustomerFactory(email="bob@alpha.example", full_name="Bob Customer", organisation=org_a)


@pytest.fixture
def bob_admin(org_a):
    """Organisation A's customer administrator."""
    return CustomerFactory(
        email="admin@alpha.example", organisation=org_a, customer_role=CustomerRole.CUSTOMER_ADMIN
    )


@pytest.fixture
def charlie(org_b):
    """A designated logger of organisation B: sees all of B, nothing of A."""
    return CustomerFactory(
        email="charlie@bravo.example",
        full_name="Charlie Other",
        organisation=org_b,
        customer_role=CustomerRole.LOGGER,
    )


@pytest.fixture
def ticket_a(bob):
    """A ticket of organisation A, filed by bob."""
    return make_ticket(requester=bob, urgency=2, impact=2)


@pytest.fixture
def reseed_after_flush(django_db_blocker):
    """Transactional tests flush every table when they end, the presets the data migrations
    seeded (SLA policies, groups, priority bands) included. Request this before
    ``transactional_db`` so that, torn down after the flush, it puts them back for the tests
    that follow on the same worker."""
    yield
    import importlib

    from django.apps import apps

    with django_db_blocker.unblock():
        importlib.import_module("servicedesk.tickets.migrations.0002_seed_configuration").seed(
            apps, None
        )
        importlib.import_module("servicedesk.sla.migrations.0002_presets").seed(apps, None)
