"""Ways in without a password: the signed login link of a customer's email, and /status/
for people without an account, which says the same thing to everyone."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from servicedesk.core import clock, links
from servicedesk.mail.models import OutboxMessage
from servicedesk.mail.notifications import login_link
from servicedesk.portal.models import StatusLookup
from servicedesk.tickets import services
from tests.factories import CustomerFactory, make_ticket

ENTER = re.compile(r"https?://[^/\s]+(/portal/enter/[^/\s]+/)")


def _link_in(message: OutboxMessage) -> str:
    """The path of the login link in ``message``."""
    match = ENTER.search(message.body_text)
    assert match, message.body_text
    return match[1]


def _ack(ticket) -> OutboxMessage:
    return OutboxMessage.objects.get(ticket=ticket, dedupe_key=f"ack:{ticket.pk}")


def _signed_in(client):
    return client.session.get("_auth_user_id")


# -- login links -----------------------------------------------------------------------------


def test_the_acknowledgement_carries_a_link_that_signs_the_requester_in_to_the_ticket(client, bob):
    ticket = make_ticket(requester=bob)
    path = _link_in(_ack(ticket))

    shown = client.get(path)
    entered = client.post(path)

    assert shown.status_code == 200
    assert f"Continue to {ticket.reference}" in shown.content.decode()
    assert entered.status_code == 302
    assert entered["Location"] == f"/portal/tickets/{ticket.number}/"
    assert _signed_in(client) == str(bob.pk)


def test_showing_the_link_signs_nobody_in_and_does_not_use_it_up(client, bob):
    path = _link_in(_ack(make_ticket(requester=bob)))

    client.get(path)
    client.get(path)

    assert _signed_in(client) is None
    assert client.post(path).status_code == 302


def test_a_login_link_works_once(client, bob):
    path = _link_in(_ack(make_ticket(requester=bob)))
    client.post(path)
    client.post("/logout/")

    again = client.post(path)

    assert again.status_code == 404
    assert "This link has expired or was already used" in again.content.decode()
    assert _signed_in(client) is None
    assert client.get(path).status_code == 404


def test_signing_in_with_the_password_uses_up_the_links_sent_before(client, bob):
    path = _link_in(_ack(make_ticket(requester=bob)))
    client.post("/login/", {"email": bob.email, "password": "pw"})
    client.post("/logout/")

    assert client.post(path).status_code == 404


def test_a_link_without_a_ticket_lands_on_the_portal(client, bob):
    token = links.login_token(bob)

    entered = client.post(f"/portal/enter/{token}/")

    assert entered["Location"] == "/portal/"


def _assert_refused_and_unchanged(client, path, person):
    before = type(person).objects.get(pk=person.pk).last_login

    shown, used = client.get(path), client.post(path)

    assert (shown.status_code, used.status_code) == (404, 404)
    assert "/status/" in used.content.decode()
    assert _signed_in(client) is None
    assert type(person).objects.get(pk=person.pk).last_login == before


def test_a_tampered_link_is_not_found_and_changes_nothing(client, bob):
    path = _link_in(_ack(make_ticket(requester=bob)))
    token = path.split("/")[-2]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")

    _assert_refused_and_unchanged(client, f"/portal/enter/{tampered}/", bob)


def test_an_expired_link_is_not_found_and_changes_nothing(client, bob, settings):
    path = _link_in(_ack(make_ticket(requester=bob)))

    with time_machine.travel(clock.now() + timedelta(days=settings.SERVICEDESK_LINK_DAYS, hours=1)):
        _assert_refused_and_unchanged(client, path, bob)


def test_a_token_made_for_another_purpose_is_not_found(client, bob, ticket_a):
    token = links.sign("rating", {"u": bob.pk, "t": ticket_a.number, "s": ""})

    _assert_refused_and_unchanged(client, f"/portal/enter/{token}/", bob)


def test_a_staff_members_login_token_is_refused(client, alice):
    token = links.login_token(alice)

    _assert_refused_and_unchanged(client, f"/portal/enter/{token}/", alice)
    assert login_link(alice) == ""


def test_someone_else_signed_in_in_the_browser_is_signed_out_first(client, bob, charlie):
    path = _link_in(_ack(make_ticket(requester=bob)))
    client.force_login(charlie)

    shown = client.get(path)
    client.post(path)

    assert "You are signed in as Charlie Other" in shown.content.decode()
    assert _signed_in(client) == str(bob.pk)


def test_a_desk_reply_gives_the_requester_a_login_link_and_the_copied_people_none(alice, bob):
    ticket = make_ticket(requester=bob, cc=["manager@alpha.example"])

    services.add_comment(ticket=ticket, author=alice, body="Please send the trace log.")

    mine = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="reply:")
    copy = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="reply-copy:")
    assert (mine.to, mine.cc, copy.to) == ([bob.email], [], ["manager@alpha.example"])
    assert "Please send the trace log." in copy.body_text
    assert "/portal/enter/" not in copy.body_text
    assert _link_in(mine)


def test_the_confirmed_triage_mail_carries_a_working_login_link(client, alice, bob):
    ticket = make_ticket(requester=bob, urgency=2, impact=2)
    services.confirm_triage(ticket=ticket, urgency=3, impact=3, by=alice)
    mail = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="triage:")

    entered = client.post(_link_in(mail))

    assert entered["Location"] == f"/portal/tickets/{ticket.number}/"


# -- status by number --------------------------------------------------------------------------


def _look_up(client, number, email, address="192.0.2.1"):
    return client.post("/status/", {"number": number, "email": email}, REMOTE_ADDR=address)


def _page(response) -> str:
    """The body, but for the CSRF token: a new random mask on every response, whatever the
    input (it tells nothing)."""
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.content.decode())


def _status_mails():
    return OutboxMessage.objects.filter(subject__contains="Your link to ticket")


def test_the_status_page_asks_for_the_number_and_the_address(client):
    page = client.get("/status/")

    assert page.status_code == 200
    assert 'name="number"' in page.content.decode()
    assert 'name="email"' in page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()


def test_the_status_form_needs_its_csrf_token(bob, ticket_a):
    strict = Client(enforce_csrf_checks=True)

    refused = strict.post("/status/", {"number": ticket_a.reference, "email": bob.email})

    assert refused.status_code == 403
    assert not _status_mails().exists()


def test_the_requester_gets_a_link_that_opens_the_ticket(client, bob, ticket_a):
    _look_up(client, ticket_a.reference, "Bob@Alpha.example")

    (mail,) = _status_mails()
    entered = client.post(_link_in(mail))

    assert mail.to == [bob.email]
    assert entered["Location"] == f"/portal/tickets/{ticket_a.number}/"


@pytest.mark.parametrize("form", ["{prefix}#{n}", "[{prefix}#{n}]", "#{n}", "{n}", "sd-{n}"])
def test_the_number_may_be_written_in_any_reference_form(client, bob, ticket_a, form, settings):
    _look_up(
        client, form.format(prefix=settings.SERVICEDESK_TICKET_PREFIX, n=ticket_a.number), bob.email
    )

    assert _status_mails().count() == 1


def test_the_page_is_the_same_for_the_right_address_a_wrong_one_and_no_such_ticket(
    client, bob, charlie, ticket_a
):
    right = _look_up(client, ticket_a.reference, bob.email)
    wrong = _look_up(client, ticket_a.reference, "stranger@example.net")
    someone_else = _look_up(client, ticket_a.reference, charlie.email)
    missing_reference = f"SD-{ticket_a.number + 1000}"
    missing = _look_up(client, missing_reference, bob.email)

    assert {r.status_code for r in (right, wrong, someone_else, missing)} == {200}
    assert _page(wrong) == _page(right)
    assert _page(someone_else) == _page(right)
    assert _page(missing).replace(missing_reference, ticket_a.reference) == _page(right)
    assert f"If that address opened ticket {ticket_a.reference}" in _page(right)
    assert [m.to for m in _status_mails()] == [[bob.email]]


def test_a_number_that_is_none_gets_a_form_error_and_no_look_up(client, bob):
    response = _look_up(client, "tomorrow", bob.email)

    assert response.status_code == 400
    assert "That is not a ticket number" in response.content.decode()
    assert not StatusLookup.objects.exists()


def test_more_than_ten_look_ups_an_hour_from_one_address_get_the_same_page_and_no_mail(
    client, bob, ticket_a, settings
):
    assert settings.SERVICEDESK_STATUS_LOOKUPS_PER_HOUR == 10
    for n in range(10):
        _look_up(client, f"SD-{ticket_a.number + 100 + n}", "stranger@example.net")
    allowed_page = _page(_look_up(client, ticket_a.reference, "stranger@example.net", "192.0.2.9"))

    refused = _look_up(client, ticket_a.reference, bob.email)

    assert refused.status_code == 200
    assert _page(refused) == allowed_page
    assert not _status_mails().exists()
    assert _look_up(client, ticket_a.reference, bob.email, "192.0.2.2").status_code == 200
    assert _status_mails().count() == 1  # another address is not held back


def test_more_than_ten_look_ups_an_hour_for_one_number_get_the_same_page_and_no_mail(
    client, bob, ticket_a
):
    for n in range(10):
        _look_up(client, ticket_a.reference, "stranger@example.net", f"198.51.100.{n}")

    refused = _look_up(client, ticket_a.reference, bob.email, "203.0.113.7")

    assert refused.status_code == 200
    assert f"If that address opened ticket {ticket_a.reference}" in _page(refused)
    assert not _status_mails().exists()


def test_the_limit_counts_the_last_hour_only(client, bob, ticket_a):
    for n in range(11):
        _look_up(client, ticket_a.reference, "stranger@example.net", f"198.51.100.{n}")

    with time_machine.travel(clock.now() + timedelta(hours=1, minutes=1)):
        _look_up(client, ticket_a.reference, bob.email)

    assert _status_mails().count() == 1
    assert StatusLookup.objects.count() == 1  # the old rows are gone


def test_the_client_address_behind_a_trusted_proxy_is_the_one_counted(client, ticket_a, settings):
    settings.SERVICEDESK_TRUSTED_PROXIES = 1

    client.post(
        "/status/",
        {"number": ticket_a.reference, "email": "x@example.net"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )

    assert StatusLookup.objects.get().address == "203.0.113.50"


def test_a_ticket_of_a_staff_requester_gets_no_link(client, alice):
    customer = CustomerFactory()
    ticket = make_ticket(requester=customer)
    ticket.requester = alice
    ticket.save(update_fields=["requester"])

    _look_up(client, ticket.reference, alice.email)

    assert not _status_mails().exists()
