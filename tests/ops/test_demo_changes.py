"""The demo's change requests: every stage in every demo organisation, made through the
services (their history says how they got there), dated in the past, mailing nobody, once."""

from django.core.management import call_command

from servicedesk.accounts.models import Organisation
from servicedesk.changes.models import ChangeEvent, ChangeEventKind, ChangeRequest
from servicedesk.changes.workflow import Stage
from servicedesk.core import clock
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets.models import EventKind


def test_every_organisation_has_crs_in_every_stage(db):
    call_command("demo")

    for organisation in Organisation.objects.all():
        stages = set(
            ChangeRequest.objects.filter(organisation=organisation).values_list("stage", flat=True)
        )
        assert stages == set(Stage), organisation
        converted = ChangeRequest.objects.get(organisation=organisation, ticket__isnull=False)
        assert converted.ticket.events.filter(kind=EventKind.CONVERTED).exists()


def test_the_demo_crs_history_leads_to_their_record(db):
    call_command("demo")

    now = clock.now()
    for change in ChangeRequest.objects.all():
        events = list(ChangeEvent.objects.filter(change=change).order_by("at", "pk"))
        assert events[0].kind in (ChangeEventKind.CREATED, ChangeEventKind.CONVERTED)
        moves = [e for e in events if e.kind == ChangeEventKind.STAGE]
        assert (moves[-1].new if moves else Stage.REQUESTED) == change.stage
        assert all(e.at <= now for e in events) and change.updated_at == events[-1].at
        assert (change.closed_at is not None) == (change.stage == Stage.CLOSED)
        if change.decided_at:
            assert change.approval_requested_at < change.decided_at
        if change.ticket_id is None:
            assert change.requested_at == events[0].at


def test_the_demo_crs_mail_nobody_and_load_once(db):
    call_command("demo")
    count = ChangeRequest.objects.count()

    call_command("demo")

    assert ChangeRequest.objects.count() == count
    assert not OutboxMessage.objects.exists()
