"""Signed links: tampered, expired, used, or for another purpose → refused."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from servicedesk.core import links


def test_a_login_token_names_its_person_and_ticket(bob, ticket_a):
    token = links.login_token(bob, ticket_number=ticket_a.number)
    assert links.read_login_token(token) == (bob, ticket_a.number)


def test_a_login_token_works_once(bob):
    token = links.login_token(bob)
    bob.last_login = timezone.now()  # what signing in with it does
    bob.save()
    with pytest.raises(links.BadLink):
        links.read_login_token(token)


def test_a_tampered_token_is_refused(bob):
    token = links.login_token(bob)
    with pytest.raises(links.BadLink):
        links.read_login_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def test_an_expired_token_is_refused(bob, settings):
    settings.SERVICEDESK_LINK_DAYS = 7
    token = links.login_token(bob)
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(links.BadLink):
        links.read_login_token(token)


def test_a_token_for_another_purpose_is_refused(bob):
    token = links.sign("rate", {"u": bob.pk, "t": None, "s": ""})
    with pytest.raises(links.BadLink):
        links.read_login_token(token)


def test_staff_never_sign_in_by_link(alice):
    with pytest.raises(links.BadLink):
        links.read_login_token(links.login_token(alice))


def test_links_are_absolute_on_the_configured_address(settings):
    settings.SERVICEDESK_BASE_URL = "https://desk.example.com/"
    assert links.absolute("/portal/") == "https://desk.example.com/portal/"
