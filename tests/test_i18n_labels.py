"""The names the desk ships in its rows (priority bands, support groups, categories) are shown
in the reader's language; a name an administrator typed is shown as typed; the rows, the
history and the API's keys keep the English."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import translation

from servicedesk.core.labels import SHIPPED, shown
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import services, triage
from servicedesk.tickets.models import PriorityBand
from tests.api.conftest import ApiClient
from tests.factories import CustomerFactory, make_ticket


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(datetime(2026, 11, 16, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def kari(org_b):
    return CustomerFactory(email="kari@bravo.example", organisation=org_b, language="nb")


def _acknowledgement(ticket) -> str:
    return OutboxMessage.objects.get(ticket=ticket, dedupe_key=f"ack:{ticket.pk}").body_text


def test_the_norwegian_acknowledgement_names_the_priority_in_norwegian(kari):
    proposed = make_ticket(requester=kari, urgency=3, impact=2)  # score 6: Medium
    untriaged = make_ticket(requester=kari)

    assert "poengsum 6 av 16, prioritet Middels." in _acknowledgement(proposed)
    assert "inntil da er prioriteten Middels." in _acknowledgement(untriaged)
    assert "Medium" not in _acknowledgement(proposed) + _acknowledgement(untriaged)


def test_the_french_triage_mail_names_the_confirmed_priority_in_french(alice, org_b):
    marie = CustomerFactory(email="marie@bravo.example", organisation=org_b, language="fr")
    ticket = make_ticket(requester=marie)

    services.confirm_triage(ticket=ticket, urgency=4, impact=3, by=alice)

    mail = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="triage:")
    assert "score 12 sur 16, priorité Critique." in mail.body_text


def test_a_band_an_administrator_renamed_is_shown_as_they_typed_it(kari):
    PriorityBand.objects.filter(key="medium").update(label="Normal")

    ticket = make_ticket(requester=kari, urgency=3, impact=2)

    assert "prioritet Normal." in _acknowledgement(ticket)


def test_only_the_shipped_names_are_translated():
    with translation.override("nb"):
        assert shown("Critical") == "Kritisk"
        assert shown("First line") == "Førstelinje"
        assert shown("Incident") == "Hendelse"
        assert shown("Open") == "Open"  # a catalogue word ("Åpen"), but not a shipped name
        assert shown("Gold customers") == "Gold customers"
    assert shown("Critical") == "Critical"


def test_every_shipped_band_name_is_marked(db):
    """A band name ``triage`` ships that ``core.labels`` does not know would stay English."""
    names = {band.label for band in (*triage.S4_BANDS, *triage.S1_BANDS)}
    assert names <= set(SHIPPED)
    assert {b.label for b in PriorityBand.objects.all()} <= set(SHIPPED)


@pytest.mark.parametrize(("language", "word"), [("fr", "Moyenne"), ("nb", "Middels")])
def test_the_admin_lists_priorities_in_the_users_language(client, alice, ticket_a, language, word):
    alice.language, alice.is_superuser = language, True
    alice.save()
    client.force_login(alice)

    page = client.get("/admin/tickets/ticket/").content.decode()
    ticket_page = client.get(f"/admin/tickets/ticket/{ticket_a.pk}/change/").content.decode()

    assert word in page  # the column and the filter
    assert word in ticket_page
    assert ">Medium<" not in page


def test_the_api_keeps_the_priority_key_and_the_stored_names(kari, org_b):
    ticket = make_ticket(requester=kari, urgency=3, impact=2)

    body = ApiClient(kari).get(f"/tickets/{ticket.number}").json()

    assert body["priority"] == "medium"
    assert body["sla"]["state"] in {"ok", "warning", "breached", "met"}  # enum values stay


def test_the_admin_shows_shipped_group_and_category_names_in_the_users_language(
    client, alice, ticket_a
):
    from servicedesk.tickets.models import Category, Ticket

    Category.objects.create(name="Bug", kind="bug")
    Category.objects.create(name="Gold customers", kind="incident")
    Ticket.objects.filter(pk=ticket_a.pk).update(category=Category.objects.get(name="Bug"))
    alice.language, alice.is_superuser = "nb", True
    alice.save()
    client.force_login(alice)

    page = client.get(f"/admin/tickets/ticket/{ticket_a.pk}/change/").content.decode()
    listing = client.get("/admin/tickets/ticket/").content.decode()

    assert ">Førstelinje<" in page and ">Feil<" in page  # the group and category lists
    assert ">Gold customers<" in page  # typed by the desk: as typed
    assert "Førstelinje" in listing
    assert Category.objects.filter(name="Bug").exists()  # stored as shipped


@pytest.mark.parametrize(("language", "words"), [("fr", "dans les temps"), ("nb", "i rute")])
def test_the_admin_shows_sla_states_in_the_users_language(client, alice, ticket_a, language, words):
    alice.language, alice.is_superuser = language, True
    alice.save()
    client.force_login(alice)

    page = client.get(f"/admin/tickets/ticket/{ticket_a.pk}/change/").content.decode()

    assert words in page  # the first response is due later today: on track
    assert ": ok," not in page
