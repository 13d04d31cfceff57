"""Visibility: a customer of organisation B gets a not-found for A's ticket, its notes and
its attachments, by every way in that exists; customers never see internal notes."""

import pytest
from django.core.files.base import ContentFile

from servicedesk.core.errors import NotFound
from servicedesk.tickets import selectors, services
from servicedesk.tickets.models import Attachment, Comment, Event, Ticket
from tests.factories import CustomerFactory, make_ticket


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def thread_a(ticket_a, alice, bob, media):
    """A's ticket with a public reply carrying a file and an internal note carrying a file."""
    reply = services.add_comment(
        ticket=ticket_a,
        author=alice,
        body="Please try again.",
        uploads=[
            services.Upload(
                filename="fix.txt",
                content_type="text/plain",
                file=ContentFile(b"public fix", name="a"),
            )
        ],
    )
    note = services.add_comment(
        ticket=ticket_a,
        author=alice,
        body="Customer's server is misconfigured.",
        internal=True,
        uploads=[
            services.Upload(
                filename="secret.log",
                content_type="text/plain",
                file=ContentFile(b"internal", name="b"),
            )
        ],
    )
    return reply, note


def test_a_customer_of_another_organisation_cannot_get_the_ticket(ticket_a, charlie):
    with pytest.raises(NotFound):
        selectors.get_ticket(user=charlie, number=ticket_a.number)

    assert not selectors.tickets_for(charlie).filter(pk=ticket_a.pk).exists()


def test_a_customer_of_another_organisation_sees_nothing_of_the_thread_or_history(
    ticket_a, thread_a, charlie
):
    assert not Comment.objects.visible_to(charlie).filter(ticket=ticket_a).exists()
    assert not Event.objects.visible_to(charlie).filter(ticket=ticket_a).exists()
    assert not selectors.thread(user=charlie, ticket=ticket_a).exists()
    assert not selectors.history(user=charlie, ticket=ticket_a).exists()
    for attachment in Attachment.objects.all():
        with pytest.raises(NotFound):
            selectors.get_attachment(user=charlie, attachment_id=attachment.pk)


@pytest.mark.parametrize("action", ["status", "reply"])
def test_a_customer_of_another_organisation_cannot_act_on_the_ticket(ticket_a, charlie, action):
    with pytest.raises(NotFound):
        if action == "status":
            services.change_status(ticket=ticket_a, to="closed", by=charlie)
        else:
            services.add_comment(ticket=ticket_a, author=charlie, body="hijack")

    assert Comment.objects.count() == 0
    assert Ticket.objects.get(pk=ticket_a.pk).status == "new"


def test_the_attachment_url_is_a_404_for_another_organisation(client, thread_a, charlie):
    client.force_login(charlie)

    for attachment in Attachment.objects.all():
        assert client.get(f"/attachments/{attachment.pk}/").status_code == 404


def test_the_attachment_url_sends_anonymous_users_to_log_in(client, thread_a):
    attachment = Attachment.objects.get(filename="fix.txt")

    response = client.get(f"/attachments/{attachment.pk}/")

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_requester_downloads_public_attachments_but_not_those_on_notes(client, thread_a, bob):
    client.force_login(bob)
    public = Attachment.objects.get(filename="fix.txt")
    internal = Attachment.objects.get(filename="secret.log")

    response = client.get(f"/attachments/{public.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"public fix"
    assert (
        "attachment" in response["Content-Disposition"]
        and "fix.txt" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/attachments/{internal.pk}/").status_code == 404


def test_staff_download_every_attachment(client, thread_a, alice):
    client.force_login(alice)

    for attachment in Attachment.objects.all():
        assert client.get(f"/attachments/{attachment.pk}/").status_code == 200


def test_customers_never_see_internal_notes_or_their_events(ticket_a, thread_a, bob):
    reply, _note = thread_a

    assert list(selectors.thread(user=bob, ticket=ticket_a)) == [reply]
    assert not selectors.history(user=bob, ticket=ticket_a).filter(kind="note").exists()
    assert selectors.history(user=bob, ticket=ticket_a).filter(kind="reply").exists()


def test_staff_see_the_whole_thread(ticket_a, thread_a, alice):
    assert list(selectors.thread(user=alice, ticket=ticket_a)) == list(thread_a)


def test_an_end_user_sees_only_their_own_tickets(ticket_a, org_a):
    colleague = CustomerFactory(organisation=org_a)
    theirs = make_ticket(requester=colleague)

    assert list(selectors.tickets_for(colleague)) == [theirs]


def test_loggers_and_administrators_see_the_whole_organisation(ticket_a, bob_admin, org_a, charlie):
    logger = CustomerFactory(organisation=org_a, customer_role="logger")
    of_b = make_ticket(requester=charlie)

    for person in (logger, bob_admin):
        visible = set(selectors.tickets_for(person))
        assert ticket_a in visible and of_b not in visible


def test_staff_see_every_ticket(ticket_a, charlie, alice):
    of_b = make_ticket(requester=charlie)

    assert set(selectors.tickets_for(alice)) == {ticket_a, of_b}


def test_inactive_and_anonymous_users_see_nothing(ticket_a, bob):
    from django.contrib.auth.models import AnonymousUser

    bob.is_active = False
    bob.save()

    assert not selectors.tickets_for(bob).exists()
    assert not selectors.tickets_for(AnonymousUser()).exists()


def test_customers_cannot_sign_in_to_the_admin(client, bob):
    client.force_login(bob)

    response = client.get("/admin/tickets/ticket/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
