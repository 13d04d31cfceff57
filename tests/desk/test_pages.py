"""The agent desk through HTTP (Django's test client): sign-in, queues, the ticket page and
its actions, the board, log a call — each action through the services, refusals shown."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.desk.models import Presence
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import services
from servicedesk.tickets.models import Channel, Comment, Ticket
from servicedesk.tickets.workflow import Status
from tests.factories import CustomerFactory, StaffFactory, make_ticket


@pytest.fixture
def desk(client, alice):
    client.force_login(alice)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


class TestSignIn:
    def test_staff_land_on_the_desk_and_customers_on_the_portal(self, client, alice, bob):
        for user, landing in ((alice, "/desk/"), (bob, "/portal/")):
            user.set_password("s3cret-pass")
            user.save()
            answer = client.post(
                "/login/", {"email": user.email.upper(), "password": "s3cret-pass"}
            )
            assert (answer.status_code, answer["Location"]) == (302, landing)
            client.post("/logout/")

    def test_a_wrong_password_is_refused_on_the_page(self, client, alice):
        answer = client.post("/login/", {"email": alice.email, "password": "nope"})
        assert answer.status_code == 400
        assert "do not match an account" in answer.content.decode()
        assert "_auth_user_id" not in client.session

    def test_the_desk_asks_for_a_sign_in_and_keeps_the_page_asked_for(self, client):
        answer = client.get("/desk/board/")
        assert (answer.status_code, answer["Location"]) == (302, "/login/?next=/desk/board/")

    def test_a_customer_never_sees_a_desk_page(self, client, bob, ticket_a):
        client.force_login(bob)
        assert client.get("/desk/").status_code == 404
        assert client.get(f"/desk/tickets/{ticket_a.number}/").status_code == 404

    def test_next_may_not_leave_the_site(self, client, alice):
        alice.set_password("s3cret-pass")
        alice.save()
        answer = client.post(
            "/login/",
            {"email": alice.email, "password": "s3cret-pass", "next": "https://evil.example/"},
        )
        assert answer["Location"] == "/desk/"

    def test_sign_out_is_a_post(self, desk):
        assert desk.get("/logout/").status_code == 405
        assert desk.post("/logout/").status_code == 302
        assert desk.get("/desk/").status_code == 302

    def test_a_password_reset_is_mailed_through_the_outbox(self, client, alice):
        answer = client.post("/password/reset/", {"email": alice.email})
        assert answer.status_code == 302
        (mail,) = OutboxMessage.objects.filter(to=[alice.email])
        link = re.search(r"http://testserver(/password/reset/\S+/)", mail.body_text)[1]
        form = client.get(link, follow=True)
        assert form.status_code == 200 and b"new_password1" in form.content


class TestQueues:
    def test_the_default_queue_lists_open_tickets_with_the_sla_column(self, desk, ticket_a):
        answer = desk.get("/desk/")
        page = answer.content.decode()
        assert answer.status_code == 200
        assert ticket_a.reference in page
        assert 'class="sla sla-ok"' in page and "left" in page
        assert answer.context["counts"]["open"] == 1

    def test_queues_filter_mine_and_unassigned(self, desk, alice, bob):
        mine = make_ticket(requester=bob, subject="Mine")
        services.assign(ticket=mine, assignee=alice, by=alice)
        make_ticket(requester=bob, subject="Nobody's")

        def rows(slug):
            return [t.subject for t, _ in desk.get(f"/desk/queues/{slug}/").context["rows"]]

        assert rows("mine") == ["Mine"]
        assert rows("unassigned") == ["Nobody's"]
        assert desk.get("/desk/queues/nope/").status_code == 404

    def test_a_filter_is_saved_and_shared(self, desk, alice, bob):
        desk.post("/desk/filters/", {"name": "Urgent CRM", "shared": "on", "query": "q=crm"})
        other = StaffFactory()
        desk.force_login(other)
        saved = desk.get("/desk/").context["saved"]
        assert [f.name for f in saved] == ["Urgent CRM"]

    def test_bulk_actions_go_through_the_services_and_report_refusals(self, desk, alice, bob):
        a = make_ticket(requester=bob, subject="A")
        b = make_ticket(requester=bob, subject="B")
        services.change_status(ticket=b, to=Status.RESOLVED, by=alice)

        answer = desk.post(
            "/desk/bulk/",
            {"tickets": [a.number, b.number], "action": "status", "status": "waiting_on_customer"},
            follow=True,
        )

        a.refresh_from_db(), b.refresh_from_db()
        assert a.status == Status.WAITING_ON_CUSTOMER
        assert b.status == Status.RESOLVED  # resolved → waiting is not a move the workflow offers
        shown = _messages(answer)
        assert any(b.reference in line for line in shown)
        assert "1 ticket changed." in shown

    def test_queries_do_not_grow_with_the_number_of_tickets(self, desk, bob):
        def count(url):
            desk.get(url)  # the configuration's lists read (core.config_cache), as in service
            with CaptureQueriesContext(connection) as queries:
                assert desk.get(url).status_code == 200
            return len(queries)

        make_ticket(requester=bob)
        first = {u: count(u) for u in ("/desk/", "/desk/board/", "/desk/search/?q=outlook")}
        for i in range(12):
            make_ticket(requester=CustomerFactory(), subject=f"Outlook problem {i}")
        assert {u: count(u) for u in first} == first
        # session, user, the queues' counts (one statement), the page's rows, their SLA
        # clocks, the saved filters; the list's length is the queue's count, not read again
        assert first["/desk/"] == 6


class TestTicketPage:
    def test_its_queries_do_not_grow_with_the_thread(self, desk, alice, bob, ticket_a):
        def count():
            url = f"/desk/tickets/{ticket_a.number}/"
            desk.get(url)  # the configuration's lists read (core.config_cache), as in service
            with CaptureQueriesContext(connection) as queries:
                assert desk.get(url).status_code == 200
            return len(queries)

        def comments(n):
            for i in range(n):
                services.add_comment(
                    ticket=Ticket.objects.get(pk=ticket_a.pk),
                    author=bob if i % 2 else alice,
                    body=f"Entry {i}",
                    channel=Channel.DESK,
                )

        comments(2)
        first = count()
        comments(10)
        make_ticket(requester=bob)  # another open ticket of the organisation
        # session, user, the ticket (with its people), the thread with its files, the
        # organisation's other tickets, which of links, ratings, escalations and a change
        # request exist (none here: none of them is read), SLA clocks. Who else is here is
        # the first poll's answer, not the page's.
        assert count() == first == 7

    def test_the_sd_form_redirects_and_strangers_numbers_are_404(self, desk, ticket_a):
        answer = desk.get(f"/desk/tickets/SD-{ticket_a.number}/")
        assert answer["Location"] == f"/desk/tickets/{ticket_a.number}/"
        assert desk.get("/desk/tickets/999999/").status_code == 404
        assert desk.get("/desk/tickets/<script>/").status_code == 404

    def test_reply_and_set_waiting_on_customer_in_one_action(self, desk, alice, ticket_a):
        services.change_status(ticket=ticket_a, to=Status.OPEN, by=alice)
        page = desk.get(f"/desk/tickets/{ticket_a.number}/")
        seen = page.context["composer"]["seen"].value()

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/reply/",
            {
                "body": "Please try again.",
                "kind": "reply",
                "then_status": "waiting_on_customer",
                "seen": seen,
            },
        )

        assert answer.status_code == 302
        ticket_a.refresh_from_db()
        assert ticket_a.status == Status.WAITING_ON_CUSTOMER
        reply = Comment.objects.get(ticket=ticket_a)
        assert (reply.internal, reply.channel) == (False, Channel.DESK)
        assert OutboxMessage.objects.filter(ticket=ticket_a, subject__contains="Re:").exists()

    def test_a_note_is_internal_and_mails_nobody(self, desk, ticket_a):
        seen = desk.get(f"/desk/tickets/{ticket_a.number}/").context["composer"]["seen"].value()
        before = OutboxMessage.objects.count()
        desk.post(
            f"/desk/tickets/{ticket_a.number}/reply/",
            {"body": "Logs show a timeout.", "kind": "note", "seen": seen},
        )
        assert Comment.objects.get(ticket=ticket_a).internal
        assert OutboxMessage.objects.count() == before

    def test_a_reply_to_a_ticket_that_changed_is_stopped_with_what_changed(
        self, desk, ticket_a, bob
    ):
        seen = desk.get(f"/desk/tickets/{ticket_a.number}/").context["composer"]["seen"].value()
        services.add_comment(ticket=ticket_a, author=bob, body="Actually it works now!")

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/reply/",
            {"body": "Have you tried restarting?", "kind": "reply", "seen": seen},
        )

        assert answer.status_code == 409
        page = answer.content.decode()
        assert "This ticket changed while you were writing" in page
        assert "Public reply" in page and "Have you tried restarting?" in page  # kept
        assert not Comment.objects.filter(body__contains="restarting").exists()
        again = answer.context["composer"]
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/reply/",
            {
                "body": "Great, closing.",
                "kind": "reply",
                "seen": again["seen"].value(),
                "send_anyway": "True",
            },
        )
        assert answer.status_code == 302
        assert Comment.objects.filter(body="Great, closing.").exists()

    def test_a_forced_refused_status_move_says_why_and_changes_nothing(self, desk, alice, ticket_a):
        services.change_status(ticket=ticket_a, to=Status.RESOLVED, by=alice)
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/status/", {"to": "waiting_on_customer"}, follow=True
        )
        ticket_a.refresh_from_db()
        assert ticket_a.status == Status.RESOLVED
        (shown,) = _messages(answer)
        assert "Resolved" in shown or "resolved" in shown

    def test_the_page_offers_only_the_moves_the_workflow_allows(self, desk, alice, ticket_a):
        services.change_status(ticket=ticket_a, to=Status.RESOLVED, by=alice)
        statuses = desk.get(f"/desk/tickets/{ticket_a.number}/").context["statuses"]
        assert statuses == [Status.OPEN, Status.IN_PROGRESS, Status.CLOSED]

    def test_triage_is_confirmed_in_one_step(self, desk, ticket_a):
        desk.post(f"/desk/tickets/{ticket_a.number}/triage/", {"urgency": 4, "impact": 3})
        ticket_a.refresh_from_db()
        assert (ticket_a.confirmed_urgency, ticket_a.confirmed_impact, ticket_a.score) == (4, 3, 12)
        assert ticket_a.status == Status.OPEN

    def test_the_triage_preview_shows_score_and_priority(self, desk):
        answer = desk.get("/desk/triage/preview/", {"urgency": 4, "impact": 4})
        assert "16" in answer.content.decode() and "Critical" in answer.content.decode()

    def test_assign_to_me(self, desk, alice, ticket_a):
        desk.post(f"/desk/tickets/{ticket_a.number}/assign/", {"to": "me"})
        ticket_a.refresh_from_db()
        assert ticket_a.assignee == alice

    def test_history_is_in_words(self, desk, alice, ticket_a):
        services.assign(ticket=ticket_a, assignee=alice, by=alice)
        part = desk.get(f"/desk/tickets/{ticket_a.number}/history/", HTTP_HX_REQUEST="true")
        page = desk.get(f"/desk/tickets/{ticket_a.number}/history/")  # without script: a page
        assert "Assignee: — → Alice Agent" in part.content.decode()
        assert "<html" not in part.content.decode() and "<html" in page.content.decode()
        assert "Assignee: — → Alice Agent" in page.content.decode()

    def test_the_sla_explanation_is_one_click_away(self, desk, ticket_a):
        page = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()
        assert "Why is it due then?" in page and f"/desk/tickets/{ticket_a.number}/explain/" in page
        part = desk.get(f"/desk/tickets/{ticket_a.number}/explain/", HTTP_HX_REQUEST="true")
        assert "Business time counted" in part.content.decode()


class TestCollision:
    def test_each_agent_sees_the_other_and_who_is_typing(self, client, alice, ticket_a):
        bea = StaffFactory(full_name="Bea Agent")
        client.force_login(alice)
        client.get(f"/desk/tickets/{ticket_a.number}/")
        client.post(f"/desk/tickets/{ticket_a.number}/ping/", {"typing": "1"})
        client.force_login(bea)

        answer = client.post(f"/desk/tickets/{ticket_a.number}/ping/", {"typing": "0"})

        assert "Alice Agent is typing a reply" in answer.content.decode()
        assert Presence.objects.count() == 2


class TestBoard:
    def test_a_move_by_script_answers_204_or_409_with_the_reason(self, desk, ticket_a):
        moved = desk.post(
            f"/desk/board/{ticket_a.number}/move/", {"to": "open"}, HTTP_X_REQUESTED_WITH="fetch"
        )
        refused = desk.post(
            f"/desk/board/{ticket_a.number}/move/", {"to": "new"}, HTTP_X_REQUESTED_WITH="fetch"
        )  # nobody moves a ticket back to new
        ticket_a.refresh_from_db()
        assert moved.status_code == 204 and ticket_a.status == Status.OPEN
        assert refused.status_code == 409 and refused.content

    def test_the_menu_moves_without_script(self, desk, ticket_a):
        answer = desk.post(f"/desk/board/{ticket_a.number}/move/", {"to": "open"})
        assert answer["Location"] == "/desk/board/"
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.OPEN


class TestLogACall:
    def test_a_call_becomes_a_phone_ticket_for_the_caller(self, desk, bob):
        answer = desk.post(
            "/desk/calls/new/",
            {
                "requester_email": bob.email,
                "subject": "Cannot log in",
                "description": "Since this morning.",
                "urgency": 3,
                "impact": 2,
            },
        )
        ticket = Ticket.objects.get()
        assert answer["Location"] == f"/desk/tickets/{ticket.number}/"
        assert (ticket.requester, ticket.channel, ticket.proposed_urgency) == (
            bob,
            Channel.PHONE,
            3,
        )

    def test_a_call_with_missing_answers_is_refused_and_files_nothing(self, desk):
        answer = desk.post("/desk/calls/new/", {"requester_email": "x@y.example"})
        assert answer.status_code == 400
        assert not Ticket.objects.exists()


class TestCannedReplies:
    def test_a_macro_is_inserted_with_its_placeholders_filled(self, desk, ticket_a):
        from servicedesk.desk.models import Macro

        macro = Macro.objects.create(
            name="Restart", body="Hello {requester_name}, about {ticket}: please restart. {unknown}"
        )
        answer = desk.get(
            f"/desk/tickets/{ticket_a.number}/macro/", {"macro": macro.pk, "body": "Hi."}
        )
        text = answer.content.decode()
        assert f"Hi.\n\nHello Bob Customer, about {ticket_a.reference}: please restart." in text
        assert "{unknown}" in text  # an unknown placeholder stays as typed
        assert (
            desk.get(f"/desk/tickets/{ticket_a.number}/macro/", {"macro": "x"}).status_code == 404
        )

    def test_the_composer_offers_the_macros(self, desk, ticket_a):
        from servicedesk.desk.models import Macro

        Macro.objects.create(name="Restart", body="Please restart.")
        page = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()
        assert "Insert a canned reply" in page and "Restart" in page


def test_the_board_filters_like_a_queue(desk, alice, bob):
    mine = make_ticket(requester=bob, subject="Mine")
    services.assign(ticket=mine, assignee=alice, by=alice)
    make_ticket(requester=bob, subject="Someone else's")
    columns = desk.get("/desk/board/", {"assignee": alice.pk}).context["columns"]
    assert [card.subject for col in columns for card, _ in col["cards"]] == ["Mine"]


def test_tickets_are_linked_from_the_page(desk, bob, ticket_a):
    other = make_ticket(requester=bob, subject="Same problem")
    desk.post(
        f"/desk/tickets/{ticket_a.number}/links/",
        {"kind": "duplicate_of", "target": other.reference},
    )
    page = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()
    assert f">{other.reference}</a>" in page and "Duplicate of" in page
    refused = desk.post(
        f"/desk/tickets/{ticket_a.number}/links/",
        {"kind": "related", "target": "999999"},
        follow=True,
    )
    assert _messages(refused) == ["No ticket with that number."]


def test_a_met_target_reads_as_words_in_the_history(desk, alice, ticket_a):
    services.respond(ticket=ticket_a, author=alice, body="On it.")  # meets the first response
    page = desk.get(f"/desk/tickets/{ticket_a.number}/history/").content.decode()
    assert "SLA target met: First response" in page


def test_my_groups_lists_each_ticket_once_and_counts_it_once(desk, alice, bob):
    from tests.factories import GroupFactory

    first, second = GroupFactory(), GroupFactory()
    first.members.add(alice)
    second.members.add(alice, StaffFactory())
    ticket = make_ticket(requester=bob, subject="In my group")
    services.move_to_group(ticket=ticket, group=first, by=alice)
    make_ticket(requester=bob, subject="In nobody's group")

    answer = desk.get("/desk/queues/my-groups/")

    assert [t.subject for t, _ in answer.context["rows"]] == ["In my group"]
    assert answer.context["counts"]["my-groups"] == 1


def test_opening_a_ticket_writes_nothing(desk, ticket_a):
    """Presence is recorded by the page's first poll, not by the page view."""
    from servicedesk.desk.models import Presence

    desk.get(f"/desk/tickets/{ticket_a.number}/")
    assert not Presence.objects.exists()
    desk.post(f"/desk/tickets/{ticket_a.number}/ping/", {"typing": "0"})
    assert Presence.objects.count() == 1


def test_the_explanation_and_history_of_another_customers_ticket_are_404_for_customers(
    client, charlie, ticket_a
):
    client.force_login(charlie)
    for part in ("explain", "history"):
        assert client.get(f"/desk/tickets/{ticket_a.number}/{part}/").status_code == 404


def test_a_macro_with_a_stray_brace_is_inserted_as_typed(desk, ticket_a):
    from servicedesk.desk.models import Macro

    macro = Macro.objects.create(name="Braces", body="Use {requester_name} or a lone {")
    answer = desk.get(f"/desk/tickets/{ticket_a.number}/macro/", {"macro": macro.pk})
    assert answer.status_code == 200
    assert "Use {requester_name} or a lone {" in answer.content.decode()  # was a 500
