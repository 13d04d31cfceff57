"""The desk's history says a promised next update as a time in the reader's zone and language,
not as the stored values."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from servicedesk.desk import history
from servicedesk.tickets.models import Event, EventKind
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Next update due: — → 30 Nov 14:30"),
        ("fr", "Échéance du prochain point: — → 30 Nov 14:30"),
        ("nb", "Frist for neste oppdatering: — → 30 Nov 14:30"),
    ],
)
def test_a_promised_next_update_reads_as_a_time(bob, alice, language, expected):
    ticket = make_ticket(requester=bob)
    due = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)
    event = Event.objects.create(
        ticket=ticket,
        actor=alice,
        at=due,
        kind=EventKind.FIELD,
        field="next_update_due",
        old={"due": None},
        new={"due": due.isoformat(), "clock": 1},
        internal=True,
    )
    with translation.override(language), timezone.override("Europe/Oslo"):
        (line,) = history.lines([event])
    assert line.what == expected
