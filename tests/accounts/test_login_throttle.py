"""Failed sign-ins are throttled (django-axes) on the admin's sign-in form: per account from
any address, per address across accounts; the right password below the limit still signs
in; the lock lifts after the cool-off. Limit 5 and cool-off 15 minutes are the defaults."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from servicedesk.accounts.models import StaffRole
from tests.factories import StaffFactory

LOGIN = "/admin/login/"
HOME = "203.0.113.7"
AWAY = "198.51.100.20"


def sign_in(client, email: str, password: str, address: str = HOME):
    return client.post(
        LOGIN, {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_twenty_wrong_passwords_then_the_right_one_is_refused(client, alice):
    answers = [sign_in(client, alice.email, f"guess-{n}").status_code for n in range(20)]

    response = sign_in(client, alice.email, "pw")

    assert answers[:4] == [200] * 4  # the form again, "wrong password"
    assert set(answers[4:]) == {429}
    assert response.status_code == 429
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert "Try again in 15 minutes." in page
    assert response["Retry-After"] == "900"


def test_the_lock_holds_for_the_account_from_any_address(client, alice):
    for n in range(5):
        sign_in(client, alice.email, f"guess-{n}", address=HOME)
    elsewhere, colleague = Client(), Client()
    bea = StaffFactory(email="bea@desk.example", staff_role=StaffRole.SERVICE_REPRESENTATIVE)

    refused = sign_in(elsewhere, alice.email, "pw", address=AWAY)
    other_account = sign_in(colleague, bea.email, "pw", address=AWAY)

    assert refused.status_code == 429
    assert not signed_in(elsewhere)
    assert other_account.status_code == 302 and signed_in(colleague)


def test_an_address_that_tries_many_accounts_is_locked_for_all_of_them(client, alice):
    for n in range(5):
        sign_in(client, f"someone-{n}@desk.example", "password", address=HOME)
    elsewhere = Client()

    refused = sign_in(client, alice.email, "pw", address=HOME)
    from_elsewhere = sign_in(elsewhere, alice.email, "pw", address=AWAY)

    assert refused.status_code == 429 and not signed_in(client)
    assert from_elsewhere.status_code == 302 and signed_in(elsewhere)


def test_the_account_is_counted_whatever_the_case_of_its_address(client, alice):
    for n in range(5):
        sign_in(client, alice.email.upper(), f"guess-{n}", address=f"192.0.2.{n}")

    response = sign_in(Client(), alice.email, "pw", address=AWAY)

    assert response.status_code == 429


def test_the_right_password_below_the_limit_signs_in(client, alice):
    for n in range(4):
        assert sign_in(client, alice.email, f"guess-{n}").status_code == 200

    response = sign_in(client, alice.email, "pw")

    assert response.status_code == 302
    assert signed_in(client)


def test_the_lock_lifts_after_the_cool_off(client, alice):
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for n in range(5):
            sign_in(client, alice.email, f"guess-{n}")
        traveller.move_to(start + timedelta(minutes=14))
        too_soon = sign_in(client, alice.email, "pw")
        # That attempt started the wait again.
        traveller.move_to(start + timedelta(minutes=14 + 14))
        still_too_soon = sign_in(client, alice.email, "pw")
        traveller.move_to(start + timedelta(minutes=14 + 14 + 16))
        later = sign_in(client, alice.email, "pw")

    assert too_soon.status_code == 429
    assert still_too_soon.status_code == 429
    assert later.status_code == 302 and signed_in(client)


def test_the_limit_and_the_cool_off_come_from_settings(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)
    sign_in(client, alice.email, "guess")

    response = sign_in(client, alice.email, "guess again")

    assert response.status_code == 429
    assert "Try again in 3 minutes." in response.content.decode()


@pytest.mark.parametrize("forwarded", ["198.51.100.20", "10.9.9.9, 198.51.100.20"])
def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwards(
    client, alice, settings, forwarded
):
    settings.SERVICEDESK_TRUSTED_PROXIES = 1
    proxy = "10.0.0.1"
    for n in range(5):
        client.post(
            LOGIN,
            {"username": f"someone-{n}@desk.example", "password": "x"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,  # what a client writes itself comes first
        )
    other_client = Client()

    same_client = client.post(
        LOGIN,
        {"username": alice.email, "password": "pw"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    other = other_client.post(
        LOGIN,
        {"username": alice.email, "password": "pw"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )

    assert same_client.status_code == 429
    assert other.status_code == 302


def test_the_lockout_page_gets_the_admin_themes_policy_and_no_inline_scripts(client, alice):
    for n in range(5):
        response = sign_in(client, alice.email, f"guess-{n}")

    assert response.status_code == 429
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-eval'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
