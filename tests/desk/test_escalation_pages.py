"""The desk's escalation pages through HTTP (Django's test client): escalate up a level or to
a vendor choosing what to send, back down and back from the vendor, the vendor's answer and
bug, the "Waiting on vendors" queue, the vendor thread apart from the customer's, and the
releases followed up — each action through the services, refusals shown."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from servicedesk.core import clock
from servicedesk.escalation import services as escalation
from servicedesk.escalation.models import (
    Direction,
    Escalation,
    EscalationKind,
    Release,
    VendorMessage,
)
from servicedesk.tickets import services
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.workflow import Status
from tests.factories import CustomerFactory, VendorFactory, make_ticket

H = timedelta(hours=1)


@pytest.fixture
def desk(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def vendor(db):
    return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _to_vendor(ticket, vendor, by, **fields):
    fields.setdefault("reason", "Their bug")
    fields.setdefault("promised_by", clock.now() + 24 * H)
    return escalation.escalate_to_vendor(ticket=ticket, vendor=vendor, by=by, **fields)


class TestEscalatePage:
    def test_lists_the_thread_and_files_and_says_what_is_missing(self, desk, alice, ticket_a):
        services.respond(ticket=ticket_a, author=alice, body="Which version of the add-in?")

        page = desk.get(f"/desk/tickets/{ticket_a.number}/escalate/")

        assert page.status_code == 200
        text = page.content.decode()
        assert "Which version of the add-in?" in text
        assert "The ticket has no steps to reproduce." in text
        assert "The ticket has no files" in text

    def test_escalates_to_l2_with_a_reason_and_tells_the_customer(self, desk, ticket_a):
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {
                "kind": "internal",
                "to_level": "L2",
                "reason": "CRM specialist needed",
                "notify_customer": "on",
            },
            follow=True,
        )

        (made,) = Escalation.objects.filter(ticket=ticket_a)
        assert (made.kind, made.to_level, made.notify_customer) == ("internal", "L2", True)
        assert Ticket.objects.get(pk=ticket_a.pk).group.name == "CRM specialists"
        assert "Escalated to CRM specialists." in _messages(answer)

    def test_the_agent_sets_when_the_customer_hears_from_us_next(self, desk, alice, ticket_a):
        from servicedesk.sla.selectors import current_clocks

        services.confirm_triage(ticket=ticket_a, urgency=2, impact=2, by=alice)
        services.respond(ticket=ticket_a, author=alice, body="Looking into it.")  # next update runs
        promised = (clock.now() + 30 * H).replace(second=0, microsecond=0)

        desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {
                "kind": "internal",
                "to_level": "L2",
                "reason": "CRM specialist needed",
                "notify_customer": "on",
                "next_update_by": _local(promised),
            },
        )

        assert current_clocks(ticket_a.pk)["next_update"].due_at == promised

    def test_not_telling_the_customer_needs_a_reason_from_the_service(self, desk, ticket_a):
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {"kind": "internal", "to_level": "L2", "reason": "Specialist"},
        )

        assert answer.status_code == 409
        assert "Say why the customer is not told of this escalation." in answer.content.decode()
        assert not Escalation.objects.exists()

    def test_a_refusal_of_the_level_rule_is_shown_with_its_reason(self, desk, alice, ticket_a):
        escalation.escalate_internal(ticket=ticket_a, to_level="L3", reason="Bug", by=alice)

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {"kind": "internal", "to_level": "L2", "reason": "Oops", "notify_customer": "on"},
        )

        assert answer.status_code == 409
        assert "that is a de-escalation, not an escalation" in answer.content.decode()
        assert Escalation.objects.count() == 1

    def test_escalates_to_a_vendor_with_the_chosen_items(self, desk, alice, ticket_a, vendor):
        note = services.respond(ticket=ticket_a, author=alice, body="Log excerpt", internal=True)
        services.respond(ticket=ticket_a, author=alice, body="Not for the vendor")
        promised = clock.now() + 48 * H

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {
                "kind": "vendor",
                "vendor": vendor.pk,
                "reference": "SO-4711",
                "contact": "ann@superoffice.example",
                "channel": "email",
                "promised_by": _local(promised),
                "contract": "quote",
                "reason": "Sync bug in their add-in",
                "comments": [note.pk],
                "has_logs": "on",
                "missing": "No screenshots: nothing visible",
                "notify_customer": "on",
            },
            follow=True,
        )

        (made,) = Escalation.objects.filter(ticket=ticket_a)
        assert made.kind == EscalationKind.VENDOR
        assert (made.vendor_reference, made.contract) == ("SO-4711", "quote")
        assert made.sent_items == {"comments": [note.pk], "attachments": []}
        assert abs(made.promised_by - promised) < timedelta(minutes=1)
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.WAITING_ON_THIRD_PARTY
        assert "Escalated to SuperOffice AS." in _messages(answer)

    def test_the_checklist_and_an_empty_choice_are_prompted_for(self, desk, ticket_a, vendor):
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {
                "kind": "vendor",
                "vendor": vendor.pk,
                "channel": "email",
                "contract": "contract",
                "reason": "Bug",
                "notify_customer": "on",
            },
        )

        assert answer.status_code == 400
        text = answer.content.decode()
        assert "Tick what the vendor gets" in text
        assert "Nothing is chosen to send" in text
        assert not Escalation.objects.exists()

    def test_a_promise_in_the_past_is_refused_by_the_service(self, desk, ticket_a, vendor):
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalate/",
            {
                "kind": "vendor",
                "vendor": vendor.pk,
                "channel": "email",
                "contract": "contract",
                "reason": "Bug",
                "notify_customer": "on",
                "send_nothing": "on",
                "has_logs": "on",
                "has_screenshots": "on",
                "has_steps": "on",
                "promised_by": _local(clock.now() - 2 * H),
            },
        )

        assert answer.status_code == 409
        assert "the vendor&#x27;s date must be ahead" in answer.content.decode()

    def test_customers_and_strangers_get_404(self, client, bob, ticket_a):
        client.force_login(bob)

        assert client.get(f"/desk/tickets/{ticket_a.number}/escalate/").status_code == 404
        assert client.get("/desk/releases/").status_code == 404
        assert client.get("/desk/queues/waiting-vendor/").status_code == 404


class TestBackDown:
    def test_de_escalates_one_level_with_a_reason(self, desk, alice, ticket_a):
        escalation.escalate_internal(ticket=ticket_a, to_level="L2", reason="Spec", by=alice)

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/de-escalate/", {"reason": "Answered"}, follow=True
        )

        assert Ticket.objects.get(pk=ticket_a.pk).group.level == "L1"
        assert Escalation.objects.get().closed_at is not None
        assert "Back down a level." in _messages(answer)

    def test_de_escalating_at_first_line_is_refused_with_the_reason(self, desk, ticket_a):
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/de-escalate/", {"reason": "x"}, follow=True
        )

        assert any("no lower level" in line for line in _messages(answer))

    def test_returns_from_the_vendor(self, desk, alice, ticket_a, vendor):
        made = _to_vendor(ticket_a, vendor, alice)

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalations/{made.pk}/return/",
            {"reason": "Fixed by a setting", "to_status": "in_progress"},
            follow=True,
        )

        assert Escalation.objects.get().closed_at is not None
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.IN_PROGRESS
        assert "Back from SuperOffice AS." in _messages(answer)

    def test_an_escalation_of_another_ticket_is_404(self, desk, alice, ticket_a, vendor):
        other = make_ticket(requester=CustomerFactory())
        made = _to_vendor(other, vendor, alice)

        answer = desk.post(f"/desk/tickets/{ticket_a.number}/escalations/{made.pk}/return/")

        assert answer.status_code == 404
        assert Escalation.objects.get().closed_at is None


class TestVendorAnswerAndBug:
    def test_records_the_vendors_answer_by_phone(self, desk, alice, ticket_a, vendor):
        made = _to_vendor(ticket_a, vendor, alice)

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalations/{made.pk}/answer/",
            {"at": ""},
            follow=True,
        )

        assert Escalation.objects.get().answered_at is not None
        assert "The vendor's answer is recorded." in _messages(answer)

    def test_an_answer_before_the_escalation_is_refused(self, desk, alice, ticket_a, vendor):
        made = _to_vendor(ticket_a, vendor, alice)

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/escalations/{made.pk}/answer/",
            {"at": _local(made.created_at - 48 * H)},
            follow=True,
        )

        assert Escalation.objects.get().answered_at is None
        assert "The answer cannot come before the escalation." in _messages(answer)

    def test_records_a_bug_with_a_new_release_then_picks_it(self, desk, alice, ticket_a, vendor):
        made = _to_vendor(ticket_a, vendor, alice)
        url = f"/desk/tickets/{ticket_a.number}/escalations/{made.pk}/bug/"

        desk.post(url, {"bug_reference": "BUG-12", "new_release": "10.3.2"})
        release = Release.objects.get(vendor=vendor, name="10.3.2")
        desk.post(url, {"bug_reference": "BUG-13", "release": release.pk})

        made.refresh_from_db()
        assert (made.vendor_bug_reference, made.fix_release) == ("BUG-13", release)
        assert Release.objects.count() == 1


class TestTicketPage:
    def test_shows_the_escalations_and_an_overdue_promise_in_words(
        self, desk, alice, ticket_a, vendor
    ):
        made = _to_vendor(ticket_a, vendor, alice, reference="SO-1", promised_by=None)
        Escalation.objects.filter(pk=made.pk).update(promised_by=clock.now() - H)

        page = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()

        assert "SO-1" in page
        assert "Overdue: no answer" in page
        assert f'href="/desk/tickets/{ticket_a.number}/escalate/"' in page

    def test_the_vendor_thread_is_apart_from_the_customer_thread(
        self, desk, alice, bob, ticket_a, vendor
    ):
        services.add_comment(ticket=ticket_a, author=bob, body="Any news?")
        made = _to_vendor(ticket_a, vendor, alice)
        VendorMessage.objects.create(
            escalation=made,
            direction=Direction.IN,
            sender="ann@superoffice.example",
            body="We reproduced it: BUG-77.",
            created_at=clock.now(),
        )

        page = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()

        customer = page[page.index('class="customer-thread"') : page.index('id="vendor-thread"')]
        vendor_part = page[page.index('id="vendor-thread"') :]
        assert "Any news?" in customer and "BUG-77" not in customer
        assert "We reproduced it: BUG-77." in vendor_part and "From the vendor" in vendor_part
        assert not Comment.objects.filter(body__contains="BUG-77").exists()

    def test_ticket_page_queries_do_not_grow_with_escalations(self, desk, alice, ticket_a, vendor):
        def count():
            with CaptureQueriesContext(connection) as queries:
                assert desk.get(f"/desk/tickets/{ticket_a.number}/").status_code == 200
            return len(queries)

        first = _to_vendor(ticket_a, vendor, alice)
        VendorMessage.objects.create(
            escalation=first, direction=Direction.IN, body="a", created_at=clock.now()
        )
        count()  # the first visit records the agent's presence
        before = count()
        second = _to_vendor(ticket_a, VendorFactory(), alice)
        for body in ("b", "c"):
            VendorMessage.objects.create(
                escalation=second, direction=Direction.OUT, body=body, created_at=clock.now()
            )

        assert count() == before


class TestWaitingOnVendorsQueue:
    def test_lists_overdue_promises_first_then_by_promised_date(self, desk, alice, vendor):
        later = make_ticket(requester=CustomerFactory(), subject="Later promise")
        sooner = make_ticket(requester=CustomerFactory(), subject="Sooner promise")
        broken = make_ticket(requester=CustomerFactory(), subject="Broken promise")
        make_ticket(requester=CustomerFactory(), subject="No vendor")
        _to_vendor(later, vendor, alice, promised_by=clock.now() + 72 * H)
        _to_vendor(sooner, vendor, alice, promised_by=clock.now() + 2 * H)
        overdue = _to_vendor(broken, vendor, alice, promised_by=clock.now() + H)
        Escalation.objects.filter(pk=overdue.pk).update(promised_by=clock.now() - H)

        page = desk.get("/desk/queues/waiting-vendor/")

        rows = [t.subject for t, _cell in page.context["rows"]]
        assert rows == ["Broken promise", "Sooner promise", "Later promise"]
        assert page.context["counts"]["waiting-vendor"] == 3
        assert "overdue" in page.content.decode()

    def test_a_returned_ticket_leaves_the_queue(self, desk, alice, ticket_a, vendor):
        made = _to_vendor(ticket_a, vendor, alice)
        escalation.return_from_vendor(escalation=made, by=alice)

        page = desk.get("/desk/queues/waiting-vendor/")

        assert page.context["rows"] == []

    def test_queries_are_constant_and_the_counts_one_statement(self, desk, alice, vendor):
        def count():
            desk.get("/desk/queues/waiting-vendor/")  # the configuration's lists read
            with CaptureQueriesContext(connection) as queries:
                assert desk.get("/desk/queues/waiting-vendor/").status_code == 200
            return len(queries)

        _to_vendor(make_ticket(requester=CustomerFactory()), vendor, alice)
        before = count()
        for _ in range(5):
            _to_vendor(make_ticket(requester=CustomerFactory()), VendorFactory(), alice)

        assert count() == before
        with CaptureQueriesContext(connection) as queries:
            from servicedesk.desk import queues

            queues.counts(alice, now=clock.now())
        assert len(queries) == 1


class TestReleases:
    @pytest.fixture
    def fixed(self, alice, vendor):
        release = escalation.add_release(vendor=vendor, name="10.3.2", by=alice)
        waiting = []
        for subject in ("Contacts do not sync", "Invoices do not export"):
            ticket = make_ticket(requester=CustomerFactory(), subject=subject)
            made = _to_vendor(ticket, vendor, alice)
            escalation.record_bug(escalation=made, bug_reference="BUG-9", release=release, by=alice)
            waiting.append(ticket)
        return release, waiting

    def test_lists_releases_by_vendor_with_the_waiting_tickets(self, desk, fixed):
        _release, waiting = fixed

        page = desk.get("/desk/releases/").content.decode()

        assert "SuperOffice AS" in page and "10.3.2" in page
        assert all(t.reference in page for t in waiting)
        assert "Mark 10.3.2 shipped" in page

    def test_mark_shipped_lists_the_tickets_then_tells_the_requesters(self, desk, fixed):
        release, waiting = fixed

        shipped = desk.post(f"/desk/releases/{release.pk}/ship/", follow=True)
        release.refresh_from_db()
        assert release.shipped_at is not None
        assert "SuperOffice AS 10.3.2 is shipped: 2 tickets wait on it." in _messages(shipped)
        body = shipped.context["form"]["body"].value()
        assert "The fix for {bug} is released in SuperOffice AS 10.3.2." in body

        told = desk.post(
            f"/desk/releases/{release.pk}/tell/",
            {"tickets": [t.number for t in waiting], "body": "The fix for {bug} is out."},
            follow=True,
        )

        for ticket in waiting:
            (reply,) = Comment.objects.filter(ticket=ticket, internal=False, author__is_staff=True)
            assert reply.body == "The fix for BUG-9 is out."
        assert "2 requesters told." in _messages(told)

    def test_a_ticket_no_longer_waiting_is_left_alone(self, desk, alice, fixed):
        release, waiting = fixed
        Ticket.objects.filter(pk=waiting[0].pk).update(status=Status.CLOSED)

        told = desk.post(
            f"/desk/releases/{release.pk}/tell/",
            {"tickets": [t.number for t in waiting], "body": "Out now."},
            follow=True,
        )

        assert Comment.objects.filter(ticket=waiting[1], body="Out now.").exists()
        assert not Comment.objects.filter(ticket=waiting[0], body="Out now.").exists()
        assert f"{waiting[0].number}: no longer waiting on this release." in _messages(told)
        assert "1 requester told." in _messages(told)
