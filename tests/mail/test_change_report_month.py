"""The monthly Change Request Update (issue 16 item 5), time moved to the 1st: organisations in
Tokyo, Oslo and New York get their December report at 00:00 on 1 December in their own time
zone, not a second before; each administrator gets exactly one email listing the CRs not yet
approved (November's and older), with a PDF whose text names them; approved, closed and
unapproved CRs and other organisations' are absent; running the job again sends nothing."""

import base64
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pypdf
import pytest
import time_machine

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services
from servicedesk.changes.models import ChangeRequest, MonthlyReport
from servicedesk.changes.workflow import Stage
from servicedesk.mail.models import OutboxMessage
from tests.factories import CustomerFactory, OrganisationFactory

OCTOBER = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)
NOVEMBER_FIRST = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # every zone's November has begun
NOVEMBER = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
DECEMBER = date(2026, 12, 1)
# 00:00 on 1 December, local time, as UTC instants, in the order they come.
MIDNIGHTS = {
    "Asia/Tokyo": datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    "Europe/Oslo": datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
    "America/New_York": datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
}
SECOND = timedelta(seconds=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def _desk(settings):
    settings.SERVICEDESK_BASE_URL = "https://desk.example"


def _organisation(name: str, zone: str, language: str, admins: list[str]):
    organisation = OrganisationFactory(name=name, timezone=zone, language=language)
    people = [
        CustomerFactory(
            email=address,
            organisation=organisation,
            customer_role=CustomerRole.CUSTOMER_ADMIN,
            language=language,
            timezone=zone,
        )
        for address in admins
    ]
    requester = CustomerFactory(organisation=organisation, language=language, timezone=zone)
    return organisation, people, requester


def _open(requester, title: str) -> ChangeRequest:
    return services.open_change(
        organisation=requester.organisation,
        requester=requester,
        by=requester,
        title=title,
        description=f"{title}, as the sales team asked.",
    )


def _to_approval(change: ChangeRequest, staff) -> ChangeRequest:
    change = services.move_stage(change=change, to=Stage.ASSESSMENT, by=staff)
    change = services.update_change(
        change=change, by=staff, effort_hours=Decimal("6"), chargeable=False
    )
    return services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=staff)


def _closed(change: ChangeRequest, staff, administrator) -> ChangeRequest:
    change = services.decide(change=_to_approval(change, staff), approved=True, by=administrator)
    change = services.move_stage(change=change, to=Stage.IMPLEMENTATION, by=staff)
    change = services.move_stage(change=change, to=Stage.REVIEW, by=staff)
    change = services.update_change(change=change, by=staff, kpis_met=True)
    return services.move_stage(change=change, to=Stage.CLOSED, by=staff)


@pytest.fixture
def world(alice):
    """Three organisations, each with CRs of October and November in every state."""
    tokyo = _organisation("Sakura Trading KK", "Asia/Tokyo", "fr", ["kenji@sakura.example"])
    oslo = _organisation("Nordlys Energi AS", "Europe/Oslo", "nb", ["it.admin@nordlys.example"])
    new_york = _organisation(
        "Hudson Freight Inc",
        "America/New_York",
        "en",
        ["ops@hudson.example", "cfo@hudson.example"],
    )
    listed, absent = {}, {}
    with at(OCTOBER):
        for name, (_, _, requester) in {"tokyo": tokyo, "oslo": oslo, "ny": new_york}.items():
            old = services.move_stage(
                change=_open(requester, "Older request"), to=Stage.ASSESSMENT, by=alice
            )
            listed[name] = [old]
    with at(NOVEMBER_FIRST):
        services.send_due_reports()  # November's reports: October's CRs
    with at(NOVEMBER):
        for name, (_, admins, requester) in {"tokyo": tokyo, "oslo": oslo, "ny": new_york}.items():
            waiting = _to_approval(_open(requester, "Awaiting approval"), alice)
            requested = _open(requester, "Just requested")
            approved = services.decide(
                change=_to_approval(_open(requester, "Approved"), alice),
                approved=True,
                by=admins[0],
            )
            listed[name] += [waiting, requested]
            absent[name] = [approved]
        absent["oslo"].append(_closed(_open(oslo[2], "Closed"), alice, oslo[1][0]))
        absent["oslo"].append(
            services.decide(
                change=_to_approval(_open(oslo[2], "Not approved"), alice),
                approved=False,
                by=oslo[1][0],
            )
        )
    # Late on 30 November in Tokyo (23:30 local): still November's, on December's report.
    with at(MIDNIGHTS["Asia/Tokyo"] - timedelta(minutes=30)):
        listed["tokyo"].append(_open(tokyo[2], "Late November"))
    OutboxMessage.objects.all().delete()  # the approval requests, November's reports
    return {
        "Asia/Tokyo": (tokyo, listed["tokyo"], absent["tokyo"]),
        "Europe/Oslo": (oslo, listed["oslo"], absent["oslo"]),
        "America/New_York": (new_york, listed["ny"], absent["ny"]),
    }


def _december_reports() -> set[str]:
    return set(
        MonthlyReport.objects.filter(month=DECEMBER).values_list(
            "organisation__timezone", flat=True
        )
    )


def _report_mails() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(dedupe_key__startswith="change-report:"))


def _pdf_text(mail: OutboxMessage) -> str:
    (made,) = [a for a in mail.attachments if isinstance(a, dict)]
    reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(made["base64"])))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_each_organisation_gets_its_report_at_its_own_midnight_and_only_once(world):
    begun = set()
    for zone, midnight in MIDNIGHTS.items():
        with at(midnight - SECOND):
            services.send_due_reports()
        assert _december_reports() == begun, f"{zone} before its midnight"

        with at(midnight + SECOND):
            sent = services.send_due_reports()
        begun.add(zone)
        assert _december_reports() == begun, f"{zone} after its midnight"
        assert [r.organisation.timezone for r in sent] == [zone]

    mails = _report_mails()
    with at(MIDNIGHTS["America/New_York"] + timedelta(hours=1)):
        assert services.send_due_reports() == []  # a second run sends nothing new
    assert _report_mails() == mails

    by_address = {}
    for mail in mails:
        (address,) = mail.to
        assert address not in by_address, f"{address} got two reports"
        by_address[address] = mail
    for zone, ((_, admins, _), listed, absent) in world.items():
        assert all(admin.email in by_address for admin in admins), zone
        others = [c for z, (_, rows, _) in world.items() if z != zone for c in rows]
        for admin in admins:
            mail = by_address[admin.email]
            pdf = _pdf_text(mail)
            for text in (mail.body_text, mail.body_html, pdf):
                for change in listed:
                    assert change.reference in text, (zone, change.title)
                for change in absent + others:
                    assert change.reference not in text, (zone, change.title)
    assert len(by_address) == 4
    assert "desember 2026" in by_address["it.admin@nordlys.example"].subject
    assert "décembre 2026" in by_address["kenji@sakura.example"].subject
    assert "December 2026" in by_address["cfo@hudson.example"].subject
