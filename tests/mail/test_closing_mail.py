"""The mail of closing (SPEC §8, issue 14 items 5–6), moving time forward: the resolution
asks the requester to confirm, three reminders follow every two business days of the S4
calendar, then the closing confirmation; a reply in between stops it; a sweep run twice
sends nothing twice; the links in the mail are signed, and the rating ones work."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import closing_services, services
from servicedesk.tickets.models import Rating
from tests.factories import CustomerFactory, make_ticket

H = timedelta(hours=1)
RESOLVED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 10:00 in London
REMINDERS = [
    datetime(2026, 11, 18, 10, 0, tzinfo=UTC),  # Wednesday
    datetime(2026, 11, 20, 10, 0, tzinfo=UTC),  # Friday
    datetime(2026, 11, 24, 10, 0, tzinfo=UTC),  # Tuesday: the weekend does not count
]
CLOSING = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday


def at(moment):
    return time_machine.travel(moment, tick=False)


def sweep(moment):
    with at(moment):
        closing_services.sweep_closing()


def mails(ticket) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(ticket=ticket).order_by("created_at", "pk"))


@pytest.fixture(autouse=True)
def _three_every_two_days(settings):
    settings.SERVICEDESK_CLOSING_REMINDERS, settings.SERVICEDESK_CLOSING_INTERVAL_DAYS = 3, 2
    settings.SERVICEDESK_BASE_URL = "https://desk.example"


@pytest.fixture
def resolved(bob, alice):
    with at(RESOLVED - 2 * H):
        ticket = make_ticket(requester=bob, urgency=2, impact=2, subject="VPN drops at noon")
    OutboxMessage.objects.filter(ticket=ticket).delete()  # the acknowledgement
    with at(RESOLVED):
        services.change_status(ticket=ticket, to="resolved", by=alice)
    return ticket


def test_resolving_asks_the_requester_to_confirm_with_a_login_link_and_rating_links(resolved):
    (mail,) = mails(resolved)

    assert mail.to == ["bob@alpha.example"]
    assert mail.subject == f"{resolved.subject_token} Resolved: VPN drops at noon"
    assert "We believe ticket" in mail.body_text
    assert "reply to this email: the ticket re-opens" in mail.body_text
    assert re.search(r"https://desk\.example/portal/enter/[^/\s]+/", mail.body_text)
    assert len(re.findall(r"https://desk\.example/portal/rate/[^/\s]+/", mail.body_text)) == 2


def test_time_moves_through_three_reminders_to_the_closing_email(resolved):
    for moment in REMINDERS:
        sweep(moment - H)  # not yet
        sweep(moment)
    sweep(CLOSING - H)
    sweep(CLOSING)

    subjects = [m.subject for m in mails(resolved)]
    token = resolved.subject_token
    assert subjects == [
        f"{token} Resolved: VPN drops at noon",
        f"{token} Reminder 1 of 3: is it resolved? VPN drops at noon",
        f"{token} Reminder 2 of 3: is it resolved? VPN drops at noon",
        f"{token} Reminder 3 of 3: is it resolved? VPN drops at noon",
        f"{token} Closed: VPN drops at noon",
    ]
    reminders = mails(resolved)[1:4]
    assert [m.created_at for m in reminders] == REMINDERS
    assert "we will remind you again on Nov. 20, 2026, 10 a.m. (Europe/London)" in (
        reminders[0].body_text
    )
    assert "we will close the ticket on Nov. 26, 2026, 10 a.m. (Europe/London)" in (
        reminders[2].body_text
    )
    closed = mails(resolved)[-1]
    assert "did not hear from you after 3 reminders" in closed.body_text
    assert len(re.findall(r"/portal/rate/[^/\s]+/", closed.body_text)) == 2
    resolved.refresh_from_db()
    assert resolved.status == "closed"


def test_a_reply_in_between_stops_the_reminders(resolved, bob):
    sweep(REMINDERS[0])
    with at(REMINDERS[0] + H):
        services.add_comment(ticket=resolved, author=bob, body="It dropped again at noon.")

    for moment in [*REMINDERS[1:], CLOSING, CLOSING + timedelta(days=30)]:
        sweep(moment)

    subjects = [m.subject for m in mails(resolved)]
    assert len(subjects) == 2
    assert "Reminder 1 of 3" in subjects[1]
    resolved.refresh_from_db()
    assert resolved.status == "open"


def test_the_sweep_run_twice_sends_nothing_twice(resolved):
    for moment in [*REMINDERS, CLOSING]:
        sweep(moment)
        sweep(moment)

    assert len(mails(resolved)) == 5


def test_the_mail_is_in_the_requesters_language_and_time_zone(org_b, alice):
    kari = CustomerFactory(
        email="kari@bravo.example", organisation=org_b, language="nb", timezone="Europe/Oslo"
    )
    with at(RESOLVED - H):
        ticket = make_ticket(requester=kari, urgency=2, impact=2)
    with at(RESOLVED):
        services.change_status(ticket=ticket, to="resolved", by=alice)
    sweep(REMINDERS[0])

    resolution, reminder = mails(ticket)[1:]
    assert resolution.subject == f"{ticket.subject_token} Løst: {ticket.subject}"
    assert reminder.subject.startswith(f"{ticket.subject_token} Påminnelse 1 av 3: er det løst?")
    for mail in (resolution, reminder):
        assert mail.body_text.startswith(f"Hei {kari.display_name},")  # nb's greeting
        assert "(Europe/Oslo)" in mail.body_text
        assert "11:00" in mail.body_text  # 10:00 UTC is 11:00 in Oslo
    assert mail.to == ["kari@bravo.example"]


def test_a_rating_link_from_the_mail_rates_the_ticket_on_post(resolved, client, bob):
    (mail,) = mails(resolved)
    good = re.findall(r"https://desk\.example(/portal/rate/[^/\s]+/)", mail.body_text)[0]

    with at(RESOLVED + H):
        page = client.get(good)
        nothing_yet = Rating.objects.count()
        client.post(good, {"value": "good", "comment": "Fixed in a day."})

    assert page.status_code == 200
    assert nothing_yet == 0  # a link scanner's GET records nothing
    rating = Rating.objects.get()
    assert (rating.ticket, rating.by, rating.value, rating.comment) == (
        resolved,
        bob,
        "good",
        "Fixed in a day.",
    )
