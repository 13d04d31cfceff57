"""The customer portal through HTTP (Django's test client): the list and its filters, a
ticket's public page and its actions (reply, confirm, re-open), submitting with the triage,
and another organisation's (or, for an end user, a colleague's) ticket: 404 by every path."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from servicedesk.core import clock
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import services
from servicedesk.tickets.models import (
    Attachment,
    Channel,
    Comment,
    Event,
    EventKind,
    Ticket,
    TicketLink,
)
from servicedesk.tickets.workflow import Status
from tests.factories import CustomerFactory, ProductFactory, make_ticket

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _png(name: str = "screen.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def portal(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def colleague(org_a):
    """Another end user of organisation A."""
    return CustomerFactory(
        email="dora@alpha.example", full_name="Dora Colleague", organisation=org_a
    )


def _resolved(ticket: Ticket, alice) -> Ticket:
    services.add_comment(ticket=ticket, author=alice, body="Fixed: restart the add-in.")
    return services.change_status(ticket=ticket, to=Status.RESOLVED, by=alice)


class TestAccess:
    def test_a_visitor_is_asked_to_sign_in_and_kept_on_the_page_asked_for(self, client):
        answer = client.get("/portal/tickets/new/")

        assert (answer.status_code, answer["Location"]) == (
            302,
            "/login/?next=/portal/tickets/new/",
        )

    def test_staff_have_the_desk_not_the_portal(self, client, alice, ticket_a):
        client.force_login(alice)

        assert client.get("/portal/").status_code == 404
        assert client.get(f"/portal/tickets/{ticket_a.number}/").status_code == 404

    def test_another_organisations_ticket_is_not_found_by_every_path(
        self, client, charlie, alice, ticket_a
    ):
        _resolved(ticket_a, alice)
        services.add_comment(
            ticket=ticket_a, author=alice, body="Here is the log.", uploads=[_upload()]
        )
        attachment = Attachment.objects.get(ticket=ticket_a)
        client.force_login(charlie)
        before = list(Event.objects.filter(ticket=ticket_a).values_list("pk", flat=True))
        n = ticket_a.number

        answers = [
            client.get(f"/portal/tickets/{n}/"),
            client.get(f"/portal/tickets/SD-{n}/"),
            client.post(f"/portal/tickets/{n}/reply/", {"body": "Let me in"}),
            client.post(f"/portal/tickets/{n}/confirm/"),
            client.post(f"/portal/tickets/{n}/reopen/", {"reason": "Broken again"}),
            client.get(f"/attachments/{attachment.pk}/"),
        ]

        assert [a.status_code for a in answers] == [404] * 6
        assert list(Event.objects.filter(ticket=ticket_a).values_list("pk", flat=True)) == before
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.RESOLVED
        go = client.get(f"/portal/go/?number={n}")
        assert go["Location"] == "/portal/"

    def test_an_end_user_cannot_see_a_colleagues_ticket(self, client, colleague, ticket_a):
        client.force_login(colleague)

        assert client.get(f"/portal/tickets/{ticket_a.number}/").status_code == 404
        reply = client.post(f"/portal/tickets/{ticket_a.number}/reply/", {"body": "Me too"})
        assert reply.status_code == 404
        assert f"/portal/tickets/{ticket_a.number}/" not in client.get("/portal/").content.decode()

    def test_a_customer_administrator_sees_a_colleagues_ticket(self, client, bob_admin, ticket_a):
        client.force_login(bob_admin)

        page = client.get(f"/portal/tickets/{ticket_a.number}/")

        assert page.status_code == 200
        assert ticket_a.subject in page.content.decode()


def _upload(name: str = "log.txt") -> services.Upload:
    return services.Upload(
        filename=name,
        content_type="text/plain",
        file=SimpleUploadedFile(name, b"log lines", content_type="text/plain"),
    )


class TestList:
    def test_an_end_user_sees_only_their_own_tickets(self, portal, bob, colleague, charlie):
        mine = make_ticket(requester=bob, subject="My own problem")
        make_ticket(requester=colleague, subject="A colleague's problem")
        make_ticket(requester=charlie, subject="Another company's problem")

        page = portal.get("/portal/").content.decode()

        assert "My own problem" in page
        assert "colleague&#x27;s problem" not in page and "Another company" not in page
        assert f'href="/portal/tickets/{mine.number}/"' in page
        assert 'name="requester"' not in page  # an end user has nobody to filter by

    def test_an_administrator_filters_the_organisations_tickets(
        self, client, bob, bob_admin, colleague
    ):
        product = ProductFactory(name="SuperOffice")
        make_ticket(requester=bob, subject="Bob's SuperOffice crash", product=product)
        make_ticket(requester=bob, subject="Bob's printer")
        done = make_ticket(requester=colleague, subject="Dora's export")
        done.status = Status.CLOSED
        done.save()
        client.force_login(bob_admin)

        everyone = client.get("/portal/").content.decode()
        by_bob = client.get(f"/portal/?requester={bob.pk}").content.decode()
        by_product = client.get(f"/portal/?product={product.pk}").content.decode()
        still_open = client.get("/portal/?status=active").content.decode()
        closed = client.get("/portal/?status=closed").content.decode()

        assert all(s in everyone for s in ("SuperOffice crash", "printer", "export"))
        assert "SuperOffice crash" in by_bob and "printer" in by_bob and "export" not in by_bob
        assert "SuperOffice crash" in by_product and "printer" not in by_product
        assert "export" not in still_open and "printer" in still_open
        assert "export" in closed and "printer" not in closed

    def test_the_list_is_paginated(self, portal, bob):
        for n in range(23):
            make_ticket(requester=bob, subject=f"Problem number {n:02d}")

        first = portal.get("/portal/")
        second = portal.get("/portal/?page=2")

        assert len(first.context["page"].object_list) == 20
        assert "Problem number 22" in first.content.decode()
        assert "Problem number 00" in second.content.decode()
        assert "Page 2 of 2" in second.content.decode()

    def test_go_to_ticket_takes_a_number_in_any_form(self, portal, ticket_a):
        for typed in (str(ticket_a.number), ticket_a.reference, f" sd-{ticket_a.number} "):
            answer = portal.get("/portal/go/", {"number": typed})
            assert answer["Location"] == f"/portal/tickets/{ticket_a.number}/", typed

        unknown = portal.get("/portal/go/", {"number": "SD-99999"}, follow=True)
        assert "None of your tickets has that number." in _messages(unknown)


class TestTicketPage:
    def test_the_sd_form_redirects_to_the_number(self, portal, ticket_a):
        answer = portal.get(f"/portal/tickets/{ticket_a.reference}/")

        assert answer["Location"] == f"/portal/tickets/{ticket_a.number}/"

    def test_shows_the_public_thread_never_a_note_nor_its_files(self, portal, alice, ticket_a):
        services.add_comment(ticket=ticket_a, author=alice, body="Which version do you use?")
        services.add_comment(
            ticket=ticket_a,
            author=alice,
            body="Probably the 4.2 bug.",
            internal=True,
            uploads=[_upload("internal-trace.txt")],
        )

        page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()

        assert "Which version do you use?" in page
        assert "4.2 bug" not in page and "internal-trace.txt" not in page
        assert "Internal note" not in page

    def test_shows_the_proposed_and_confirmed_triage(self, portal, alice, ticket_a):
        services.confirm_triage(ticket=ticket_a, urgency=4, impact=3, by=alice)

        page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()

        assert "urgency 2 × impact 2 = 4, Medium" in page
        assert "urgency 4 × impact 3 = 12, Critical" in page

    def test_promises_the_first_response_in_the_readers_time_zone(self, portal, bob, ticket_a):
        bob.timezone = "Europe/Oslo"
        bob.save()
        clocks = portal.get(f"/portal/tickets/{ticket_a.number}/").context

        promise = clocks["promise"]

        assert promise is not None and not promise["late"]
        assert promise["due"] == Ticket.objects.get(pk=ticket_a.pk).sla_due_at
        page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()
        assert "We will reply by" in page and "Europe/Oslo" in page

    def test_promises_the_next_update_once_the_desk_has_answered(self, portal, alice, ticket_a):
        services.add_comment(ticket=ticket_a, author=alice, body="Looking into it.")
        from servicedesk.sla.models import ClockKind, TicketClock

        update = TicketClock.objects.filter(ticket=ticket_a, kind=ClockKind.NEXT_UPDATE).latest(
            "started_at"
        )

        promise = portal.get(f"/portal/tickets/{ticket_a.number}/").context["promise"]

        assert promise["due"] == update.due_at

    def test_waiting_on_the_customer_says_so(self, portal, alice, ticket_a):
        services.respond(
            ticket=ticket_a, author=alice, body="Which version?", then_status="waiting_on_customer"
        )

        page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()

        assert "We are waiting for your reply." in page

    def test_the_history_reads_in_words(self, portal, alice, ticket_a):
        services.change_status(ticket=ticket_a, to=Status.IN_PROGRESS, by=alice)

        page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()

        assert "Status: New → In progress" in page


class TestReply:
    def test_a_reply_with_a_screenshot_is_public_and_on_the_portal_channel(self, portal, ticket_a):
        answer = portal.post(
            f"/portal/tickets/{ticket_a.number}/reply/",
            {"body": "It still fails, see the screenshot.", "attachments": [_png(), _png("b.png")]},
            follow=True,
        )

        assert "Your reply was sent." in _messages(answer)
        comment = Comment.objects.get(ticket=ticket_a)
        assert (comment.internal, comment.channel) == (False, Channel.PORTAL)
        assert sorted(a.filename for a in comment.attachments.all()) == ["b.png", "screen.png"]
        assert "screen.png" in answer.content.decode()

    def test_an_empty_reply_is_refused_with_a_reason(self, portal, ticket_a):
        answer = portal.post(f"/portal/tickets/{ticket_a.number}/reply/", {"body": "  "})

        assert answer.status_code == 400
        assert "Write a reply or attach a file." in answer.content.decode()
        assert not Comment.objects.filter(ticket=ticket_a).exists()

    def test_a_reply_re_opens_a_resolved_ticket(self, portal, alice, ticket_a):
        _resolved(ticket_a, alice)

        portal.post(f"/portal/tickets/{ticket_a.number}/reply/", {"body": "Not fixed."})

        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.OPEN


class TestConfirmAndReopen:
    def test_confirming_the_resolution_closes_the_ticket_as_the_customer(
        self, portal, bob, alice, ticket_a
    ):
        _resolved(ticket_a, alice)
        page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()
        assert "Yes, it is solved: close the ticket" in page

        answer = portal.post(f"/portal/tickets/{ticket_a.number}/confirm/", follow=True)

        assert "Thank you for confirming: the ticket is closed." in _messages(answer)
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.CLOSED
        move = Event.objects.filter(ticket=ticket_a, kind=EventKind.STATUS).last()
        assert (move.old, move.new, move.actor_id) == ("resolved", "closed", bob.pk)

    def test_an_open_ticket_cannot_be_confirmed(self, portal, ticket_a):
        answer = portal.post(f"/portal/tickets/{ticket_a.number}/confirm/", follow=True)

        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.NEW
        assert any("Only the support desk" in m for m in _messages(answer))

    def test_a_closed_ticket_re_opens_within_the_window_with_the_reason(
        self, portal, bob, alice, ticket_a, settings
    ):
        settings.SERVICEDESK_REOPEN_DAYS = 3
        _resolved(ticket_a, alice)
        services.change_status(ticket=ticket_a, to=Status.CLOSED, by=bob)

        with time_machine.travel(clock.now() + timedelta(days=2, hours=23), tick=False):
            answer = portal.post(
                f"/portal/tickets/{ticket_a.number}/reopen/",
                {"reason": "The sync fails again since Monday."},
                follow=True,
            )

        assert "The ticket is open again: we will get back to you." in _messages(answer)
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.OPEN
        move = Event.objects.filter(ticket=ticket_a, kind=EventKind.STATUS).last()
        assert (move.old, move.new, move.actor_id) == ("closed", "open", bob.pk)
        assert move.reason == "The sync fails again since Monday."

    def test_a_re_opening_needs_a_reason(self, portal, alice, ticket_a):
        _resolved(ticket_a, alice)

        answer = portal.post(f"/portal/tickets/{ticket_a.number}/reopen/", {"reason": ""})

        assert answer.status_code == 400
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.RESOLVED

    def test_after_the_window_the_page_offers_a_new_ticket_that_links_back(
        self, portal, bob, alice, ticket_a, settings
    ):
        settings.SERVICEDESK_REOPEN_DAYS = 3
        _resolved(ticket_a, alice)
        services.change_status(ticket=ticket_a, to=Status.CLOSED, by=bob)

        with time_machine.travel(clock.now() + timedelta(days=3, hours=1), tick=False):
            page = portal.get(f"/portal/tickets/{ticket_a.number}/").content.decode()
            refused = portal.post(
                f"/portal/tickets/{ticket_a.number}/reopen/", {"reason": "Again"}, follow=True
            )
            form = portal.get(f"/portal/tickets/new/?follows={ticket_a.number}")
            sent = portal.post(
                "/portal/tickets/new/",
                {
                    "subject": form.context["form"]["subject"].value(),
                    "description": "It is back.",
                    "urgency": 2,
                    "impact": 1,
                    "follows": ticket_a.number,
                },
            )

        assert f'action="/portal/tickets/{ticket_a.number}/reopen/"' not in page
        assert f"/portal/tickets/new/?follows={ticket_a.number}" in page
        assert any("more than 3 days ago" in m for m in _messages(refused))
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.CLOSED
        assert (
            form.context["form"]["subject"].value().startswith(f"Follow-up to {ticket_a.reference}")
        )
        new = Ticket.objects.exclude(pk=ticket_a.pk).get()
        assert sent["Location"] == f"/portal/tickets/{new.number}/"
        assert TicketLink.objects.filter(source=new, target=ticket_a).exists()


class TestNewTicket:
    def _data(self, **extra) -> dict:
        return {
            "subject": "Invoices do not export",
            "description": "The export button does nothing.",
            "urgency": "3",
            "impact": "2",
            **extra,
        }

    def test_explains_urgency_and_impact_as_seed_004_does(self, portal):
        page = portal.get("/portal/tickets/new/").content.decode()

        for words in (
            "Immediate impact, and no workaround.",
            "Business critical.",
            "A team or a department is affected.",
            "The whole group is affected.",
        ):
            assert words in page
        assert page.count('type="radio" name="urgency"') == 4
        assert page.count('type="radio" name="impact"') == 4
        assert "1–7 Medium, 8–11 High, 12–16 Critical" in page

    def test_a_customer_submits_with_triage_details_and_screenshots(self, portal, bob):
        product = ProductFactory(name="Dynamics 365")

        answer = portal.post(
            "/portal/tickets/new/",
            self._data(
                product=product.pk,
                steps_to_reproduce="1. Open invoices\n2. Click export",
                users_affected="12",
                present_since="2026-11-02",
                investigations_done="Cleared the cache.",
                attachments=[_png(), _png("second.png")],
            ),
            follow=True,
        )

        ticket = Ticket.objects.get()
        assert answer.redirect_chain == [(f"/portal/tickets/{ticket.number}/", 302)]
        assert any(ticket.reference in m and bob.email in m for m in _messages(answer))
        assert (ticket.requester, ticket.channel, ticket.product) == (bob, Channel.PORTAL, product)
        assert (ticket.proposed_urgency, ticket.proposed_impact, ticket.score) == (3, 2, 6)
        assert (ticket.users_affected, str(ticket.present_since)) == (12, "2026-11-02")
        assert ticket.investigations_done == "Cleared the cache."
        assert sorted(a.filename for a in ticket.attachments.all()) == ["screen.png", "second.png"]
        assert OutboxMessage.objects.filter(ticket=ticket, to=[bob.email]).exists()
        assert "second.png" in answer.content.decode()

    def test_the_four_required_fields_are_named_and_refused_when_missing(self, portal):
        answer = portal.post("/portal/tickets/new/", {})

        assert answer.status_code == 400
        assert set(answer.context["form"].errors) == {"subject", "description", "urgency", "impact"}
        assert not Ticket.objects.exists()

    def test_checking_before_sending_shows_the_priority_and_sends_nothing(self, portal):
        answer = portal.post("/portal/tickets/new/", self._data(urgency="4", check="1"))

        assert answer.status_code == 200
        assert "score 8: priority <strong>High</strong>" in answer.content.decode()
        assert not Ticket.objects.exists()

    def test_the_preview_endpoint_gives_score_and_priority(self, portal):
        answer = portal.get("/portal/triage/preview/", {"urgency": 4, "impact": 4})
        incomplete = portal.get("/portal/triage/preview/", {"urgency": 4})

        assert "score 16: priority <strong>Critical</strong>" in answer.content.decode()
        assert "Choose an urgency and an impact" in incomplete.content.decode()

    def test_a_logger_files_for_a_colleague(self, client, bob, org_a):
        logger = CustomerFactory(organisation=org_a, customer_role="logger")
        client.force_login(logger)
        form = client.get("/portal/tickets/new/").content.decode()
        assert 'name="requester"' in form and "Bob Customer" in form

        client.post("/portal/tickets/new/", self._data(requester=bob.pk))

        ticket = Ticket.objects.get()
        assert ticket.requester == bob
        assert Event.objects.get(ticket=ticket, kind=EventKind.CREATED).actor == logger

    def test_a_logger_cannot_file_for_another_organisation(self, client, bob, org_a, charlie):
        logger = CustomerFactory(organisation=org_a, customer_role="logger")
        client.force_login(logger)

        answer = client.post("/portal/tickets/new/", self._data(requester=charlie.pk))

        assert answer.status_code == 400
        assert "requester" in answer.context["form"].errors
        assert not Ticket.objects.exists()

    def test_an_end_user_files_only_for_themselves(self, portal, bob, colleague):
        form = portal.get("/portal/tickets/new/").content.decode()
        assert 'name="requester"' not in form

        portal.post("/portal/tickets/new/", self._data(requester=colleague.pk))

        assert Ticket.objects.get().requester == bob
