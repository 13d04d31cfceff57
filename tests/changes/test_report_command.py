"""``servicedesk changes report --org ORG --month YYYY-MM [--send]`` (issue 16 item 5): prints
an organisation's Change Request Update report, or records and sends it once; a bad
organisation or month is a clear error and a non-zero exit."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from servicedesk.changes import services
from servicedesk.changes.management.commands.changes import Command
from servicedesk.changes.models import MonthlyReport
from servicedesk.changes.workflow import Stage
from servicedesk.mail.models import OutboxMessage

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def changes(alice, bob, bob_admin):
    """org_a's CRs: one requested, one approved (not on the report)."""

    def opened(title):
        return services.open_change(
            organisation=bob.organisation, requester=bob, by=bob, title=title, description="Why."
        )

    requested = opened("Export to the ERP")
    approved = services.move_stage(change=opened("Already approved"), to="assessment", by=alice)
    approved = services.update_change(
        change=approved, by=alice, effort_hours=Decimal("3"), chargeable=False
    )
    approved = services.move_stage(change=approved, to=Stage.AWAITING_APPROVAL, by=alice)
    approved = services.decide(change=approved, approved=True, by=bob_admin)
    OutboxMessage.objects.all().delete()
    return requested, approved


def run(*args) -> str:
    out = StringIO()
    call_command("changes", "report", *args, stdout=out)
    return out.getvalue()


def test_prints_the_report_of_an_organisation_named_in_any_case(org_a, changes):
    requested, approved = changes

    text = run("--org", "alpha logistics ltd", "--month", "2026-12")

    assert "Change Request Update: Alpha Logistics Ltd, December 2026" in text
    assert requested.reference in text and "Export to the ERP" in text
    assert approved.reference not in text
    assert "Not sent for 2026-12" in text
    assert not MonthlyReport.objects.exists()  # printing records nothing
    assert not OutboxMessage.objects.exists()


def test_names_the_organisation_by_its_id_too(org_a, changes):
    assert changes[0].reference in run("--org", str(org_a.pk), "--month", "2026-12")


def test_send_records_and_mails_the_report_once(org_a, changes, bob_admin):
    first = run("--org", "Alpha Logistics Ltd", "--month", "2026-12", "--send")
    second = run("--org", "Alpha Logistics Ltd", "--month", "2026-12", "--send")

    assert "1 change request(s), emailed to 1 administrator(s)" in first
    assert "was already sent" in second and "nothing sent" in second
    report = MonthlyReport.objects.get()
    assert (report.organisation, report.month) == (org_a, date(2026, 12, 1))
    assert report.changes == [changes[0].number]
    mails = OutboxMessage.objects.filter(dedupe_key__startswith="change-report:")
    assert [m.to for m in mails] == [[bob_admin.email]]
    assert "Sent 2026-12-03 09:30 GMT to 1 administrator(s)" in run(
        "--org", "Alpha Logistics Ltd", "--month", "2026-12"
    )


def test_send_says_when_nothing_awaits_approval(org_a, bob_admin):
    text = run("--org", "Alpha Logistics Ltd", "--month", "2026-12", "--send")

    assert "no change request awaits approval" in text
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("org", "month", "error"),
    [
        ("Nobody Ltd", "2026-12", "No organisation named or numbered 'Nobody Ltd'"),
        ("999999", "2026-12", "No organisation named or numbered '999999'"),
        ("Alpha Logistics Ltd", "2026-13", "Not a month: '2026-13'"),
        ("Alpha Logistics Ltd", "December", "Not a month: 'December'"),
        ("Alpha Logistics Ltd", "2026-1", "Not a month: '2026-1'"),
    ],
)
def test_a_bad_organisation_or_month_is_a_clear_error(org_a, org, month, error):
    with pytest.raises(CommandError, match=error):
        run("--org", org, "--month", month)


def test_a_bad_month_exits_non_zero_on_the_command_line(org_a, capsys):
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(
            ["servicedesk", "changes", "report", "--org", "Alpha Logistics Ltd", "--month", "x"]
        )

    assert exit_.value.code != 0
    assert "Not a month: 'x'" in capsys.readouterr().err
