"""Visibility: charlie (a logger of organisation B) gets a not-found for A's ticket by every
way in; end users see their own tickets, loggers and administrators their organisation's;
customers never see internal notes, their attachments or their events; staff see all."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile

from servicedesk.core.errors import NotFound, PermissionDenied
from servicedesk.tickets import selectors, services
from servicedesk.tickets.models import Attachment, Comment, Event, Ticket
from tests.factories import CustomerFactory, make_ticket


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(name: str, content: bytes) -> services.Upload:
    return services.Upload(
        filename=name, content_type="text/plain", file=ContentFile(content, name="x")
    )


@pytest.fixture
def thread_a(ticket_a, alice):
    """A's ticket with a public reply carrying fix.txt and an internal note carrying
    secret.log."""
    reply = services.add_comment(
        ticket=ticket_a, author=alice, body="Try this.", uploads=[_upload("fix.txt", b"fix")]
    )
    note = services.add_comment(
        ticket=ticket_a,
        author=alice,
        body="Their server is misconfigured.",
        internal=True,
        uploads=[_upload("secret.log", b"internal")],
    )
    return reply, note


@pytest.fixture
def public(thread_a):
    return Attachment.objects.get(filename="fix.txt")


@pytest.fixture
def internal(thread_a):
    return Attachment.objects.get(filename="secret.log")


# ---- charlie and A's ticket, by every way in ---------------------------------------------------


def test_charlie_cannot_get_a_ticket_of_organisation_a(ticket_a, charlie):
    with pytest.raises(NotFound):
        selectors.get_ticket(user=charlie, number=ticket_a.number)

    assert not selectors.tickets_for(charlie).filter(pk=ticket_a.pk).exists()


def test_charlie_reads_nothing_of_the_thread_or_the_history(ticket_a, thread_a, charlie):
    thread = selectors.thread(user=charlie, ticket=ticket_a)
    history = selectors.history(user=charlie, ticket=ticket_a)

    assert (list(thread), list(history)) == ([], [])
    assert Event.objects.filter(ticket=ticket_a).exists()  # there was something to hide


@pytest.mark.parametrize("filename", ["fix.txt", "secret.log"])
def test_charlie_cannot_get_an_attachment_of_a(thread_a, charlie, filename):
    attachment = Attachment.objects.get(filename=filename)

    with pytest.raises(NotFound):
        selectors.get_attachment(user=charlie, attachment_id=attachment.pk)


@pytest.mark.parametrize("filename", ["fix.txt", "secret.log"])
def test_the_download_url_is_a_404_for_charlie(client, thread_a, charlie, filename):
    attachment = Attachment.objects.get(filename=filename)
    client.force_login(charlie)

    response = client.get(f"/attachments/{attachment.pk}/")

    assert response.status_code == 404
    assert b"fix" not in response.content and b"internal" not in response.content


def test_the_download_url_sends_anonymous_visitors_to_log_in(client, public):
    response = client.get(f"/attachments/{public.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/attachments/{public.pk}/"


def test_the_requester_downloads_a_public_attachment(client, public, bob):
    client.force_login(bob)

    response = client.get(f"/attachments/{public.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"fix"
    assert response["Content-Disposition"] == 'attachment; filename="fix.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_requester_gets_a_404_for_an_attachment_on_an_internal_note(client, internal, bob):
    client.force_login(bob)

    response = client.get(f"/attachments/{internal.pk}/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("filename", "content"), [("fix.txt", b"fix"), ("secret.log", b"internal")]
)
def test_staff_download_every_attachment(client, thread_a, alice, filename, content):
    attachment = Attachment.objects.get(filename=filename)
    client.force_login(alice)

    response = client.get(f"/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content


@pytest.mark.parametrize("action", ["change_status", "add_comment"])
def test_charlie_cannot_act_on_a_ticket_of_a(ticket_a, charlie, action):
    before = list(Ticket.objects.values()), Event.objects.count(), Comment.objects.count()
    call = {
        "change_status": lambda: services.change_status(ticket=ticket_a, to="closed", by=charlie),
        "add_comment": lambda: services.add_comment(ticket=ticket_a, author=charlie, body="Hi"),
    }[action]

    with pytest.raises(NotFound):
        call()

    assert (list(Ticket.objects.values()), Event.objects.count(), Comment.objects.count()) == before


def test_a_customer_cannot_use_the_desks_verbs_on_their_own_ticket(ticket_a, bob):
    with pytest.raises(PermissionDenied):
        services.assign(ticket=ticket_a, assignee=None, by=bob)

    assert not Event.objects.filter(ticket=ticket_a, kind="assignee").exists()


# ---- The admin is for staff only --------------------------------------------------------------


def test_a_customer_cannot_log_in_to_the_admin(client, bob):
    response = client.post(
        "/admin/login/", {"username": "bob@alpha.example", "password": "pw", "next": "/admin/"}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "staff account" in response.content.decode()


def test_staff_can_log_in_to_the_admin_with_the_same_form(client, alice):
    response = client.post(
        "/admin/login/", {"username": "alice@desk.example", "password": "pw", "next": "/admin/"}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/tickets/ticket/", "/admin/tickets/ticket/{pk}/change/"]
)
def test_a_customers_session_is_sent_to_the_admin_login_not_the_data(client, ticket_a, bob, path):
    client.force_login(bob)
    url = path.format(pk=ticket_a.pk)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert ticket_a.subject.encode() not in response.content


# ---- Who sees which tickets -------------------------------------------------------------------


def test_an_end_user_sees_only_their_own_tickets(ticket_a, bob, org_a):
    colleague = CustomerFactory(organisation=org_a)
    theirs = make_ticket(requester=colleague)

    assert list(selectors.tickets_for(bob)) == [ticket_a]
    assert list(selectors.tickets_for(colleague)) == [theirs]
    with pytest.raises(NotFound):
        selectors.get_ticket(user=colleague, number=ticket_a.number)


@pytest.mark.parametrize("role", ["logger", "customer_admin"])
def test_loggers_and_administrators_see_their_whole_organisation(ticket_a, org_a, charlie, role):
    viewer = CustomerFactory(organisation=org_a, customer_role=role)
    colleagues = make_ticket(requester=CustomerFactory(organisation=org_a))
    of_b = make_ticket(requester=charlie)

    visible = set(selectors.tickets_for(viewer))

    assert visible == {ticket_a, colleagues}
    assert selectors.get_ticket(user=viewer, number=ticket_a.number) == ticket_a
    assert of_b not in visible


def test_the_customer_administrator_reads_the_public_thread_of_a_colleagues_ticket(
    ticket_a, thread_a, bob_admin
):
    reply, _note = thread_a

    assert list(selectors.thread(user=bob_admin, ticket=ticket_a)) == [reply]


def test_staff_see_every_ticket(ticket_a, charlie, alice):
    of_b = make_ticket(requester=charlie)

    assert set(selectors.tickets_for(alice)) == {ticket_a, of_b}


@pytest.mark.parametrize("viewer", ["bob", "bob_admin"])
def test_customers_never_see_internal_notes(ticket_a, thread_a, request, viewer):
    customer = request.getfixturevalue(viewer)
    reply, _note = thread_a

    thread = list(selectors.thread(user=customer, ticket=ticket_a))

    assert thread == [reply]
    assert [a.filename for a in thread[0].attachments.all()] == ["fix.txt"]


def test_customers_never_see_attachments_on_internal_notes(internal, bob):
    visible = Attachment.objects.visible_to(bob)

    assert list(visible.values_list("filename", flat=True)) == ["fix.txt"]
    with pytest.raises(NotFound):
        selectors.get_attachment(user=bob, attachment_id=internal.pk)


def test_customers_see_the_history_without_notes_or_their_attachments(ticket_a, thread_a, bob):
    history = list(selectors.history(user=bob, ticket=ticket_a))

    kinds = [event.kind for event in history]
    assert "note" not in kinds
    assert kinds.count("reply") == 1
    names = [event.new.get("name") for event in history if event.kind == "attachment"]
    assert names == ["fix.txt"]


def test_staff_see_the_whole_thread_and_history(ticket_a, thread_a, alice):
    history = selectors.history(user=alice, ticket=ticket_a)

    assert list(selectors.thread(user=alice, ticket=ticket_a)) == list(thread_a)
    assert history.filter(kind="note").count() == 1
    assert history.filter(kind="attachment").count() == 2


@pytest.mark.parametrize("who", ["bob", "bob_admin", "alice", "anonymous", "nobody"])
def test_inactive_and_anonymous_users_see_nothing(ticket_a, thread_a, public, request, who):
    if who in ("anonymous", "nobody"):
        user = AnonymousUser() if who == "anonymous" else None
    else:
        user = request.getfixturevalue(who)
        user.is_active = False
        user.save()

    with pytest.raises(NotFound):
        selectors.get_ticket(user=user, number=ticket_a.number)
    with pytest.raises(NotFound):
        selectors.get_attachment(user=user, attachment_id=public.pk)
    assert not selectors.tickets_for(user).exists()
    assert not selectors.thread(user=user, ticket=ticket_a).exists()
    assert not selectors.history(user=user, ticket=ticket_a).exists()


def test_an_inactive_customers_session_no_longer_downloads(client, public, bob):
    client.force_login(bob)
    bob.is_active = False
    bob.save()

    response = client.get(f"/attachments/{public.pk}/")

    assert response.status_code == 302


def test_a_ticket_moved_to_organisation_b_becomes_charlies_to_see(
    ticket_a, alice, bob, charlie, org_b
):
    services.update_details(ticket=ticket_a, by=alice, organisation=org_b)

    visible = selectors.get_ticket(user=charlie, number=ticket_a.number)

    assert visible == ticket_a
    assert ticket_a in selectors.tickets_for(bob)  # still the requester
